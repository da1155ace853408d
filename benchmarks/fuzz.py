"""Fuzz the error contract at length: mutants of the bundled programs and hostile inputs through the API, and
commands through the CLI (in-process, and a sample in real subprocesses). Prints how the cases ended and
every non-RaspError exception, CLI traceback and hang it met; exits 1 if there was any.

    python benchmarks/fuzz.py                                   # 5,000 mutants, 2,000 inputs, 1,000 CLI runs
    python benchmarks/fuzz.py --programs 200 --inputs 100 --cli 50 --subprocess 5 --seed 3

The cases come from tests/fuzzing.py (shared with tests/test_fuzz.py, which runs a few hundred in CI). Each
case runs under a time bound (--timeout) and the process under an address-space limit (--memory-gb), so a
blow-up shows as a MemoryError or a hang, not a stalled machine. Figures: docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fuzzing import Tally, cli_argv, exercise_program, input_cases, program_cases, run_case, run_cli  # noqa: E402


def run_subprocess(tally: Tally, argv: list[str], seconds: float) -> None:
    """`python -m rasp_cli ARGV` for real: a 'Traceback' on stderr is what a user would see."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rasp_cli", *argv], capture_output=True, text=True, timeout=seconds + 30, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        tally.record("hang", "subprocess " + " ".join(argv)[:60], repr(argv))
        return
    finally:
        tally.slowest = max(tally.slowest, time.perf_counter() - start)  # including Python's start-up
    if "Traceback" in done.stderr:
        tally.record("cli traceback", f"subprocess: {done.stderr.strip().splitlines()[-1][:80]}", repr(argv))
    elif done.returncode not in (0, 1, 2):
        tally.record("bad exit status", str(done.returncode), repr(argv))
    else:
        tally.record(f"subprocess exit {done.returncode}")


# long: argument parsing and the three fuzzing phases' summary, in order
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=5000, help="mutated programs through the API")
    parser.add_argument("--inputs", type=int, default=2000, help="hostile inputs through the API")
    parser.add_argument("--cli", type=int, default=1000, help="commands on mutants, in-process")
    parser.add_argument("--subprocess", type=int, default=50, help="commands on mutants in real subprocesses")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case before it counts as a hang")
    parser.add_argument("--memory-gb", type=float, default=6.0, help="address-space limit for this process")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--verbose", action="store_true", help="print failing cases in full")
    args = parser.parse_args()

    limit = int(args.memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    rng = random.Random(args.seed)
    sections: dict[str, Tally] = {}
    start = time.perf_counter()

    tally = sections["mutated programs (API)"] = Tally()
    cases = program_cases(rng)
    for k in range(args.programs):
        name, source = next(cases)
        run_case(tally, f"{name}: {source!r}", lambda s=source: exercise_program(s, rng), args.timeout)
        if (k + 1) % 500 == 0:
            print(f"  {k + 1} mutants, {tally.bad} bad so far, {time.perf_counter() - start:.0f} s", flush=True)

    tally = sections["hostile inputs (API)"] = Tally()
    inputs = input_cases(rng)
    for _ in range(args.inputs):
        label, action = next(inputs)
        run_case(tally, label, action, args.timeout)

    with tempfile.TemporaryDirectory() as folder:
        tally = sections["commands on mutants (CLI, in-process)"] = Tally()
        paths = []
        for k in range(args.cli + args.subprocess):
            _, source = next(cases)
            path = Path(folder) / f"mutant{k}.rasp"
            path.write_text(source, encoding="utf-8", errors="surrogatepass")
            paths.append(path)
        for k, path in enumerate(paths[: args.cli]):
            run_cli(tally, cli_argv(path, rng), args.timeout, path.read_text(encoding="utf-8", errors="replace"))
            if (k + 1) % 250 == 0:
                print(f"  {k + 1} commands, {tally.bad} bad so far, {time.perf_counter() - start:.0f} s", flush=True)
        tally = sections["commands on mutants (CLI, subprocess)"] = Tally()
        for path in paths[args.cli :]:
            run_subprocess(tally, cli_argv(path, rng), args.timeout)

    elapsed = time.perf_counter() - start
    total_bad = 0
    figures = {}
    print(f"\nfuzz: seed {args.seed}, {elapsed:.0f} s, time bound {args.timeout:g} s per case\n")
    for title, tally in sections.items():
        total = sum(tally.outcomes.values())
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(tally.outcomes.items()))
        print(f"{title}: {total} cases: {counts}; slowest {tally.slowest:.1f} s")
        for what, examples in tally.failures.items():
            print(f"  {len(examples)} × {what}\n      e.g. {examples[0][: 3000 if args.verbose else 300]}")
        total_bad += tally.bad
        figures[title] = {"cases": total, **tally.outcomes, "slowest_s": round(tally.slowest, 2)}
    non_rasp = sum(t.outcomes["other exception"] for t in sections.values())
    tracebacks = sum(t.outcomes["cli traceback"] for t in sections.values())
    hangs = sum(t.outcomes["hang"] for t in sections.values())
    print(f"\nnon-RaspError exceptions {non_rasp}, CLI tracebacks {tracebacks}, hangs {hangs}")
    if args.json:
        summary = {"non_rasp_errors": non_rasp, "cli_tracebacks": tracebacks, "hangs": hangs}
        Path(args.json).write_text(json.dumps({"seed": args.seed, "seconds": round(elapsed), **summary, **figures}))
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
