"""The compiler's error: a `RaspError` naming the s-op, its source position and the reason."""

from __future__ import annotations

from rasp.errors import RaspError


class CompileError(RaspError):
    """The program (or one of its s-ops) cannot be compiled to a transformer."""
