"""Where a trained model goes wrong: the error rate at each position of its longest test bin.

A row that fits the training lengths and fails beyond them fails somewhere: from a fixed position on (a code
that breaks at a distance never trained, e.g. aa_star with APE), or a little everywhere past the training length
(a count read with less and less precision, e.g. Dyck with APE). `rasp errors DIR` loads each run's checkpoint,
samples the longest test bin at offset 0 (as the evaluation does), and plots the share of examples wrong at each
scored position, for the rows that disagree with their prediction (or the rows named).
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from .data import IGNORE
from .profiles import PROFILES, Architecture, Profile
from .train import Run, RunSpec


def run_from_record(record: dict, out_dir: Path, profile: Profile | None = None) -> Run:
    """The run a results.jsonl record came from, with its last checkpoint's weights (the checkpoint is only read)."""
    from rasp.errors import RaspInputError

    profile = profile or PROFILES[record["profile"]]
    spec = RunSpec(record["task"], record["pe"], record["seed"], profile, Architecture(**record["architecture"]))
    run = Run(spec, out_dir / "checkpoints")
    if run.checkpoint is None or not run.checkpoint.exists():
        raise RaspInputError(f"no checkpoint for {spec.key} in {out_dir / 'checkpoints'}")
    state = torch.load(run.checkpoint, map_location="cpu", weights_only=False)
    try:
        run.model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise RaspInputError(f"{run.checkpoint} does not fit the {profile.name} profile's model: {error}") from None
    return run


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


def plot_errors(curves: dict[str, list[float]], train_length: int, path: Path) -> None:
    """One panel per row: error rate against position, with the longest training length marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, max(1, len(curves)))
    grid_rows = (len(curves) + columns - 1) // columns
    fig, axes = plt.subplots(grid_rows, columns, figsize=(3.4 * columns, 2.2 * grid_rows), squeeze=False, sharey=True)
    for ax, (name, rates) in zip(axes.flat, curves.items()):
        ax.bar(range(len(rates)), [r * 100 for r in rates], width=0.9, color="tab:red")
        ax.axvline(train_length + 0.5, color="0.6", lw=0.8)
        ax.set_title(name, fontsize=8)
        ax.set_ylim(0, 105)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(curves) :]:
        ax.axis("off")
    fig.supxlabel("position in the sequence (grey line: longest training input)", fontsize=8)
    fig.supylabel("examples wrong there, %", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
