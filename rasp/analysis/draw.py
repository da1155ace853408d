"""Pictures of a program: the transformer it needs, and its s-op graph (`rasp draw`, the REPL's `draw`).

The transformer view has one column per layer (after the embedding column): the heads of its attention
sublayer, each with its selector evaluated on an example input (row = query position, column = key
position; filled = selected), and below them its MLP sublayer with the maps it holds and their values on
the example. The graph view lays the s-op graph out by sublayer (networkx multipartite layout).

matplotlib is imported inside the functions, so `import rasp` stays light.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..display import show
from ..errors import RaspInputError
from .measure import is_causal_length, measure

FORMATS = (".png", ".svg")
MAX_POSITIONS = 24  # longer examples are cut in the picture (the program still runs on all of it)
MAX_HEADS = 8  # heads drawn per layer (the rest are listed)
MAX_MLP_LINES = 16
KIND_COLOURS = {
    "tokens": "#bbbbbb",
    "indices": "#bbbbbb",
    "constant": "#dddddd",
    "map": "#8fd18f",
    "zipmap": "#8fd18f",
    "select": "#f5b971",
    "aggregate": "#86b3e0",
    "selector_width": "#c7a2e0",
}


def example_input(program: Any) -> list | None:
    """The example of a program's header: `# example: STRING` (characters) or `# example-tokens: a b c`."""
    from ..inputs import split_input

    match = re.search(r"^#\s*example(-tokens)?:\s*(.+?)\s*$", program.source, flags=re.MULTILINE)
    if match is None:
        return None
    return split_input(match.group(2), whitespace=match.group(1) is not None)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "T" if value else "F"
    return show(value)


def _values_text(values: list, width: int = 40) -> str:
    return _short(" ".join(_cell(v) for v in values), width)


def _describe(graph: Any, op_id: int) -> str:
    op = graph.op(op_id)
    text = op.describe(graph)
    return f"{op.names[0]} = {text}" if op.names else text


def draw_program(program: Any, tokens: list, path: str | Path | None = None, output: str | None = None) -> Any:
    """Draw the transformer picture and the graph view of `program` on `tokens`; save to `path` if given.

    The format follows the suffix (.png or .svg). Returns the matplotlib Figure.
    """
    from matplotlib.figure import Figure

    tokens = list(tokens)
    if not tokens:
        raise RaspInputError("drawing needs a non-empty example input")
    if path is not None and Path(path).suffix.lower() not in FORMATS:
        raise RaspInputError(f"cannot write {path}: the picture is written as .png or .svg")
    graph = program.graph
    out = program.output_id(output)
    m = measure(program, output)
    shown = tokens[:MAX_POSITIONS]
    layers = m.schedule
    max_heads = min(MAX_HEADS, max([len(layer.heads) for layer in layers] + [1]))
    ncols = len(layers) + 1
    col_width = 3.2
    stages: dict[int, int] = {}
    for sub in m.stage.values():
        stages[sub] = stages.get(sub, 0) + 1
    graph_height = min(12.0, max(4.0, 0.45 * max(stages.values(), default=1)))
    fig = Figure(figsize=(max(8.0, col_width * ncols), 2.6 * max_heads + 2.6 + graph_height), constrained_layout=True)
    outer = fig.add_gridspec(2, 1, height_ratios=[2.6 * max_heads + 2.2, graph_height])
    top = outer[0].subgridspec(max_heads + 1, ncols, height_ratios=[2.6] * max_heads + [2.2])

    # evaluate every op the picture shows, at once
    inputs = {op.kind: op.id for op in graph if op.kind in ("tokens", "indices")}
    ids = {op.id: op.id for op in graph.schedule([out, *inputs.values()])}
    values = program.evaluate_ops([shown], ids)
    values = {k: v[0] for k, v in values.items()}

    title = f"{Path(program.filename).name}  ({program.mode}; output {output or program.output})"
    fig.suptitle(f"{title}\n{m.summary()}\ninput: {_values_text(shown, 80)}", fontsize=10)

    _draw_embedding(fig.add_subplot(top[:, 0]), graph, out, inputs, values)
    for layer in layers:
        col = layer.index + 1
        heads = _heads_to_draw(graph, layer.heads, values)
        for row in range(max_heads):
            ax = fig.add_subplot(top[row, col])
            if row >= len(heads):
                ax.axis("off")
                if row == 0:
                    ax.set_title(f"layer {layer.index}: no attention", fontsize=8)
                continue
            _draw_head(ax, program, heads[row], values, shown, layer.index, row)
            if row == max_heads - 1 and len(heads) > max_heads:
                rest = ", ".join(graph.op(h).label for h in heads[max_heads:])
                note = _short(f"and {len(heads) - max_heads} more heads: {rest}", 60)
                ax.set_xlabel(f"{ax.get_xlabel()}\n{note}", fontsize=6)  # in the layout: never clipped
        _draw_mlp(fig.add_subplot(top[max_heads, col]), program, layer, values)

    _draw_graph(fig.add_subplot(outer[1]), program, out, m.stage)
    if path is not None:
        save_figure(fig, path)
    return fig


def _draw_embedding(ax: Any, graph: Any, out: int, inputs: dict, values: dict) -> None:
    """The first column: the input s-ops' values and the constants the program uses."""
    ax.axis("off")
    ax.set_title("embedding", fontsize=9)
    lines = [f"{kind + ':':9}{_values_text(values[i], 30)}" for kind, i in inputs.items()]
    for op in graph.schedule([out]):
        if op.kind == "constant":
            lines.append(f"{op.label} = {show(op.value)}")
    ax.text(0.02, 0.98, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=7, transform=ax.transAxes)


def _draw_mlp(ax: Any, program: Any, layer: Any, values: dict) -> None:
    """A layer's MLP box: each op it computes, with its values when there are few."""
    graph = program.graph
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#5a9e5a")
    ax.set_title(f"layer {layer.index}: MLP", fontsize=8)
    lines = []
    with_values = len(layer.mlp) <= MAX_MLP_LINES // 2
    for op_id in layer.mlp:
        op = graph.op(op_id)
        if op.kind == "selector_width":
            lines.append(f"{op.label}: count of selected keys")
        elif is_causal_length(graph, op, program.causal):
            lines.append(f"{op.label} = indices + 1")
        else:
            lines.append(_short(_describe(graph, op_id), 44))
        if with_values and op_id in values:
            lines.append("  → " + _values_text(values[op_id], 38))
    if len(lines) > MAX_MLP_LINES:
        lines = lines[: MAX_MLP_LINES - 1] + [f"… and {len(lines) - MAX_MLP_LINES + 1} more"]
    ax.text(
        0.03,
        0.97,
        "\n".join(lines) or "(empty)",
        va="top",
        ha="left",
        family="monospace",
        fontsize=6,
        transform=ax.transAxes,
    )


def save_figure(fig: Any, target: Any, format: str | None = None) -> None:
    """Save a drawing; an SVG keeps its text as text (searchable, selectable), not as paths."""
    from matplotlib import rc_context

    with rc_context({"svg.fonttype": "none"}):
        fig.savefig(target, dpi=110, format=format)


def _draw_head(ax: Any, program: Any, op_id: int, values: dict, tokens: list, layer: int, row: int) -> None:
    import numpy as np

    graph = program.graph
    op = graph.op(op_id)
    sel_id = op.inputs[0]
    matrix = np.array(values[sel_id], dtype=float) if values.get(sel_id) else np.zeros((len(tokens), len(tokens)))
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1.3, aspect="equal")
    labels = [_short(show(t), 4) for t in tokens]
    upright = all(len(label) <= 1 for label in labels)  # a rotated "(" reads as another glyph
    ax.set_xticks(range(len(tokens)), labels, fontsize=6, rotation=0 if upright else 90)
    ax.set_yticks(range(len(tokens)), labels, fontsize=6)
    ax.set_ylabel("query i", fontsize=6)
    ax.tick_params(length=0)
    sel_label = graph.op(sel_id).label
    if op.kind == "aggregate":
        what = f"aggregate({sel_label}, {graph.op(op.inputs[1]).label}"
        what += f", {op.reduce})" if op.reduce != "mean" else ")"
    else:
        what = f"selector_width({sel_label})"
    head = f"layer {layer} head {row}: {op.label}"
    ax.set_title(f"{_short(head, 40)}\n{_short(what, 44)}", fontsize=7)
    result = f"; values → {_values_text(values[op_id], 30)}" if op_id in values else ""
    ax.set_xlabel(f"key j{result}", fontsize=6)


def _heads_to_draw(graph: Any, heads: list[int], values: dict) -> list[int]:
    """A layer's heads, those whose selector selects something on the example first (an empty grid says
    little), in schedule order otherwise."""

    def selects(head: int) -> bool:
        matrix = values.get(graph.op(head).inputs[0])
        return bool(matrix) and any(any(row) for row in matrix)

    return sorted(heads, key=lambda head: not selects(head))


def _draw_graph(ax: Any, program: Any, out: int, stage: dict[int, int]) -> None:
    import networkx as nx

    graph = program.graph
    needed = [op.id for op in graph.schedule([out])]
    g = nx.DiGraph()
    for i in needed:
        g.add_node(i, layer=stage.get(i, -1))
    for i in needed:
        for j in graph.op(i).inputs:
            g.add_edge(j, i)
    pos = nx.multipartite_layout(g, subset_key="layer")
    colours = [KIND_COLOURS.get(graph.op(i).kind, "#ffffff") for i in g.nodes]
    per_stage: dict[int, int] = {}
    for i in needed:
        per_stage[stage.get(i, -1)] = per_stage.get(stage.get(i, -1), 0) + 1
    crowd = max(per_stage.values(), default=1)
    size = 900 if crowd <= 12 else 500 if crowd <= 25 else 150
    font = 6 if crowd <= 25 else 3
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowsize=8, edge_color="#888888", node_size=size)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colours, node_size=size, edgecolors="#555555")
    labels = {i: _short(graph.op(i).label, 12) for i in g.nodes}  # the names the heads' titles use
    nx.draw_networkx_labels(g, pos, labels, ax=ax, font_size=font)
    ax.set_title(
        "s-op graph by sublayer (left to right: embedding, attention 0, MLP 0, attention 1, ...); "
        "grey input, green map, orange select, blue aggregate, purple selector width",
        fontsize=8,
    )
    ax.axis("off")
