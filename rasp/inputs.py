"""How command-line text becomes a token sequence.

The rule (CLI and REPL alike): a plain string is split into characters; `--tokens "3 1 2"` splits on
whitespace. Each token that is an integer literal (`7`, `-2`, `10`) becomes an int, every other token
stays a string; `--strings` keeps every token a string.
"""

from __future__ import annotations

import re

_INTEGER = re.compile(r"[+-]?\d+")


def read_token(text: str, keep_strings: bool = False) -> int | str:
    if not keep_strings and _INTEGER.fullmatch(text):
        return int(text)
    return text


def split_input(text: str, whitespace: bool = False, keep_strings: bool = False) -> list:
    pieces = text.split() if whitespace else list(text)
    return [read_token(p, keep_strings) for p in pieces]


def read_stop(text: str | None, keep_strings: bool = False) -> int | str | None:
    """`--stop TOKEN`: one token, read like an input token (None when not given)."""
    from .errors import RaspInputError

    if text is None:
        return None
    pieces = text.split()
    if len(pieces) != 1:
        raise RaspInputError(f"--stop takes one token, got {text!r}")
    return read_token(pieces[0], keep_strings)
