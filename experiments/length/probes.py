"""Where a trained model goes wrong: the error rate at each position of its longest test bin.

A row that fits the training lengths and fails beyond them fails somewhere: from a fixed position on (a code
that breaks at a distance never trained, e.g. aa_star with APE), or a little everywhere past the training length
(a count read with less and less precision, e.g. Dyck with APE). `rasp errors DIR` loads each run's checkpoint,
samples the longest test bin at offset 0 (as the evaluation does), and plots the share of examples wrong at each
scored position, for the rows that disagree with their prediction (or the rows named). With `--heads` it also
says, per attention head, how its attention splits over keys at query–key distances seen in training and beyond,
and whether a positional pattern that holds within the trained distances (a parity head: attention at odd
distances only) still holds beyond them.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from programs.zhou import HINT_POOL

from ..training.data import IGNORE, max_sequence_length
from .profiles import PROFILES, Architecture, Profile
from .records import RunRecord
from .resolve import for_run
from .train import Run, RunSpec


def run_from_record(record: RunRecord, out_dir: Path, profile: Profile | None = None) -> Run:
    """The run a results.jsonl record came from, with its last checkpoint's weights (the checkpoint is only read)."""
    from rasp.errors import RaspInputError

    profile = for_run(profile or PROFILES[record.profile], record.task, record.pe)
    if record.bins:  # the lengths it ran on (the paper profile gives each formal language its own)
        bins = record.bin_ranges
        profile = profile.with_(train_lengths=record.train_lengths or bins[0], test_bins=bins)
    spec = RunSpec(record.task, record.pe, record.seed, profile, Architecture(**record.architecture), record.data)
    run = Run(spec, out_dir / "checkpoints")
    if run.checkpoint is None or not run.checkpoint.exists():
        raise RaspInputError(f"no checkpoint for {spec.key} in {out_dir / 'checkpoints'}")
    state = torch.load(run.checkpoint, map_location="cpu", weights_only=False)
    try:
        run.model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise RaspInputError(f"{run.checkpoint} does not fit the {profile.name} profile's model: {error}") from None
    return run


def last_trained_position(run: Run) -> int:
    """The last sequence position a training example reaches (BOS is 0): the longest training input's example."""
    return max_sequence_length(run.task, run.spec.profile.train_lengths[1]) - 1


@torch.no_grad()
def errors_by_position(run: Run, lengths: tuple[int, int], examples: int = 300, seed: int = 0) -> list[float]:
    """Per sequence position: the share of the examples (inputs of `lengths`, offset 0) whose prediction there is
    wrong, among those with a scored target there."""
    rng = random.Random(seed)
    batch = run.batch(rng, lengths, examples, offsets=False)
    predicted = run.model.eval()(batch.ids, positions=batch.positions).argmax(-1)
    scored = batch.targets != IGNORE
    wrong = (predicted != batch.targets) & scored
    return (wrong.sum(0) / scored.sum(0).clamp(min=1)).tolist()


@torch.no_grad()
def confusions_by_band(
    run: Run,
    lengths: tuple[int, int],
    band: int = 8,
    examples: int = 300,
    seed: int = 0,
    top: int = 3,
    from_start: bool = False,
) -> list[dict]:
    """Per band of `band` positions past the training lengths: how many scored positions there are, how many are
    wrong, and the commonest (target → predicted) token pairs among the wrong ones, on the same inputs as
    `errors_by_position`. Says *what* a model answers where it goes wrong (Dyck: "only an opening bracket may
    follow" where one may also close, i.e. depth 1 read as depth 0). `from_start`: bands from position 1 instead."""
    rng = random.Random(seed)
    batch = run.batch(rng, lengths, examples, offsets=False)
    predicted = run.model.eval()(batch.ids, positions=batch.positions).argmax(-1)
    tokens = run.vocab.tokens
    start = 1 if from_start else last_trained_position(run) + 1
    out = []
    for low in range(start, batch.ids.shape[1], band):
        targets, guesses = batch.targets[:, low : low + band], predicted[:, low : low + band]
        scored = targets != IGNORE
        wrong = scored & (guesses != targets)
        pairs: dict[tuple[str, str], int] = {}
        for t, g in zip(targets[wrong].tolist(), guesses[wrong].tolist()):
            pairs[(tokens[t], tokens[g])] = pairs.get((tokens[t], tokens[g]), 0) + 1
        common = sorted(pairs.items(), key=lambda item: -item[1])[:top]
        out.append(
            {
                "positions": (low, low + band - 1),
                "scored": int(scored.sum()),
                "wrong": int(wrong.sum()),
                "common": common,
            }
        )
    return out


@torch.no_grad()
def attention_by_distance(run: Run, lengths: tuple[int, int], examples: int = 64, seed: int = 0) -> list[dict]:
    """Per layer and head, over the scored queries of inputs of `lengths` (offset 0): the attention share on keys
    (BOS left out) at query–key distances up to the longest of training (T), from T to 2T, and beyond 2T, and the
    part of each at an even distance. APE trains position pairs only up to T: a pattern learned there (a parity
    head attends at odd distances only) need not hold beyond it."""
    trained = last_trained_position(run)
    batch = run.batch(random.Random(seed), lengths, examples, offsets=False)
    _, patterns = run.model.eval()(batch.ids, positions=batch.positions, return_attention=True)
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
            induction = float(on_target[has_target].mean()) if has_target.any() else float("nan")
            # a matching head (select(tokens, tokens, ==)) attends to the earlier copies of the query's own token
            on_same = (pattern[:, head] * same_token).sum(-1)
            matching = {part: _mean(on_same, has_same & where) for part, where in query_parts.items()}
            heads.append(
                {
                    "head": f"L{layer}H{head}",
                    "bands": shares,
                    "induction": induction,
                    "same_token": matching,
                    "same_token_uniform": uniform,
                }
            )
    return heads


def _mean(values: torch.Tensor, where: torch.Tensor) -> float:
    return float(values[where].mean()) if where.any() else float("nan")


def _query_parts(run: Run, ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """The scored queries to average a matching head's share over: all of them, and for a task with index hints
    those whose token is a hint apart from the rest. Only at a hint query does the hinted program look up earlier
    copies of the query's token (the operand digits under the same hint); the digits of the answer, half its
    queries, have no such lookup, so the pooled share understates a hint lookup by about half."""
    hints = [run.vocab.index[t] for t in HINT_POOL if t in run.vocab.index]
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


def plot_errors(curves: dict[str, list[float]], last_trained: dict[str, int], path: Path) -> None:
    """One panel per row: error rate against position, with the row's last trained position marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, max(1, len(curves)))
    grid_rows = (len(curves) + columns - 1) // columns
    fig, axes = plt.subplots(grid_rows, columns, figsize=(3.4 * columns, 2.2 * grid_rows), squeeze=False, sharey=True)
    for ax, (name, rates) in zip(axes.flat, curves.items()):
        ax.bar(range(len(rates)), [r * 100 for r in rates], width=0.9, color="tab:red")
        ax.axvline(last_trained[name] + 0.5, color="0.6", lw=0.8)
        ax.set_title(name, fontsize=8)
        ax.set_ylim(0, 105)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(curves) :]:
        ax.axis("off")
    fig.supxlabel("position in the sequence (grey line: the last one training examples reach)", fontsize=8)
    fig.supylabel("examples wrong there, %", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
