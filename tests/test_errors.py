"""Errors a user can cause: the right RaspError subclass, line and column, a readable message; and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import rasp
from rasp_cli import main

ROOT = Path(__file__).resolve().parent.parent
REVERSE = str(ROOT / "programs" / "reverse.rasp")

Syntax, Name, Arity, Type, Eval = (
    rasp.RaspSyntaxError,
    rasp.RaspNameError,
    rasp.RaspArityError,
    rasp.RaspTypeError,
    rasp.RaspEvalError,
)

# (source, error class, line, column or None, words the message must contain)
STATIC_ERRORS = [
    # ---- syntax ----
    ("x = tokens\ny = x + 1;", Syntax, 2, 1, ["unexpected name 'y'", "';' missing"]),
    ("x = tokens $ 1;", Syntax, 1, 12, ["unexpected character '$'"]),
    ("x = (tokens + 1;", Syntax, 1, 16, ["unexpected ';'", "expected ')'"]),
    ("x = tokens + * 2;", Syntax, 1, 14, ["unexpected '*'", "expected an expression"]),
    ("x = tokens +;", Syntax, 1, 13, ["expected an expression"]),
    ("x = select(tokens, tokens, ==;", Syntax, 1, 30, ["expected ')' or ','"]),
    ("def f(a) { return a; ", Syntax, 1, 21, ["unexpected end of file", "'}'"]),
    ("x = 'abc;", Syntax, 1, 5, ["unexpected character"]),
    ("x = ;", Syntax, 1, 5, ["expected an expression"]),
    ("= tokens;", Syntax, 1, 1, ["unexpected '='"]),
    ("x = tokens;\ndef f(a) { y = a; }", Syntax, 2, 19, ["unexpected '}'", "'return'"]),
    ("x = [1, 2;", Syntax, 1, 10, ["expected ',' or ']'"]),
    ("x = f(a=1, 2);", Syntax, 1, 12, ["positional argument follows a keyword argument"]),
    ("x = 1 < 2 < 3;", Syntax, 1, 11, ["unexpected '<'"]),
    ("@mode;", Syntax, 1, 6, ["expected a name"]),
    ("load std;", Syntax, 1, 6, ["expected a string"]),
    ("x = select(tokens, tokens, *);", Syntax, 1, 28, ["unexpected '*'"]),
    ("x = 3 +\n\n;", Syntax, 3, 1, ["expected an expression"]),
    # ---- names ----
    ("x = tokens;\ny = tokns + 1;", Name, 2, 5, ["name 'tokns' is not defined", "did you mean 'tokens'"]),
    ("x = foo(tokens);", Name, 1, 5, ["name 'foo' is not defined"]),
    ("x = map(lambda t: t + nothing, tokens);", Name, 1, 23, ["name 'nothing' is not defined"]),
    ("def f(a) { b = a; return b; }\nx = b;", Name, 2, 5, ["name 'b' is not defined"]),
    ('load "nosuchlib";', Name, 1, 1, ["cannot load 'nosuchlib'"]),
    ("@output nope;\nx = tokens;", Name, 1, 1, ["@output names 'nope'", "never bound"]),
    # ---- arity ----
    ("x = map(lambda t: t + 1, tokens, tokens);", Arity, 1, 5, ["map() takes one s-op", "zipmap"]),
    ("x = select(tokens, tokens);", Arity, 1, 5, ["select()", "missing", "predicate"]),
    ("x = select(tokens, tokens, ==, 1);", Arity, 1, 5, ["select() takes at most 3"]),
    ("x = aggregate(select(tokens, tokens, ==));", Arity, 1, 5, ["aggregate()", "missing", "values"]),
    ("x = aggregate(select(tokens, tokens, ==), tokens, foo=1);", Arity, 1, 51, ["no argument 'foo'"]),
    ("x = min(tokens);", Arity, 1, 5, ["min() takes 2 argument(s), got 1"]),
    ("x = indicator(tokens, tokens);", Arity, 1, 5, ["indicator() takes 1 argument(s), got 2"]),
    ("x = map(lambda t: round(t, 2), tokens);", Arity, 1, 19, ["round() takes 1 argument(s), got 2"]),
    ("def f(a, b) { return a + b; }\nx = f(tokens);", Arity, 2, 5, ["f()", "missing", "b"]),
    ("def f(a) { return a; }\nx = f(tokens, indices, length);", Arity, 2, 5, ["f() takes at most 1", "got 3"]),
    ("def f(a) { return a; }\nx = f(tokens, a=indices);", Arity, 2, 15, ["f() got 'a' twice"]),
    ("x = zipmap(lambda a, b: a + b, tokens);", Arity, 1, 12, ["lambda takes 2 parameter(s)", "given 1"]),
    ("x = select(tokens, tokens, lambda k: k);", Arity, 1, 28, ["lambda of two parameters"]),
    # ---- types ----
    ("s = select(tokens, tokens, ==);\nx = s + 1;", Type, 2, 5, ["a selector cannot be used as an operand"]),
    (
        "s = select(tokens, tokens, ==);\ny = aggregate(s, s);",
        Type,
        2,
        18,
        ["selector cannot be used as aggregate's values"],
    ),
    ("x = aggregate(tokens, tokens);", Type, 1, 15, ["aggregate() needs a selector first, got an s-op"]),
    ("x = selector_width(tokens);", Type, 1, 20, ["selector_width() needs a selector"]),
    ("s = select(tokens, tokens, ==);\nx = s and tokens;", Type, 2, 11, ["'and' combines two selectors"]),
    (
        'x = numerical(aggregate(select(tokens, tokens, ==), {"a": "x"}[tokens]));',
        Type,
        1,
        5,
        ["numerical mean of strings"],
    ),
    ("x = map(lambda t: t + tokens, indices);", Type, 1, 23, ["'tokens' is an s-op", "only its parameters"]),
    ("x = map(lambda t: map(lambda u: u, t), tokens);", Type, 1, 19, ["inside a lambda only", "not map()"]),
    ("x = [1, tokens] * 2;", Type, 1, 5, ["a list holding s-ops cannot be used as an operand"]),
    ("x = {tokens: 1};", Type, 1, 6, ["a dict key must be a number, string or bool, not an s-op"]),
    ('x = aggregate(select(tokens, tokens, ==), tokens, reduce="sum");', Type, 1, 58, ["reduce must be one of"]),
    ("x = aggregate(select(tokens, tokens, ==), tokens, default=[1]);", Type, 1, 59, ["default must be a number"]),
    ("x = aggregate(select(tokens, tokens, ==), tokens, default=tokens);", Type, 1, 59, ["expected a constant"]),
    ("x = select(tokens, tokens, 3);", Type, 1, 28, ["predicate must be a comparison"]),
    ("x = tokens[tokens];", Type, 1, 5, ["only a constant list or dict can be indexed"]),
    ("x = map(tokens, tokens);", Type, 1, 9, ["map() needs a lambda"]),
    ("x = tokens(1);", Type, 1, 12, ["an input is a string or a list"]),
    ('x = "a" - 1;', Type, 1, 5, ["'-' between str and int"]),
    ('x = "a" < 1;', Type, 1, 5, ["compares a string with a number"]),
    ('x = round("a");', Type, 1, 5, ["'round' of a string"]),
    ("def f(a) { return f(a); }\nx = f(tokens);", Type, 1, 19, ["f() calls itself", "recursion", "called at"]),
    ("def f() { return g(); }\ndef g() { return f(); }\nx = f();", Type, 2, 18, ["f() calls itself"]),
    # ---- directives ----
    ("@mode sideways;", Name, 1, 1, ["unknown mode 'sideways'", "causal or bidirectional"]),
    ("@colour red;", Name, 1, 1, ["unknown directive '@colour'"]),
]


@pytest.mark.parametrize(
    "source, cls, line, column, words", STATIC_ERRORS, ids=[f"{i}:{c[0][:30]}" for i, c in enumerate(STATIC_ERRORS)]
)
def test_static_errors(source, cls, line, column, words):
    with pytest.raises(rasp.RaspError) as info:
        rasp.parse(source, "prog.rasp")
    error = info.value
    assert type(error) is cls, f"{type(error).__name__}: {error}"
    assert error.line == line, str(error)
    if column is not None:
        assert error.column == column, str(error)
    for word in words:
        assert word in error.message, error.message
    text = str(error)
    assert text.startswith(f"prog.rasp:{line}:"), text  # file:line:col: message
    assert "Traceback" not in text


def test_there_are_enough_error_cases():
    assert len(STATIC_ERRORS) >= 25
    assert {c[1] for c in STATIC_ERRORS} == {Syntax, Name, Arity, Type}


def test_syntax_errors_show_the_line_with_a_caret():
    with pytest.raises(Syntax) as info:
        rasp.parse("x = tokens;\ny = (tokens + 1;\n", "f.rasp")
    assert str(info.value).splitlines() == [
        "f.rasp:2:16: unexpected ';'; expected ')'",
        "    y = (tokens + 1;",
        "                   ^",
    ]


def test_every_error_is_a_rasp_error():
    for cls in (Syntax, Name, Arity, Type, Eval, rasp.RaspInputError):
        assert issubclass(cls, rasp.RaspError)


def test_bound_lambda_arity_error_points_at_the_call():
    with pytest.raises(Arity) as info:
        rasp.parse("f = lambda a: a;\nx = f(tokens, tokens);")
    assert info.value.line == 2
    assert "the lambda is at <input>:1:5" in str(info.value)


def test_unknown_output_name_at_run_time():
    program = rasp.parse("x = tokens;")
    with pytest.raises(Name, match="no s-op named 'y'"):
        program.run([1], output="y")


# ---- runtime errors ----------------------------------------------------------------------------------

RUNTIME_ERRORS = [
    ("a = tokens;\nx = aggregate(select(tokens, tokens, True), tokens);", list("ab"), 2, ["differing non-numeric"]),
    ("a = tokens;\nb = a;\nt = {'a': 1}[tokens];", list("ab"), 3, ["'b' is not in the table"]),
    ("x = [1, 2][indices];", list("abc"), 1, ["index 2 is not in the table"]),
    ("a = tokens + 1;\n\nx = 10 / (tokens - 1);", [2, 1], 3, ["division by zero"]),
    ("x = tokens % (tokens - tokens);", [2], 1, ["division by zero"]),
    ("x = map(lambda t: 10 // t, tokens);", [2, 0], 1, ["division by zero"]),
    (
        "a = tokens;\nx = aggregate(select(tokens, tokens, True), tokens, reduce='max');",
        [1, "a"],
        2,
        ["cannot be ordered"],
    ),
]


@pytest.mark.parametrize("source, tokens, line, words", RUNTIME_ERRORS)
def test_runtime_errors(source, tokens, line, words):
    program = rasp.parse(source, "run.rasp")
    for call in (lambda: program.run(tokens), lambda: program.run_batch([tokens, tokens])):
        with pytest.raises(Eval) as info:
            call()
        assert info.value.line == line, str(info.value)
        assert str(info.value).startswith(f"run.rasp:{line}:")
        for word in words:
            assert word in info.value.message


def test_runtime_error_only_on_the_input_that_fails():
    program = rasp.parse("x = 10 / tokens;")
    assert program.run([1, 2]) == [10, 5]
    with pytest.raises(Eval):
        program.run([1, 0])


# ---- the command line --------------------------------------------------------------------------------


@pytest.fixture
def write(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_reverse(capsys):
    assert cli(capsys, "run", REVERSE, "hello") == (0, "olleh\n", "")


def test_cli_reverse_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "rasp_cli", "run", REVERSE, "hello"], capture_output=True, text=True, cwd=ROOT
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "olleh\n", "")


def test_cli_error_is_file_line_col_and_exit_1(capsys, write):
    path = write("bad.rasp", "x = tokens;\ny = tokns + 1;\n")
    code, out, err = cli(capsys, "run", path, "hello")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == f"{path}:2:5: name 'tokns' is not defined; did you mean 'tokens'?"
    assert "Traceback" not in err


def test_cli_syntax_error_subprocess_has_no_traceback(write):
    path = write("bad.rasp", "x = (tokens + 1;\n")
    result = subprocess.run([sys.executable, "-m", "rasp_cli", "run", path, "ab"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:1:16: unexpected ';'")
    assert "Traceback" not in result.stderr


def test_cli_runtime_error(capsys, write):
    path = write("div.rasp", "a = tokens;\nx = 6 / (tokens - 1);\n")
    code, out, err = cli(capsys, "run", path, "--tokens", "2 1")
    assert code == 1
    assert err.startswith(f"{path}:2:5: division by zero")


def test_cli_missing_file_and_bad_output(capsys):
    code, _, err = cli(capsys, "run", "no/such/file.rasp", "x")
    assert code == 1 and err.startswith("error: cannot read")
    code, _, err = cli(capsys, "run", REVERSE, "hello", "--output", "nope")
    assert code == 1 and "no s-op named 'nope'" in err


def test_cli_tokens(capsys):
    assert cli(capsys, "run", REVERSE, "--tokens", "3 1 2")[1] == "2 1 3\n"


def test_cli_json(capsys):
    code, out, _ = cli(capsys, "run", REVERSE, "--tokens", "1 x 22", "--json")
    assert code == 0
    assert json.loads(out) == {"tokens": [1, "x", 22], "output": "reverse", "values": [22, "x", 1]}


def test_cli_all(capsys):
    code, out, _ = cli(capsys, "run", REVERSE, "abc", "--all")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["tokens", "a", "b", "c"]
    assert lines[2].split() == ["opp_index", "2", "1", "0"]
    assert lines[3].split() == ["reverse", "c", "b", "a"]
    assert "flip" in out and "■" in out  # the selector, drawn
    code, out, _ = cli(capsys, "run", REVERSE, "abc", "--all", "--json")
    values = json.loads(out)["values"]
    assert values["reverse"] == ["c", "b", "a"]
    assert values["flip"] == [[False, False, True], [False, True, False], [True, False, False]]


def test_cli_output(capsys):
    assert cli(capsys, "run", REVERSE, "hello", "--output", "opp_index")[1] == "4 3 2 1 0\n"


def test_cli_bidirectional_and_causal(capsys, write):
    path = write("hist.rasp", "h = selector_width(select(tokens, tokens, ==));\n")
    assert cli(capsys, "run", path, "hello")[1] == "1 1 1 2 1\n"
    assert cli(capsys, "run", path, "hello", "--bidirectional")[1] == "1 1 2 2 1\n"
    assert cli(capsys, "run", REVERSE, "hello", "--causal")[1] != "olleh\n"


def test_cli_integer_rule(capsys, write):
    path = write("double.rasp", "x = tokens + tokens;\n")
    assert cli(capsys, "run", path, "123")[1] == "2 4 6\n"  # integer-looking characters become ints
    assert cli(capsys, "run", path, "--tokens", "10 -2 +3")[1] == "20 -4 6\n"
    assert cli(capsys, "run", path, "123", "--strings")[1] == "11 22 33\n"
    assert cli(capsys, "run", path, "--tokens", "10 -2", "--strings")[1] == "1010 -2-2\n"
    assert cli(capsys, "run", path, "ab")[1] == "aa bb\n"
    code, out, _ = cli(capsys, "run", path, "--tokens", "1 a", "--json")
    assert json.loads(out)["tokens"] == [1, "a"]


def test_cli_input_problems(capsys):
    code, _, err = cli(capsys, "run", REVERSE)
    assert code == 1 and "no input" in err
    code, _, err = cli(capsys, "run", REVERSE, "ab", "--tokens", "a b")
    assert code == 1 and "not both" in err


def test_cli_check(capsys, write):
    good = write("good.rasp", "x = tokens + 1;\n")
    bad = write("bad.rasp", "x = tokens +;\n")
    code, out, _ = cli(capsys, "check", good)
    assert code == 0 and "ok" in out
    code, _, err = cli(capsys, "check", bad)
    assert code == 1 and err.startswith(f"{bad}:1:13:")
