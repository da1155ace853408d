"""Errors a user can cause. Each one knows where in the source it happened."""

from __future__ import annotations

from dataclasses import dataclass

_EXCERPT_WIDTH = 120  # characters of a long line shown around the error


def source_lines(source: str) -> list[str]:
    """The source's lines as the parser counts them: only '\\n' ends a line (not U+2028, a form feed, ...)."""
    return [line.removesuffix("\r") for line in source.split("\n")]


@dataclass(frozen=True)
class Span:
    """A region of source text; lines and columns are 1-based, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class RaspError(Exception):
    """Base of every error the user can cause (bad syntax, names, types, inputs, compilation)."""

    def __init__(self, message: str, span: Span | None = None, source: str | None = None):
        self.message = message
        self.span = span
        self.source = source
        super().__init__(self.__str__())

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    @property
    def file(self) -> str | None:
        return self.span.file if self.span else None

    def excerpt(self) -> str:
        """The offending source line with a caret under the spot ('' when unknown)."""
        if not self.span or self.source is None:
            return ""
        lines = source_lines(self.source)
        if not 1 <= self.span.line <= len(lines):
            return ""
        text = "".join(" " if c.isspace() else c for c in lines[self.span.line - 1].expandtabs(1))
        width = 1
        if self.span.end_line == self.span.line and self.span.end_column > self.span.column:
            width = self.span.end_column - self.span.column
        start = max(0, self.span.column - 1 - _EXCERPT_WIDTH // 2)  # long lines: a window around the spot
        shown = text[start : start + _EXCERPT_WIDTH]
        left, right = ("..." if start else ""), ("..." if start + _EXCERPT_WIDTH < len(text) else "")
        offset = self.span.column - 1 - start
        caret = " " * (len(left) + offset) + "^" * max(1, min(width, len(shown) - offset))
        return f"    {left}{shown}{right}\n    {caret}"

    def __str__(self) -> str:
        head = f"{self.span}: {self.message}" if self.span else self.message
        excerpt = self.excerpt()
        return f"{head}\n{excerpt}" if excerpt else head


class RaspSyntaxError(RaspError):
    """The text is not a well-formed program."""


class RaspNameError(RaspError):
    """A name is used that is not defined (or a function is called with the wrong arguments)."""


class RaspArityError(RaspError):
    """A function or lambda is called with the wrong number of arguments."""


class RaspTypeError(RaspError):
    """A value of the wrong kind: a selector used as an s-op, a mean of strings, ..."""


class RaspEvalError(RaspError):
    """Evaluation failed on a particular input (division by zero, a missing table key, ...)."""


class RaspInputError(RaspError):
    """The input itself is unacceptable (a token outside a vocabulary, too long, empty)."""


def report(error: RaspError) -> None:
    """Print an error as every command does: `file:line:col: message` with the line and a caret when the error
    has a place, else `error: message` (to stderr, never a traceback)."""
    import sys

    print(f"error: {error}" if error.span is None else str(error), file=sys.stderr)
