"""Results → report.md, report.csv and plots (accuracy by length, training curves): predicted against observed
length generalization.

The report opens with the protocol the runs were made under (name, version, hash) and the three figures
(experiments/length/figures.py), then gives one row per task × positional encoding (experiments/length/rows.py): the prediction
(the toolkit's verdict on the task's bundled program: C-RASP for NoPE, C-RASP[periodic, local] for APE and APE+reg),
the paper's prediction and numbers, the mean exact match per length bin over the seeds that converged in-distribution
with its 95% Wilson interval, how many seeds did not converge, and the outcome judged at the protocol's deciding bin.
It refuses to mix runs made under different protocols.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from rasp.errors import RaspInputError

from .figures import describe as describe_figures
from .figures import huang_rows
from .protocol import Protocol, find_by_hash
from .records import RESULTS, RunRecord, read_records
from .rows import (
    GENERALIZES,
    PE_NAMES,
    Judgement,
    Row,
    agreeing_at,
    bins_text,
    build_rows,
    interval_text,
    mark,
    percents,
)

__all__ = ["GENERALIZES", "PE_NAMES", "Row", "agreeing_at", "build_rows", "write_report", "protocol_of"]


def protocol_of(records: list[RunRecord]) -> Protocol | None:
    """The one protocol the records were made under (None: made before protocols); mixing protocols is an error."""
    hashes = sorted({r.protocol_hash for r in records})
    if len(hashes) > 1:
        labels = sorted({f"{r.protocol or '(none)'} v{r.protocol_version} [{r.protocol_hash or '-'}]" for r in records})
        raise RaspInputError(
            "these results mix runs made under different protocols (" + ", ".join(labels) + "); a report judges one "
            "protocol's runs by one rule: put each protocol's runs in its own directory"
        )
    if not hashes or not hashes[0]:
        return None
    protocol = find_by_hash(hashes[0])
    if protocol is None:
        raise RaspInputError(
            f"the runs were made under protocol {records[0].protocol} v{records[0].protocol_version} "
            f"(hash {hashes[0]}), which is no longer registered in experiments/length/protocols.json"
        )
    return protocol


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


def write_csv(rows: list[Row], path: Path) -> None:
    columns = [
        "task", "pe", "data", "selection", "predicted", "prediction_source", "paper_predicted", "bins", "accuracy",
        "ci95_low", "ci95_high", "converged_seeds", "failed_seeds", "outcome", "agrees", "paper_accuracy",
        "paper_generalizes", "reproduces", "paper_lengths", "seconds", "models",
    ]  # fmt: skip
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for r in rows:
            lows = [round(low, 4) for low, _ in r.intervals] if r.intervals else None
            highs = [round(high, 4) for _, high in r.intervals] if r.intervals else None
            writer.writerow(
                [
                    r.task, r.pe, " ".join(r.data), " ".join(r.selections), r.prediction.ok, r.prediction.source,
                    r.prediction.paper, json.dumps(r.bins), json.dumps(r.accuracies), json.dumps(lows),
                    json.dumps(highs), r.converged, r.failed, r.outcome, r.agrees, json.dumps(r.paper),
                    r.paper_generalizes, r.reproduces,
                    f"{r.paper_lengths.describe()} (up to {r.paper_lengths.ratio:.3g}x)" if r.paper_lengths else "",
                    round(r.seconds, 1), " ".join(r.models),
                ]
            )  # fmt: skip


def write_markdown(
    rows: list[Row],
    path: Path,
    title: str,
    protocol: Protocol | None,
    wall_seconds: float | None,
    converged_at: float = 1.0,
    compute_seconds: float | None = None,
) -> dict:
    """`compute_seconds`: all runs' time, a sweep's discarded runs included (default: the rows' own runs)."""
    suite, zhou = huang_rows(rows), [r for r in rows if r not in huang_rows(rows)]
    judged = [r for r in suite if r.agrees is not None]
    lines = [f"# {title}", "", *_opening(protocol), ""]
    if suite:
        lines += [*describe_figures(rows), "", *_by_bin(suite)]
    lines += [*_conventions(converged_at), "", _compute(rows, compute_seconds, wall_seconds)]
    if suite:
        lines += ["", *_table(suite)]
    disagreements = [r for r in judged if not r.agrees]
    if suite:
        lines += _lists(suite, disagreements, converged_at)
    if zhou:  # judged apart, with its own lists of what disagrees, is undecided or has no outcome
        lines += ["", *_zhou_section(zhou)]
        lines += _lists(zhou, [r for r in zhou if r.agrees is False], converged_at, "Zhou et al.'s suite: ")
    if (path.parent / "paper_extrapolation.md").exists():
        lines += ["", "Each row judged at the extrapolation the paper measured it at: [paper_extrapolation.md]"
                  "(paper_extrapolation.md) (`rasp report DIR --paper-extrapolation`)."]  # fmt: skip
    readings = path.parent / "readings.md"  # a researcher's reading of the disagreements, kept with the results
    if readings.exists():
        lines += ["", "## Readings", "", readings.read_text().strip()]
    if suite:
        lines += ["", "![accuracy by length](accuracy_by_length.png)"]
    lines += ["", "Each run's held-out exact match at the training lengths, step by step:", "",
              "![training curves](training_curves.png)", ""]  # fmt: skip
    path.write_text("\n".join(lines))
    return {
        "agreement": (len(judged) - len(disagreements)) / len(judged) if judged else float("nan"),
        "judged": len(judged),
        "agreeing": len(judged) - len(disagreements),
        "undecided": sum(r.outcome == "undecided" for r in rows),
        "disagreements": [(r.task, r.pe) for r in disagreements],
        "zhou": {"judged": sum(r.agrees is not None for r in zhou), "agreeing": sum(bool(r.agrees) for r in zhou)},
    }


def _opening(protocol: Protocol | None) -> list[str]:
    if protocol is not None:
        return protocol.describe()
    return [
        "**No pre-registered protocol**: these runs were made without one (`rasp experiment --protocol NAME` runs "
        "under one), so their figures are exploratory. Judged by the default rule: the 95% Wilson interval on the "
        f"longest bin against {GENERALIZES * 100:.0f}%."
    ]


def _by_bin(suite: list[Row]) -> list[str]:
    """Figure (b)'s rule read at every bin past training, where the rows share their number of bins."""
    bins, decided = suite[0].bins, [r for r in suite if r.agrees is not None]
    if len(bins) <= 2 or not decided or any(len(r.bins) != len(bins) for r in suite):
        return []
    shared = all(r.bins == bins for r in suite)
    names = [f"{a}–{b}" if shared else f"bin {k}" for k, (a, b) in enumerate(bins)]
    by_bin = ", ".join(f"{names[k]}: {agreeing_at(suite, k)}/{len(decided)}" for k in range(1, len(bins)))
    return [f"Figure (b)'s rule read at each bin beyond the training lengths: {by_bin}.", ""]


def _conventions(converged_at: float) -> list[str]:
    return [
        f"Seeds count as converged at {converged_at * 100:.0f}% exact match on held-out training-length data; failed "
        "seeds are counted, not averaged. Prediction: the toolkit's verdict on the task's bundled program — C-RASP for "
        "NoPE, C-RASP[periodic, local] for APE and APE+reg (Zhou et al.'s tasks: RASP-L); ✗ means *no program in the "
        "fragment was given*, not that none exists (tasks with a known impossibility result say so). The interval "
        "pools the converged seeds' examples, so it measures sampling error, not the spread between seeds (each seed's "
        "numbers are in results.jsonl)."
    ]


def _compute(rows: list[Row], compute_seconds: float | None, wall_seconds: float | None) -> str:
    total = compute_seconds if compute_seconds is not None else sum(r.seconds for r in rows)
    return f"Compute: {total / 60:.1f} minutes of runs (summed over every run, those a sweep discarded included)" + (
        f"; wall time {wall_seconds / 60:.1f} min." if wall_seconds else "."
    )


def _table(rows: list[Row]) -> list[str]:
    """The main table: one line per task × encoding of Huang et al.'s suite."""
    bins = rows[0].bins
    shared = all(r.bins == bins for r in rows)  # one set of bins for every row? (per-language bins: no)
    several_models = len({m for r in rows for m in r.models}) > 1  # a sweep: say which model each row kept
    model_header, model_rule = (" model |", "---|") if several_models else ("", "")
    bins_header, bins_rule = ("", "") if shared else (" input lengths |", "---|")
    lines = [
        f"| task | pe |{model_header}{bins_header} predicted | paper pred. | accuracy % "
        f"({bins_text(bins) if shared else 'per bin'}) | 95% CI at the deciding bin | paper % | paper to | seeds "
        "ok/failed | outcome | agrees | reproduces | model chosen by |",
        f"|---|---|{model_rule}{bins_rule}---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        model = f" {', '.join(r.models)} |" if several_models else ""
        model += "" if shared else f" {bins_text(r.bins)} |"
        lines.append(
            f"| {r.task} | {PE_NAMES.get(r.pe, r.pe)} |{model} {mark(r.prediction.ok)} | {mark(r.prediction.paper)} | "
            f"{percents(r.accuracies)} | {interval_text(r, r.deciding) if r.intervals else '–'} | "
            f"{percents([p / 100 for p in r.paper]) if r.paper else '–'} | "
            f"{f'{r.paper_lengths.ratio:.3g}×' if r.paper_lengths else '–'} | {r.converged}/{r.failed} | {r.outcome} | "
            f"{mark(r.agrees)} | {mark(r.reproduces)} | {', '.join(r.selections)} |"
        )
    if any(r.paper_lengths for r in rows):
        lines += [
            "",
            "*paper to*: how far the paper extrapolated for that row — its longest test input over its longest training "
            "input (algorithmic tasks 150/50; each formal language its own, in the authors' code). Here: "
            + (f"{rows[0].extrapolation:.3g}× for every row." if shared else "each row's *input lengths*."),
        ]
    return lines


def _lists(rows: list[Row], disagreements: list[Row], converged_at: float, suite: str = "") -> list[str]:
    """The rows that disagree, are undecided, or have no outcome, each with what a reader checks first; `suite`
    prefixes the headings (Zhou et al.'s rows are listed apart from Huang et al.'s)."""
    lines = ["", f"## {suite}Disagreements with the prediction", ""]
    if not disagreements:
        lines.append("None.")
    for r in disagreements:
        expected = "generalize" if r.prediction.ok else "fail beyond the training length"
        lines.append(
            f"- **{r.task}, {PE_NAMES.get(r.pe, r.pe)}**: predicted to {expected} ({r.prediction.source}); observed "
            f"{percents(r.accuracies)}, {interval_text(r, r.deciding)} at the deciding bin. Paper: {_paper_text(r, suite)}."
            + _shorter_in_the_paper(r)
        )
    undecided = [r for r in rows if r.outcome == "undecided"]
    if undecided:
        criterion = undecided[0].judgement.criterion
        lines += ["", f"## {suite}Undecided (the interval straddles {criterion * 100:.0f}%)", ""]
        lines += [
            f"- {r.task}, {PE_NAMES.get(r.pe, r.pe)}: {percents(r.accuracies)}, {interval_text(r, r.deciding)}"
            for r in undecided
        ]
    no_outcome = [r for r in rows if r.outcome == "no outcome"]
    if no_outcome:
        lines += ["", f"## {suite}No outcome (no seed reached {converged_at * 100:.0f}% in-distribution)", ""]
        lines += [
            f"- {r.task}, {PE_NAMES.get(r.pe, r.pe)}: {r.failed} seed(s) failed (held-out exact match at the end: "
            f"{', '.join(f'{a * 100:.1f}%' for a in r.unconverged_held_out)})"
            for r in no_outcome
        ]
    return lines


def _paper_text(r: Row, suite: str) -> str:
    if suite:  # Zhou et al.: a ✓/✗ per task (Figure 1a), no numbers recovered
        return f"{mark(r.prediction.paper)} (its numbers were not recovered)"
    return percents([p / 100 for p in r.paper]) if r.paper else "not in the paper"


def _zhou_section(rows: list[Row]) -> list[str]:
    """Zhou et al.'s suite, judged apart: the RASP-L prediction (with the program's length), the paper's ✓/✗."""
    decided = [r for r in rows if r.agrees is not None]
    lines = [
        "## Zhou et al.'s suite (RASP-Generalization Conjecture)",
        "",
        f"Observed against the RASP-L prediction: {sum(bool(r.agrees) for r in decided)}/{len(decided)} rows with a "
        "decided outcome. The paper gives ✓/✗ per task; its numbers were not recovered (docs/zhou_tasks.md).",
        "",
        "| task | pe | input lengths | RASP-L program | model | paper | accuracy % | 95% CI at the deciding bin | "
        "seeds ok/failed | outcome | agrees |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.task} | {PE_NAMES.get(r.pe, r.pe)} | {bins_text(r.bins)} | {mark(r.prediction.ok)} "
            f"{r.prediction.source} | {_model_text(r)} | {mark(r.prediction.paper)} | {percents(r.accuracies)} | "
            f"{interval_text(r, r.deciding) if r.intervals else '–'} | {r.converged}/{r.failed} | {r.outcome} | "
            f"{mark(r.agrees)} |"
        )
    return [*lines, "", "![Zhou et al.'s suite by length](zhou_accuracy_by_length.png)"]


def _model_text(r: Row) -> str:
    """The trained model(s), flagged when shallower than the task's program: the conjecture speaks of a program the
    model can hold, so a model with fewer layers tests less than the prediction assumes."""
    from .predictions import program_layers

    needed, layers = program_layers(r.task), [record.architecture["layers"] for record in r.records]
    short = needed is not None and layers and min(layers) < needed
    return ", ".join(r.models) + (f" (fewer layers than the program's {needed})" if short else "")


def load_rows(out_dir: Path) -> tuple[list[Row], Protocol | None, list[RunRecord]]:
    """The rows of an experiment directory, judged under its protocol; also every run (a sweep's discarded ones)."""
    every_run = read_records(out_dir, selected_only=False)
    records = [r for r in every_run if r.selected]
    if not records:
        raise RaspInputError(f"no results in {out_dir / RESULTS}")
    protocol = protocol_of(records)
    judgement = Judgement(protocol.criterion, protocol.deciding_bin) if protocol else Judgement()
    return build_rows(records, judgement), protocol, every_run


def write_report(out_dir: Path, title: str | None = None) -> dict:
    from .plots import plot_accuracy, plot_training
    from .profiles import PROFILES
    from .wall_clock import read_wall_seconds

    rows, protocol, every_run = load_rows(out_dir)
    profile = every_run[0].profile
    wall = read_wall_seconds(out_dir)  # a damaged side file loses the wall time, not the report
    converged_at = PROFILES[profile].converged_at if profile in PROFILES else 1.0
    title = title or f"Length generalization — {profile} profile"
    summary = write_markdown(
        rows, out_dir / "report.md", title, protocol, wall, converged_at, sum(r.seconds for r in every_run)
    )
    write_csv(rows, out_dir / "report.csv")
    suite = huang_rows(rows)
    if suite:
        plot_accuracy(suite, out_dir / "accuracy_by_length.png")
    if len(suite) < len(rows):
        plot_accuracy([r for r in rows if r not in suite], out_dir / "zhou_accuracy_by_length.png")
    plot_training([record for r in rows for record in r.records], converged_at, out_dir / "training_curves.png")
    return summary
