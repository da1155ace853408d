"""Runs → rows: one row per task × positional encoding, judged by one rule.

A row pools the runs (seeds) of one task and encoding that converged in-distribution, gives each length bin its mean
exact match and a 95% Wilson interval on the pooled counts, and judges the row at the protocol's deciding bin: it
*generalizes* when the interval lies at or above the criterion, *fails* when it lies below, and is *undecided* when it
straddles it. Rows with no converged seed have no outcome. Every row is judged the same way, at the same bin.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .predictions import Prediction, paper_lengths, paper_numbers, predict_task
from .profiles import Architecture
from .records import RunRecord, mean_accuracy
from .stats import judge, wilson

if TYPE_CHECKING:
    from rasp.analysis.tasks import PaperLengths

GENERALIZES = 0.80  # the criterion when no protocol gives one (runs made before protocols)
PE_NAMES = {"ape": "APE", "nope": "NoPE", "reg": "APE+reg"}


@dataclass(frozen=True)
class Judgement:
    criterion: float = GENERALIZES
    deciding_bin: int = -1


@dataclass
class Row:
    task: str
    pe: str
    prediction: Prediction
    judgement: Judgement = field(default_factory=Judgement)
    bins: list[tuple[int, int]] = field(default_factory=list)
    accuracies: list[float] | None = None  # mean over converged seeds
    intervals: list[tuple[float, float]] | None = None  # 95% Wilson, pooled over converged seeds
    unconverged: list[float] | None = None  # mean over the seeds that did not converge (shown, not judged)
    unconverged_held_out: list[float] = field(default_factory=list)  # their final held-out exact match
    converged: int = 0
    failed: int = 0
    seconds: float = 0.0
    paper: list[float] | None = None
    paper_lengths: PaperLengths | None = None  # the lengths the paper's numbers were measured on
    models: list[str] = field(default_factory=list)  # the architecture of each seed's run (with --sweep: the one kept)
    selections: list[str] = field(default_factory=list)  # which rule chose the model(s)
    data: list[str] = field(default_factory=list)  # which sampler made the examples
    records: list[RunRecord] = field(default_factory=list)  # the runs behind the row

    @property
    def deciding(self) -> int:
        return self.judgement.deciding_bin % len(self.bins)

    @property
    def generalizes(self) -> bool | None:
        """True / False when the interval at the deciding bin lies wholly above / below the criterion; None when it
        straddles it (undecided) or no seed converged (no outcome)."""
        if self.intervals is None:
            return None
        return judge(self.intervals[self.deciding], self.judgement.criterion)

    @property
    def outcome(self) -> str:
        if self.intervals is None:
            return "no outcome"
        return {True: "generalizes", False: "fails", None: "undecided"}[self.generalizes]

    @property
    def agrees(self) -> bool | None:
        if self.generalizes is None or self.prediction.ok is None:
            return None
        return self.generalizes == self.prediction.ok

    @property
    def paper_generalizes(self) -> bool | None:
        """The paper's observed outcome: its last bin against the same criterion (the paper gives no interval)."""
        return None if not self.paper else self.paper[-1] / 100 >= self.judgement.criterion

    @property
    def reproduces(self) -> bool | None:
        """Whether our outcome is the paper's observed outcome (None: either is unknown or ours undecided)."""
        if self.generalizes is None or self.paper_generalizes is None:
            return None
        return self.generalizes == self.paper_generalizes

    def judge_at(self, k: int) -> bool | None:
        """The row's outcome read at bin k instead of the deciding bin."""
        return None if self.intervals is None else judge(self.intervals[k], self.judgement.criterion)

    def agrees_at(self, accuracy: float) -> bool:
        """Whether an accuracy read elsewhere (another length, re-evaluated) matches the prediction (point reading)."""
        return (accuracy >= self.judgement.criterion) == self.prediction.ok

    @property
    def extrapolation(self) -> float:
        """How far this row's runs were tested: the longest test input over the longest training input."""
        return self.bins[-1][1] / self.bins[0][1]


def build_rows(records: list[RunRecord], judgement: Judgement | None = None) -> list[Row]:
    judgement = judgement or Judgement()
    # runs of a task × encoding on different input lengths (a directory resumed under another profile) stay apart
    groups: dict[tuple[str, str, tuple], list[RunRecord]] = defaultdict(list)
    for record in records:
        groups[(record.task, record.pe, record.bin_ranges)].append(record)
    rows = []
    for (task, pe, bins), members in groups.items():
        row = Row(
            task,
            pe,
            predict_task(task, pe),
            judgement,
            paper=paper_numbers(task, pe),
            paper_lengths=paper_lengths(task),
        )
        row.bins, row.records = list(bins), members
        good = [m for m in members if m.converged]
        bad = [m for m in members if not m.converged]
        row.converged, row.failed = len(good), len(bad)
        row.seconds = sum(m.seconds for m in members)
        row.models = sorted({Architecture(**m.architecture).name for m in members})
        row.selections = sorted({m.selection for m in members})
        row.data = sorted({m.data for m in members})
        if good:
            row.accuracies = [mean_accuracy(good, k) for k in range(len(bins))]
            row.intervals = [
                wilson(sum(m.bins[k].correct for m in good), sum(m.bins[k].examples for m in good))
                for k in range(len(bins))
            ]
        if bad:
            row.unconverged = [mean_accuracy(bad, k) for k in range(len(bins))]
            row.unconverged_held_out = [m.train_accuracy for m in bad]
        rows.append(row)
    order = {t: i for i, t in enumerate(_task_order())}
    rows.sort(key=lambda r: (order.get(r.task, 999), list(PE_NAMES).index(r.pe) if r.pe in PE_NAMES else 9))
    return rows


def mark(value: bool | None) -> str:
    return "✓" if value else "✗" if value is not None else "–"


def percents(values: list[float] | None) -> str:
    """Rates as the tables give them: "99.0 / 87.0 / 18.8", or "–" for none."""
    return " / ".join(f"{v * 100:.1f}" for v in values) if values else "–"


def bins_text(bins: list[tuple[int, int]]) -> str:
    """Input lengths as the tables give them: "1–20 / 21–30 / 31–40"."""
    return " / ".join(f"{low}–{high}" for low, high in bins)


def interval_text(row: Row, k: int) -> str:
    """Bin k's 95% interval as the tables give it: "[84, 90]"; to a tenth where whole percents would make it one
    point ("[99.6, 100.0]" for 1,499 of 1,500, not "[100, 100]", which reads as no uncertainty at all)."""
    low, high = row.intervals[k]
    digits = 1 if round(low * 100) == round(high * 100) else 0
    return f"[{low * 100:.{digits}f}, {high * 100:.{digits}f}]"


def agreeing_at(rows: list[Row], k: int) -> int:
    """Rows (of those judged) whose outcome, read at bin k instead of the deciding one, matches the prediction."""
    return sum(
        1 for r in rows if r.agrees is not None and len(r.bins) > k and r.judge_at(k) is not None
        and r.judge_at(k) == r.prediction.ok
    )  # fmt: skip


def _task_order() -> list[str]:
    from programs.tasks import TASKS

    return list(TASKS)
