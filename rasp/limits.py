"""Limits a program or an input can hit, checked before the work they bound is done.

Each limit is refused with a `RaspError` that names it and says how to raise it: set the module attribute
(`rasp.limits.MAX_NESTING = 500`) or the environment variable of the same name with a `RASP_` prefix
(`RASP_MAX_NESTING=500`). They exist so that a hostile or mistaken program fails in well under a second with
a message, instead of exhausting Python's recursion limit, the memory or the user's patience.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def _setting(name: str, default: int) -> int:
    text = os.environ.get(f"RASP_{name}")
    try:
        return int(text) if text else default
    except ValueError:
        return default


# Expression nesting, counting the function calls a call inlines: the parser and the lowerer recurse on it.
MAX_NESTING = _setting("MAX_NESTING", 200)
# Function calls inlined while lowering one program (a chain of functions that each call the next twice
# would otherwise inline 2^n bodies).
MAX_INLINED_CALLS = _setting("MAX_INLINED_CALLS", 20_000)
# Items of the lists, dicts and loops built while lowering one program (`range(10**9)`, nested loops).
MAX_UNROLLED = _setting("MAX_UNROLLED", 1_000_000)
# Characters of program text (the parser takes about 0.1 ms per token).
MAX_SOURCE_CHARS = _setting("MAX_SOURCE_CHARS", 200_000)
# Characters of a string built while lowering a program (`'ab' * 9999999999`).
MAX_STRING = _setting("MAX_STRING", 1_000_000)
# Selector entries one input may need, summed over the selectors it evaluates (length² each).
MAX_SELECTOR_ELEMENTS = _setting("MAX_SELECTOR_ELEMENTS", 20_000_000)

# Integers beyond float range cannot take part in arithmetic with floats (means, '/', ...).
MAX_MAGNITUDE = sys.float_info.max

# Python frames a nesting level may take (parser transform, lowering, evaluation), with room to spare.
_FRAMES_PER_LEVEL = 12


def how_to_raise(name: str) -> str:
    return f"rasp.limits.{name}, or the environment variable RASP_{name}"


def exceeds_magnitude(value: object) -> bool:
    """Whether a number is too large to be converted to a float."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_MAGNITUDE


@contextmanager
def recursion_room() -> Iterator[None]:
    """Python's recursion limit raised to what MAX_NESTING needs, for the recursive passes it bounds."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, MAX_NESTING * _FRAMES_PER_LEVEL + 1000))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)
