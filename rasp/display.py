"""Text rendering of values and selectors, shared by the CLI and the REPL."""

from __future__ import annotations

from typing import Any


def show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_values(values: list, joined: bool = False) -> str:
    """Values on one line; single characters joined into a word when `joined`."""
    if joined and all(isinstance(v, str) and len(v) == 1 for v in values):
        return "".join(values)
    return " ".join(show(v) for v in values)


def format_table(tokens: list, rows: dict[str, list]) -> str:
    """Named s-ops as rows under the input, one column per position."""
    header = ["tokens", *(show(t) for t in tokens)]
    body = [[name, *(show(v) for v in values)] for name, values in rows.items()]
    widths = [max(len(row[c]) for row in [header, *body]) for c in range(len(header))]
    lines = []
    for row in [header, *body]:
        lines.append("  ".join(cell.rjust(w) if c else cell.ljust(w) for c, (cell, w) in enumerate(zip(row, widths))))
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def format_selector(tokens: list, matrix: list[list[bool]], name: str = "") -> str:
    """A selector as a grid: one row per query position, one column per key position."""
    labels = [show(t) for t in tokens]
    width = max([len(label) for label in labels] + [1])
    left = max(width, len(name))
    lines = [f"{name.ljust(left)}  " + " ".join(label.rjust(width) for label in labels)]
    for label, row in zip(labels, matrix):
        cells = " ".join(("■" if selected else "·").rjust(width) for selected in row)
        lines.append(f"{label.rjust(left)}  {cells}")
    return "\n".join(lines)
