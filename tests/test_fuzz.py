"""The fuzzer of tests/fuzzing.py, a bounded number of seeded cases: mutants of the bundled programs and hostile
inputs through the API and the CLI end in a value or a RaspError, within a time bound. benchmarks/fuzz.py runs
thousands (figures in docs/reliability.md)."""

from __future__ import annotations

import random
import subprocess
import sys

try:  # tests/ as a package or as a directory on sys.path (pytest's default rootdir import mode)
    from .fuzzing import ROOT, Tally, cli_argv, exercise_program, input_cases, program_cases, run_case, run_cli
except ImportError:
    from fuzzing import ROOT, Tally, cli_argv, exercise_program, input_cases, program_cases, run_case, run_cli

BOUND = 20  # seconds per case: far above any case's time on an idle machine (under 1 s)


def _report(tally: Tally) -> str:
    return "\n".join(f"{what}: {examples[:2]}" for what, examples in tally.failures.items())


def test_program_mutants_end_in_a_value_or_a_rasp_error():
    rng, tally = random.Random(19), Tally()
    cases = program_cases(rng)
    for _ in range(80):
        name, source = next(cases)
        run_case(tally, f"{name}: {source!r}", lambda s=source: exercise_program(s, rng), BOUND)
    assert tally.bad == 0, _report(tally)
    assert tally.outcomes["rasp error"] > 10 and tally.outcomes["ok"] > 5  # the mutants reach both ends


def test_hostile_inputs_end_in_a_value_or_a_rasp_error():
    rng, tally = random.Random(19), Tally()
    cases = input_cases(rng)
    for _ in range(150):
        label, action = next(cases)
        run_case(tally, label, action, BOUND)
    assert tally.bad == 0, _report(tally)
    assert tally.outcomes["rasp error"] > 30


def test_the_cli_on_mutants_exits_0_1_or_2_without_a_traceback(tmp_path):
    rng, tally = random.Random(19), Tally()
    cases = program_cases(rng)
    for k in range(30):
        name, source = next(cases)
        path = tmp_path / f"m{k}.rasp"
        path.write_text(source, encoding="utf-8", errors="surrogatepass")
        run_cli(tally, cli_argv(path, rng), BOUND)
    assert tally.bad == 0, _report(tally)
    assert tally.outcomes["cli exit 1"] > 5


def test_the_cli_in_a_subprocess_prints_no_traceback(tmp_path):
    path = tmp_path / "bad.rasp"
    path.write_bytes(b"x = '\\x4';\n# \xff\n")
    for argv in (
        ["run", str(path), "abc"],
        ["run", str(ROOT / "programs" / "reverse.rasp"), "ab", "--generate", "--stop", ""],
    ):
        done = subprocess.run([sys.executable, "-m", "rasp_cli", *argv], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
