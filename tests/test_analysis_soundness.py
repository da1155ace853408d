"""Soundness as a property: random programs, and for every C-RASP / C-RASP[periodic, local] ✓ the witness
computes what the program computes on random inputs (rasp/analysis/witness.py checks it too; here it is
checked again, on other and longer inputs, so a ✓ that `predict` let through wrongly fails the test).

The programs mix what the fragments allow (counts of token predicates, comparisons of linear combinations,
finite maps, periodic and local relations) with the traps a sound analysis must not fall into: means over
raw tokens that may be numbers, categorical()/numerical() hints on means, index values read through
aggregates, relations between positions at unbounded distance, counts as outputs.
"""

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rasp
from rasp.analysis.witness import check_witness

EXAMPLES = 500
STRINGS = ["a", "b", "c"]
NUMBERS = [0, 1, 2]


@st.composite
def programs(draw):
    """(source, vocabulary the inputs are drawn from, vocabulary given to predict or None)."""
    numeric = draw(st.booleans())
    vocab = NUMBERS if numeric else STRINGS
    told = draw(st.booleans())  # predict is told the vocabulary, or must assume tokens may be numbers
    lit = (lambda v: str(v)) if numeric else (lambda v: f'"{v}"')
    names = {"fin": ["tokens"], "bool": [], "cnt": [], "num": [], "idx": []}
    lines = []

    def pick(kind):
        return draw(st.sampled_from(names[kind]))

    def add(kind, expr):
        name = f"v{len(lines)}"
        lines.append(f"{name} = {expr};")
        names[kind].append(name)

    def selector():
        choice = draw(st.integers(0, 9))
        if choice == 0:
            return f"select(tokens, tokens, {draw(st.sampled_from(['==', '!=', 'True']))})"
        if choice == 1 and names["bool"]:
            return f"select({pick('bool')}, {pick('bool')}, ==)"
        if choice == 2:
            return f"select(tokens, tokens, lambda k, q: k == {lit(draw(st.sampled_from(vocab)))})"
        if choice == 3:  # the causal prefix, written with positions
            return f"select(indices, indices, {draw(st.sampled_from(['<=', '<', '>=']))})"
        if choice == 4:  # local
            return f"select(indices, indices - {draw(st.integers(0, 2))}, ==)"
        if choice == 5:  # local, or the prefix less the last positions
            relation = draw(st.sampled_from([">=", "<"]))
            return f"select(indices, indices, lambda k, q: k {relation} q - {draw(st.integers(1, 2))})"
        if choice == 8 and numeric:  # a position shifted by a finite value: a case split of local offsets
            return f"select(indices, indices - {pick('fin')}, ==)"
        if choice == 6 and names["cnt"]:  # compares counts of key and query: outside both fragments
            return f"select({pick('cnt')}, {pick('cnt')}, ==)"
        if choice == 7 and names["num"]:  # compares means
            return f"select({pick('num')}, {pick('num')}, ==)"
        return "select(tokens, tokens, True)"

    for _ in range(draw(st.integers(2, 7))):
        kinds = ["count", "compare", "bool", "periodic", "retrieve", "mean", "index", "shift", "arith"]
        step = draw(st.sampled_from(kinds))
        if step == "count":
            add("cnt", f"selector_width({selector()})")
        elif step == "compare" and names["cnt"]:
            a, b = pick("cnt"), pick("cnt")
            op = draw(st.sampled_from(["<", "==", ">=", "!="]))
            add("bool", f"{a} + {draw(st.integers(0, 2))} * {b} {op} {draw(st.integers(0, 3))}")
        elif step == "arith" and names["cnt"]:
            a, b = pick("cnt"), pick("cnt")
            add("cnt", draw(st.sampled_from([f"{a} - {b}", f"max({a}, {b})", f"{a} % 2", f"{a} * {b}"])))
        elif step == "bool":
            if names["bool"] and draw(st.booleans()):
                add("bool", f"{pick('bool')} {draw(st.sampled_from(['and', 'or']))} {pick('bool')}")
            else:
                add("bool", f"tokens == {lit(draw(st.sampled_from(vocab)))}")
        elif step == "periodic":
            m = draw(st.integers(2, 3))
            add("bool", f"indices % {m} == {draw(st.integers(0, m - 1))}")
        elif step == "retrieve":
            reduce = draw(st.sampled_from(['"max"', '"min"']))
            add("fin", f"aggregate({selector()}, tokens, default={lit(vocab[0])}, reduce={reduce})")
        elif step == "mean":
            hint = draw(st.sampled_from(["", "categorical", "numerical"]))
            value = draw(st.sampled_from(["tokens", f"indicator(tokens == {lit(vocab[1])})"]))
            default = lit(vocab[0]) if value == "tokens" else "0"
            mean = f"{hint}(aggregate({selector()}, {value}, default={default}))"
            if value == "tokens" and not numeric:
                add("fin", mean)
            else:
                add("num", mean)
                add("bool", f"{names['num'][-1]} > {draw(st.sampled_from(['0', '0.5', '1']))}")
        elif step == "index":
            add("idx", f'aggregate({selector()}, indices, default=-1, reduce="max")')
            last = names["idx"][-1]
            add("bool", draw(st.sampled_from([f"{last} % 2 == 0", f"{last} < indices", f"{last} + 1 == indices"])))
        elif step == "shift":
            offset = draw(st.integers(1, 2))
            add("fin", f"aggregate(select(indices, indices - {offset}, ==), tokens, default={lit(vocab[0])})")
    finals = names["bool"] + [n for n in names["fin"] if n != "tokens"]
    if finals and draw(st.integers(0, 9)):
        out = draw(st.sampled_from(finals))
    else:
        out = draw(st.sampled_from(names["cnt"] + names["bool"] + ["tokens"]))
    lines.append(f"out = {out};")
    return "\n".join(lines) + "\n", vocab, vocab if told else None


def test_every_check_mark_has_a_witness_that_agrees_with_the_program():
    marks: Counter = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(programs())
    def check(generated):
        source, vocab, told = generated
        program = rasp.parse(source, "gen.rasp")
        prediction = rasp.predict(program, vocab=told)
        marks["programs"] += 1
        for fragment in ("rasp_l", "crasp", "crasp_pos"):
            verdict = prediction.verdict(fragment)
            assert not any("internal error" in r for r in verdict.reasons), f"{source}\n{verdict.reasons}"
            if not verdict.ok:
                continue
            marks[fragment] += 1
            if fragment == "rasp_l":
                continue
            assert verdict.witness is not None, source
            check = check_witness(verdict.witness, program, None, vocab, runs=30, seed=7, max_len=14)
            assert check.problem == "", f"{source}\n{check.problem}"

    check()
    report = (
        f"soundness: {marks['programs']} random programs; ✓ RASP-L {marks['rasp_l']}, C-RASP {marks['crasp']}, "
        f"C-RASP[periodic, local] {marks['crasp_pos']} (each C-RASP ✓ with a witness that agreed)"
    )
    print(report)
    assert marks["programs"] >= EXAMPLES, report
    assert marks["crasp"] >= 50 and marks["crasp_pos"] >= 100 and marks["crasp_pos"] > marks["crasp"], report
