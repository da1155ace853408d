"""The error contract on hostile input (issue 19's reproducers): a RaspError with a location where there is
one, exit status 1 and one message on the CLI, a REPL that carries on, and limits refused up front."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import rasp
from rasp import limits
from rasp.repl import Repl
from rasp_cli import main

ROOT = Path(__file__).resolve().parent.parent
REVERSE = str(ROOT / "programs" / "reverse.rasp")


def _chain(i: int) -> str:
    return f"def f{i}(a) {{ return f{i - 1}(a) + 1; }}\n" if i else "def f0(a) { return a; }\n"


DEEP = {
    "a chain of 490 additions": "x = tokens" + " + 1" * 490 + ";",
    "490 levels of '-'": "x = " + "-" * 490 + "tokens;",
    "490 levels of 'not'": "x = " + "not " * 490 + "tokens;",
    "245 nested calls": "x = " + "abs(" * 245 + "tokens" + ")" * 245 + ";",
    "244 nested maps": "x = " + "map(lambda t: t + 1, " * 244 + "tokens" + ")" * 244 + ";",
    "a def call chain of 198": "".join(_chain(i) for i in range(198)) + "x = f197(tokens);",
    "nested lists": "x = " + "[" * 400 + "1" + "]" * 400 + ";",
    "a lambda body nested 300 deep": "x = map(lambda t: " + "(t + " * 300 + "1" + ")" * 300 + ", tokens);",
}


@pytest.mark.parametrize("source", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_is_refused_with_the_limit(source):
    with pytest.raises(rasp.RaspSyntaxError) as info:
        rasp.parse(source).run([1])
    assert info.value.line is not None
    assert f"more than {limits.MAX_NESTING} levels" in info.value.message
    assert "RASP_MAX_NESTING" in info.value.message


def test_nesting_within_the_limit_runs_and_the_limit_can_be_raised(monkeypatch):
    assert rasp.parse("x = tokens" + " + 1" * 150 + ";").run([1]) == [151]
    assert rasp.parse("".join(_chain(i) for i in range(60)) + "x = f59(tokens);").run([1]) == [60]
    monkeypatch.setattr(limits, "MAX_NESTING", 600)
    assert rasp.parse("x = tokens" + " + 1" * 490 + ";").run([1]) == [491]


def test_functions_that_each_call_the_next_twice_inline_in_linear_time():
    lines = ["def g0(a) { return a + 1; }"]
    lines += [f"def g{i}(a) {{ b = g{i - 1}(a); c = g{i - 1}(a); return b + c; }}" for i in range(1, 40)]
    start = time.perf_counter()
    program = rasp.parse("\n".join(lines) + "\nx = g39(tokens);")
    assert time.perf_counter() - start < 5
    assert program.run([0]) == [2**39]


def test_too_many_inlined_calls_are_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_INLINED_CALLS", 10)
    source = "def f(a) { return a + 1; }\n" + "".join(f"x{i} = f(tokens + {i});\n" for i in range(20))
    with pytest.raises(rasp.RaspError, match="MAX_INLINED_CALLS"):
        rasp.parse(source)


@pytest.mark.parametrize("escape", [r"\x4", r"\N{NOPE}", r"\u12", r"\q"])
def test_bad_string_escapes_are_syntax_errors(escape):
    with pytest.raises(rasp.RaspSyntaxError, match="bad escape") as info:
        rasp.parse(f"x = tokens;\ny = '{escape}';")
    assert (info.value.line, info.value.column) == (2, 5)


def test_a_lone_surrogate_is_a_syntax_error():
    with pytest.raises(rasp.RaspSyntaxError, match="lone surrogate"):
        rasp.parse(r"x = tokens + '\ud800';")


@pytest.mark.parametrize("digits", [400, 4301, 10_000])
def test_integer_literals_past_float_range_are_refused(digits):
    with pytest.raises(rasp.RaspSyntaxError, match="out of range") as info:
        rasp.parse("x = tokens * 1.5 + " + "9" * digits + ";")
    assert info.value.column == 20


def test_a_float_literal_past_the_range_is_infinity():
    assert rasp.parse("x = tokens + 1e999;").run([1]) == [float("inf")]


def test_a_huge_token_is_an_input_error():
    with pytest.raises(rasp.RaspInputError, match="out of range"):
        rasp.parse("x = tokens * 1.5;").run([10**400])


def test_string_repetition_past_the_limit_is_refused_before_it_is_built():
    start = time.perf_counter()
    with pytest.raises(rasp.RaspTypeError, match="MAX_STRING") as info:
        rasp.parse("x = 'ab' * 9999999999;")
    assert time.perf_counter() - start < 1
    assert info.value.column == 5
    assert rasp.parse("x = 'ab' * 3;").run([1]) == ["ababab"]


def test_huge_sources_are_refused_before_parsing():
    source = "d = {" + ",".join(f"{i}: {i}" for i in range(50_000)) + "}; x = map(lambda t: d[t], tokens);"
    start = time.perf_counter()
    with pytest.raises(rasp.RaspInputError, match="MAX_SOURCE_CHARS"):
        rasp.parse(source)
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize(
    "source", ["def f(a, a) { return a; } x = f(tokens, tokens);", "x = map(lambda a, a: a, tokens);"]
)
def test_repeated_parameters_are_refused(source):
    with pytest.raises(rasp.RaspSyntaxError, match="'a' is named twice"):
        rasp.parse(source)


@pytest.mark.parametrize("separator", ["\u2028", "\x0c", "\x85", "\u2029"])
def test_line_separators_in_comments_do_not_shift_the_excerpt(separator):
    with pytest.raises(rasp.RaspSyntaxError) as info:
        rasp.parse(f"# a{separator}b\nx = tokens +;")
    assert (info.value.line, info.value.column) == (2, 13)
    assert info.value.excerpt().splitlines()[0].strip() == "x = tokens +;"


def test_devices_and_directories_are_not_read_as_programs(tmp_path):
    for path in ("/dev/zero", tmp_path):
        with pytest.raises(rasp.RaspInputError, match="not a file"):
            rasp.load(path)


def test_non_utf8_files_are_input_errors_with_a_position(tmp_path, capsys):
    path = tmp_path / "bad.rasp"
    path.write_bytes(b"x = tokens;\n# caf\xe9\n")
    with pytest.raises(rasp.RaspInputError, match=r"bad.rasp:2:6: the file is not UTF-8"):
        rasp.load(path)
    (tmp_path / "main.rasp").write_text('load "bad.rasp";\ny = tokens;\n')
    with pytest.raises(rasp.RaspInputError, match="not UTF-8"):
        rasp.load(tmp_path / "main.rasp")
    for command in (["run", str(path), "abc"], ["check", str(path)], ["measure", str(path)], ["predict", str(path)]):
        assert main(command) == 1
        assert "not UTF-8" in capsys.readouterr().err


ID = "s = select(tokens, tokens, ==); x = tokens;"


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.run(5),
        lambda p: p.run([[1]]),
        lambda p: p.run([{1: 2}]),
        lambda p: p.run([None]),
        lambda p: p.run_batch(5),
        lambda p: p.run_batch("abc"),
        lambda p: p.run_batch([1, 2]),
        lambda p: p.run([1], output=[1]),
        lambda p: p.run([1], output="nope"),
        lambda p: p.run([1], causal="yes"),
        lambda p: p.run([1], output=np.zeros((2, 2))),
        lambda p: p.run([1], causal=np.array([True, False])),
        lambda p: p.generate([1], output="s"),
        lambda p: p.generate([1], max_new="3"),
        lambda p: p.generate([1], max_new=-1),
        lambda p: p.generate([1], stop=[1]),
        lambda p: p.generate(7),
        lambda p: p.run_all(3.5),
    ],
)
def test_wrong_arguments_to_the_api_are_rasp_errors(call):
    with pytest.raises(rasp.RaspError):
        call(rasp.parse(ID))


@pytest.mark.parametrize("call", [lambda: rasp.parse(5), lambda: rasp.parse(b"x = tokens;"), lambda: rasp.load(5)])
def test_wrong_arguments_to_parse_and_load_are_rasp_errors(call):
    with pytest.raises(rasp.RaspInputError):
        call()


def test_numpy_tokens_and_strings_as_inputs_still_work():
    program = rasp.parse(ID)
    assert program.run(np.array([3, 1])) == [3, 1]
    assert program.run("ab") == ["a", "b"]
    assert program.generate([np.int64(2)], max_new=2) == [2, 2]


def test_long_inputs_on_selector_heavy_programs_are_refused_up_front(monkeypatch):
    program = rasp.load(ROOT / "programs" / "sort.rasp")
    monkeypatch.setattr(limits, "MAX_SELECTOR_ELEMENTS", 1_000_000)
    start = time.perf_counter()
    with pytest.raises(rasp.RaspInputError, match="MAX_SELECTOR_ELEMENTS") as info:
        program.run(list(range(10_000)))
    assert time.perf_counter() - start < 1
    assert "length 10000" in info.value.message
    assert program.run([3, 1, 2, ">"])[-1] == 1


def test_generation_that_would_run_for_hours_is_refused_up_front():
    program = rasp.load(ROOT / "programs" / "sort.rasp")
    start = time.perf_counter()
    with pytest.raises(rasp.RaspInputError, match="lower max_new"):
        program.generate([1, 2], max_new=10**9)
    assert time.perf_counter() - start < 1
    assert program.generate([3, 1, 2, ">"], max_new=64, stop=".") == [1, 2, 3, "."]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["run", REVERSE, "abc", "--generate", "--stop", ""], "--stop takes one token"),
        (["run", REVERSE, "abc", "--generate", "--stop", "a b"], "--stop takes one token"),
        (["run", str(ROOT / "programs" / "hist.rasp"), "abc", "--generate", "--output", "same_tok"], "selector"),
        (["run", REVERSE, "abc", "--generate", "--max-new", "-3"], "max_new"),
        (["run", REVERSE, "--tokens", "1" * 400], "out of range"),
    ],
)
def test_cli_generation_and_input_errors_exit_1_with_one_message(argv, words, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err


def test_cli_deep_nesting_exits_1(tmp_path, capsys):
    path = tmp_path / "deep.rasp"
    path.write_text("x = tokens" + " + 1" * 490 + ";\n")
    assert main(["run", str(path), "abc"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:1:5: expressions are nested")


def test_the_repl_survives_hostile_entries():
    lines: list[str] = []
    repl = Repl(example="ab", out=lines.append)
    for entry in [
        r"x = '\x4';",
        r"y = '\N{NOPE}';",
        "z = " + "9" * 5000 + ";",
        "w = 'ab' * 9999999999;",
        "v = tokens" + " + 1" * 490 + ";",
        "def f(a, a) { return a; }",
        ":tokens " + "1" * 400,
    ]:
        repl.feed(entry)
    repl.feed(":example ab")
    repl.feed("ok = tokens;")
    assert any("bad escape" in line for line in lines)
    assert any("out of range" in line for line in lines)
    assert any("MAX_STRING" in line for line in lines)
    assert any("named twice" in line for line in lines)
    assert "ok" in lines[-1] and "a" in lines[-1]


def test_a_string_repeated_at_run_time_past_the_limit_is_refused_before_it_is_built():
    import rasp

    program = rasp.parse("x = map(lambda t: 'a' * t, tokens);")
    assert program.run([3, 2]) == ["aaa", "aa"]
    with pytest.raises(rasp.RaspError, match="past the limit"):
        program.run([3, 10**10])


def test_predict_on_a_shift_by_a_huge_constant_answers_at_once():
    # the local-relation check enumerated every offset up to the shift (docs/reliability.md: a predict hang)
    import time

    import rasp

    program = rasp.parse('load "std";\nx = shift_fill(100000000000000000000, tokens, ">");')
    started = time.perf_counter()
    verdict = rasp.predict(program)
    assert time.perf_counter() - started < 20 and not verdict.crasp_pos.ok
    assert any("past the 100,000" in reason for reason in verdict.crasp_pos.reasons)


def test_rasp_check_reports_every_file_not_only_the_first_that_fails(tmp_path, capsys):
    from rasp_cli import main

    bad = tmp_path / "bad.rasp"
    bad.write_text("x = ;\n")
    assert main(["check", str(bad), "programs/reverse.rasp", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "reverse.rasp: ok" in captured.out and captured.err.count("bad.rasp:1:5") == 2


@pytest.mark.parametrize("argv", [["compile", "programs/reverse.rasp", "--vocab", "a b", "--max-len", "4"],
                                  ["experiment", "parity", "--steps", "1"]])  # fmt: skip
def test_a_missing_extra_is_one_line_naming_what_to_install(argv, monkeypatch, capsys, tmp_path):
    import sys

    from rasp_cli import main

    for name in [m for m in sys.modules if m == "torch" or m.startswith(("torch.", "experiments.", "compiler."))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    assert main([*argv, *(["--out", str(tmp_path)] if argv[0] == "experiment" else [])]) == 1
    assert capsys.readouterr().err.strip() == "error: this command needs torch: pip install 'rasp-toolkit[torch]'"


def test_bundled_programs_are_found_by_name_from_anywhere(tmp_path, monkeypatch, capsys):
    import rasp
    from rasp_cli import main

    monkeypatch.chdir(tmp_path)  # outside the checkout, as after `pip install`
    assert main(["run", "reverse", "hello"]) == 0 and capsys.readouterr().out.strip() == "olleh"
    assert rasp.load("reverse.rasp").run(list("abc")) == ["c", "b", "a"]
    (tmp_path / "reverse.rasp").write_text("x = tokens;")  # a file of the user's own wins over the bundled one
    assert rasp.load("reverse.rasp").run(list("abc")) == ["a", "b", "c"]
    assert main(["run", "nosuch", "hello"]) == 1
