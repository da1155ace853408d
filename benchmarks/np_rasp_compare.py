"""The interpreter beside np_rasp, Zhou et al.'s RASP-L in NumPy (apple/ml-np-rasp; not on PyPI).

`benchmarks/interpreter.py --np-rasp DIR` imports np_rasp from a checkout the user has (DIR/src, and the
programs of DIR/examples); nothing of it is in this repository. Each program runs both ways on the same
random inputs: np_rasp one sequence at a time (its API takes one array), ours as one `Program.run_batch`.
The dialect versions are translations in benchmarks/np_rasp/*.rasp; both must give the same outputs.

np_rasp programs used (file: function):
    count        examples/count.py: count
    mode         src/np_rasp/lib.py: mode, with argmax's missing predicate supplied (see mode.rasp)
    copy         src/np_rasp/lib.py: induct(x, x, offset=1)
    add_reverse  examples/add.py: next_tok_addition(reverse=True)
    add_forward  examples/add.py: next_tok_addition(reverse=False)
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType

import numpy as np

HERE = Path(__file__).resolve().parent / "np_rasp"

# np_rasp's special tokens in its addition and count examples
START, PLUS, EQUALS, END_RESPONSE, END_COUNT = -1, -2, -3, -5, -2


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_np_rasp(directory: str) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """np_rasp's programs from a checkout of apple/ml-np-rasp, by the names of benchmarks/np_rasp/*.rasp."""
    root = Path(directory).expanduser().resolve()
    if not (root / "src" / "np_rasp" / "core.py").is_file():
        raise SystemExit(f"{root} is not a checkout of apple/ml-np-rasp (no src/np_rasp/core.py)")
    sys.path.insert(0, str(root / "src"))
    import np_rasp

    count = _module(root / "examples" / "count.py", "np_rasp_example_count")
    add = _module(root / "examples" / "add.py", "np_rasp_example_add")

    def mode(x: np.ndarray) -> np.ndarray:
        # lib.mode, with argmax's kqv given the `equals` predicate it lacks
        seen = np_rasp.sel_width(np_rasp.select(x, x, np_rasp.equals))
        top = np_rasp.maximum(seen)
        at = np_rasp.kqv(top, seen, np_rasp.indices(x), np_rasp.equals, reduction="max")
        return np_rasp.index_select(x, at)

    return {
        "count": count.count,
        "mode": mode,
        "copy": lambda x: np_rasp.induct(x, x, offset=1),
        "add_reverse": partial(add.next_tok_addition, reverse=True),
        "add_forward": partial(add.next_tok_addition, reverse=False),
    }


# ---- inputs (np_rasp's formats: integer tokens) ---------------------------------------------------------


def count_input(rng: random.Random, n: int) -> list[int]:
    """Counts `-1 a b a a+1 ... b -2`, one after another, cut to n tokens."""
    sequence: list[int] = []
    while len(sequence) < n:
        a = rng.randrange(30)
        b = a + rng.randrange(16)
        sequence += [START, a, b, *range(a, b + 1), END_COUNT]
    return sequence[:n]


def mode_input(rng: random.Random, n: int) -> list[int]:
    return [rng.randrange(8) for _ in range(n)]


def copy_input(rng: random.Random, n: int) -> list[int]:
    """Distinct numbers, -1, then the start of their copy."""
    prompt = rng.sample(range(1000), n // 2)
    return ([*prompt, START, *prompt])[:n]


def addition_input(rng: random.Random, n: int, reverse: bool) -> list[int]:
    """np_rasp's addition prompt (examples/test_add.py: format_prompt) and a correct hinted answer, to n tokens."""
    width = max(1, (n - 4) // 6)
    x, y = rng.randrange(10 ** (width - 1)), rng.randrange(10 ** (width - 1))

    def hinted(number: int) -> list[int]:
        digits = [int(d) for d in str(number).rjust(width, "0")]
        return [t for i, d in enumerate(digits) for t in (-100 - i, d)]

    answer = hinted(x + y)
    if reverse:  # least significant digit first, hints counting up to -100
        pairs = [answer[i : i + 2] for i in range(0, len(answer), 2)]
        answer = [t for pair in reversed(pairs) for t in pair]
    sequence = [START, *hinted(x), PLUS, *hinted(y), EQUALS, *answer, END_RESPONSE]
    sequence += [END_RESPONSE] * (n - len(sequence))
    return sequence[:n]


PROGRAMS: dict[str, Callable[[random.Random, int], list[int]]] = {
    "count": count_input,
    "mode": mode_input,
    "copy": copy_input,
    "add_reverse": partial(addition_input, reverse=True),
    "add_forward": partial(addition_input, reverse=False),
}


def compare(
    directory: str, lengths: list[int], batch_size: int, samples: int, bound: Callable, timer: Callable, seed: int = 0
) -> list[dict]:
    """Each program at each length: our time (`timer`: best of runs), np_rasp's (per `batch_size` sequences,
    scaled from the first `samples`), whether the outputs are equal, and our time over `bound`'s."""
    import rasp

    np_programs = load_np_rasp(directory)
    rows = []
    for n in lengths:
        for name, make_input in PROGRAMS.items():
            program = rasp.load(HERE / f"{name}.rasp")
            rng = random.Random(seed)
            batch = [make_input(rng, n) for _ in range(batch_size)]
            program.run_batch(batch[:2])
            best = timer(partial(program.run_batch, batch), 3)
            ours = program.run_batch(batch[:samples])
            fn = np_programs[name]
            start = time.perf_counter()
            theirs = [fn(np.array(tokens)).tolist() for tokens in batch[:samples]]
            np_s = (time.perf_counter() - start) * batch_size / samples
            bound_s = bound(program, batch_size, n)
            rows.append(
                {
                    "program": name,
                    "N": n,
                    "B": batch_size,
                    "ours_s": best,
                    "np_rasp_s": np_s,
                    "np_samples": samples,
                    "speedup": np_s / best,
                    "bound_s": bound_s,
                    "to_bound": best / bound_s,
                    "same": ours == theirs,
                }
            )
            r = rows[-1]
            print(
                f"  {name} N={n}: ours {best:.3f} s, np_rasp {np_s:.1f} s, {r['speedup']:.0f}×, same: {r['same']}",
                file=sys.stderr,
                flush=True,
            )
    return rows


def print_rows(rows: list[dict]) -> None:
    header = (
        f"{'program':<12} {'N':>4} {'B':>5} {'ours s':>8} {'np_rasp s':>10} {'speed-up':>9} "
        f"{'bound s':>8} {'÷ bound':>8}  same"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        sampled = "" if r["np_samples"] == r["B"] else f" (np_rasp on {r['np_samples']}, scaled)"
        print(
            f"{r['program']:<12} {r['N']:>4} {r['B']:>5} {r['ours_s']:>8.3f} {r['np_rasp_s']:>10.2f} "
            f"{r['speedup']:>8.0f}× {r['bound_s']:>8.4f} {r['to_bound']:>7.1f}×  "
            f"{'yes' if r['same'] else 'NO'}{sampled}"
        )
    for n in sorted({r["N"] for r in rows}):
        ratios = [r["speedup"] for r in rows if r["N"] == n]
        print(f"speed-up over np_rasp at N={n}: min {min(ratios):.0f}×, max {max(ratios):.0f}×")
