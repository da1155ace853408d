"""What the theory predicts for a task, from its bundled program (and what the paper predicted)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rasp.analysis.tasks import PaperLengths


@dataclass(frozen=True)
class Prediction:
    ok: bool | None  # True: predicted to length-generalize; False: no program in the fragment was given
    source: str  # why: the program and fragment, or the missing program / impossibility result
    paper: bool | None  # the paper's prediction (None: task not in the paper's table)
    from_program: bool = True  # judged from a bundled program (False: ✗ only because no program was given)


FRAGMENT_FOR = {"ape": "crasp_pos", "reg": "crasp_pos", "nope": "crasp"}
FRAGMENT_NAMES = {"crasp_pos": "C-RASP[periodic, local]", "crasp": "C-RASP"}


@cache
def _verdicts(task: str):
    import rasp
    from programs.tasks import get_task

    path = get_task(task).program_path
    if path is None:
        return None, None
    program = rasp.load(path)
    return str(path.name), rasp.predict(program, task=task, vocab=task_vocabulary(task))


def task_vocabulary(task: str) -> list | None:
    """The task's input symbols as a program reads them (integer-looking ones as ints): the analysis proves value
    kinds from them (without a vocabulary, tokens may be numbers, so a mean of them is a mean)."""
    from programs.tasks import TASKS
    from rasp.inputs import read_token

    return [read_token(symbol) for symbol in TASKS[task].symbols] if task in TASKS else None


def _paper_row(task: str):
    from rasp.analysis.tasks import paper_result

    return paper_result(task)


def paper_tasks() -> set[str]:
    from rasp.analysis.tasks import PAPER_RESULTS

    return set(PAPER_RESULTS)


def paper_numbers(task: str, pe: str) -> list[float] | None:
    row = _paper_row(task)
    return None if row is None else list(row.accuracy(pe))


def paper_lengths(task: str) -> PaperLengths | None:
    """The input lengths the paper's numbers for a task were measured on, or None."""
    row = _paper_row(task)
    return None if row is None else row.lengths


def predict_task(task: str, pe: str) -> Prediction:
    from programs.tasks import TASKS

    if task in TASKS and TASKS[task].family == "rasp_l":
        return _predict_rasp_l(task)
    fragment = FRAGMENT_FOR[pe]
    row = _paper_row(task)
    paper = None if row is None else row.predicted(pe)
    name, verdicts = _verdicts(task)
    if verdicts is None:
        from rasp.analysis.tasks import impossibility

        known = impossibility(task)
        why = f"no {FRAGMENT_NAMES[fragment]} program given" + (f"; {known}" if known else "")
        return Prediction(False, why, paper, from_program=False)
    verdict = getattr(verdicts, fragment)
    return Prediction(
        bool(verdict.ok), f"{name} {'is' if verdict.ok else 'is not'} in {FRAGMENT_NAMES[fragment]}", paper
    )


def _predict_rasp_l(task: str) -> Prediction:
    """Zhou et al.'s tasks: the RASP-Generalization Conjecture's prediction (a RASP-L program solves the task at every
    length), the same for every encoding, beside the paper's ✓/✗."""
    from programs.zhou import PAPER_RASP_L

    paper = PAPER_RASP_L.get(task)
    name, verdicts = _verdicts(task)
    if verdicts is None:
        return Prediction(False, "no RASP-L program given", paper, from_program=False)
    verdict, measure = verdicts.rasp_l, _measure(task)
    length = f" ({measure.ops} ops, {measure.layers} layers)" if measure else ""
    return Prediction(bool(verdict.ok), f"{name} {'is' if verdict.ok else 'is not'} in RASP-L{length}", paper)


def program_layers(task: str) -> int | None:
    """The layers of the task's bundled program (`rasp measure`): the depth a model needs to hold it as written."""
    measure = _measure(task)
    return None if measure is None else measure.layers


@cache
def _measure(task: str):
    import rasp
    from programs.tasks import get_task

    path = get_task(task).program_path
    return None if path is None else rasp.measure(rasp.load(path))
