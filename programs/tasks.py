"""The task suite: what each task's examples look like, how they are generated, where its program is.

Every example is a token sequence with a target (or None) at each position, so one trainer and one metric
serve all tasks:

- algorithmic tasks: `<bos> input <sep> answer <eos>`; the target at each position from `<sep>` on is the
  next token (the answer, then `<eos>`), so the loss is on the answer only;
- formal languages: `<bos> string`; the target after every prefix (the empty one at `<bos>` included) is the
  set of symbols that may come next (`programs.languages`).

An example counts as correct when every target position is (exact match). Lengths are input lengths: the
number of symbols between `<bos>` and `<sep>` (or the string's length), plus the `<sep>` itself for a task whose
authors count their separator (`Task.separator_counts`: the authors' addition counts its `=`).

Each task comes in a data kind (`DATA_KINDS`): "authors", the default, draws inputs as the paper's code does
(`programs.algorithmic.AUTHORS`); "uniform" is the earlier generator, kept as a control. A task records its kind
(`Task.data`) so that a result can say which data it was trained and tested on.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from .algorithmic import (
    AUTHORS,
    BITS,
    LETTERS,
    NUMBERS,
    addition,
    binary_majority,
    binary_majority_interleave,
    copy_repeat,
    copy_unique,
    majority,
    parity,
    sort_unique,
)
from .languages import LANGUAGES, Dfa
from .task import DATA_KINDS, Pair, Task
from .zhou import ZHOU_TASKS


def _language(dfa: Dfa) -> Callable[[random.Random, int], Pair | None]:
    def make(rng: random.Random, n: int) -> Pair | None:
        string = dfa.sample(rng, n)
        return None if string is None else (list(string), dfa.labels(string))

    return make


def _label_set(dfa: Dfa) -> tuple[str, ...]:
    return tuple(sorted({dfa.allowed(state) for state in dfa._live}))


_ALGORITHMIC = [
    ("binary_majority", "more 1s than 0s in a 0/1 string", BITS, BITS, binary_majority),
    ("majority", "most frequent of 26 letters (unique mode)", LETTERS, LETTERS, majority),
    (
        "binary_majority_interleave",
        "majority bit of each of 3 interleaved streams",
        BITS,
        BITS,
        binary_majority_interleave,
    ),
    ("sort", "sort distinct tokens (vocabulary 150)", NUMBERS, NUMBERS, sort_unique),
    ("copy_unique", "copy a string of distinct tokens (vocabulary 150)", NUMBERS, NUMBERS, copy_unique),
    ("copy_repeat", "copy a string over {a, b}", ("a", "b"), ("a", "b"), copy_repeat),
    ("parity", "parity of the number of 1s (answer e/o)", BITS, ("e", "o"), parity),
    ("addition", "binary a + b, MSB first, no leading zeros", (*BITS, "+"), BITS, addition),
]
_FORMAL_DESCRIPTIONS = {
    "dyck_2": "Dyck-1 with depth <= 2",
    "dyck_3": "Dyck-1 with depth <= 3",
    "dyck_4": "Dyck-1 with depth <= 4",
    "dyck_12": "Dyck-1 with depth <= 12",
    "tomita_1": "1*",
    "tomita_2": "(10)*",
    "tomita_3": "no odd block of 1s immediately followed by an odd block of 0s",
    "tomita_4": "no 000 substring",
    "tomita_5": "even number of 0s and of 1s",
    "tomita_6": "(#0 - #1) divisible by 3",
    "tomita_7": "0*1*0*1*",
    "aa_star": "(aa)*",
    "aaaa_star": "(aaaa)*",
    "abab_star": "(abab)*",
    "abcde_star": "aa*bb*cc*dd*ee*",
    "ab_d_bc": "{a,b}*d{b,c}*",
    "zot_02": "{0,1,2}*02*",
}


def _algorithmic_task(entry: tuple, data: str) -> Task:
    """One of Huang et al.'s algorithmic tasks: the authors' sampler (programs.algorithmic.AUTHORS, with its
    minimum length, length draw and length convention) or the uniform one."""
    task_id, description, symbols, answers, uniform = entry
    if data == "uniform":
        return Task(task_id, "algorithmic", description, symbols, answers, uniform, data=data)
    authors = AUTHORS[task_id]
    return Task(
        task_id,
        "algorithmic",
        description,
        symbols,
        answers,
        authors.make,
        min_length=authors.min_length,
        data=data,
        draw_length=authors.draw_length,
        separator_counts=authors.separator_counts,
    )


def _formal_task(task_id: str, data: str) -> Task:
    """A formal language under a data kind: the authors' generator and label format (programs.formal_authors,
    drawn over the window a profile asks for, as their generators are), or a string drawn uniformly among those of
    the drawn length with next-symbol labels (the control)."""
    description = _FORMAL_DESCRIPTIONS[task_id]
    if data == "authors":
        from . import formal_authors

        return Task(
            task_id, "formal", description, formal_authors.SYMBOLS[task_id], formal_authors.LABELS[task_id],
            formal_authors.SAMPLERS[task_id], min_length=1, data=data,
            sample_window=partial(_authors_window, task_id),
        )  # fmt: skip
    dfa = LANGUAGES[task_id]
    return Task(
        task_id, "formal", description, tuple(dfa.alphabet), _label_set(dfa), _language(dfa), min_length=1, data=data
    )


def _authors_window(task_id: str, rng: random.Random, low: int, high: int) -> Pair | None:
    from .formal_authors import AUTHORS, window_sample

    string = window_sample(task_id, rng, low, high)
    return None if string is None else (list(string), AUTHORS[task_id].label(string))


def _suite(data: str) -> dict[str, Task]:
    tasks = {entry[0]: _algorithmic_task(entry, data) for entry in _ALGORITHMIC}
    # Zhou et al.'s suite: one sampler per task under both data kinds
    tasks |= {task_id: replace(task, data=data) for task_id, task in ZHOU_TASKS.items()}
    tasks |= {task_id: _formal_task(task_id, data) for task_id in _FORMAL_DESCRIPTIONS}
    return tasks


SUITES: dict[str, dict[str, Task]] = {data: _suite(data) for data in DATA_KINDS}
TASKS: dict[str, Task] = SUITES[DATA_KINDS[0]]  # the default data; every kind has the same task ids


def suite_tasks(suite: str) -> list[str]:
    """The ids of Huang et al.'s suite ("huang": every task but Zhou et al.'s) or of Zhou et al.'s ("zhou")."""
    return [t for t, task in TASKS.items() if (task.family == "rasp_l") == (suite == "zhou")]


def get_task(task_id: str, data: str = DATA_KINDS[0]) -> Task:
    """The task `task_id` with the data kind `data` ("authors", the default, or "uniform")."""
    from rasp.errors import RaspInputError

    if data not in SUITES:
        raise RaspInputError(f"unknown data kind '{data}' (data kinds: {', '.join(DATA_KINDS)})")
    if task_id not in TASKS:
        import difflib

        close = difflib.get_close_matches(task_id, list(TASKS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise RaspInputError(f"unknown task '{task_id}'{hint} (tasks: {', '.join(TASKS)})")
    return SUITES[data][task_id]
