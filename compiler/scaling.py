"""How a construction grows with the longest input it is built for: compile one program at several max_len, count
each component's parameters and width, and fit a growth exponent per component (`rasp compile --scaling`).

A component whose size grows with max_len (the position table, the one-hot encodings of indices and counts, the
MLPs that read them) is built for that length; one of constant size is not. The exponent is the least-squares
slope of log(parameters) against log(max_len): 0 for a constant size, 1 for linear growth, 2 for quadratic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasp.errors import RaspInputError


@dataclass
class Component:
    name: str  # "token embedding", "positional embedding", "attention 0", "MLP 0", ..., "unembedding"
    params: list[int]  # one per max_len
    widths: list[int]  # the component's own width: d_model for embeddings, heads × d_head, MLP hidden width


@dataclass
class ScalingTable:
    program: str
    lengths: list[int]
    components: list[Component]
    residual: list[int]  # d_model at each length
    limit_params: int | None = None  # a length-independent construction's size, where one exists

    @property
    def totals(self) -> list[int]:
        return [sum(c.params[k] for c in self.components) for k in range(len(self.lengths))]

    def exponent(self, values: Sequence[int]) -> float | None:
        return growth_exponent(self.lengths, values)


def growth_exponent(lengths: Sequence[int], values: Sequence[float]) -> float | None:
    """The least-squares slope of log(value) against log(length) (None when a value is 0: nothing to fit)."""
    if len(lengths) < 2 or any(v <= 0 for v in values):
        return None
    xs, ys = [math.log(n) for n in lengths], [math.log(v) for v in values]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def components(model: Any) -> list[tuple[str, int, int]]:
    """(name, parameters, width) of each part of a compiled (or trained) CausalTransformer; they add up to all of
    its parameters."""
    cfg = model.cfg
    parts = [("token embedding", model.tok_emb.weight.numel(), cfg.d_model)]
    if model.pos_emb is not None:
        parts.append(("positional embedding", model.pos_emb.weight.numel(), cfg.d_model))
    for index, (block, heads, d_head, d_mlp) in enumerate(
        zip(model.blocks, cfg.heads(), cfg.head_dims(), cfg.mlp_dims())
    ):
        for name, module, width in (
            (f"attention {index}", block.attn, heads * d_head),
            (f"MLP {index}", block.mlp, d_mlp),
        ):
            count = sum(p.numel() for p in module.parameters()) if module is not None else 0
            parts.append((name, count, width if module is not None else 0))
        norms = sum(p.numel() for name, p in block.named_parameters() if name.startswith("ln"))
        if norms:
            parts.append((f"layer norms {index}", norms, cfg.d_model))
    final = sum(p.numel() for p in model.ln_f.parameters())
    if final:
        parts.append(("final layer norm", final, cfg.d_model))
    parts.append(("unembedding", model.unembed.weight.numel(), model.unembed.weight.shape[0]))
    return parts


def measure_growth(
    program: Any,
    vocab: Sequence[Any],
    lengths: Sequence[int],
    build: Callable[[int], Any] | None = None,
    limit: Callable[[], Any] | None = None,
) -> ScalingTable:
    """Compile `program` at each max_len (`build(max_len)`, default `compiler.compile`) and tabulate its components;
    `limit()`, where given, builds the length-independent construction shown beside the table."""
    lengths = sorted(set(lengths))
    if len(lengths) < 2 or lengths[0] < 1:
        raise RaspInputError(f"--scaling needs at least two positive --max-len values to fit growth, got {lengths}")
    if build is None:
        from .api import compile

        def build(max_len: int) -> Any:
            return compile(program, vocab=list(vocab), max_len=max_len)

    found: dict[str, Component] = {}
    residual = []
    for k, max_len in enumerate(lengths):
        model = build(max_len)
        residual.append(model.cfg.d_model)
        for name, params, width in components(model):
            component = found.setdefault(name, Component(name, [0] * len(lengths), [0] * len(lengths)))
            component.params[k], component.widths[k] = params, width
    limit_params = sum(p.numel() for p in limit().parameters()) if limit is not None else None
    return ScalingTable(Path(program.filename).name, lengths, list(found.values()), residual, limit_params)


def format_table(table: ScalingTable) -> str:
    """Per component: parameters (and width) at each max_len, and the fitted growth exponent."""
    header = ["component", *(f"max_len {n}" for n in table.lengths), "exponent"]
    rows = []
    for c in table.components:
        cells = [f"{p:,} ({w})" for p, w in zip(c.params, c.widths)]
        rows.append([c.name, *cells, _exponent(table.exponent(c.params))])
    rows.append(["total", *(f"{t:,}" for t in table.totals), _exponent(table.exponent(table.totals))])
    rows.append(["residual width", *(str(d) for d in table.residual), _exponent(table.exponent(table.residual))])
    if table.limit_params is not None:
        rows.append(["limit construction", *(f"{table.limit_params:,}" for _ in table.lengths), "0.00"])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
        for r in [header, *rows]
    ]
    lines.insert(1, "-" * len(lines[0]))
    return f"{table.program}: parameters (width) per component\n" + "\n".join(lines)


def plot_table(table: ScalingTable, path: str | Path) -> None:
    """Parameters against max_len, log-log, one line per component that has parameters, and the total."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), constrained_layout=True)
    ax = fig.add_subplot(1, 1, 1)
    for c in table.components:
        if all(p > 0 for p in c.params):
            ax.plot(table.lengths, c.params, marker="o", label=f"{c.name} ({_exponent(table.exponent(c.params))})")
    ax.plot(table.lengths, table.totals, marker="s", color="black", linewidth=2, label="total")
    if table.limit_params is not None:
        ax.axhline(table.limit_params, color="grey", linestyle="--", label="limit construction (any length)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("max_len the construction is built for")
    ax.set_ylabel("parameters")
    ax.set_title(f"{table.program}: how the compiled construction grows (exponent in brackets)", fontsize=9)
    ax.legend(fontsize=7)
    fig.savefig(path, dpi=110)


def _exponent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
