"""Trained versus compiled, the comparison: attention maps of two models of the same config, head by head.

The measure (`compare_attention`): for one head pair, the total-variation distance between the two attention
distributions of a query row, ½ Σ_j |p_j − q_j| (0 = identical, 1 = disjoint supports), averaged over every
query row of every input, the BOS query row excepted (its output is never read: no label sits there, and a
compiled model resets BOS's residual after every layer). BOS stays as a *key*: compiled heads use it as the
sink for an empty selection, so attending to BOS is part of what a head computes.
"""

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rasp.errors import RaspInputError


def heads_of(model) -> list[tuple[int, int]]:
    return [(layer, h) for layer, n in enumerate(model.cfg.heads()) for h in range(n)]


def head_labels(compiled) -> dict[tuple[int, int], str]:
    """What each compiled head writes: the s-op names of the residual dimensions its W_O writes to."""
    labels = compiled.spec.residual_labels if compiled.spec else []
    out = {}
    for layer, h in heads_of(compiled):
        w_o = compiled.blocks[layer].attn.W_O[h].detach()  # d_head × d_model
        dims = (w_o.abs().sum(0) > 0).nonzero().flatten().tolist()
        names = list(dict.fromkeys(str(labels[d]).split(":")[0] for d in dims if d < len(labels)))
        names = [n for n in names if n not in ("one", "bos")] or names
        out[(layer, h)] = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
    return out


@torch.no_grad()
def attention_patterns(model, ids: torch.Tensor) -> dict[tuple[int, int], torch.Tensor]:
    """{(layer, head): batch × query × key} in float64."""
    _, patterns = model(ids.to(model.device), return_attention=True)
    out = {}
    for layer, pattern in enumerate(patterns):
        if pattern is None:
            continue
        for h in range(pattern.shape[1]):
            out[(layer, h)] = pattern[:, h].to("cpu", torch.float64)
    return out


def _uniform(shape: tuple[int, ...], causal: bool) -> torch.Tensor:
    t = shape[-1]
    if causal:
        mask = torch.ones(t, t, dtype=torch.float64).tril()
        return (mask / mask.sum(-1, keepdim=True)).expand(shape)
    return torch.full(shape, 1.0 / t, dtype=torch.float64)


@torch.no_grad()
def compare_attention(
    compiled_model, trained_model, inputs: Sequence[Sequence[Any]], png: str | Path | None = None, example=None
) -> list[dict]:
    """Per compiled head (layer, head): the trained head (anywhere in the model) whose attention patterns are
    closest, the distance to it, and the distance to the trained head at the same (layer, head).

    Distance: the total-variation distance ½ Σ_j |p_j − q_j| between the two heads' attention distributions
    for a query row, averaged over every query row but BOS's of every input (0 = identical, 1 = disjoint).
    `uniform_distance` is the compiled head's distance to plain averaging over the visible keys, a yardstick.
    With `png`, draws `example` (default: the longest input) — compiled heads beside their best matches."""
    inputs = [list(seq) for seq in inputs if len(seq) > 0]
    if not inputs:
        raise RaspInputError("compare_attention needs at least one non-empty input")
    c_heads, t_heads = heads_of(compiled_model), heads_of(trained_model)
    sums = torch.zeros(len(c_heads), len(t_heads), dtype=torch.float64)
    uniform = torch.zeros(len(c_heads), dtype=torch.float64)
    rows = 0
    by_length: dict[int, list[list]] = defaultdict(list)
    for seq in inputs:
        by_length[len(seq)].append(seq)
    causal = compiled_model.cfg.causal
    for group in by_length.values():
        ids = torch.tensor([compiled_model.encode(seq) for seq in group])
        pc = attention_patterns(compiled_model, ids)
        pt = attention_patterns(trained_model, ids)
        for a, ch in enumerate(c_heads):
            p = pc[ch][:, 1:]  # drop the BOS query row
            for b, th in enumerate(t_heads):
                sums[a, b] += 0.5 * (p - pt[th][:, 1:]).abs().sum(-1).sum()
            uniform[a] += 0.5 * (p - _uniform(pc[ch].shape, causal)[:, 1:]).abs().sum(-1).sum()
        rows += ids.shape[0] * (ids.shape[1] - 1)
    distances = (sums / rows).clamp(0.0, 1.0)
    labels = head_labels(compiled_model)
    table = []
    for a, ch in enumerate(c_heads):
        b = int(distances[a].argmin()) if t_heads else None
        same = t_heads.index(ch) if ch in t_heads else None
        table.append(
            {
                "layer": ch[0],
                "head": ch[1],
                "writes": labels.get(ch, ""),
                "best_layer": t_heads[b][0] if b is not None else None,
                "best_head": t_heads[b][1] if b is not None else None,
                "best_distance": float(distances[a, b]) if b is not None else None,
                "same_position_distance": float(distances[a, same]) if same is not None else None,
                "uniform_distance": float((uniform[a] / rows).clamp(0.0, 1.0)),
                "distances": {f"L{t[0]}H{t[1]}": float(distances[a, k]) for k, t in enumerate(t_heads)},
            }
        )
    if png is not None:
        draw_attention(compiled_model, trained_model, table, example or max(inputs, key=len), png)
    return table


def draw_attention(compiled_model, trained_model, table: list[dict], example: Sequence[Any], path: str | Path):
    """One row per compiled head: its pattern on `example`, the best-matching trained head's, and the trained
    head's at the same position."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = torch.tensor([compiled_model.encode(list(example))])
    pc, pt = attention_patterns(compiled_model, ids), attention_patterns(trained_model, ids)
    ticks = ["BOS", *[str(t) for t in example]]
    n = max(len(table), 1)
    size = 1.0 + 0.28 * len(ticks)
    fig, axes = plt.subplots(n, 3, figsize=(3 * size + 1, n * size + 0.6), squeeze=False)
    for r, row in enumerate(table):
        ch = (row["layer"], row["head"])
        panels = [
            (pc[ch][0], f"compiled L{ch[0]}H{ch[1]} ({row['writes']})"),
            (
                pt[(row["best_layer"], row["best_head"])][0],
                f"best trained L{row['best_layer']}H{row['best_head']}: TV {row['best_distance']:.3f}",
            ),
            (pt[ch][0] if ch in pt else None, f"trained L{ch[0]}H{ch[1]}: TV {row['same_position_distance'] or 0:.3f}"),
        ]
        for c, (pattern, title) in enumerate(panels):
            ax = axes[r][c]
            if pattern is None:
                ax.axis("off")
                continue
            ax.imshow(pattern.numpy(), vmin=0, vmax=1, cmap="viridis")
            ax.set_title(title, fontsize=8)
            ax.set_xticks(range(len(ticks)), ticks, fontsize=6, rotation=90)
            ax.set_yticks(range(len(ticks)), ticks, fontsize=6)
            ax.set_xlabel("key", fontsize=7)
            if c == 0:
                ax.set_ylabel("query", fontsize=7)
    fig.suptitle(f"attention on {' '.join(map(str, example))}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def format_table(table: list[dict]) -> str:
    """The comparison table as aligned text."""
    header = ["compiled head", "writes", "best trained head", "TV best", "TV same position", "TV uniform"]
    lines = [
        [
            f"L{r['layer']}H{r['head']}",
            r["writes"],
            f"L{r['best_layer']}H{r['best_head']}",
            f"{r['best_distance']:.3f}",
            f"{r['same_position_distance']:.3f}" if r["same_position_distance"] is not None else "-",
            f"{r['uniform_distance']:.3f}",
        ]
        for r in table
    ]
    widths = [max(len(h), *(len(row[i]) for row in lines)) if lines else len(h) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in lines]
    return "\n".join(out)
