"""The report's plots: exact match against input length, per task and encoding, with 95% intervals; each run's
training curve; and the tally's one line per row."""

from __future__ import annotations

from pathlib import Path

from .records import RunRecord
from .rows import PE_NAMES, Row


def plot_accuracy(rows: list[Row], path: Path) -> None:
    """Accuracy against length bin, one panel per task, a line per encoding coloured by prediction, with each bin's
    95% interval as an error bar (a row is judged on the interval, so the reader sees what was judged)."""
    tasks = list(dict.fromkeys(r.task for r in rows))
    plt, fig, axes = _task_panels(len(tasks))
    styles = {"ape": "-", "nope": "--", "reg": ":"}
    for ax, task in zip(axes, tasks):
        for r in (r for r in rows if r.task == task):
            colour = "tab:green" if r.prediction.ok else "tab:red" if r.prediction.ok is not None else "tab:gray"
            centres = [(a + b) / 2 for a, b in r.bins]
            if r.accuracies:
                values = [a * 100 for a in r.accuracies]
                errors = [[max(0.0, a - low) * 100 for a, (low, _) in zip(r.accuracies, r.intervals)],
                          [max(0.0, high - a) * 100 for a, (_, high) in zip(r.accuracies, r.intervals)]]  # fmt: skip
                ax.errorbar(centres, values, yerr=errors, fmt=styles.get(r.pe, "-"), color=colour, marker="o", ms=3,
                            capsize=2, lw=1)  # fmt: skip
            elif r.unconverged:  # no seed reached 100% in-distribution: shown faint, not judged
                faint = [a * 100 for a in r.unconverged]
                ax.plot(centres, faint, styles.get(r.pe, "-"), color=colour, marker="x", ms=3, alpha=0.35)
        ax.set_title(task, fontsize=8)
        ax.axhline(rows[0].judgement.criterion * 100, color="0.85", lw=0.6, ls=":")
        ax.set_ylim(-5, 105)
        ax.tick_params(labelsize=7)
        panel_bins = [b for r in rows if r.task == task for b in r.bins]
        if panel_bins:
            ax.axvline(next(r.bins[0][1] for r in rows if r.task == task and r.bins), color="0.8", lw=0.8)
            ax.set_xlim(min(low for low, _ in panel_bins), max(high for _, high in panel_bins))
    handles = [
        plt.Line2D([], [], color="tab:green", label="predicted ✓"),
        plt.Line2D([], [], color="tab:red", label="predicted ✗"),
        *(plt.Line2D([], [], color="k", ls=s, label=PE_NAMES[p]) for p, s in styles.items()),
        plt.Line2D([], [], color="k", marker="x", alpha=0.35, label="no seed converged in-distribution"),
    ]
    _finish(plt, fig, handles, "input length (bin centre; grey line: longest training length)", "exact match %", path)


def plot_training(records: list[RunRecord], converged_at: float, path: Path) -> None:
    """Held-out exact match at the training lengths against step, one panel per task, a line per run: how a row
    that has no outcome got there (a plateau, a late rise, a give-up), which the table's end figures cannot show."""
    tasks = list(dict.fromkeys(r.task for r in records))
    plt, fig, axes = _task_panels(len(tasks))
    colours, styles = {"ape": "tab:blue", "nope": "tab:orange", "reg": "tab:purple"}, ("-", "--", ":", "-.")
    for ax, task in zip(axes, tasks):
        for r in (r for r in records if r.task == task and r.history):
            steps = [h["step"] for h in r.history]
            held_out = [h["train_accuracy"] * 100 for h in r.history]
            ax.plot(steps, held_out, styles[r.seed % len(styles)], color=colours.get(r.pe, "k"), lw=0.9,
                    marker="o" if len(steps) == 1 else None, ms=3)  # fmt: skip
        ax.axhline(converged_at * 100, color="0.85", lw=0.6, ls=":")
        ax.set_title(task, fontsize=8)
        ax.set_ylim(-5, 105)
        ax.tick_params(labelsize=7)
    handles = [
        *(
            plt.Line2D([], [], color=c, label=PE_NAMES[p])
            for p, c in colours.items()
            if any(r.pe == p for r in records)
        ),
        *(
            plt.Line2D([], [], color="k", ls=styles[k % len(styles)], label=f"seed {k}")
            for k in sorted({r.seed for r in records})
        ),
    ]
    _finish(
        plt, fig, handles, "training step (dotted line: the convergence threshold)",
        "held-out EM % at training lengths", path, columns=len(handles), left=0.015,
    )  # fmt: skip


def plot_tally(rows: list[Row], sources: list[str], path: Path) -> None:
    """One line per row: exact match at the deciding bin with its 95% interval against the criterion, coloured by
    the prediction, filled where the outcome agrees with it (a square where undecided), and the version that decided
    it: a suite's standing at a glance, read as the rule reads it (an interval wholly on one side of the line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 0.5 + 0.24 * len(rows)))
    for y, (r, source) in enumerate(zip(rows, sources)):
        colour = "tab:green" if r.prediction.ok else "tab:red" if r.prediction.ok is not None else "tab:gray"
        label = f"{r.outcome} ({source})"
        if r.intervals:
            low, high = r.intervals[r.deciding]
            ax.plot([low * 100, high * 100], [y, y], color=colour, lw=2)
            ax.plot(r.accuracies[r.deciding] * 100, y, "o" if r.agrees is not None else "s", ms=5, color=colour,
                    markerfacecolor=colour if r.agrees else "white")  # fmt: skip
        ax.text(103, y, label, va="center", fontsize=7, color="0.3")
    ax.axvline(rows[0].judgement.criterion * 100, color="0.6", lw=0.8, ls=":")
    ax.set_yticks(range(len(rows)), [f"{r.task} {PE_NAMES.get(r.pe, r.pe)}" for r in rows], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(-2, 102)
    ax.tick_params(axis="x", labelsize=7)
    handles = [
        plt.Line2D([], [], color="tab:green", marker="o", label="predicted ✓"),
        plt.Line2D([], [], color="tab:red", marker="o", label="predicted ✗"),
        plt.Line2D([], [], color="k", marker="o", ls="", markerfacecolor="white", label="disagrees"),
        plt.Line2D([], [], color="k", marker="s", ls="", markerfacecolor="white", label="undecided"),
    ]
    ax.legend(handles=handles, fontsize=7, loc="lower left", bbox_to_anchor=(0, 1), ncol=4, frameon=False)
    ax.set_xlabel("exact match % at the deciding bin (dotted line: the criterion; no line: no outcome)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _task_panels(count: int):
    """pyplot, a figure with one panel per task (six to a row, a shared y axis) and those panels; the unused ones off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(6, max(1, count))
    grid_rows = (count + columns - 1) // columns
    fig, axes = plt.subplots(grid_rows, columns, figsize=(2.6 * columns, 2.2 * grid_rows), squeeze=False, sharey=True)
    for ax in list(axes.flat)[count:]:
        ax.axis("off")
    return plt, fig, list(axes.flat)[:count]


def _finish(plt, fig, handles: list, xlabel: str, ylabel: str, path: Path, columns: int = 6, left: float = 0.0) -> None:
    """The axis labels, the legend below the panels, and the PNG."""
    bottom = 0.6 / fig.get_figheight()  # room (in figure fractions) for the x label and the legend below it
    fig.supxlabel(xlabel, fontsize=8, y=bottom * 0.6)
    fig.supylabel(ylabel, fontsize=8)
    fig.tight_layout(rect=(left, bottom, 1, 1))
    fig.legend(handles=handles, loc="lower center", ncol=columns, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.savefig(path, dpi=120)
    plt.close(fig)
