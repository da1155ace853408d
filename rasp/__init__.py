"""rasp: the RASP language — parse, lower to an s-op graph, evaluate (vectorized), analyse.

import rasp
prog = rasp.parse("reverse = aggregate(select(indices, length - indices - 1, ==), tokens);")
prog.run(list("hello"), causal=False)
"""

from __future__ import annotations

from pathlib import Path

from .analysis import measure as measure  # re-export: rasp.measure(program)
from .analysis import predict as predict  # re-export: rasp.predict(program)
from .errors import (
    RaspArityError,
    RaspError,
    RaspEvalError,
    RaspInputError,
    RaspNameError,
    RaspSyntaxError,
    RaspTypeError,
    Span,
)
from .program import Program

__all__ = [
    "Program",
    "RaspArityError",
    "RaspError",
    "RaspEvalError",
    "RaspInputError",
    "RaspNameError",
    "RaspSyntaxError",
    "RaspTypeError",
    "Span",
    "load",
    "parse",
]


def parse(source: str, filename: str = "<input>") -> Program:
    """Parse and lower a program's text."""
    return Program.from_source(source, filename)


def load(path: str | Path) -> Program:
    """Parse and lower a program file."""
    return Program.from_file(path)
