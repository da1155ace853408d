"""The original RASP language (Weiss et al., tech-srl/RASP) as a subset of the dialect: list and dict
comprehensions, `in`, `tokens_str`/`tokens_int`, functions inside functions, `for` loops, multiple assignment,
an s-op at a position, an s-op applied to an input, private names of loaded files and the REPL's settings.

The programs here are written for these tests in the original's style; expected values are worked out by hand
or by a plain Python reference beside them. `test_original_repository_programs` runs the original repository's
own programs when `RASP_ORIGINAL_DIR` points at a checkout of it (nothing of it is in this repository).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

import rasp
from rasp.errors import RaspError, RaspNameError, RaspSyntaxError, RaspTypeError
from rasp.parser import parse_source
from rasp.printer import to_source
from rasp.repl import Repl, is_complete


def run(source: str, tokens, output: str, causal: bool = False):
    return rasp.Program.from_source(source).run(list(tokens), output=output, causal=causal)


BRACKETS = """
pairs = ["()", "[]"];
openers = [p[0] for p in pairs];
closers = [p[1] for p in pairs];
is_open = tokens_str in openers;
is_close = tokens_str in closers;
"""


def test_list_comprehension_and_membership():
    assert run(BRACKETS, "(a]", "is_open") == [True, False, False]
    assert run(BRACKETS, "(a]", "is_close") == [False, False, True]


def test_dict_comprehension_of_s_ops_and_indexing_it():
    source = """
    letters = ["a", "b"];
    seen = {c: aggregate(select(tokens, c, ==), 1, 0) > 0 for c in letters};
    has_a = seen["a"];
    has_b = seen["b"];
    """
    assert run(source, "xbx", "has_a") == [False] * 3
    assert run(source, "xbx", "has_b") == [True] * 3
    program = rasp.Program.from_source(source)
    assert "seen['a']" in program.names  # a dict's s-ops are names of the program


def test_for_loop_accumulates_in_the_enclosing_scope():
    source = "a = 3;\nfor i in range(4) {\n    a = a + i;\n}\nb = a + indices;"
    assert run(source, "xy", "b") == [9, 10]  # 3 + 0 + 1 + 2 + 3


def test_nested_functions_loops_over_dicts_and_multiple_results():
    source = """
    def parse_digits() {
        def digit(t) {
            table = {"0": 0, "1": 1, "2": 2};
            value = -1;
            for d in table {
                value = table[d] if t == d else value;
            }
            return value;
        }
        as_num = digit(tokens_str);
        return as_num, as_num + 1;
    }
    num, following = parse_digits();
    c, d = 5, 6;
    total = num + c + d;
    """
    assert run(source, ["0", "1", "2", "x"], "num") == [0, 1, 2, -1]
    assert run(source, ["0", "1", "2", "x"], "following") == [1, 2, 3, 0]
    assert run(source, ["0", "1"], "total") == [11, 12]
    program = rasp.Program.from_source(source)
    # the inner function's name is qualified by the outer's; a name bound again in a loop is its last value
    assert program.names["parse_digits.digit.value"] == program.names["num"]


def test_zip_len_and_atom_in_an_s_op():
    source = """
    n = len(["a", "b", "c"]);
    weights = {k: v for k, v in zip(["a", "b"], [1, 2])};
    known = tokens in weights;
    has_z = "z" in tokens;
    width = indices * 0 + n;
    """
    assert run(source, "azb", "known") == [True, False, True]
    assert run(source, "azb", "width") == [3, 3, 3]
    assert run(source, "abz", "has_z") == [True, True, True]  # anywhere in the input, bidirectionally
    assert run(source, "abz", "has_z", causal=True) == [False, False, True]  # causally: so far


def test_an_s_op_at_a_position_and_unary_plus():
    source = "first = tokens[0];\nlast = tokens[-1];\nsame = +indices;"
    assert run(source, "abc", "first") == ["a", "a", "a"]
    assert run(source, "abc", "last") == ["c", "c", "c"]
    assert run(source, "abc", "same") == [0, 1, 2]


def test_token_views_convert_the_input():
    source = 'as_int = tokens_int + 1;\nas_str = tokens_str + "!";\nas_float = tokens_float / 2;'
    assert run(source, ["1", "2", "3"], "as_int") == [2, 3, 4]
    assert run(source, [1, 2], "as_str") == ["1!", "2!"]
    assert run(source, ["1", "3"], "as_float") == [0.5, 1.5]
    with pytest.raises(RaspError, match="'int' cannot be applied to 'a'"):
        run(source, ["a"], "as_int")


def test_loaded_files_keep_their_private_names(tmp_path):
    (tmp_path / "lib.rasp").write_text("_secret = 1;\nshown = _secret + 1;\ndef f() { return _secret + indices; }\n")
    main = tmp_path / "main.rasp"
    main.write_text('load "lib";\nx = indices + shown;\ny = f();\n')  # no `.rasp`, beside the loading file
    program = rasp.load(main)
    assert program.run(list("ab"), output="x", causal=False) == [2, 3]
    assert program.run(list("ab"), output="y", causal=False) == [1, 2]  # the function sees its file's names
    main.write_text('load "lib";\nz = _secret;\n')
    with pytest.raises(RaspNameError, match="name '_secret' is not defined"):
        rasp.load(main)


def test_repl_settings_are_statements_in_a_file():
    source = 'set example "abc"\nfull seq display on\nshow example\nx = indices;\nx("hello");\nexit()\n'
    program = rasp.Program.from_source(source)
    assert program.example == "abc"
    assert program.run(list("ab"), output="x") == [0, 1]  # applying x to an input shows it; it adds nothing


def test_repl_runs_the_original_commands():
    lines: list[str] = []
    repl = Repl(out=lines.append)
    for entry in ['set example "abc"', "@mode bidirectional;", "n = selector_width(select(tokens, tokens, ==));"]:
        assert is_complete(entry)
        repl.feed(entry)
    assert "example: a b c" in lines[0]
    repl.feed('n("aab");')
    assert lines[-1].split()[-3:] == ["2", "2", "1"]
    repl.feed("c, d = 5, 6;")
    assert lines[-2:] == ["c = 5", "d = 6"]
    with pytest.raises(EOFError):
        repl.feed("exit")


def test_errors_say_where_and_what():
    cases = [
        ("for t in tokens { x = t; }", RaspTypeError, 1, 10, "can only loop over a list, dict or string"),
        ("a, b = 1, 2, 3;", RaspTypeError, 1, 8, "2 names but 3 values to unpack"),
        ("x = [t for t in range(10000000)];", RaspTypeError, 1, 17, "MAX_UNROLLED"),
        ("x = tokens in tokens;", RaspTypeError, 1, 5, "'in' takes a list or dict of constants"),
        ("x = zip([1], [1, 2]);", RaspTypeError, 1, 5, "zip() takes lists of one length (got 1, 2)"),
        ("x = [1, 2][5];", RaspTypeError, 1, 5, "index 5 is not in the table [1, 2]"),
        ('x = "ab"[5];', RaspTypeError, 1, 10, "5 is not an index or key here"),
        ("x = [y for y in [1] y];", RaspSyntaxError, 1, 21, "unexpected name 'y'"),
    ]
    for source, cls, line, column, words in cases:
        with pytest.raises(cls) as info:
            rasp.Program.from_source(source)
        assert (info.value.line, info.value.column) == (line, column), str(info.value)
        assert words in str(info.value), str(info.value)


def test_the_new_constructs_print_and_parse_back():
    source = (
        "c, d = 5, 6;\n"
        "def f(x) {\n    def g(y) {\n        return y;\n    }\n    for k, v in zip([1], [2]) {\n"
        "        x = x + k;\n    }\n    return x, g(x);\n}\n\n"
        "a = [t + 1 for t in range(3)];\nb = {k: not k in [1, 2] for k in a};\nn = +-indices;\n"
        'set s-op example "abc";\nshow example;\nfull seq display off;\nexit;\n'
    )
    tree = parse_source(source)
    printed = to_source(tree)
    assert parse_source(printed) == tree
    assert "b = {k: not k in [1, 2] for k in a};" in printed


# ---- the original repository's programs, when a checkout is given ------------------------------------------

ORIGINAL = os.environ.get("RASP_ORIGINAL_DIR")


def _dyck_ptf(text: str, pairs: list[str]) -> list[str]:
    """Prefix verdicts: F once a prefix can no longer be balanced, T where it is balanced, P otherwise."""
    stack, failed, out = [], False, []
    for ch in text:
        if any(ch == p[0] for p in pairs):
            stack.append(ch)
        elif not stack or pairs[[p[1] for p in pairs].index(ch)][0] != stack.pop():
            failed = True
        out.append("F" if failed else "T" if not stack else "P")
    return out


def _hist(text: str) -> list[int]:
    counts = Counter(text)
    return [counts[ch] for ch in text]


@pytest.mark.skipif(not ORIGINAL, reason="set RASP_ORIGINAL_DIR to a checkout of tech-srl/RASP")
def test_original_repository_programs():
    root = Path(ORIGINAL)
    examples = rasp.load(root / "paper_examples.rasp")

    def run_example(name: str, text: str):
        return examples.run(list(text), output=name, causal=False)

    words = "hiya howdy doodly doo"
    assert run_example("hist_nobos", words) == _hist(words)
    assert run_example("hist_bos", "§" + words) == [0, *_hist(words)]
    assert run_example("reverse", "hello") == list("olleh")
    assert run_example("sort_bos", "§dfgDVSfd") == ["§", *sorted("dfgDVSfd")]
    nested = "()(()())((())(()((" + "))))(())(("
    assert run_example("dyck1_ptf", nested) == _dyck_ptf(nested, ["()"])
    mixed = "{()[]}{(}[]"
    assert run_example("dyck2_ptf", mixed.replace("[", "(").replace("]", ")")) == _dyck_ptf(
        mixed.replace("[", "(").replace("]", ")"), ["()", "{}"]
    )
    assert run_example("dyck3_ptf", mixed) == _dyck_ptf(mixed, ["()", "{}", "[]"])

    addition = rasp.load(root / "long_addition.rasp")
    for a, b in [(959, 87), (123, 456), (5, 5)]:
        text = f"{a}+{b}"
        digits = str(a + b).rjust(len(text), "0")
        assert addition.run(list(text), output="longsum", causal=False) == [int(d) for d in digits]

    rover = rasp.load(root / "rover.rasp")
    for question, answer in [("a<A,a<A?", "T"), ("a<A,a#A?", "F"), ("a<A,a<B?", "?"), ("a<A,x<A:x<B,a<B?", "T")]:
        assert set(rover.run(list(question), output="res", causal=False)) == {answer}


def test_repl_draw_of_an_s_op_on_an_input(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    lines: list[str] = []
    repl = Repl(out=lines.append)
    repl.feed("hist = selector_width(select(tokens, tokens, ==));")
    repl.feed('draw(hist, "aba");')
    assert lines[-1] == "wrote hist.png" and (tmp_path / "hist.png").stat().st_size > 0
    repl.feed('draw(hist, "a", "b");')
    assert 'draw(name) or draw(name, "abc")' in lines[-1]
