"""Results → report.md, report.csv and plots: predicted against observed length generalization.

One row per task × positional encoding: the prediction (the toolkit's verdict on the task's bundled program:
C-RASP for NoPE, C-RASP[periodic, local] for APE and APE+reg), the paper's prediction and numbers, the mean
exact-match accuracy per length bin over the seeds that reached 100% in-distribution, how many did not, and
whether the outcome matches the prediction.

Criterion: a task *generalizes* when its mean accuracy on the longest test bin (2–3× the training length) is
at least GENERALIZES (80%). Only seeds that converged in-distribution (the profile's `converged_at`: 100% for the
paper profile, 99% for the CPU quick profile) are averaged; rows whose seeds all failed have no outcome.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .predictions import Prediction, paper_lengths, paper_numbers, predict_task
from .profiles import PROFILES, Architecture
from .runner import RESULTS

if TYPE_CHECKING:
    from rasp.analysis.tasks import PaperLengths

GENERALIZES = 0.80
PE_NAMES = {"ape": "APE", "nope": "NoPE", "reg": "APE+reg"}


@dataclass
class Row:
    task: str
    pe: str
    prediction: Prediction
    bins: list[tuple[int, int]] = field(default_factory=list)
    accuracies: list[float] | None = None  # mean over converged seeds
    unconverged: list[float] | None = None  # mean over the seeds that did not converge (shown, not judged)
    unconverged_held_out: list[float] = field(default_factory=list)  # their final held-out exact match
    converged: int = 0
    failed: int = 0
    seconds: float = 0.0
    paper: list[float] | None = None
    paper_lengths: PaperLengths | None = None  # the lengths the paper's numbers were measured on
    models: list[str] = field(default_factory=list)  # the architecture of each seed's run (with --sweep: the one kept)
    records: list[dict] = field(default_factory=list)  # the runs behind the row (results.jsonl lines)

    @property
    def generalizes(self) -> bool | None:
        return None if self.accuracies is None else self.accuracies[-1] >= GENERALIZES

    @property
    def agrees(self) -> bool | None:
        if self.generalizes is None or self.prediction.ok is None:
            return None
        return self.generalizes == self.prediction.ok

    def agrees_at(self, accuracy: float) -> bool:
        """Whether an accuracy read elsewhere (another bin, other lengths) matches the prediction."""
        return (accuracy >= GENERALIZES) == self.prediction.ok

    @property
    def extrapolation(self) -> float:
        """How far this row's runs were tested: the longest test input over the longest training input."""
        return self.bins[-1][1] / self.bins[0][1]


def load_records(out_dir: Path, selected_only: bool = True) -> list[dict]:
    """The results of an experiment directory; of a sweep's runs, only those it kept unless `selected_only` is off."""
    path = out_dir / RESULTS
    records = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return _kept(records) if selected_only else records


def _kept(records: list[dict]) -> list[dict]:
    """Without the runs a sweep tried and discarded."""
    return [r for r in records if r.get("selected", True)]


def build_rows(records: list[dict]) -> list[Row]:
    # runs of a task × encoding on different input lengths (a directory resumed under another profile) stay apart
    groups: dict[tuple[str, str, tuple], list[dict]] = defaultdict(list)
    for record in records:
        groups[(record["task"], record["pe"], tuple(tuple(b["bin"]) for b in record["bins"]))].append(record)
    rows = []
    for (task, pe, bins), members in groups.items():
        row = Row(task, pe, predict_task(task, pe), paper=paper_numbers(task, pe), paper_lengths=paper_lengths(task))
        row.bins, row.records = list(bins), members
        good = [m for m in members if m["converged"]]
        row.converged, row.failed = len(good), len(members) - len(good)
        row.seconds = sum(m["seconds"] for m in members)
        row.models = sorted({_model_name(m) for m in members})
        bad = [m for m in members if not m["converged"]]
        if good:
            row.accuracies = _mean_bins(good, len(row.bins))
        if bad:
            row.unconverged = _mean_bins(bad, len(row.bins))
            row.unconverged_held_out = [m["train_accuracy"] for m in bad]
        rows.append(row)
    order = {t: i for i, t in enumerate(_task_order())}
    rows.sort(key=lambda r: (order.get(r.task, 999), list(PE_NAMES).index(r.pe) if r.pe in PE_NAMES else 9))
    return rows


def _model_name(record: dict) -> str:
    return Architecture(**record["architecture"]).name if "architecture" in record else "?"


def _mean_bins(records: list[dict], bins: int) -> list[float]:
    return [sum(r["bins"][k]["accuracy"] for r in records) / len(records) for k in range(bins)]


def _task_order() -> list[str]:
    from programs.tasks import TASKS

    return list(TASKS)


def _mark(value: bool | None) -> str:
    return "✓" if value else "✗" if value is not None else "–"


def _bins_text(bins: list[tuple[int, int]]) -> str:
    return " / ".join(f"{low}–{high}" for low, high in bins)


def _percent(values: list[float] | None) -> str:
    return " / ".join(f"{v * 100:.1f}" for v in values) if values else "–"


def write_csv(rows: list[Row], path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "task",
                "pe",
                "predicted",
                "prediction_source",
                "paper_predicted",
                "bins",
                "accuracy",
                "converged_seeds",
                "failed_seeds",
                "generalizes",
                "agrees",
                "paper_accuracy",
                "paper_lengths",
                "seconds",
                "models",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r.task,
                    r.pe,
                    r.prediction.ok,
                    r.prediction.source,
                    r.prediction.paper,
                    json.dumps(r.bins),
                    json.dumps(r.accuracies),
                    r.converged,
                    r.failed,
                    r.generalizes,
                    r.agrees,
                    json.dumps(r.paper),
                    f"{r.paper_lengths.describe()} (up to {r.paper_lengths.ratio:.3g}x)" if r.paper_lengths else "",
                    round(r.seconds, 1),
                    " ".join(r.models),
                ]
            )


def _shorter_in_the_paper(row: Row) -> str:
    """For a row the paper measured at a smaller extrapolation than ours: say so, and give ours at that length."""
    lengths, bins = row.paper_lengths, row.bins
    if not lengths or not bins or lengths.ratio >= row.extrapolation - 1e-9:
        return ""
    note = f" The paper measured this row only up to {lengths.ratio:.3g}× ({lengths.describe()})"
    within = [k for k, (_, high) in enumerate(bins) if k and high <= lengths.ratio * bins[0][1] + 1e-9]
    if within and row.accuracies:
        low, high = bins[within[-1]]
        return note + f"; here, at {low}–{high}: {row.accuracies[within[-1]] * 100:.1f}%."
    return note + "; no bin here is that short."


def agreeing_at(rows: list[Row], k: int) -> int:
    """Rows (of those judged) whose outcome, read at bin k instead of the longest, matches the prediction."""
    return sum(r.agrees_at(r.accuracies[k]) for r in rows if r.agrees is not None and len(r.accuracies) > k)


def write_markdown(
    rows: list[Row],
    path: Path,
    title: str,
    wall_seconds: float | None,
    converged_at: float = 1.0,
    compute_seconds: float | None = None,
) -> dict:
    """`compute_seconds`: all runs' time, a sweep's discarded runs included (default: the rows' own runs)."""
    judged = [r for r in rows if r.agrees is not None]
    agreeing = [r for r in judged if r.agrees]
    rate = len(agreeing) / len(judged) if judged else float("nan")
    lines = [f"# {title}", ""]
    lines.append(
        f"**Agreement: {len(agreeing)}/{len(judged)} = {rate * 100:.0f}%** of task × encoding rows where the outcome "
        "matches the prediction."
    )
    in_paper = [r for r in judged if r.paper]  # the rows the paper's result table has numbers for
    if in_paper and len(in_paper) < len(judged):
        agreeing_in_paper = sum(1 for r in in_paper if r.agrees)
        lines += [
            "",
            f"On the rows of the paper's result table: {agreeing_in_paper}/{len(in_paper)} = "
            f"{agreeing_in_paper / len(in_paper) * 100:.0f}%.",
        ]
    bins = rows[0].bins if rows else []
    # one set of bins for every row? (with the paper profile each formal language has its own)
    shared = all(r.bins == bins for r in rows)
    # the same criterion applied to each bin past training: how the agreement moves with length
    if len(bins) > 2 and judged and all(len(r.bins) == len(bins) for r in rows):
        names = [f"{a}–{b}" if shared else f"bin {k}" for k, (a, b) in enumerate(bins)]
        by_bin = ", ".join(f"{names[k]}: {agreeing_at(rows, k)}/{len(judged)}" for k in range(1, len(bins)))
        lines += [
            "",
            f"The criterion applied to each bin beyond the training lengths instead of the longest: {by_bin}.",
        ]
    lines.append("")
    lines.append(
        f"Criterion: *generalizes* = mean exact-match accuracy ≥ {GENERALIZES * 100:.0f}% on the longest test bin, over the "
        f"seeds that converged in-distribution ({converged_at * 100:.0f}% exact match on held-out training-length data; "
        "failed seeds are counted, not averaged). Prediction: the toolkit's verdict on the task's bundled program — C-RASP for NoPE, "
        "C-RASP[periodic, local] for APE and APE+reg; ✗ means *no program in the fragment was given*, not that none "
        "exists (tasks with a known impossibility result say so)."
    )
    total = compute_seconds if compute_seconds is not None else sum(r.seconds for r in rows)
    lines.append("")
    lines.append(
        f"Compute: {total / 60:.1f} minutes of runs (summed over every run, those a sweep discarded included)"
        + (f"; wall time {wall_seconds / 60:.1f} min." if wall_seconds else ".")
    )
    several_models = len({m for r in rows for m in r.models}) > 1  # a sweep: say which model each row kept
    model_header, model_rule = (" model |", "---|") if several_models else ("", "")
    bins_header, bins_rule = ("", "") if shared else (" input lengths |", "---|")
    accuracy_header = _bins_text(bins) if shared else "per bin"
    lines += [
        "",
        f"| task | pe |{model_header}{bins_header} predicted | paper pred. | accuracy % ({accuracy_header}) | paper % | paper to | seeds ok/failed | outcome | agrees |",
        f"|---|---|{model_rule}{bins_rule}---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        model = f" {', '.join(r.models)} |" if several_models else ""
        model += "" if shared else f" {_bins_text(r.bins)} |"
        lines.append(
            f"| {r.task} | {PE_NAMES.get(r.pe, r.pe)} |{model} {_mark(r.prediction.ok)} | {_mark(r.prediction.paper)} | "
            f"{_percent(r.accuracies)} | {_percent([p / 100 for p in r.paper]) if r.paper else '–'} | "
            f"{f'{r.paper_lengths.ratio:.3g}×' if r.paper_lengths else '–'} | {r.converged}/{r.failed} | {_mark(r.generalizes)} | {_mark(r.agrees)} |"
        )
    if any(r.paper_lengths for r in rows) and bins:
        lines += [
            "",
            "*paper to*: how far the paper extrapolated for that row — its longest test input over its longest training "
            "input (algorithmic tasks 150/50; each formal language its own, in the authors' code). Here: "
            + (f"{rows[0].extrapolation:.3g}× for every row." if shared else "each row's *input lengths*."),
        ]
    disagreements = [r for r in judged if not r.agrees]
    lines += ["", "## Disagreements", ""]
    if not disagreements:
        lines.append("None.")
    for r in disagreements:
        expected = "generalize" if r.prediction.ok else "fail beyond the training length"
        lines.append(
            f"- **{r.task}, {PE_NAMES.get(r.pe, r.pe)}**: predicted to {expected} ({r.prediction.source}); observed "
            f"{_percent(r.accuracies)}. Paper: {_percent([p / 100 for p in r.paper]) if r.paper else 'not in the paper'}."
            + _shorter_in_the_paper(r)
        )
    no_outcome = [r for r in rows if r.generalizes is None]
    if no_outcome:
        lines += ["", f"## No outcome (no seed reached {converged_at * 100:.0f}% in-distribution)", ""]
        lines += [
            f"- {r.task}, {PE_NAMES.get(r.pe, r.pe)}: {r.failed} seed(s) failed (held-out exact match at the end: "
            f"{', '.join(f'{a * 100:.1f}%' for a in r.unconverged_held_out)})"
            for r in no_outcome
        ]
    if (path.parent / "paper_extrapolation.md").exists():
        lines += ["", "Each row judged at the extrapolation the paper measured it at: [paper_extrapolation.md]"
                  "(paper_extrapolation.md) (`rasp report DIR --paper-extrapolation`)."]  # fmt: skip
    readings = path.parent / "readings.md"  # a researcher's reading of the disagreements, kept with the results
    if readings.exists():
        lines += ["", "## Readings", "", readings.read_text().strip()]
    lines += ["", "![accuracy by length](accuracy_by_length.png)", ""]
    path.write_text("\n".join(lines))
    return {
        "agreement": rate,
        "judged": len(judged),
        "agreeing": len(agreeing),
        "disagreements": [(r.task, r.pe) for r in disagreements],
    }


def plot(rows: list[Row], path: Path) -> None:
    """Accuracy against length bin, one panel per task, a line per encoding coloured by prediction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r.task for r in rows))
    columns = min(6, max(1, len(tasks)))
    grid_rows = (len(tasks) + columns - 1) // columns
    fig, axes = plt.subplots(grid_rows, columns, figsize=(2.6 * columns, 2.2 * grid_rows), squeeze=False, sharey=True)
    styles = {"ape": "-", "nope": "--", "reg": ":"}
    for ax, task in zip(axes.flat, tasks):
        for r in (r for r in rows if r.task == task):
            colour = "tab:green" if r.prediction.ok else "tab:red" if r.prediction.ok is not None else "tab:gray"
            centres = [(a + b) / 2 for a, b in r.bins]
            if r.accuracies:
                ax.plot(centres, [a * 100 for a in r.accuracies], styles.get(r.pe, "-"), color=colour, marker="o", ms=3)
            elif r.unconverged:  # no seed reached 100% in-distribution: shown faint, not judged
                faint = [a * 100 for a in r.unconverged]
                ax.plot(centres, faint, styles.get(r.pe, "-"), color=colour, marker="x", ms=3, alpha=0.35)
        ax.set_title(task, fontsize=8)
        ax.set_ylim(-5, 105)
        ax.tick_params(labelsize=7)
        panel_bins = [b for r in rows if r.task == task for b in r.bins]
        if panel_bins:
            ax.axvline(next(r.bins[0][1] for r in rows if r.task == task and r.bins), color="0.8", lw=0.8)
            ax.set_xlim(min(low for low, _ in panel_bins), max(high for _, high in panel_bins))
    for ax in list(axes.flat)[len(tasks) :]:
        ax.axis("off")
    handles = [
        plt.Line2D([], [], color="tab:green", label="predicted ✓"),
        plt.Line2D([], [], color="tab:red", label="predicted ✗"),
        *(plt.Line2D([], [], color="k", ls=s, label=PE_NAMES[p]) for p, s in styles.items()),
        plt.Line2D([], [], color="k", marker="x", alpha=0.35, label="no seed converged in-distribution"),
    ]
    bottom = 0.6 / fig.get_figheight()  # room (in figure fractions) for the x label and the legend below it
    fig.supxlabel("input length (bin centre; grey line: longest training length)", fontsize=8, y=bottom * 0.6)
    fig.supylabel("exact match %", fontsize=8)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(out_dir: Path, title: str | None = None) -> dict:
    every_run = load_records(out_dir, selected_only=False)  # a sweep's discarded runs count in the compute
    records = _kept(every_run)
    if not records:
        from rasp.errors import RaspInputError

        raise RaspInputError(f"no results in {out_dir / RESULTS}")
    rows = build_rows(records)
    profile = records[0].get("profile", "?")
    wall = None
    meta = out_dir / "wall_seconds.json"
    if meta.exists():
        wall = json.loads(meta.read_text()).get("wall_seconds")
    converged_at = PROFILES[profile].converged_at if profile in PROFILES else 1.0
    title = title or f"Length generalization — {profile} profile"
    summary = write_markdown(
        rows, out_dir / "report.md", title, wall, converged_at, sum(r["seconds"] for r in every_run)
    )
    write_csv(rows, out_dir / "report.csv")
    plot(rows, out_dir / "accuracy_by_length.png")
    return summary
