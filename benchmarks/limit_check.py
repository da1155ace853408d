"""The limit construction against the interpreter at lengths 16, 64, 256 and 1,024, and at its stated bound.

    python benchmarks/limit_check.py [--inputs 1000] [--long-inputs 1000] [--programs binary_majority dyck_2 ...]

One model per program (its size printed once: it does not depend on the length); at each length, random inputs
over the program's tokens plus inputs built to sit near its decisions (tests/test_compiler_limit.py). At the bound
(4,095 tokens) too the reference is the interpreter, its selector limit raised for the run; the witness evaluator
(rasp/analysis/crasp_eval.py, which the analysis checked against the program) only where it still refuses.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch

sys.path[0] = str(
    Path(__file__).resolve().parent.parent / "tests"
)  # not benchmarks/: its compiler.py would shadow the package

from test_compiler_limit import BUILT, _inputs  # noqa: E402

import rasp  # noqa: E402
from compiler import compile_limit  # noqa: E402
from compiler.limit import build_limit  # noqa: E402
from rasp import limits  # noqa: E402
from rasp.analysis.crasp_eval import evaluate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000, help="inputs per length up to 256 (default 1000)")
    parser.add_argument("--long-inputs", type=int, default=1000, help="inputs at 1,024 (default 1000)")
    parser.add_argument("--programs", nargs="+", default=sorted(BUILT), choices=sorted(BUILT))
    args = parser.parse_args()
    print(
        f"{'program':<16} {'params':>10} {'layers':>6}  {'16':>9} {'64':>9} {'256':>9} {'1024':>9}  bound f64/f32  seconds"
    )
    for name in args.programs:
        start = time.perf_counter()
        program, vocab = rasp.load(name), BUILT[name]
        limit = compile_limit(program, vocab)
        rng = random.Random(0)
        cells = []
        for length in (16, 64, 256, 1024):
            n = args.inputs if length <= 256 else args.long_inputs
            pool = _inputs(vocab, length, rng, n=n)  # n random strings, then strings near the decisions
            inputs = pool[n:] + pool[: n - len(pool[n:])]  # all of the latter, random ones up to n
            expected = _reference(program, limit, inputs)
            got = _run_in_chunks(limit.model, inputs)
            agree = sum(g == e for g, e in zip(got, expected))
            cells.append(f"{agree}/{len(inputs)}")
        at_bound = _inputs(vocab, limit.bound, rng, n=2)[:2]
        expected = _reference(program, limit, at_bound)
        bound = []
        for dtype in (torch.float64, torch.float32):
            model = build_limit(limit.witness, vocab, dtype=dtype)
            bound.append(f"{sum(g == e for g, e in zip(_run_in_chunks(model.model, at_bound), expected))}/2")
        print(
            f"{name:<16} {limit.parameters:>10,} {limit.model.cfg.n_layers:>6}  "
            + " ".join(f"{c:>9}" for c in cells)
            + f"  {' '.join(bound):>13}  {time.perf_counter() - start:7.1f}"
        )
    return 0


def _reference(program, limit, inputs: list[list]) -> list[list]:
    """The interpreter's values (in batches of 50: 1,000 inputs of 1,024 tokens at once exhaust 24 GiB), its
    selector limit raised for these long inputs; the witness evaluator (per position pair, in Python: minutes at
    4,095 tokens) only where the interpreter still refuses."""
    saved = limits.MAX_SELECTOR_ELEMENTS
    limits.MAX_SELECTOR_ELEMENTS = 10**9
    try:
        return [row for k in range(0, len(inputs), 50) for row in program.run_batch(inputs[k : k + 50])]
    except rasp.RaspError:
        return [evaluate(limit.witness, t) for t in inputs]
    finally:
        limits.MAX_SELECTOR_ELEMENTS = saved


def _run_in_chunks(model, inputs: list[list], budget: float = 1e9) -> list[list]:
    """The model on the inputs, as many at a time as keep one layer's attention scores (batch × heads × length²,
    float64, a few copies) within `budget` bytes: copy_unique's widest layer at 1,024 tokens takes ~8 GB for 50."""
    heads = max(model.cfg.heads() + [1])
    length = max(len(x) for x in inputs) + 1
    size = max(1, int(budget // (4 * 8 * heads * length * length)))
    return model.run_batch(inputs, batch_size=size)


if __name__ == "__main__":
    sys.exit(main())
