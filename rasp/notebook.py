"""Notebook display: what Jupyter shows for a program (`Program._repr_html_`) and for a trace of one input
(`Program.trace(tokens)`): the s-ops' values as a table under the input, each selector as a grid whose rows are
the queries and whose columns are the keys, labelled by their tokens. The text forms are the CLI's
(rasp/display.py), so a notebook and a terminal show the same thing."""

from __future__ import annotations

import io
from dataclasses import dataclass
from html import escape
from typing import Any

from . import display
from .header import read_header

_CELL = "padding:1px 6px;text-align:center;font-family:monospace"
_NAME = "padding:1px 8px 1px 0;text-align:left;font-family:monospace;font-weight:bold"


@dataclass
class Trace:
    """Every named s-op and selector of a program on one input."""

    tokens: list
    values: dict[str, list]  # s-op name → its value per position; selector name → rows of booleans
    selectors: tuple[str, ...]  # which names are selectors

    def __str__(self) -> str:
        sops = {name: v for name, v in self.values.items() if name not in self.selectors}
        parts = [display.format_table(self.tokens, sops)]
        parts += [display.format_selector(self.tokens, self.values[name], name) for name in self.selectors]
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        sops = {name: v for name, v in self.values.items() if name not in self.selectors}
        grids = "".join(selector_html(self.tokens, self.values[name], name) for name in self.selectors)
        return values_html(self.tokens, sops) + (f'<div style="display:flex;gap:24px;flex-wrap:wrap">{grids}</div>')


def values_html(tokens: list, rows: dict[str, list]) -> str:
    """Named s-ops as rows under the input, one column per position."""
    head = f'<th style="{_NAME}">tokens</th>' + "".join(f'<th style="{_CELL}">{_cell(t)}</th>' for t in tokens)
    body = "".join(
        f'<tr><td style="{_NAME}">{escape(name)}</td>' + "".join(f'<td style="{_CELL}">{_cell(v)}</td>' for v in values)
        for name, values in rows.items()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def selector_html(tokens: list, matrix: list[list[bool]], name: str) -> str:
    """A selector as a grid: row i is the query at position i, column j the key at j (■: i selects j)."""
    keys = "".join(f'<th style="{_CELL}">{_cell(t)}</th>' for t in tokens)
    rows = "".join(
        f'<tr><th style="{_CELL}">{_cell(t)}</th>'
        + "".join(f'<td style="{_CELL}">{"■" if selected else "·"}</td>' for selected in row)
        + "</tr>"
        for t, row in zip(tokens, matrix)
    )
    caption = f"<b>{escape(name)}</b>: query (row) selects key (column)"
    return (
        f'<table style="border-collapse:collapse"><caption style="caption-side:top">{caption}</caption>'
        f'<tr><th style="{_CELL}">q \\ k</th>{keys}</tr>{rows}</table>'
    )


def program_html(program: Any) -> str:
    """A program: its file, mode and output, its size, and its values on the example of its header (with the
    transformer picture when matplotlib is installed)."""
    from .analysis.measure import measure

    size = measure(program).summary() if program.output else "no output"
    parts = [
        f"<p><b>{escape(program.filename)}</b>: {program.mode}, output <code>{escape(str(program.output))}</code>; "
        f"{escape(size)}</p>"
    ]
    example = read_header(program.source).example
    if example is not None and program.output:
        tokens, _ = example
        parts.append(program.trace(tokens)._repr_html_())
        parts.append(_picture(program, tokens))
    return "".join(parts)


def _picture(program: Any, tokens: list) -> str:
    try:
        from .analysis.draw import draw_program, save_figure

        figure = draw_program(program, tokens)
    except ImportError:
        return "<p><i>(pip install 'rasp-toolkit[plot]' for the transformer picture)</i></p>"
    buffer = io.StringIO()
    save_figure(figure, buffer, format="svg")
    return buffer.getvalue()


def _cell(value: Any) -> str:
    return escape(display.show(value))
