"""Witnesses (rasp/analysis/witness.py, crasp_eval.py): every C-RASP / C-RASP[periodic, local] ✓ of a bundled
program carries the program rewritten in the fragment's syntax, and it computes what the program computes."""

from pathlib import Path

import pytest

import rasp
from rasp.analysis.crasp_eval import evaluate
from rasp.analysis.witness import check_witness, sample_vocabs
from rasp.inputs import read_token
from rasp_cli import main

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"


def _vocab(stem):
    from programs.tasks import get_task

    try:
        return [read_token(symbol) for symbol in get_task(stem).symbols]
    except Exception:  # noqa: BLE001 - no experiment task of that name
        return None


CASES = [(path, fragment) for path in sorted(PROGRAMS.glob("*.rasp")) for fragment in ("crasp", "crasp_pos")]


@pytest.mark.parametrize("path, fragment", CASES, ids=lambda c: c.stem if isinstance(c, Path) else c)
def test_every_bundled_check_mark_has_a_witness_that_agrees_on_1000_inputs(path, fragment):
    program = rasp.load(path)
    vocab = _vocab(path.stem)
    prediction = rasp.predict(program, vocab=vocab)
    verdict = prediction.verdict(fragment)
    if not verdict.ok:
        return
    assert verdict.witness is not None
    if fragment == "crasp_pos" and prediction.crasp.ok:
        assert verdict.witness.text() == prediction.crasp.witness.text()  # the same program: checked once
        return
    # the task's own tokens when it has them, else the tokens the program names (and ones it does not)
    for tokens in [vocab] if vocab else sample_vocabs(program):
        check = check_witness(verdict.witness, program, None, tokens, runs=1000, seed=1, max_len=14)
        assert check.problem == "", check.problem
        assert check.checked >= 900, check.checked  # the program answers (almost) every input: not vacuous


def test_majority_witness_reads_like_the_paper(capsys):
    assert main(["predict", "--brief", "--witness", str(PROGRAMS / "majority.rasp")]) == 0
    out = capsys.readouterr().out
    assert "witness for C-RASP" in out
    assert "c_a(i)" in out and "#[j ≤ i] Q_a(j)" in out  # the counting term over the token predicate
    assert "(c_a(i) >= c_b(i))" in out  # a comparison of counts


def test_local_and_periodic_witnesses():
    shift = rasp.parse('load "std";\nprev = shift_fill(1, tokens, "-");\nout = prev == "a" and indices % 2 == 0;')
    p = rasp.predict(shift, vocab=["a", "b"])
    assert not p.crasp.ok and p.crasp_pos.ok
    text = p.crasp_pos.witness.text()
    assert "j = i - 1" in text and "i mod 2" in text
    assert evaluate(p.crasp_pos.witness, ["a", "b", "a"]) == shift.run(["a", "b", "a"])


def test_a_wrong_witness_is_caught():
    program = rasp.parse('load "std";\nout = count_of(tokens, "a") > count_of(tokens, "b");')
    witness = rasp.predict(program, vocab=["a", "b"]).crasp.witness
    name, expr = witness.defs[-1]
    witness.defs[-1] = (name, ("cmp", "<", *expr[2:]))  # flip the comparison
    check = check_witness(witness, program, None, ["a", "b"], runs=200)
    assert "where the program gives" in check.problem


def test_causal_prefix_selector_is_all_positions():
    program = rasp.parse("n = selector_width(select(indices, indices, <=));\nout = n > 3;")
    p = rasp.predict(program)
    assert p.crasp.ok and "#[j ≤ i] True" in p.crasp.witness.text()


def test_strict_prefix_is_the_prefix_less_the_query():
    # causal `<` selects every earlier position: #[j ≤ i] φ less φ at i itself, a C-RASP count
    program = rasp.parse(
        'before = select(indices, indices, <);\nn = selector_width(select(tokens, tokens, lambda k, q: k == "a") and before);\nout = n > 1;'
    )
    p = rasp.predict(program, vocab=["a", "b"])
    assert p.crasp.ok, p.crasp.reasons
    text = p.crasp.witness.text()
    assert "#[j ≤ i] Q_a(j)" in text and "#[j = i] Q_a(j)" in text
    check = check_witness(p.crasp.witness, program, None, ["a", "b"], runs=500, seed=3, max_len=12)
    assert check.problem == "" and check.checked == 500


def test_prefix_less_earlier_offsets_is_local():
    # all positions but the last two: the corrections at i - 1 are local counts (C-RASP[local], not C-RASP)
    program = rasp.parse("n = selector_width(select(indices, indices, lambda k, q: k < q - 1));\nout = n > 2;")
    p = rasp.predict(program, vocab=["a", "b"])
    assert not p.crasp.ok and p.crasp_pos.ok
    assert any("except at relative positions i-1" in r for r in p.crasp.reasons), p.crasp.reasons
    assert "#[j = i - 1]" in p.crasp_pos.witness.text()
    assert evaluate(p.crasp_pos.witness, list("abab")) == program.run(list("abab"))


def test_a_mean_over_a_corrected_prefix_is_not_a_check_mark():
    # no witness for a mean over the strict prefix yet: the verdict says so instead of an unchecked ✓
    program = rasp.parse(
        'before = select(indices, indices, <);\nf = numerical(aggregate(before, indicator(tokens == "a"), default=0));'
        "\nout = f > 0.5;"
    )
    p = rasp.predict(program, vocab=["a", "b"])
    assert not p.crasp.ok and not p.crasp_pos.ok
    assert any("corrected at nearby offsets" in r for r in p.crasp.reasons), p.crasp.reasons


def test_a_position_shifted_by_a_finite_value_is_a_case_split_of_local_offsets():
    # j == i - t(i), t in {0, 1, 2}: OR_a (t(i) == a and j == i - a), a relation at the offsets t can take
    source = "t = map(lambda x: x % 3, tokens);\nback = aggregate(select(indices, indices - t, ==), tokens, default=0);\nout = back == 1;"
    program = rasp.parse(source)
    p = rasp.predict(program, vocab=[0, 1, 2, 3, 4])
    assert not p.crasp.ok and p.crasp_pos.ok, p.crasp_pos.reasons
    assert any("(i, i-1, i-2)" in r for r in p.crasp.reasons), p.crasp.reasons
    assert "#[j = i - 2] (t(i) == 2)" in p.crasp_pos.witness.text()
    check = check_witness(p.crasp_pos.witness, program, None, [0, 1, 2, 3, 4], runs=500, seed=4, max_len=12)
    assert check.problem == "" and check.checked == 500
    # a shift with more values than the analysis splits stays a relation it does not judge local
    wide = rasp.parse(source.replace("x % 3", "x"))
    assert not rasp.predict(wide, vocab=list(range(100))).crasp_pos.ok
