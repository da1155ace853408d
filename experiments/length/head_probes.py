"""What a trained model's attention heads do on the inputs where it goes wrong: `rasp errors --heads` and `--maps`.

Per head, how its attention splits over keys at query–key distances seen in training and beyond, and whether a
positional pattern that holds within the trained distances (a parity head: attention at odd distances only) still
holds beyond them; where it looks by content (on the place after an earlier copy of the query's token, as a copy or
a hint lookup does), and whether that holds past the trained positions, beside how many of those lookup queries the
model answers wrong. `attention_maps` gives every head's attention on one example, for a figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from programs.zhou import HINT_POOL

from ..training.data import IGNORE
from .probes import last_trained_position, probe_batch
from .train import Run


@dataclass(frozen=True)
class HeadProbe:
    """`attention_by_distance`'s reading of one model: a dict per head (see there), and how many lookup queries
    (`_lookup_queries`) the model answers wrong out of how many, at every position, up to the last trained one and
    past it. Both from one forward pass over the same inputs, so a lookup that fades where the errors begin is seen
    on the very queries it fails."""

    heads: list[dict]
    lookups_wrong: dict[str, tuple[int, int]]


@torch.no_grad()
def attention_by_distance(run: Run, lengths: tuple[int, int], examples: int = 64, seed: int = 0) -> HeadProbe:
    """Per layer and head, over the scored queries of inputs of `lengths` (offset 0): the attention share on keys
    (BOS left out) at query–key distances up to the longest of training (T), from T to 2T, and beyond 2T, and the
    part of each at an even distance. APE trains position pairs only up to T: a pattern learned there (a parity
    head attends at odd distances only) need not hold beyond it."""
    trained = last_trained_position(run)
    batch = probe_batch(run, lengths, examples, seed)
    logits, patterns = run.model.eval()(batch.ids, positions=batch.positions, return_attention=True)
    width = batch.ids.shape[1]
    distance = torch.arange(width).unsqueeze(1) - torch.arange(width).unsqueeze(0)  # query − key
    not_bos = torch.arange(width).unsqueeze(0) > 0
    bands = {
        f"1-{trained}": (distance >= 0) & (distance <= trained) & not_bos,
        f"{trained + 1}-{2 * trained}": (distance > trained) & (distance <= 2 * trained) & not_bos,
        f">{2 * trained}": (distance > 2 * trained) & not_bos,
    }
    even = distance % 2 == 0
    scored = batch.targets != IGNORE
    queries = scored.unsqueeze(1).unsqueeze(-1)  # batch × 1 × query × 1
    count = queries.sum()
    target, has_target, same_token = _induction_targets(batch.ids, scored)
    has_same = same_token.any(-1) & scored  # batch × query
    query_parts = _query_parts(run, batch.ids)
    # what a head attending uniformly (BOS and every earlier key, itself included) would put on the copies
    uniform_on_same = same_token.sum(-1) / (torch.arange(width) + 1)
    uniform = {part: _mean(uniform_on_same, has_same & where) for part, where in query_parts.items()}
    lookups = _lookup_queries(run, batch.ids, has_target, trained)
    heads = []
    for layer, pattern in enumerate(patterns):
        if pattern is None:
            continue
        for head in range(pattern.shape[1]):
            weights = pattern[:, head : head + 1] * queries
            shares = {}
            for band, mask in bands.items():
                share, share_even = (float((weights * m).sum() / count) for m in (mask, mask & even))
                shares[band] = {"share": share, "even": share_even / share if share > 0 else float("nan")}
            on_target = pattern[:, head].gather(-1, target.unsqueeze(-1)).squeeze(-1)  # batch × query
            induction = {part: _mean(on_target, has_target & where) for part, where in query_parts.items()}
            offsets = _around_copy(pattern[:, head], target)
            around = {reach: [_mean(on_offset, where) for on_offset in offsets] for reach, where in lookups.items()}
            # a matching head (select(tokens, tokens, ==)) attends to the earlier copies of the query's own token
            on_same = (pattern[:, head] * same_token).sum(-1)
            matching = {part: _mean(on_same, has_same & where) for part, where in query_parts.items()}
            heads.append(
                {
                    "head": f"L{layer}H{head}",
                    "bands": shares,
                    "induction": induction,
                    # on keys at AROUND_COPY from the latest earlier copy of the query's token, at the lookup queries
                    "around_copy": around,
                    "same_token": matching,
                    "same_token_uniform": uniform,
                }
            )
    wrong = logits.argmax(-1) != batch.targets
    lookups_wrong = {reach: (int((wrong & where).sum()), int(where.sum())) for reach, where in lookups.items()}
    return HeadProbe(heads, lookups_wrong)


def _lookup_queries(run: Run, ids: torch.Tensor, has_target: torch.Tensor, trained: int) -> dict[str, torch.Tensor]:
    """The queries a content lookup is made at (the hint queries of a hinted task; else every scored query with an
    earlier copy of its token): all of them, those at positions training examples reach, and those beyond. A lookup
    whose attention holds at the first and fades at the last explains errors that begin where the positions do."""
    at = _query_parts(run, ids).get("hint", torch.ones_like(has_target)) & has_target
    within = torch.arange(ids.shape[1]) <= trained
    return {"all": at, "within": at & within, "beyond": at & ~within}


AROUND_COPY = range(-2, 4)  # offsets from the latest earlier copy: 0 is the copy, 1 the induction target


def _around_copy(pattern: torch.Tensor, target: torch.Tensor) -> list[torch.Tensor]:
    """Per offset in AROUND_COPY: each query's attention on the key that far from the latest earlier copy of its
    token (0 where that key is not an earlier one). The induction target and the matching key are two of these; the
    neighbours tell a fuzzy lookup (attention spread over the places around the copy) from a sharp one, and a lookup
    that reads the copy's neighbour (a place that a lower layer gave the copy's value) from one that reads nothing."""
    latest = target - 1
    position = torch.arange(pattern.shape[-1])
    out = []
    for offset in AROUND_COPY:
        key = latest + offset
        valid = (key >= 1) & (key <= position)  # an earlier key (or the query itself), BOS left out
        on_key = pattern.gather(-1, key.clamp(0, pattern.shape[-1] - 1).unsqueeze(-1)).squeeze(-1)
        out.append(torch.where(valid, on_key, torch.zeros_like(on_key)))
    return out


def _mean(values: torch.Tensor, where: torch.Tensor) -> float:
    return float(values[where].mean()) if where.any() else float("nan")


def _hint_ids(run: Run) -> list[int]:
    return [run.vocab.index[t] for t in HINT_POOL if t in run.vocab.index]


def has_hints(run: Run) -> bool:
    """Whether the run's task has index hints (Zhou et al.'s hinted formats), whose hint queries the probes read apart."""
    return bool(_hint_ids(run))


def _query_parts(run: Run, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """The scored queries to average a head's share on the induction target and on the matching keys over: all of
    them, and for a task with index hints those whose token is a hint apart from the rest. Only at a hint query does
    the hinted program look up the earlier copies of the query's token (and the place after them); the digits of the
    answer, half its queries, make no such lookup, and their "induction target" (after the latest earlier copy of
    the same digit) means nothing, so the pooled shares understate a hint lookup by about half."""
    hints = _hint_ids(run)
    parts = {"all": torch.ones_like(ids, dtype=torch.bool)}
    if hints:
        at_hint = torch.isin(ids, torch.tensor(hints))
        parts |= {"hint": at_hint, "other": ~at_hint}
    return parts


def _induction_targets(ids: torch.Tensor, scored: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per query: the key just after the latest earlier occurrence of the query's own token (BOS left out), where an
    induction head looks (copying "the token that followed this one last time"); which scored queries have one; and
    the mask of every earlier key holding the query's token (batch × query × key), where a matching head looks.
    A head that copies by position instead (attend n + 1 back) puts little weight there once n passes the trained
    distances, so the share tells a content-based copy from a positional one."""
    width = ids.shape[1]
    position = torch.arange(width)
    earlier = (position.unsqueeze(0) < position.unsqueeze(1)) & (position.unsqueeze(0) > 0)  # key k < query q, k ≥ 1
    match = (ids.unsqueeze(2) == ids.unsqueeze(1)) & earlier  # batch × query × key
    latest = torch.where(match, position, -1).max(-1).values  # batch × query (−1: none)
    has_target = (latest >= 1) & (latest + 1 <= position) & scored
    return (latest + 1).clamp(0, width - 1), has_target, match


@torch.no_grad()
def attention_maps(run: Run, length: int, seed: int = 0) -> dict:
    """Every head's attention on one example with an input of `length` (offset 0, as the evaluation reads it), with
    what a reader needs beside it: the tokens, which queries are scored and which of those the model gets wrong, and
    each scored query's induction target (the key after the latest earlier copy of its token: where a content lookup
    such as a hint's looks; for a task with hints, the hint queries' only)."""
    batch = probe_batch(run, (length, length), 1, seed)
    logits, patterns = run.model.eval()(batch.ids, positions=batch.positions, return_attention=True)
    scored = batch.targets[0] != IGNORE
    target, has_target, _ = _induction_targets(batch.ids, scored.unsqueeze(0))
    has_target &= _query_parts(run, batch.ids).get("hint", has_target)  # with hints, the hint queries' lookups only
    return {
        "tokens": [run.vocab.tokens[i] for i in batch.ids[0].tolist()],
        "patterns": [p[0] for p in patterns if p is not None],  # per layer: heads × query × key
        "scored": scored,
        "wrong": scored & (logits[0].argmax(-1) != batch.targets[0]),
        "targets": [(q, int(target[0, q])) for q in range(len(scored)) if has_target[0, q]],
        "last_trained": last_trained_position(run),
    }


def plot_attention_maps(maps: dict, title: str, path: Path) -> None:
    """A panel per head (a row per layer): attention of each query (row) over the keys (columns) on one example.
    Cyan dots: the scored (hint) queries' induction targets; the dashed diagonal: the longest query–key distance training
    examples contain; red ticks on the left: the queries the model answers wrong."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers, heads = len(maps["patterns"]), maps["patterns"][0].shape[0]
    width, trained = len(maps["tokens"]), maps["last_trained"]
    fig, axes = plt.subplots(layers, heads, figsize=(max(2.6 * heads, 7.0), 2.6 * layers + 0.5), squeeze=False)
    wrong = [q for q in range(width) if maps["wrong"][q]]
    for layer, pattern in enumerate(maps["patterns"]):
        for head in range(heads):
            ax = axes[layer][head]
            ax.imshow(pattern[head].numpy(), cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
            if maps["targets"]:
                queries, keys = zip(*maps["targets"])
                ax.scatter(keys, queries, s=1.5, color="tab:cyan", linewidths=0)
            if width > trained:
                ax.plot([0, width - 1 - trained], [trained, width - 1], color="tab:orange", lw=0.6, ls="--")
            ax.scatter([-1.5] * len(wrong), wrong, s=4, marker="_", color="tab:red", clip_on=False)
            ax.set_title(f"L{layer}H{head}", fontsize=8)
            ax.set_xlim(-2.5, width - 0.5)
            ax.set_ylim(width - 0.5, -0.5)
            ax.tick_params(labelsize=6)
    fig.suptitle(title, fontsize=8)
    fig.supxlabel("key position", fontsize=8)
    fig.supylabel("query position", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
