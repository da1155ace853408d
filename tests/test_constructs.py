"""One test per construct of the language contract (README, rasp/grammar.lark), each checked against tests/reference.py too."""

from __future__ import annotations

from pathlib import Path

import pytest

import rasp

try:  # tests/ as a package or as a directory on sys.path (pytest's default rootdir import mode)
    from .reference import reference_run, same_value
except ImportError:
    from reference import reference_run, same_value

STD = Path(rasp.__file__).with_name("lib") / "std.rasp"


def run(source: str, tokens, output=None, causal=None) -> list:
    """The program's output on `tokens`; the reference evaluator must agree."""
    program = rasp.parse(source)
    got = program.run(tokens, output=output, causal=causal)
    expected = reference_run(program, tokens, output=output, causal=causal)
    assert same_value(got, expected), (got, expected)
    return got


def both(source: str, tokens, output=None) -> tuple[list, list]:
    """(causal, bidirectional) outputs."""
    return run(source, tokens, output, causal=True), run(source, tokens, output, causal=False)


def ops_of(program: rasp.Program, kind: str) -> list:
    return [op for op in program.graph if op.kind == kind]


# ---- literals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal, value",
    [
        ("3", 3),
        ("0", 0),
        ("2.5", 2.5),
        (".5", 0.5),
        ("1e3", 1000),
        ('"a b"', "a b"),
        ("'q'", "q"),
        ('"it\\"s"', 'it"s'),
        ("True", True),
        ("False", False),
        ("-4", -4),
    ],
)
def test_scalar_literals(literal, value):
    assert run(f"x = {literal};", [0, 0]) == [value, value]


def test_literal_types_are_kept():
    values = run("x = 1.5 * 2;", [0])
    assert values == [3] and isinstance(values[0], (int, float))
    assert isinstance(run("x = tokens == tokens;", [1])[0], bool)


def test_list_and_dict_literals_are_tables():
    assert run("t = [10, 20, 30]; x = t[tokens];", [2, 0, 1]) == [30, 10, 20]
    assert run("t = {'a': 1, 'b': 2, 3: 'c'}; x = t[tokens];", ["a", 3, "b"]) == [1, "c", 2]
    # keys of mixed kinds (the integer rule turns `--tokens "1 + 2"` into [1, "+", 2])
    assert run("x = map(lambda t: {1: 'one', '+': 'plus', 2: 'two'}[t], tokens);", [1, "+", 2]) == [
        "one",
        "plus",
        "two",
    ]


# ---- elementwise operators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, tokens, expected",
    [
        ("tokens + 1", [1, 2], [2, 3]),
        ("tokens - 1", [1, 2], [0, 1]),
        ("tokens * 3", [1, 2], [3, 6]),
        ("tokens / 2", [1, 4], [0.5, 2]),
        ("tokens // 2", [3, -3], [1, -2]),
        ("tokens % 3", [4, -1], [1, 2]),
        ("-tokens", [1, -2], [-1, 2]),
        ("tokens == 2", [1, 2], [False, True]),
        ("tokens != 2", [1, 2], [True, False]),
        ("tokens < 2", [1, 2, 3], [True, False, False]),
        ("tokens <= 2", [1, 2, 3], [True, True, False]),
        ("tokens > 2", [1, 2, 3], [False, False, True]),
        ("tokens >= 2", [1, 2, 3], [False, True, True]),
        ("tokens > 1 and tokens < 3", [1, 2, 3], [False, True, False]),
        ("tokens < 2 or tokens > 2", [1, 2, 3], [True, False, True]),
        ("not tokens == 2", [1, 2], [True, False]),
        ("tokens + indices", [5, 5, 5], [5, 6, 7]),
        ("tokens * indices - indices", [2, 2, 2], [0, 1, 2]),
        ("tokens + '!'", ["a", "b"], ["a!", "b!"]),
        ("tokens == 'a'", ["a", "b"], [True, False]),
        ("tokens < 'b'", ["a", "c"], [True, False]),
        ("(tokens == 1) + (tokens == 1)", [1, 0], [2, 0]),  # booleans add as numbers
        ("(tokens == 1) * 5", [1, 0], [5, 0]),
    ],
)
def test_operators(expr, tokens, expected):
    assert run(f"x = {expr};", tokens) == expected


def test_operator_precedence():
    assert run("x = 1 + tokens * 2;", [3]) == [7]
    assert run("x = (1 + tokens) * 2;", [3]) == [8]
    assert run("x = -tokens + 1;", [3]) == [-2]
    assert run("x = not tokens == 1 and tokens == 2;", [1, 2]) == [False, True]
    assert run("x = tokens - 1 - 1;", [3]) == [1]


def test_conditional():
    assert run("x = tokens if tokens > 1 else 0;", [1, 2, 3]) == [0, 2, 3]
    assert run("x = 'big' if tokens > 1 else 'small';", [1, 2]) == ["small", "big"]
    assert run("x = 1 if tokens == 0 else 2 if tokens == 1 else 3;", [0, 1, 2]) == [1, 2, 3]


def test_conditional_is_lazy_inside_a_lambda():
    assert run("x = map(lambda t: 12 // t if t != 0 else -1, tokens);", [0, 3, 4]) == [-1, 4, 3]


@pytest.mark.parametrize(
    "expr, tokens, expected",
    [
        ("indicator(tokens == 'a')", ["a", "b"], [1, 0]),
        ("indicator(tokens)", [0, 7], [0, 1]),
        ("round(tokens / 4)", [1, 2, 3, 6], [0, 0, 1, 2]),  # half to even, as in Python
        ("abs(tokens)", [-3, 2], [3, 2]),
        ("min(tokens, indices)", [5, 0, 9], [0, 0, 2]),
        ("max(tokens, 2)", [1, 3], [2, 3]),
        ("max(tokens, 'b')", ["a", "c"], ["b", "c"]),
    ],
)
def test_scalar_builtins(expr, tokens, expected):
    assert run(f"x = {expr};", tokens) == expected


def test_table_indexing_with_list_and_dict():
    assert run("x = [7, 8, 9][tokens];", [2, 0]) == [9, 7]
    assert run("x = [7, 8, 9][indices];", ["a", "b", "c"]) == [7, 8, 9]
    assert run("x = {'a': 1, 'b': 2}[tokens];", ["b", "a"]) == [2, 1]
    assert run("x = {0: 'zero', 1: 'one'}[tokens % 2];", [4, 5]) == ["zero", "one"]
    assert run("x = map(lambda t: {'a': 'b', 'b': 'a'}[t], tokens);", ["a", "b"]) == ["b", "a"]
    assert run("table = [1, 2]; x = map(lambda t: table[t], tokens);", [1, 0]) == [2, 1]
    # a constant key inside a lambda: the map is constant, and still an array of Python strings
    assert run("c = map(lambda t: ['a', 'b'][1], tokens); x = tokens == c;", [0, "b"]) == [False, True]


# ---- map, zipmap, seq_map -----------------------------------------------------------------------------


def test_map():
    assert run("x = map(lambda t: t * t, tokens);", [1, 2, 3]) == [1, 4, 9]
    assert run("f = lambda t: t + 1; x = map(f, tokens);", [1]) == [2]
    assert run("f = lambda t: t + 1; x = f(tokens);", [1]) == [2]
    assert run("k = 10; x = map(lambda t: t + k, tokens);", [1]) == [11]


def test_zipmap_and_seq_map():
    assert run("x = zipmap(lambda a, b: a * 10 + b, tokens, indices);", [1, 2]) == [10, 21]
    assert run("x = seq_map(lambda a, b: a + b, tokens, tokens);", ["a", "b"]) == ["aa", "bb"]
    assert run("x = zipmap(lambda a, b, c: a + b + c, tokens, indices, 100);", [1, 2]) == [101, 103]


def test_map_and_operator_forms_are_one_op():
    program = rasp.parse("x = map(lambda t: t + 1, tokens); y = tokens + 1;")
    assert program.names["x"] == program.names["y"]


# ---- select, selectors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, expected",
    [
        ("==", [[True, False, False], [False, True, False], [True, False, True]]),
        ("!=", [[False, False, False], [True, False, False], [False, True, False]]),
        ("<", [[False, False, False], [True, False, False], [False, False, False]]),
        ("<=", [[True, False, False], [True, True, False], [True, False, True]]),
        (">", [[False, False, False], [False, False, False], [False, True, False]]),
        (">=", [[True, False, False], [False, True, False], [True, True, True]]),
        ("True", [[True, False, False], [True, True, False], [True, True, True]]),
        ("False", [[False] * 3] * 3),
    ],
)
def test_select_operators_causal(op, expected):
    # query i selects key j iff OP(keys[j], queries[i]), and j <= i causally
    assert run(f"s = select(tokens, tokens, {op});", [1, 2, 1]) == expected


def test_select_operator_bidirectional():
    assert run("s = select(tokens, tokens, <);", [1, 2, 1], causal=False) == [
        [False, False, False],
        [True, False, True],
        [False, False, False],
    ]


def test_select_compares_key_with_query_in_that_order():
    # keys = indices, queries = 1: key j < query 1 → only j = 0
    assert run("s = select(indices, tokens, <);", [1, 1, 1]) == [[True, False, False], [True, False, False]] + [
        [True, False, False]
    ]


def test_select_with_lambda():
    source = "s = select(tokens, tokens, lambda k, q: k + q == 3);"
    assert run(source, [1, 2, 0], causal=False) == [[False, True, False], [True, False, False], [False, False, False]]
    assert run("s = select(indices, indices, lambda k, q: q - k == 1);", [0, 0, 0]) == [
        [False, False, False],
        [True, False, False],
        [False, True, False],
    ]


def test_selector_and_or():
    a = "a = select(tokens, tokens, ==);"
    b = "b = select(indices, indices, <);"
    assert run(a + b + "s = a and b;", [1, 1, 2], causal=False) == [
        [False, False, False],
        [True, False, False],
        [False, False, False],
    ]
    assert run(a + b + "s = a or b;", [1, 1, 2], causal=False) == [
        [True, True, False],
        [True, True, False],
        [True, True, True],
    ]


def test_selector_not_is_causal():
    source = "s = not select(tokens, tokens, ==);"
    assert run(source, [1, 2, 1]) == [[False, False, False], [True, False, False], [False, True, False]]
    assert run(source, [1, 2, 1], causal=False) == [[False, True, False], [True, False, True], [False, True, False]]
    # not not s is s, in both modes
    assert run("s = not not select(tokens, tokens, ==);", [1, 2, 1]) == run(
        "s = select(tokens, tokens, ==);", [1, 2, 1]
    )


def test_combined_selector_is_one_select():
    program = rasp.parse("s = select(tokens, tokens, ==) and not select(indices, indices, ==);")
    needed = program.graph.ancestors_and_self([program.names["s"]])
    assert [op.id for op in ops_of(program, "select") if op.id in needed] == [program.names["s"]]
    op = program.op("s")
    assert op.n_keys == 2 and op.keys == (0, 1) and op.queries == (0, 1)
    assert op.fn == ("and", ("==", ("arg", 0), ("arg", 2)), ("not", ("==", ("arg", 1), ("arg", 3))))


# ---- aggregate ---------------------------------------------------------------------------------------


def test_aggregate_mean_of_numbers():
    source = "x = aggregate(select(tokens, tokens, True), tokens);"
    assert run(source, [1, 2, 4]) == [1, 1.5, pytest.approx(7 / 3)]
    assert run(source, [1, 2, 4], causal=False) == [pytest.approx(7 / 3)] * 3
    whole = run(source, [2, 4])
    assert whole == [2, 3] and all(v == int(v) for v in whole)


def test_aggregate_mean_of_booleans_is_a_fraction():
    assert run("x = aggregate(select(tokens, tokens, True), tokens == 1);", [1, 0, 1, 0]) == [1, 0.5, 2 / 3, 0.5]


def test_aggregate_max_and_min():
    sel = "select(tokens, tokens, True)"
    assert run(f"x = aggregate({sel}, tokens, reduce='max');", [2, 1, 3]) == [2, 2, 3]
    assert run(f"x = aggregate({sel}, tokens, reduce='min');", [2, 1, 3]) == [2, 1, 1]
    assert run(f"x = aggregate({sel}, tokens, reduce='max');", ["b", "a", "c"], causal=False) == ["c"] * 3
    assert run(f"x = aggregate({sel}, tokens, 0, 'min');", [2, 1, 3]) == [2, 1, 1]  # positional reduce


def test_aggregate_default():
    none = "select(tokens, tokens, False)"
    assert run(f"x = aggregate({none}, tokens);", [5, 6]) == [0, 0]  # 0 unless given
    assert run(f"x = aggregate({none}, tokens, 9);", [5, 6]) == [9, 9]
    assert run(f"x = aggregate({none}, tokens, default='-');", ["a"]) == ["-"]
    assert run(f"x = aggregate({none}, tokens, default=7, reduce='max');", [5]) == [7]
    shift = "x = aggregate(select(indices, indices - 1, ==), tokens, default='_');"
    assert run(shift, list("abc")) == ["_", "a", "b"]


def test_aggregate_keywords_in_any_order():
    source = "x = aggregate(reduce='min', values=tokens, default=-1, selector=select(tokens, tokens, <));"
    assert run(source, [3, 1, 2]) == [-1, -1, 1]


def test_non_numeric_values_pass_through():
    # one selected value, or several equal ones
    assert run("x = aggregate(select(indices, 0, ==), tokens);", list("abc")) == ["a", "a", "a"]
    assert run("x = aggregate(select(tokens, tokens, ==), tokens);", list("abab")) == list("abab")


def test_differing_non_numeric_values_are_an_error():
    program = rasp.parse("c = tokens;\nx = aggregate(select(tokens, tokens, True), tokens);")
    with pytest.raises(rasp.RaspEvalError) as info:
        program.run(list("ab"))
    assert info.value.line == 2
    assert "differing" in str(info.value)


def test_selector_width():
    assert both("w = selector_width(select(tokens, tokens, ==));", list("abab")) == ([1, 1, 2, 2], [2, 2, 2, 2])
    assert run("w = selector_width(select(tokens, tokens, False));", [1, 2]) == [0, 0]


def test_numerical_and_categorical_are_hints():
    source = "m = numerical(aggregate(select(tokens, tokens, True), tokens)); c = categorical(tokens + 1);"
    program = rasp.parse(source)
    assert program.op("m").encoding == "numerical"
    assert program.op("c").encoding == "categorical"
    assert run(source, [1, 3], output="m") == [1, 2]
    assert run(source, [1, 3], output="c") == [2, 4]


def test_length_in_both_modes():
    assert both("n = length;", list("abcd")) == ([1, 2, 3, 4], [4, 4, 4, 4])
    assert both("r = aggregate(select(indices, length - indices - 1, ==), tokens);", list("abc"))[1] == list("cba")


def test_empty_input():
    program = rasp.parse("x = aggregate(select(tokens, tokens, ==), tokens);")
    assert program.run([]) == []
    assert program.run_batch([[], [1]]) == [[], [1]]


# ---- functions, libraries, directives --------------------------------------------------------------


def test_def_function():
    source = "def shift(s, k) {\n  sel = select(indices, indices - k, ==);\n  return aggregate(sel, s, default=0);\n}\nx = shift(tokens, 2);"
    assert run(source, [5, 6, 7, 8]) == [0, 0, 5, 6]


def test_nested_function_calls():
    source = (
        "def inc(x) { return x + 1; }\n"
        "def twice(f_in) { a = inc(f_in); return inc(a); }\n"
        "def sum3(a, b, c) { return a + b + c; }\n"
        "x = sum3(twice(tokens), inc(indices), c=100);"
    )
    assert run(source, [1, 2]) == [1 + 2 + 1 + 100, 2 + 2 + 2 + 100]


def test_function_scope_does_not_leak():
    program = rasp.parse("def f(a) { inner = a + 1; return inner; } x = f(tokens);")
    assert "inner" not in program.names


def test_map_over_a_user_function():
    assert run("def f(a, b) { return a * b; } x = zipmap(f, tokens, indices);", [3, 3]) == [0, 3]


@pytest.mark.skipif(not STD.exists(), reason="rasp/lib/std.rasp is not there yet")
def test_load_std():
    program = rasp.parse('load "std";\nx = shift_by(1, tokens);')
    assert program.run([4, 5, 6]) == [0, 4, 5]
    assert "shift_by" not in program.names  # functions are not s-ops
    assert list(program.names) == ["x"]


def test_mode_directive():
    source = "@mode bidirectional;\nn = length;"
    assert rasp.parse(source).mode == "bidirectional"
    assert run(source, [1, 1, 1]) == [3, 3, 3]
    assert run(source, [1, 1, 1], causal=True) == [1, 2, 3]  # the API overrides the file
    assert rasp.parse("@mode causal;\nn = length;").run([1, 1]) == [1, 2]
    assert rasp.parse("n = length;").mode == "causal"


def test_output_directive_and_override():
    source = "@output a;\na = tokens + 1;\nb = tokens + 2;"
    program = rasp.parse(source)
    assert program.output == "a"
    assert run(source, [1]) == [2]
    assert run(source, [1], output="b") == [3]
    assert rasp.parse("a = tokens + 1;\nb = tokens + 2;").output == "b"  # the last bound name


def test_output_can_be_a_selector():
    assert run("s = select(tokens, tokens, ==);", [1, 2]) == [[True, False], [False, True]]


def test_rebinding_a_name_uses_the_latest_value():
    assert run("x = tokens; x = x + 1; y = x * 2;", [1]) == [4]


# ---- the graph: sharing and constant folding ---------------------------------------------------------


def test_sharing_identical_selects_are_one_node():
    source = (
        "a = aggregate(select(tokens, tokens, ==), indices);\n"
        "b = selector_width(select(tokens, tokens, ==));\n"
        "c = aggregate(select(tokens, tokens, ==), indices);"
    )
    program = rasp.parse(source)
    user_selects = [op for op in ops_of(program, "select") if op.fn != ("lit", ("bool", True))]
    assert len(user_selects) == 1
    assert program.names["a"] == program.names["c"]
    assert program.graph.nx.out_degree(user_selects[0].id) == 2  # one aggregate, one selector_width


def test_sharing_through_functions():
    program = rasp.parse("def f(s) { return s * 2; }\na = f(tokens + 1);\nb = f(tokens + 1);")
    assert program.names["a"] == program.names["b"]


def test_constant_folding_creates_no_op():
    before = len(rasp.parse("x = tokens;").graph)
    program = rasp.parse("k = 2 + 3;\nx = tokens + k * 2;")
    maps = ops_of(program, "map")
    assert len(maps) == 1 and maps[0].fn == ("+", ("arg", 0), ("lit", ("int", 10)))
    # `k` itself is only a named constant; nothing computes 2 + 3 at run time
    assert not any(op.kind in ("map", "zipmap") and not op.inputs for op in program.graph)
    assert len(program.graph) <= before + 2  # the map and the constant that names k
    assert program.run([1]) == [11]
