"""rasp.printer.to_source: parse → print → parse gives an equal syntax tree (spans aside)."""

from __future__ import annotations

import keyword
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasp import syntax as S
from rasp.parser import parse_source
from rasp.printer import expr_source, to_source
from rasp.program import Program

try:  # tests/ as a package or as a directory on sys.path (pytest's default rootdir import mode)
    from .strategies import programs
except ImportError:
    from strategies import programs

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "programs").glob("**/*.rasp")) + sorted((ROOT / "rasp" / "lib").glob("*.rasp"))
FILES += sorted((ROOT / "benchmarks").glob("**/*.rasp"))


def roundtrip(source: str, filename: str = "<input>") -> tuple[S.Module, str, S.Module]:
    tree = parse_source(source, filename)
    printed = to_source(tree)
    again = parse_source(printed, filename)
    return tree, printed, again


def _graph_signature(program: Program) -> list:
    return [(op.kind, op.inputs, op.fn, op.n_keys, repr(op.value), op.reduce) for op in program.graph]


# ---- every shipped program and library -------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_files_roundtrip(path):
    source = path.read_text()
    tree, printed, again = roundtrip(source, str(path))
    assert again == tree, printed
    assert to_source(again) == printed  # printing is idempotent
    # the printed text is the same program: same graph, mode and output
    if "lib" not in path.parts:
        original, reprinted = Program.from_source(source, str(path)), Program.from_source(printed, str(path))
        assert _graph_signature(reprinted) == _graph_signature(original)
        assert (reprinted.mode, reprinted.output, list(reprinted.names)) == (
            original.mode,
            original.output,
            list(original.names),
        )


def test_there_are_shipped_files():
    assert any(p.name == "reverse.rasp" for p in FILES)


# ---- generated programs -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_roundtrip(generated):
    tree, printed, again = roundtrip(generated.source)
    assert again == tree, printed
    assert _graph_signature(Program.from_source(printed)) == _graph_signature(Program.from_source(generated.source))


# ---- random syntax trees (not necessarily meaningful programs) ---------------------------------------

_RESERVED = {"def", "return", "load", "lambda", "if", "else", "and", "or", "not", "for", "in", "True", "False"}
_RESERVED |= {"set", "show", "full", "exit", "quit"}  # the original RASP's settings, at the start of a statement
names = st.one_of(
    st.sampled_from(["x", "y", "tokens", "indices", "length", "map", "select", "True_", "iff", "not_", "a1", "_"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
        lambda n: n not in _RESERVED and not keyword.iskeyword(n)
    ),
)
numbers = st.one_of(
    st.integers(0, 10**20),
    st.floats(min_value=0, allow_nan=False, allow_infinity=True),
).map(S.Number)
strings = st.text(alphabet=st.sampled_from(list("ab '\"\\\t#;é\u2028\x00")), max_size=6).map(S.String)
leaves = st.one_of(numbers, strings, st.booleans().map(S.Bool), names.map(S.Name))
COMPARE = ["==", "!=", "<", "<=", ">", ">="]
BINARY = ["+", "-", "*", "/", "//", "%", "and", "or", "in", *COMPARE]


targets = st.lists(names, min_size=1, max_size=3, unique=True).map(tuple)


def _compound(children: st.SearchStrategy) -> st.SearchStrategy:
    argument = st.one_of(children, st.sampled_from(COMPARE).map(S.Operator))
    keyword_args = st.lists(st.builds(S.Keyword, names, children), max_size=2).map(tuple)
    return st.one_of(
        st.builds(S.BinOp, st.sampled_from(BINARY), children, children),
        st.builds(S.UnaryOp, st.sampled_from(["-", "+", "not"]), children),
        st.builds(S.ListComp, children, targets, children),
        st.builds(S.DictComp, children, children, targets, children),
        st.builds(S.IfExp, children, children, children),
        st.builds(S.Index, children, children),
        st.builds(S.Lambda, st.lists(names, max_size=3, unique=True).map(tuple), children),
        st.builds(S.Call, names, st.lists(argument, max_size=3).map(tuple), keyword_args),
        st.lists(children, max_size=3).map(lambda items: S.ListLit(tuple(items))),
        st.lists(st.tuples(children, children), max_size=2).map(lambda items: S.DictLit(tuple(items))),
    )


expressions = st.recursive(leaves, _compound, max_leaves=12)
values = st.one_of(expressions, st.lists(expressions, min_size=2, max_size=3).map(lambda v: S.TupleLit(tuple(v))))
assigns = st.builds(S.Assign, names, values)
unpacks = st.builds(S.Unpack, st.lists(names, min_size=2, max_size=3).map(tuple), values)
examples = st.one_of(strings, names.map(S.Name), st.lists(expressions, max_size=2).map(lambda v: S.ListLit(tuple(v))))
repl_commands = st.one_of(
    st.builds(S.ReplCommand, st.sampled_from(["set example", "set s-op example", "set selector example"]), examples),
    st.sampled_from(["show example", "show s-op example", "full seq display on", "full seq display off", "exit"]).map(
        S.ReplCommand
    ),
)
body_statements = st.recursive(
    st.one_of(assigns, unpacks, st.builds(S.ExprStmt, expressions)),
    lambda inner: st.one_of(
        st.builds(S.ForLoop, targets, expressions, st.lists(inner, max_size=2).map(tuple)),
        st.builds(S.FuncDef, names, targets.map(lambda t: t[:-1]), st.lists(inner, max_size=2).map(tuple), values),
    ),
    max_leaves=4,
)
statements = st.one_of(
    body_statements,
    st.builds(S.Load, st.text(alphabet="abc/.'\"", max_size=8)),
    st.builds(S.Directive, names, names),
    repl_commands,
)
modules = st.lists(statements, max_size=5).map(lambda items: S.Module(tuple(items)))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules)
def test_random_syntax_trees_roundtrip(module):
    printed = to_source(module)
    assert parse_source(printed) == module, printed


# ---- minimal parentheses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected",
    [
        ("x = (1 + 2) * 3;", "x = (1 + 2) * 3;"),
        ("x = 1 + (2 * 3);", "x = 1 + 2 * 3;"),
        ("x = (a - b) - c;", "x = a - b - c;"),
        ("x = a - (b - c);", "x = a - (b - c);"),
        ("x = (a < b) == c;", "x = (a < b) == c;"),
        ("x = not (a and b);", "x = not (a and b);"),
        ("x = (not a) and b;", "x = not a and b;"),
        ("x = a or (b and c);", "x = a or b and c;"),
        ("x = (a or b) and c;", "x = (a or b) and c;"),
        ("x = -(a + b);", "x = -(a + b);"),
        ("x = - -a;", "x = - -a;"),
        ("x = (a if b else c) if d else e;", "x = (a if b else c) if d else e;"),
        ("x = a if b else (c if d else e);", "x = a if b else c if d else e;"),
        ("x = (a + b)[c];", "x = (a + b)[c];"),
        ("x = [1, 2][tokens];", "x = [1, 2][tokens];"),
        ("x = {'a': 1}['a'];", 'x = {"a": 1}["a"];'),
        ("x = map((lambda t: t + 1), tokens);", "x = map(lambda t: t + 1, tokens);"),
        ("x = (lambda: 1);", "x = lambda: 1;"),
        ("x = (lambda k, q: k) if c else d;", "x = (lambda k, q: k) if c else d;"),
        ("x = select(tokens, tokens, ==);", "x = select(tokens, tokens, ==);"),
        ("x = aggregate(s, v, default='a', reduce=\"max\");", 'x = aggregate(s, v, default="a", reduce="max");'),
        ('x = "it\'s";', 'x = "it\'s";'),
        ("x = 1e999;", "x = 1e999;"),
        ("x = 2.5e-07;", "x = 2.5e-07;"),
        ("@mode bidirectional;", "@mode bidirectional;"),
        ("@output x;", "@output x;"),
        ("load 'std';", 'load "std";'),
        ("tokens + 1;", "tokens + 1;"),
    ],
)
def test_minimal_parentheses(source, expected):
    tree, printed, again = roundtrip(source)
    assert printed == expected + "\n"
    assert again == tree


def test_function_definition_layout():
    source = (
        "def shift(s, k) { sel = select(indices, indices - k, ==); return aggregate(sel, s); } y = shift(tokens, 1);"
    )
    tree, printed, again = roundtrip(source)
    assert printed == (
        "def shift(s, k) {\n"
        "    sel = select(indices, indices - k, ==);\n"
        "    return aggregate(sel, s);\n"
        "}\n"
        "\n"
        "y = shift(tokens, 1);\n"
    )
    assert again == tree


def test_comments_and_layout_are_normalised():
    tree, printed, again = roundtrip("# a comment\nx  =\n  tokens;   # trailing\n\n\ny=x+1;")
    assert printed == "x = tokens;\ny = x + 1;\n"
    assert again == tree


def test_empty_module():
    assert to_source(parse_source("")) == ""
    assert to_source(parse_source("# only a comment\n")) == ""


def test_expr_source_levels():
    tree = parse_source("x = a + b;").statements[0].value
    assert expr_source(tree) == "a + b"
    assert expr_source(tree, level=7) == "(a + b)"
