"""The three figures a report gives, never blended into one.

(a) *Analysis against the paper's predictions*: the toolkit's verdict on each task's bundled program against the
    paper's prediction column, split into cells judged from a program and cells that are ✗ only because no program
    was given (those agree with a paper ✗ by construction, so they are counted apart).
(b) *Observed against predicted*: our trained models' outcomes against our predictions — the test of the theory.
(c) *Observed against the paper's observed*: our outcomes against the paper's — the reproduction rate, which says
    whether the harness can be trusted at all; (b) means little when (c) is low.

Only Huang et al.'s suite enters them; Zhou et al.'s tasks (family "rasp_l") have a protocol and table of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .predictions import paper_tasks, predict_task
from .rows import PE_NAMES, Row, mark


@dataclass
class Figure:
    title: str
    agreeing: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)  # the cells or rows that do not agree
    note: str = ""

    @property
    def text(self) -> str:
        rate = f" = {self.agreeing / self.total * 100:.0f}%" if self.total else ""
        return f"{self.agreeing}/{self.total}{rate}"


def huang_rows(rows: list[Row]) -> list[Row]:
    """The rows of Huang et al.'s suite (Zhou et al.'s tasks leave the three figures)."""
    from programs.tasks import TASKS

    return [r for r in rows if r.task in TASKS and TASKS[r.task].family != "rasp_l"]


def analysis_vs_paper() -> tuple[Figure, Figure]:
    """(a): every prediction cell of the paper's table (APE and NoPE columns), from a program and without one."""
    from_program = Figure("cells judged from a bundled program")
    no_program = Figure("cells ✗ only because no program was given")
    for task in sorted(paper_tasks()):
        for pe in ("ape", "nope"):
            prediction = predict_task(task, pe)
            figure = from_program if prediction.from_program else no_program
            figure.total += 1
            if prediction.ok == prediction.paper:
                figure.agreeing += 1
            else:
                figure.misses.append(
                    f"{task} {PE_NAMES[pe]}: ours {mark(prediction.ok)}, paper {mark(prediction.paper)}"
                )
    return from_program, no_program


def observed_vs_predicted(rows: list[Row]) -> Figure:
    """(b): rows with a decided outcome whose outcome is our prediction."""
    return _count(
        Figure("observed against predicted"), rows, lambda r: r.agrees, lambda r: f"{r.task} {PE_NAMES.get(r.pe, r.pe)}"
    )


def observed_vs_paper(rows: list[Row]) -> Figure:
    """(c): rows with a decided outcome and a paper number whose outcome is the paper's observed outcome."""

    def miss(r: Row) -> str:
        paper = "generalizes" if r.paper_generalizes else "fails"
        return f"{r.task} {PE_NAMES.get(r.pe, r.pe)}: ours {r.outcome}, paper {paper} ({r.paper[-1]:.1f}%)"

    return _count(Figure("observed against the paper's observed (reproduction)"), rows, lambda r: r.reproduces, miss)


def _count(figure: Figure, rows: list[Row], verdict, describe_miss) -> Figure:
    """Count Huang et al.'s rows where `verdict` is known, how many hold, and describe those that do not."""
    for row in huang_rows(rows):
        holds = verdict(row)
        if holds is None:
            continue
        figure.total += 1
        figure.agreeing += holds
        if not holds:
            figure.misses.append(describe_miss(row))
    return figure


def describe(rows: list[Row]) -> list[str]:
    """Markdown lines for the report's opening: the three figures with what each leaves out."""
    from_program, no_program = analysis_vs_paper()
    observed = observed_vs_predicted(rows)
    reproduction = observed_vs_paper(rows)
    suite = huang_rows(rows)
    undecided = [r for r in suite if r.outcome == "undecided"]
    no_outcome = [r for r in suite if r.outcome == "no outcome"]
    lines = [
        "## Three figures",
        "",
        f"- **(a) Analysis against the paper's predictions**: {from_program.text} of the cells judged from a bundled "
        f"program; {no_program.text} of the cells that are ✗ only because no program was given (these agree with a "
        "paper ✗ by construction).",
        f"- **(b) Observed against predicted**: {observed.text} of the rows with a decided outcome.",
        f"- **(c) Observed against the paper's observed (reproduction rate)**: {reproduction.text} of the rows with a "
        "decided outcome and a number in the paper.",
        f"- Not judged: {len(undecided)} undecided row(s) (the interval straddles the criterion), {len(no_outcome)} "
        "row(s) with no converged seed.",
    ]
    for figure in (from_program, no_program, observed, reproduction):
        if figure.misses:
            lines.append(f"  - {figure.title}, not agreeing: {'; '.join(figure.misses)}")
    return lines
