"""The evaluator's edge semantics: causal selects look only at j <= i; integers stay exact beyond int64 (as
constant folding has them); means follow IEEE at each position alone; round() of inf/NaN is an error; and
equality selectors (rasp/match.py, no B × N × N matrix) agree with the plain reference evaluator."""

from __future__ import annotations

import math
import operator
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rasp

try:  # tests/ as a package or as a directory on sys.path (pytest's default rootdir import mode)
    from .reference import reference_run, same_value
except ImportError:
    from reference import reference_run, same_value

ROOT = Path(__file__).resolve().parent.parent
INF = math.inf


def run(source: str, tokens: list, causal: bool | None = None) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow, invalid cast) is a silent wrong value
        return rasp.parse(source).run(tokens, causal=causal)


def same_ieee(got: list, expected: list) -> bool:
    """Equal lists where NaN equals NaN and infinities match exactly."""
    if len(got) != len(expected):
        return False
    for a, b in zip(got, expected):
        if isinstance(a, float) and math.isnan(a):
            if not (isinstance(b, float) and math.isnan(b)):
                return False
        elif a != b:
            return False
    return True


# ---- causal selects ---------------------------------------------------------------------------------


def test_causal_select_skips_pairs_it_never_selects():
    source = "out = selector_width(select(tokens, tokens, lambda k, q: 10 // (k - q + 2) > 0));"
    assert run(source, [5, 3]) == [1, 2]  # 10 // 0 only at key 3 for query 5: j = 1 > i = 0
    assert rasp.parse(source).run_batch([[5, 3], [3, 2, 1], [7]]) == [[1, 2], [1, 2, 3], [1]]
    with pytest.raises(rasp.RaspError, match="division by zero"):
        run(source, [5, 3], causal=False)  # bidirectionally the pair is looked at
    with pytest.raises(rasp.RaspError, match="division by zero"):
        run(source, [1, 2, 3])  # key 1 for query 3: j = 0 <= i = 2 fails for real


def test_causal_select_skips_failing_lookups_through_the_table_path():
    source = "out = selector_width(select(tokens, tokens, lambda k, q: [1, 2, 3, 4][k - q + 1] > 0));"
    assert run(source, [5, 3]) == [1, 2]
    assert run(source, [5, 3]) == reference_run(rasp.parse(source), [5, 3])
    with pytest.raises(rasp.RaspError, match="not in the table"):
        run(source, [5, 3], causal=False)


# ---- exact integers ---------------------------------------------------------------------------------


def test_integers_beyond_int64_are_exact():
    assert run("x = tokens * tokens;", [2**40]) == [2**80]
    assert run("x = tokens;", [2**62 + 1]) == [2**62 + 1]
    assert run("x = tokens + tokens;", [2**61 + 1, 3]) == [2**62 + 2, 6]
    assert run("x = tokens - 4611686018427387905;", [-(2**62)]) == [-(2**63) - 1]
    reverse = "@mode bidirectional; x = aggregate(select(indices, length - indices - 1, ==), tokens);"
    assert run(reverse, [10**30, 1]) == [1, 10**30]
    assert run("x = tokens / 3;", [3 * (2**60 + 1)]) == [(3 * (2**60 + 1)) / 3]


def test_means_of_large_integers_are_exact_when_whole():
    source = "x = aggregate(select(indices, indices, <=), tokens);"
    tokens = [2**60 + 1, 2**60 + 3, 10**20 + 2]
    got = run(source, tokens)
    assert got == [2**60 + 1, 2**60 + 2, (2**61 + 6 + 10**20) // 3]
    assert got == reference_run(rasp.parse(source), tokens)


PYTHON_OPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "%": operator.mod,
    "/": operator.truediv,
    "==": operator.eq,
    "<": operator.lt,
    "max": max,
}
LARGE = st.one_of(st.integers(-(2**70), 2**70), st.integers(-(2**64), 2**64), st.integers(-100, 100))


@settings(max_examples=100, deadline=None)
@given(a=LARGE, b=LARGE, op=st.sampled_from(["+", "-", "*", "//", "%", "/", "==", "<", "max"]))
def test_folded_and_vectorized_integers_agree(a, b, op):
    """`a OP b` folded at lowering, on tokens, and between two s-ops: one value, Python's."""
    if op in ("//", "%", "/") and b == 0:
        return
    expression = "max({}, {})" if op == "max" else f"{{}} {op} {{}}"
    expected = PYTHON_OPS[op](a, b)
    folded = run("x = " + expression.format(f"({a})", f"({b})") + ";", [0])
    on_tokens = run("x = " + expression.format("tokens", f"({b})") + ";", [a])
    between = run("y = tokens * 0 + " + f"({b})" + "; x = " + expression.format("tokens", "y") + ";", [a])
    assert folded == on_tokens == between == [expected]


# ---- IEEE means -------------------------------------------------------------------------------------


def test_an_inf_changes_only_the_means_that_select_it():
    source = "@mode bidirectional; big = tokens * 1e308 * 10; x = aggregate(select(indices, indices, ==), big);"
    assert same_ieee(run(source, [0, 1]), [0, INF])
    reverse = "@mode bidirectional; x = aggregate(select(indices, length - indices - 1, ==), tokens);"
    assert same_ieee(run(reverse, [INF, -INF]), [-INF, INF])


@pytest.mark.parametrize(
    "tokens, prefix, suffix",
    [
        ([1.0, math.nan, 3.0], [1, math.nan, math.nan], [math.nan, math.nan, 3]),
        ([INF, 1.0, -INF], [INF, INF, math.nan], [math.nan, -INF, -INF]),
        ([2.0, INF, 4.0], [2, INF, INF], [INF, INF, 4]),
    ],
)
def test_non_finite_values_in_dense_means(tokens, prefix, suffix):
    program = "@mode bidirectional; x = aggregate(select(indices, indices, {}), tokens);"
    assert same_ieee(run(program.format("<="), tokens), prefix)
    assert same_ieee(run(program.format(">="), tokens), suffix)
    assert same_ieee(reference_run(rasp.parse(program.format("<=")), tokens), prefix)


def test_round_of_non_finite_values_is_an_error_on_both_paths():
    for value in (INF, -INF, math.nan):
        with pytest.raises(rasp.RaspError, match="'round' cannot be applied"):
            run("x = round(tokens);", [1.5, value])
    with pytest.raises(rasp.RaspError, match="'round' cannot be applied"):
        run("x = round(1e308 * 10);", [0])
    assert run("x = round(tokens);", [1e300, 2.5, -0.5]) == [int(round(1e300)), 2, 0]


# ---- equality selectors agree with the reference ------------------------------------------------------

NP_RASP = ROOT / "benchmarks" / "np_rasp"
EQUALITY_PROGRAMS = [
    ("count", "x = aggregate(select(tokens, -1, ==), indices, default=0, reduce='max');"),
    ("index", "x = aggregate(select(indices, tokens, ==), tokens * 2, default=-5);"),
    ("hist", "x = selector_width(select(tokens, tokens, ==));"),
    ("mean", "x = aggregate(select(tokens % 3, tokens % 3, ==), tokens, default=0);"),
    ("fmean", "x = aggregate(select(tokens % 3, tokens % 3, ==), tokens / 4, default=0.5);"),
    ("min", "x = aggregate(select(tokens, tokens + 1, ==) and select(indices % 2, 0, ==), indices, reduce='min');"),
    ("keys", "x = aggregate(select(tokens > 2, True, ==), tokens, default=7, reduce='max');"),
    ("queries", "x = aggregate(select(True, tokens > 2, ==), tokens, default=7, reduce='min');"),
    ("string", "s = 'ab' if tokens > 1 else 'c'; x = aggregate(select(indices, indices - 1, ==), s, default='-');"),
]


@settings(max_examples=100, deadline=None)
@given(
    tokens=st.lists(st.integers(-1, 5), min_size=1, max_size=9),
    case=st.sampled_from(EQUALITY_PROGRAMS),
    causal=st.booleans(),
)
def test_equality_selectors_match_the_reference(tokens, case, causal):
    program = rasp.parse(case[1])
    for name in program.names:
        got = program.run(tokens, output=name, causal=causal)
        assert same_value(got, reference_run(program, tokens, output=name, causal=causal)), (case, name)


@settings(max_examples=30, deadline=None)
@given(tokens=st.lists(st.integers(-5, 12), min_size=1, max_size=16))
def test_np_rasp_translations_match_the_reference(tokens):
    for name in ("count", "mode", "copy", "add_reverse", "add_forward"):
        program = rasp.load(NP_RASP / f"{name}.rasp")
        assert same_value(program.run(tokens), reference_run(program, tokens)), name
