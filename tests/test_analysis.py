"""Program analysis: the length measures, the value kinds, and each fragment rule on small inline programs."""

import json
import re

import pytest

import rasp
from rasp.analysis import infer_kinds
from rasp.analysis.fragments import NOT_A_PROOF

REVERSE = """@mode bidirectional;
opp_index = length - indices - 1;
flip = select(indices, opp_index, ==);
reverse = aggregate(flip, tokens);
"""

HIST = """@mode bidirectional;
same_tok = select(tokens, tokens, ==);
hist = selector_width(same_tok);
"""

SORT = """@mode bidirectional;
smaller = select(tokens, tokens, <);
target_pos = selector_width(smaller);
sel_new = select(target_pos, indices, ==);
sort = aggregate(sel_new, tokens);
"""

LOCATION = re.compile(r"^(?:<input>|[^:]+\.rasp):\d+:\d+")


def prog(text, name="<input>"):
    return rasp.parse(text, name)


def reasons(verdict):
    return "\n".join(verdict.reasons)


def violation_lines(verdict):
    return sorted({int(v.where.split(":")[1]) for v in verdict.violations})


# ---- measure -----------------------------------------------------------------------------------------


def test_measure_api_names():
    m = rasp.measure(prog(HIST))
    for name in ("ops", "attention_ops", "mlp_ops", "statements", "layers", "heads_per_layer", "max_heads_per_layer"):
        assert hasattr(m, name)


def test_measure_reverse():
    m = rasp.measure(prog(REVERSE))
    # length (select + selector width), length - indices, - 1, flip, the aggregate
    assert m.ops == 6
    assert m.attention_ops == 2  # the selector width of length, the aggregate
    assert m.selects == 2
    assert m.mlp_ops == 3  # two maps and the selector width's MLP
    assert m.statements == 3
    # length: attention 0 + MLP 0; opp_index: MLP 1 (after the selector width); aggregate: attention 2
    assert m.layers == 3
    assert m.heads_per_layer == [1, 0, 1]
    assert m.max_heads_per_layer == 1


def test_measure_hist_and_sort():
    h = rasp.measure(prog(HIST))
    assert (h.ops, h.attention_ops, h.mlp_ops, h.layers, h.heads_per_layer) == (2, 1, 1, 1, [1])
    s = rasp.measure(prog(SORT))
    assert (s.ops, s.attention_ops, s.selects, s.layers, s.heads_per_layer) == (4, 2, 2, 2, [1, 1])
    assert s.statements == 4


def test_causal_length_is_a_map():
    causal = rasp.measure(prog("n = length;"))
    assert (causal.ops, causal.attention_ops, causal.mlp_ops, causal.layers) == (1, 0, 1, 1)
    assert causal.by_kind["length"] == 1
    bidi = rasp.measure(prog("@mode bidirectional;\nn = length;"))
    assert (bidi.ops, bidi.attention_ops, bidi.layers, bidi.heads_per_layer) == (2, 1, 1, [1])


def test_select_all_still_a_head_when_aggregated_causally():
    m = rasp.measure(
        prog(
            'n = length;\nf = numerical(aggregate(select(tokens, tokens, True), indicator(tokens == "a")));\ny = f * n;'
        )
    )
    assert m.attention_ops == 1 and m.selects == 1


def test_maps_fuse_into_one_mlp():
    m = rasp.measure(prog("a = tokens + 1;\nb = a * 2;\nc = b == 4;"))
    assert (m.ops, m.mlp_ops, m.attention_ops, m.layers, m.mlps_per_layer) == (3, 3, 0, 1, [3])


def test_map_after_aggregate_costs_an_mlp_sublayer_of_the_same_layer():
    m = rasp.measure(
        prog('s = aggregate(select(tokens, tokens, ==), tokens);\nt = s == "a";\nu = t and tokens == "b";')
    )
    assert (m.layers, m.heads_per_layer, m.mlps_per_layer) == (1, [1], [3])


def test_aggregate_after_map_needs_the_next_layer():
    m = rasp.measure(prog('m = tokens == "a";\ns = aggregate(select(m, m, ==), tokens);\nt = s == "b";'))
    assert (m.layers, m.heads_per_layer, m.mlps_per_layer) == (2, [0, 1], [1, 1])


def test_selector_width_costs_attention_and_mlp():
    m = rasp.measure(prog("c = selector_width(select(tokens, tokens, ==));\nd = c > 2;"))
    assert (m.ops, m.attention_ops, m.mlp_ops, m.layers, m.heads_per_layer) == (3, 1, 2, 2, [1, 0])


def test_parallel_heads_share_a_layer():
    text = 'a = selector_width(select(tokens, tokens, lambda k, q: k == "a"));\n'
    text += 'b = selector_width(select(tokens, tokens, lambda k, q: k == "b"));\nm = a > b;'
    m = rasp.measure(prog(text))
    assert m.heads_per_layer == [2, 0] and m.max_heads_per_layer == 2


def test_only_what_the_output_needs_and_shared_ops():
    m = rasp.measure(
        prog('unused = selector_width(select(tokens, tokens, ==));\na = tokens == "x";\nb = tokens == "x";')
    )
    assert m.ops == 1 and m.attention_ops == 0
    assert m.statements == 3  # statements are counted in the file, used or not


def test_statements_count_function_bodies():
    text = "def inc(x) {\n  y = x + 1;\n  return y;\n}\nz = inc(tokens);\n@output z;\n"
    assert rasp.measure(prog(text)).statements == 3


def test_measure_of_a_named_output_and_json():
    m = rasp.measure(prog(REVERSE), output="opp_index")
    assert m.attention_ops == 1
    json.dumps(m.as_dict())


# ---- value kinds -------------------------------------------------------------------------------------


def test_value_kinds():
    text = """c = 3;
t = tokens == "a";
p = indices % 2;
q = p == 0;
n = selector_width(select(tokens, tokens, ==));
d = n - 2 * length;
f = numerical(aggregate(select(tokens, tokens, True), indicator(t)));
g = n % 3;
r = aggregate(select(tokens, tokens, ==), tokens);
m = aggregate(select(indices, indices - 1, ==), n);
"""
    kinds = infer_kinds(prog(text))
    assert kinds["c"] == "constant"
    assert kinds["t"] == "finite"
    assert kinds["p"] == "periodic" and kinds["q"] == "periodic"
    assert kinds["n"] == "count" and kinds["d"] == "count"
    assert kinds["f"] == "ratio"
    assert kinds["g"] == "other" and kinds["m"] == "other"
    assert kinds["r"] == "finite"
    assert infer_kinds(prog(text), output="f") == {"t": "finite", "f": "ratio"}


def test_mean_times_its_width_is_a_count():
    text = 'f = numerical(aggregate(select(tokens, tokens, True), indicator(tokens == "a")));\nc = f * length;'
    assert infer_kinds(prog(text))["c"] == "count"


def test_a_categorical_hint_is_checked_not_trusted():
    # the selected positions hold the query's own token, so the retrieved values agree: finite
    agreeing = 'a = categorical(aggregate(select(tokens, tokens, ==), indicator(tokens == "a")));\nb = a + a;'
    kinds = infer_kinds(prog(agreeing))
    assert kinds["a"] == "finite" and kinds["b"] == "finite"
    # the selected positions may hold different 0/1 values: a mean, whatever the hint says
    averaging = 'a = categorical(aggregate(select(tokens, tokens, True), indicator(tokens == "a")));\nb = a + a;'
    assert infer_kinds(prog(averaging))["a"] == "ratio"
    p = rasp.predict(prog(averaging))
    assert any("categorical(...) not proved" in r for r in p.crasp.reasons)


# ---- the fragment rules ------------------------------------------------------------------------------


def test_crasp_counts_and_comparisons():
    text = """ones = selector_width(select(tokens, tokens, lambda k, q: k == 1));
zeros = selector_width(select(tokens, tokens, lambda k, q: k == 0));
d = ones - zeros + 3;
maj = d > 3 and min(ones, zeros) < 2 * length;
"""
    p = rasp.predict(prog(text))
    assert p.crasp.ok and p.crasp_pos.ok and p.rasp_l.ok is False  # 2 * length: index arithmetic for RASP-L
    assert "2 counts" in reasons(p.crasp)
    assert NOT_A_PROOF not in reasons(p.crasp)
    assert p.crasp_pos.features["periods"] == [] and p.crasp_pos.features["local_offsets"] == []


def test_periodic_position():
    p = rasp.predict(prog('a = tokens == "a";\nodd = indices % 2 == 1;\ny = a and odd;'))
    assert not p.crasp.ok and p.crasp_pos.ok and not p.rasp_l.ok
    assert violation_lines(p.crasp) == [2]
    assert "<input>:2:7" in reasons(p.crasp) and "modulo 2" in reasons(p.crasp)
    assert "indices % 2" in reasons(p.crasp_pos)
    assert p.crasp_pos.features["periods"] == [2]
    assert violation_lines(p.rasp_l) == [2]


def test_causal_length_modulo_is_periodic():
    p = rasp.predict(prog("even = length % 2 == 0;"))
    assert p.crasp_pos.ok and not p.crasp.ok
    assert p.crasp_pos.features["periods"] == [2]


def test_arbitrary_map_of_a_count():
    text = "ones = selector_width(select(tokens, tokens, lambda k, q: k == 1));\nparity = ones % 2 == 1;"
    p = rasp.predict(prog(text))
    for verdict in (p.crasp, p.crasp_pos, p.rasp_l):
        assert not verdict.ok
        assert violation_lines(verdict) == [2]
        assert "takes a count modulo 2" in reasons(verdict)
        assert reasons(verdict).endswith(NOT_A_PROOF)
    assert p.kinds["parity"] == "other"


@pytest.mark.parametrize(
    "expr, words",
    [
        ("ones * ones", "multiplies two counts"),
        ("ones // 2", "integer-divides a count"),
        ("[0, 1, 2][ones]", "looks a count up in a table"),
    ],
)
def test_other_nonlinear_maps(expr, words):
    p = rasp.predict(prog(f"ones = selector_width(select(tokens, tokens, lambda k, q: k == 1));\nx = {expr};"))
    assert not p.crasp.ok and not p.crasp_pos.ok and not p.rasp_l.ok
    assert words in reasons(p.crasp_pos) and violation_lines(p.crasp_pos) == [2]


def test_local_selector():
    text = 'prev = aggregate(select(indices, indices - 1, ==), tokens, default="^");\ny = prev == tokens;'
    p = rasp.predict(prog(text))
    assert not p.crasp.ok and p.crasp_pos.ok and p.rasp_l.ok
    assert violation_lines(p.crasp) == [1] and "i-1" in reasons(p.crasp)
    assert "j = i - 1" in reasons(p.crasp_pos)
    assert p.crasp_pos.features["local_offsets"] == [1]
    assert p.kinds["prev"] == "finite"


def test_local_window():
    p = rasp.predict(prog("w = selector_width(select(indices, indices, lambda k, q: k >= q - 2)) > 1;"))
    assert p.crasp_pos.ok and p.crasp_pos.features["local_offsets"] == [0, 1, 2]


def test_same_position_is_no_positional_information():
    p = rasp.predict(prog("same = aggregate(select(indices, indices, ==), tokens);"))
    assert p.crasp.ok and p.crasp_pos.features["local_offsets"] == []


def test_a_mean_is_a_ratio_unless_it_provably_selects_one_position_whatever_the_hint():
    text = """v = indicator(tokens == 1);
a = {wrap}(aggregate(select({sel}), v));
b = {wrap}(aggregate(select(tokens, tokens, True), v));
c = a + b > 1;
"""
    for wrap in ("numerical", "categorical"):
        # means over different selectors: not linear in the counts
        p = rasp.predict(prog(text.format(wrap=wrap, sel="tokens, tokens, <")))
        assert not p.crasp.ok and "a mean" in reasons(p.crasp) and 4 in violation_lines(p.crasp)
        # position 0 and position 1 each hold one value: retrievals, finite
        one = text.replace("select(tokens, tokens, True)", "select(indices, 1, ==)")
        assert rasp.predict(prog(one.format(wrap=wrap, sel="indices, 0, =="))).crasp.ok


def test_nonlocal_positions():
    # bidirectional: j < i is a relation at unbounded distance on both sides
    text = "@mode bidirectional;\nbefore = select(indices, indices, <);\nn = selector_width(before and select(tokens, tokens, ==));"
    p = rasp.predict(prog(text))
    assert not p.crasp.ok and not p.crasp_pos.ok  # (RASP-L: causal only)
    assert "unbounded distance" in reasons(p.crasp_pos)
    assert violation_lines(p.crasp_pos) == [1, 3]
    # causal: the same selector is the prefix less the query, a C-RASP count
    causal = text.replace("@mode bidirectional;\n", "") + "\nout = n > 1;"
    assert rasp.predict(prog(causal)).crasp.ok


def test_selector_on_counts():
    text = "n = selector_width(select(tokens, tokens, ==));\nsame = selector_width(select(n, n, ==));"
    p = rasp.predict(prog(text))
    assert not p.crasp.ok and not p.crasp_pos.ok and p.rasp_l.ok
    assert violation_lines(p.crasp_pos) == [2]
    assert "counts or positions of the key" in reasons(p.crasp_pos)


def test_one_sided_comparisons_in_a_selector_are_finite_facts():
    text = (
        "n = selector_width(select(tokens, tokens, ==));\nbig = selector_width(select(n, n, lambda k, q: k > 2)) == 1;"
    )
    assert rasp.predict(prog(text)).crasp.ok
    first = rasp.predict(prog("f = aggregate(select(indices, 0, ==), tokens);"))
    assert first.crasp.ok  # reading position 0: j == 0 is a comparison of a count with a constant


def test_aggregate_moving_a_count():
    text = """n = selector_width(select(tokens, tokens, ==));
prev = aggregate(select(indices, indices - 1, ==), n);
y = prev > 2;
"""
    p = rasp.predict(prog(text))
    assert not p.crasp_pos.ok and p.rasp_l.ok
    assert violation_lines(p.crasp_pos) == [2] and "aggregates a count" in reasons(p.crasp_pos)
    assert violation_lines(p.crasp) == [2]  # the local select and the moved count, both on line 2


def test_ratios():
    same = 'f = numerical(aggregate(select(tokens, tokens, True), indicator(tokens == "a")));\nm = f > 0.5;'
    assert rasp.predict(prog(same)).crasp.ok
    text = """f = numerical(aggregate(select(tokens, tokens, True), indicator(tokens == "a")));
g = numerical(aggregate(select(tokens, tokens, <), indicator(tokens == "a")));
m = f > g;
"""
    p = rasp.predict(prog(text))
    assert not p.crasp.ok and not p.crasp_pos.ok and p.rasp_l.ok
    assert violation_lines(p.crasp) == [3] and "ratios" in reasons(p.crasp)


def test_mean_times_length_is_not_rasp_l():
    text = 'f = numerical(aggregate(select(tokens, tokens, True), indicator(tokens == "a")));\nc = f * length > 3;'
    p = rasp.predict(prog(text))
    assert p.crasp.ok and not p.rasp_l.ok
    assert violation_lines(p.rasp_l) == [2]


def test_rasp_l_index_rules():
    assert rasp.predict(prog("prev = aggregate(select(indices, indices - 1, ==), tokens);")).rasp_l.ok
    assert rasp.predict(prog('b = select(indices, indices, <);\nx = aggregate(b, tokens, reduce="max");')).rasp_l.ok
    doubled = rasp.predict(prog("d = 2 * indices;\nx = aggregate(select(indices, d, ==), tokens);"))
    assert not doubled.rasp_l.ok and violation_lines(doubled.rasp_l) == [1]
    assert "2·i" in reasons(doubled.rasp_l) and "<input>:2:" in reasons(doubled.rasp_l)  # where it is used
    assert "length:" in reasons(doubled.rasp_l)


def test_bidirectional_reverse():
    p = rasp.predict(prog(REVERSE))
    for verdict in (p.rasp_l, p.crasp, p.crasp_pos):
        assert not verdict.ok
        assert "<input>:1:1" in reasons(verdict)  # the @mode directive
    assert violation_lines(p.rasp_l) == [1, 2]  # @mode, length - indices
    assert violation_lines(p.crasp) == [1, 3]  # @mode, the flip selector
    assert p.rasp_l.violations[1].label.endswith("(in opp_index)")


def test_library_ops_are_located_at_the_call():
    p = rasp.predict(prog('load "std";\nx = 1;\nprev = shift_by(1, tokens);\ny = prev == tokens;'))
    assert not p.crasp.ok
    (v,) = p.crasp.violations
    assert v.where.split(":")[0].endswith("std.rasp") and v.via == "<input>:3:1"
    assert "reached from <input>:3:1" in reasons(p.crasp)


def test_every_violation_has_a_location_and_json():
    p = rasp.predict(prog(REVERSE + "x = indices % 2;\n@output reverse;\n"))
    for verdict in (p.rasp_l, p.crasp, p.crasp_pos):
        for v in verdict.violations:
            assert LOCATION.match(v.where), v.where
    json.dumps(p.as_dict())


def test_predict_on_a_program_of_the_paper_table(tmp_path):
    path = tmp_path / "parity.rasp"
    path.write_text("ones = selector_width(select(tokens, tokens, lambda k, q: k == 1));\nparity = ones % 2;\n")
    assert rasp.predict(rasp.load(path)).task is None  # the API never guesses the task from a file name
    p = rasp.predict(rasp.load(path), task="parity")
    assert p.task == "parity" and p.paper is not None
    assert p.agreement == {"ape": True, "nope": True}
    assert p.impossibility.startswith("proved impossible")
    unknown = rasp.predict(prog("x = tokens;"))
    assert unknown.task is None and unknown.paper is None and unknown.agreement == {}


def test_no_matplotlib_or_torch_at_import():
    import subprocess
    import sys

    code = "import sys, rasp, rasp.analysis.commands, rasp.analysis.draw; "
    code += "print('matplotlib' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


# ---- random programs -----------------------------------------------------------------------------------

try:  # tests/ as a package or as a directory on sys.path
    from .strategies import programs as random_programs
except ImportError:
    from strategies import programs as random_programs

from hypothesis import HealthCheck, given, settings  # noqa: E402


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(random_programs())
def test_analysis_never_fails_on_random_programs(generated):
    program = rasp.parse(generated.source, "gen.rasp")
    if program.output is None:
        return
    m = rasp.measure(program)
    assert m.layers >= 0 and sum(m.heads_per_layer) == m.attention_ops
    assert sum(m.mlps_per_layer) == m.mlp_ops
    p = rasp.predict(program)
    if not program.causal:
        assert not p.rasp_l.ok and not p.crasp.ok and not p.crasp_pos.ok
    if p.crasp.ok:
        assert p.crasp_pos.ok  # C-RASP is contained in C-RASP[periodic, local]
    for verdict in (p.rasp_l, p.crasp, p.crasp_pos):
        assert verdict.ok == (not verdict.violations)
        assert verdict.reasons
        for v in verdict.violations:
            assert LOCATION.match(v.where), v.where
    json.dumps(p.as_dict())


# ---- programs outside the fragments that an unsound analysis accepts -------------------------------------

MEAN_OF_RAW_TOKENS = """frac = aggregate(select(tokens, tokens, True), tokens, default=0);
same = selector_width(select(frac, frac, ==));
out = same > 1;
"""
CATEGORICAL_MEAN = """frac = categorical(aggregate(select(tokens, tokens, True), indicator(tokens == "a"), default=0));
out = selector_width(select(frac, frac, ==)) > 1;
"""
INDEX_THROUGH_AGGREGATE = """last_a = aggregate(select(tokens, tokens, lambda k, q: k == "a"), indices, default=-1, reduce="max");
out = last_a % 2 == 0;
"""


@pytest.mark.parametrize("vocab", [None, [0, 1]])
def test_a_mean_of_raw_tokens_is_a_mean(vocab):
    p = rasp.predict(rasp.parse(MEAN_OF_RAW_TOKENS, "mean.rasp"), vocab=vocab)
    for verdict in (p.crasp, p.crasp_pos):
        assert not verdict.ok and violation_lines(verdict) == [2]
        assert all(LOCATION.match(v.where) for v in verdict.violations)
    assert infer_kinds(rasp.parse(MEAN_OF_RAW_TOKENS))["frac"] == "ratio"


def test_a_categorical_hint_on_a_mean_buys_no_check_mark():
    p = rasp.predict(rasp.parse(CATEGORICAL_MEAN, "hint.rasp"), vocab=["a", "b"])
    for verdict in (p.crasp, p.crasp_pos):
        assert not verdict.ok and violation_lines(verdict) == [2]
        assert any("hint.rasp:1:" in r and "categorical(...) not proved" in r for r in verdict.reasons)


def test_an_index_read_through_an_aggregate_keeps_the_index_arithmetic_rule():
    p = rasp.predict(rasp.parse(INDEX_THROUGH_AGGREGATE, "last.rasp"), vocab=["a", "b"])
    assert not p.rasp_l.ok and violation_lines(p.rasp_l) == [2]
    assert any(r.startswith("last.rasp:2:") and "modulo 2" in r for r in p.rasp_l.reasons)
    assert rasp.predict(rasp.parse("out = indices % 2 == 0;")).rasp_l.ok is False  # the direct form, as before


def test_a_count_is_no_c_rasp_output():
    p = rasp.predict(rasp.parse('load "std";\nout = count_of(tokens, "a");', "count.rasp"))
    assert not p.crasp.ok and "the output is a count" in reasons(p.crasp) and p.rasp_l.ok


def test_a_witness_mismatch_is_located_at_the_output():
    # Found by the random-program test in CI: on random string tokens the witness evaluates a table lookup that the
    # program's `if` never takes, so the C-RASP ✓ is withdrawn (a known incompleteness of the witness, never an
    # unsound ✓); the reason must still point at a line, as every reason does.
    source = (
        "def fn1(p0, p1) {\n    return numerical(map(lambda x: x, indices));\n}\n"
        "v5 = fn1(p1=tokens, p0=tokens);\n"
        "v8 = zipmap(lambda x, y: y, tokens, 0);\n"
        "v9 = zipmap(lambda x, y, z: ({-1: True, 0: True, 1: True, 2: True}[z] if [False][x] else (x == x)), v8, v5, "
        "tokens);\n"
    )
    prediction = rasp.predict(rasp.parse(source, "gen.rasp"))
    mismatches = [v for v in prediction.crasp.violations if v.code == "witness-mismatch"]
    assert mismatches and not prediction.crasp.ok
    for verdict in (prediction.crasp, prediction.crasp_pos):
        for violation in verdict.violations:
            assert LOCATION.match(violation.where), violation.where
