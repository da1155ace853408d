"""Task metadata: the result table of Huang et al. 2025 and the known impossibility results.

The table is data, in huang2025_table.json beside this module (the numbers are the authors' plotting data; the
formal languages' lengths come from their code, each source named in the file); this module reads it.
`pred_ape` / `pred_nope`: the paper found a C-RASP[periodic, local] / C-RASP program for the task (its prediction that a transformer with learned absolute positions / no positional encoding
length-generalizes). Accuracies are exact match in percent, mean over the seeds that reached 100% in
distribution, for three length bins: the training range (0-50 for the algorithmic tasks) and two longer
ones (51-100, 101-150). Formal languages: the paper's three bins, whose lengths differ by language
(`PaperResult.lengths`, from the authors' code: e.g. (abab)* trained up to 500 and tested up to 700).

Two different statements are kept apart:

- "no program in the fragment was given": the paper's ✗ (and a negative `rasp predict` verdict) says that
  nobody exhibited a program; it is not a proof;
- "proved impossible": for the tasks in `IMPOSSIBLE`, the paper reports a proof that no program in
  C-RASP[periodic, local] (hence none in C-RASP) exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PaperLengths:
    """The input lengths behind a row's three numbers: the training range (bin 0 is held-out data from it)
    and the two longer bins."""

    train: tuple[int, int]
    bins: tuple[tuple[int, int], tuple[int, int]]

    @property
    def ratio(self) -> float:
        """How far the paper extrapolated: the longest tested input over the longest trained one."""
        return self.bins[-1][1] / self.train[1]

    def describe(self) -> str:
        bins = " / ".join(f"{a}–{b}" for a, b in self.bins)
        return f"trained on {self.train[0]}–{self.train[1]}, tested on {bins}"


@dataclass(frozen=True)
class PaperResult:
    """One row of the paper's table."""

    task: str
    name: str
    family: str  # algorithmic, star-free, non-star-free
    definition: str
    pred_ape: bool
    ape: tuple[float, float, float]
    pred_nope: bool
    nope: tuple[float, float, float]
    reg: tuple[float, float, float]  # APE with the position regularizer

    def predicted(self, pe: str) -> bool:
        """The paper's prediction for a positional encoding: "ape", "reg" (APE + regularizer) or "nope"."""
        return self.pred_nope if pe == "nope" else self.pred_ape

    def accuracy(self, pe: str) -> tuple[float, float, float]:
        """Exact match % in the three bins for "ape", "nope" or "reg"."""
        return {"ape": self.ape, "nope": self.nope, "reg": self.reg}[pe]

    @property
    def lengths(self) -> PaperLengths | None:
        """The lengths the three numbers were measured on (None: not known, Tomita-5 and -6)."""
        if self.family == "algorithmic":
            return ALGORITHMIC_LENGTHS
        return PAPER_LENGTHS.get(self.task)

    @property
    def fragment_ape(self) -> str:
        return "C-RASP[periodic, local]"

    @property
    def fragment_nope(self) -> str:
        return "C-RASP"


TABLE_FILE = Path(__file__).with_name("huang2025_table.json")


def _lengths(data: dict) -> PaperLengths:
    first, second = (tuple(b) for b in data["bins"])
    return PaperLengths(tuple(data["train"]), (first, second))


def _load_table(path: Path = TABLE_FILE) -> tuple[PaperLengths, dict[str, PaperLengths], list[PaperResult], dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    rows, lengths, impossible = [], {}, {}
    for row in data["rows"]:
        predicted, observed = row["predicted"], row["observed"]
        rows.append(
            PaperResult(
                row["task"],
                row["name"],
                row["family"],
                row["definition"],
                predicted["ape"],
                tuple(observed["ape"]),
                predicted["nope"],
                tuple(observed["nope"]),
                tuple(observed["reg"]),
            )
        )
        if "lengths" in row:
            lengths[row["task"]] = _lengths(row["lengths"])
        if "impossible" in row:
            impossible[row["task"]] = row["impossible"]
    return _lengths(data["algorithmic_lengths"]), lengths, rows, impossible


ALGORITHMIC_LENGTHS, PAPER_LENGTHS, _ROWS, IMPOSSIBLE = _load_table()
PAPER_RESULTS: dict[str, PaperResult] = {row.task: row for row in _ROWS}

NO_PROGRAM = "no program in the fragment was given (not a proof that none exists)"


def paper_result(task: str) -> PaperResult | None:
    """The paper's row for a task id (e.g. "tomita_4"), or None."""
    return PAPER_RESULTS.get(task)


def task_of_program(stem: str) -> str | None:
    """The paper task a program file is the program of (programs/<task id>.rasp), or None."""
    return stem if stem in PAPER_RESULTS else None


def impossibility(task: str) -> str | None:
    """The known impossibility result for a task, or None (then a ✗ only means no program was given)."""
    return IMPOSSIBLE.get(task)


def paper_prediction_text(task: str, pe: str) -> str:
    """The paper's prediction for a task in words that keep "not given" apart from "impossible"."""
    row = paper_result(task)
    if row is None:
        return "not in the paper's table"
    if row.predicted(pe):
        fragment = row.fragment_nope if pe == "nope" else row.fragment_ape
        return f"a {fragment} program was found: predicted to length-generalize"
    return impossibility(task) or NO_PROGRAM
