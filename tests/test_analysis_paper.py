"""The paper's table as a test: for every task of the paper's table (rasp/analysis/tasks.py) with a bundled program, the toolkit's verdicts
equal the paper's predictions (APE ↔ C-RASP[periodic, local], NoPE ↔ C-RASP).

The table is written out here (Huang et al. 2025, prediction ✓ = a program in the fragment was found), so
the test holds it independently of the metadata in rasp/analysis/tasks.py, which it also checks.
"""

import re
from pathlib import Path

import pytest

import rasp
from rasp.analysis.tasks import IMPOSSIBLE, PAPER_RESULTS, impossibility, paper_prediction_text

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"

#        task                          APE    NoPE
PAPER = {
    "binary_majority": (True, True),
    "majority": (True, True),
    "binary_majority_interleave": (True, False),
    "sort": (True, True),
    "copy_unique": (True, False),
    "copy_repeat": (False, False),
    "parity": (False, False),
    "addition": (False, False),
    "dyck_2": (True, True),
    "dyck_3": (True, True),
    "dyck_4": (True, True),
    "dyck_12": (True, True),
    "tomita_1": (True, True),
    "tomita_2": (True, True),
    "abcde_star": (True, True),
    "ab_d_bc": (True, True),
    "tomita_4": (True, False),
    "tomita_7": (True, True),
    "aa_star": (True, False),
    "aaaa_star": (True, False),
    "abab_star": (True, False),
    "zot_02": (False, False),
    "tomita_3": (False, False),
    "tomita_5": (False, False),
    "tomita_6": (False, False),
}


def _vocab(task):
    """The task's tokens as the CLI reads them (integer-looking ones as ints), as the experiments pass them."""
    from experiments.length.predictions import task_vocabulary

    return task_vocabulary(task)


def _program(task):
    return PROGRAMS / f"{task}.rasp"


WITH_PROGRAM = [task for task in PAPER if _program(task).exists()]


def test_the_metadata_holds_the_table():
    assert set(PAPER_RESULTS) == set(PAPER)
    for task, (ape, nope) in PAPER.items():
        row = PAPER_RESULTS[task]
        assert (row.pred_ape, row.pred_nope) == (ape, nope), task
        assert row.predicted("ape") == row.predicted("reg") == ape and row.predicted("nope") == nope
        assert len(row.accuracy("ape")) == len(row.accuracy("nope")) == len(row.accuracy("reg")) == 3
    assert PAPER_RESULTS["copy_unique"].nope == (100.0, 18.0, 0.0)
    assert PAPER_RESULTS["tomita_4"].ape == (100.0, 85.4, 84.4)


def test_impossibility_wording_keeps_proof_and_absence_apart():
    assert set(IMPOSSIBLE) == {"copy_repeat", "parity", "addition", "zot_02"}
    for task in IMPOSSIBLE:
        assert impossibility(task).startswith("proved impossible")
        assert paper_prediction_text(task, "ape").startswith("proved impossible")
    for task in ("tomita_3", "tomita_5", "tomita_6"):  # ✗ in the paper, but no proof attached
        assert impossibility(task) is None
        assert "no program in the fragment was given" in paper_prediction_text(task, "nope")
        assert "not a proof" in paper_prediction_text(task, "nope")
    assert paper_prediction_text("aa_star", "nope").startswith("no program in the fragment was given")
    assert "found" in paper_prediction_text("aa_star", "ape")


def test_some_paper_tasks_have_programs():
    assert len(WITH_PROGRAM) >= 10, WITH_PROGRAM


@pytest.mark.parametrize("task", WITH_PROGRAM)
def test_predictions_equal_the_paper(task):
    ape, nope = PAPER[task]
    prediction = rasp.predict(rasp.load(_program(task)), task=task, vocab=_vocab(task))
    assert prediction.task == task
    assert prediction.crasp_pos.ok == ape, "\n".join(prediction.crasp_pos.reasons)
    assert prediction.crasp.ok == nope, "\n".join(prediction.crasp.reasons)
    assert prediction.agreement == {"ape": ape == PAPER[task][0], "nope": nope == PAPER[task][1]}
    for verdict in (prediction.rasp_l, prediction.crasp, prediction.crasp_pos):
        for violation in verdict.violations:  # every negative verdict points at a line of the program
            assert re.match(r".+:\d+:\d+$", violation.where), violation.where
            assert violation.where.startswith(str(_program(task))) or violation.via.startswith(str(_program(task)))


def _claims(source):
    """The fragments a program's header says it was written for (`# fragment: ...`)."""
    match = re.search(r"^# fragment:\s*(.*)$", source, flags=re.MULTILINE)
    if match is None:
        return set()
    head = re.split(r"[:(;]", match.group(1))[0]
    claims = set()
    if "RASP-L" in head:
        claims.add("rasp_l")
    for fragment in re.findall(r"C-RASP(\[[a-z, ]+\])?", head):
        claims.add("crasp_pos" if fragment else "crasp")
    return claims


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.rasp")), ids=lambda p: p.stem)
def test_bundled_programs_are_in_the_fragments_their_headers_claim(path):
    prediction = rasp.predict(rasp.load(path), vocab=_vocab(path.stem))
    for fragment in _claims(path.read_text()):
        verdict = prediction.verdict(fragment)
        assert verdict.ok, f"{path.name} claims {fragment}:\n" + "\n".join(verdict.reasons)
    if "crasp" in _claims(path.read_text()):
        assert prediction.crasp_pos.ok  # C-RASP is part of C-RASP[periodic, local]


def test_the_paper_measured_each_formal_language_on_its_own_lengths():
    assert PAPER_RESULTS["sort"].lengths.ratio == 3 and PAPER_RESULTS["sort"].lengths.train == (0, 50)
    assert PAPER_RESULTS["dyck_4"].lengths.ratio == 3
    assert PAPER_RESULTS["aa_star"].lengths.ratio == 2
    assert PAPER_RESULTS["abab_star"].lengths.ratio == pytest.approx(1.4)
    assert PAPER_RESULTS["tomita_4"].lengths.bins == ((101, 150), (101, 150))
    assert PAPER_RESULTS["tomita_5"].lengths is None  # no config for it in the authors' code
    for row in PAPER_RESULTS.values():
        if row.lengths:
            assert row.lengths.train[0] < row.lengths.train[1] <= row.lengths.bins[-1][1]
