"""Where a trained model goes wrong: the error rate at each position of its longest test bin.

A row that fits the training lengths and fails beyond them fails somewhere: from a fixed position on (a code
that breaks at a distance never trained, e.g. aa_star with APE), or a little everywhere past the training length
(a count read with less and less precision, e.g. Dyck with APE). `rasp errors DIR` loads each run's checkpoint,
samples the longest test bin at offset 0 (as the evaluation does), and plots the share of examples wrong at each
scored position, for the rows that disagree with their prediction (or the rows named); `--confusions` says what
it answers where it is wrong, and `--reach` intervenes, holding attention to the trained distances, to test whether
the new distances are what breaks a row. What the attention heads do (`--heads`, `--maps`) is head_probes.py's.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

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
def within_reach(run: Run, lengths: tuple[int, int], examples: int = 300, seed: int = 0) -> dict[str, float]:
    """Exact match on inputs of `lengths` as the model is, and with its attention held to the query–key distances
    training examples contain (BOS always in reach): in every layer, and in each layer alone. An intervention, not
    an observation: if a row that fails beyond the training lengths recovers when its attention cannot reach
    further back than in training, the new distances are what breaks it, and the layer whose limit alone recovers
    it is where."""
    from ..training.steps import exact_match

    batch = probe_batch(run, lengths, examples, seed)
    attentions = [block.attn for block in run.model.blocks if block.attn is not None]
    reach = last_trained_position(run)
    settings = {"as trained": [], "every layer": attentions}
    settings |= {f"layer {i} only": [a] for i, a in enumerate(attentions)}
    out = {}
    for name, limited in settings.items():
        for attention in limited:
            attention.reach = reach
        try:
            logits = run.model.eval()(batch.ids, positions=batch.positions)
            out[name] = float(exact_match(logits, batch.targets).float().mean())
        finally:
            for attention in limited:
                attention.reach = None
    return out


@torch.no_grad()
def shifted(run: Run, lengths: tuple[int, int], examples: int = 300, seed: int = 0) -> dict[str, float]:
    """Exact match on the probe's inputs of `lengths` at offset 0 and again with each moved by a random position
    offset that keeps it within the positions training examples reach. A model that copies by content or by relative
    position answers alike; one that reads absolute positions does not (it can learn to only where training never
    moved its sequences: a profile without position offsets)."""
    from ..training.data import collate
    from ..training.steps import exact_match

    rng = random.Random(seed)
    drawn = [run.task.sample(rng, *lengths) for _ in range(examples)]  # probe_batch's inputs
    out = {}
    for name, offsets in (("offset 0", None), ("shifted", random.Random(seed + 1))):
        batch = collate(drawn, run.vocab, offsets, last_trained_position(run) + 1).to(run.device)
        logits = run.model.eval()(batch.ids, positions=batch.positions)
        out[name] = float(exact_match(logits, batch.targets).float().mean())
    return out


def probe_batch(run: Run, lengths: tuple[int, int], examples: int, seed: int):
    """The inputs every probe reads: `examples` of `lengths`, at offset 0 (as the evaluation reads them), drawn from
    `seed`, so that probes with the same arguments read the same inputs."""
    return run.batch(random.Random(seed), lengths, examples, offsets=False)


@torch.no_grad()
def errors_by_position(run: Run, lengths: tuple[int, int], examples: int = 300, seed: int = 0) -> list[float]:
    """Per sequence position: the share of the examples (inputs of `lengths`, offset 0) whose prediction there is
    wrong, among those with a scored target there."""
    batch = probe_batch(run, lengths, examples, seed)
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
    batch = probe_batch(run, lengths, examples, seed)
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
