"""Interpreter throughput: the vectorized evaluator against the plain per-position reference.

    python benchmarks/interpreter.py            # B = 1000, N = 64 and 256 (about 2 minutes on 2 cores)
    python benchmarks/interpreter.py --quick    # a smoke run (B = 100, N = 16 and 64)
    python benchmarks/interpreter.py --profile  # also where the evaluator spends its time (cProfile)
    python benchmarks/interpreter.py --np-rasp DIR   # beside np_rasp from a checkout of apple/ml-np-rasp

For each program and length N it times `Program.run_batch` on B random well-formed inputs of length N
(best of a few runs) and the reference evaluator of tests/reference.py (Python loops over positions
and key positions) on a few of the same inputs, one sequence at a time, scaled per sequence. It checks
that both give the same values on those inputs. sequences/s and tokens/s (= sequences/s × N) are
reported for both, and the speed-up of the evaluator over the reference.

The lower bound is what a program's selectors cost at the least: one B × N × N comparison per select and
one B × N × N matmul per aggregate and selector_width, in numpy, on the same chunks of the batch as
`Program.run_batch`, with nothing else (no maps, no casts, no masks). `÷ bound` is the evaluator's time
over it. `--np-rasp DIR` runs np_rasp's programs beside their translations (benchmarks/np_rasp_compare.py).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402
from reference import reference_run, same_value  # noqa: E402

import rasp  # noqa: E402
from rasp.program import _CHUNK_ELEMENTS  # noqa: E402

# ---- the programs (from programs/ when there; these inline versions otherwise) ----------------------

INLINE = {
    "hist": """
@mode bidirectional;
same_tok = select(tokens, tokens, ==);
hist = selector_width(same_tok);
""",
    "sort": """
# causal next-token sort of distinct numbers: after `x1 ... xn >`, the smallest number above the last one
in_prompt = selector_width(select(tokens, tokens, lambda k, q: k == ">")) == 0;
is_num = tokens != ">" and tokens != ".";
num = tokens if is_num else 0;
above = select(num, num, >) or select(tokens, tokens, lambda k, q: q == ">");
candidates = above and select(in_prompt, True, ==) and select(is_num, True, ==);
sort = aggregate(candidates, num, default=".", reduce="min");
""",
    "addition_hints_reversed": """
# addition with index hints, least significant digit first: `A 5 B 3 + A 7 B 2 =` then `A 2 B 6 .`
is_digit = map(lambda t: t == 0 or t == 1 or t == 2 or t == 3 or t == 4
                         or t == 5 or t == 6 or t == 7 or t == 8 or t == 9, tokens);
digit = tokens if is_digit else 0;
is_hint = not is_digit and tokens != "+" and tokens != "=" and tokens != ".";
in_a = selector_width(select(tokens, tokens, lambda k, q: k == "+")) == 0;
seen_eq = selector_width(select(tokens, tokens, lambda k, q: k == "=")) > 0;
in_b = not in_a and not seen_eq;
prev_tok = aggregate(select(indices, indices - 1, ==), tokens, default="");
hint = tokens if is_hint else prev_tok;
a = aggregate(select(prev_tok, hint, ==) and select(in_a, True, ==) and select(is_digit, True, ==), digit);
b = aggregate(select(prev_tok, hint, ==) and select(in_b, True, ==) and select(is_digit, True, ==), digit);
pair = a + b;
carry_out = seen_eq and is_digit and digit < pair;
carry_in = aggregate(select(indices, indices - 1, ==), carry_out, default=False);
sum_digit = (pair + indicator(carry_in)) % 10;
addition_hints_reversed = sum_digit if is_hint else ".";
""",
    "dyck1": """
@mode bidirectional;
up_to_self = select(indices, indices, <=);
prefix_len = indices + 1;
n_opens = round(prefix_len * numerical(aggregate(up_to_self, indicator(tokens == "("), default=0)));
n_closes = round(prefix_len * numerical(aggregate(up_to_self, indicator(tokens == ")"), default=0)));
balance = n_opens - n_closes;
prev_imbalances = numerical(aggregate(up_to_self, indicator(balance < 0), default=0));
dyck1 = "F" if prev_imbalances > 0 else ("T" if balance == 0 else "P");
""",
}


def load_program(name: str) -> tuple[rasp.Program, str]:
    path = ROOT / "programs" / f"{name}.rasp"
    if path.is_file():
        try:
            return rasp.load(path), str(path.relative_to(ROOT))
        except rasp.RaspError as error:
            print(f"warning: {path} does not load ({error}); using the inline version", file=sys.stderr)
    return rasp.parse(INLINE[name], f"<inline {name}>"), "inline"


# ---- inputs -------------------------------------------------------------------------------------


def hist_input(rng: random.Random, n: int) -> list:
    return [rng.choice("abcdefgh") for _ in range(n)]


def sort_input(rng: random.Random, n: int) -> list:
    """A prompt of distinct numbers, `>`, and the sorted numbers emitted so far (cut to n tokens)."""
    count = max(1, (n - 2) // 2)
    numbers = rng.sample(range(10 * n + 10), count)
    sequence = [*numbers, ">", *sorted(numbers), "."]
    while len(sequence) < n:
        sequence.append(".")
    return sequence[:n]


def addition_input(rng: random.Random, n: int) -> list:
    """`A a1 B a2 ... + A b1 B b2 ... =` and the answer, least significant digit first, cut or padded to n."""
    digits = max(1, min(25, (n - 3) // 6))
    hints = string.ascii_uppercase[:digits]
    a = [rng.randrange(10) for _ in range(digits)]
    b = [rng.randrange(10) for _ in range(digits)]
    total = sum(d * 10**i for i, d in enumerate(a)) + sum(d * 10**i for i, d in enumerate(b))
    answer = [int(c) for c in reversed(str(total))]
    sequence: list = []
    for operand, end in ((a, "+"), (b, "=")):
        for hint, d in zip(hints, operand):
            sequence += [hint, d]
        sequence.append(end)
    for i, d in enumerate(answer):
        sequence += [string.ascii_uppercase[i], d]
    sequence.append(".")
    while len(sequence) < n:
        sequence.append(".")
    return sequence[:n]


def dyck_input(rng: random.Random, n: int) -> list:
    depth, sequence = 0, []
    for _ in range(n):
        opening = depth == 0 or rng.random() < 0.5
        sequence.append("(" if opening else ")")
        depth += 1 if opening else -1
    if rng.random() < 0.5 and n:  # half of them go wrong somewhere
        sequence[rng.randrange(n)] = ")"
    return sequence


PROGRAMS = [
    ("hist", hist_input),
    ("sort", sort_input),
    ("addition_hints_reversed", addition_input),
    ("dyck1", dyck_input),
]

# ---- timing -------------------------------------------------------------------------------------


def best_time(function, repeats: int, budget_s: float = 4.0) -> float:
    """The best of up to `repeats` runs; no more runs once `budget_s` seconds have been spent."""
    best, spent = float("inf"), 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if spent > budget_s:
            break
    return best


def lower_bound(program: rasp.Program, batch_size: int, n: int, repeats: int = 3) -> float:
    """Seconds for the program's B × N × N operations alone: a comparison per select, a matmul per aggregate."""
    ops = program.graph.schedule([program.output_id(None)])
    selects = sum(op.kind == "select" for op in ops)
    reductions = sum(op.kind in ("aggregate", "selector_width") for op in ops)
    rng = np.random.default_rng(0)
    chunk = min(batch_size, max(1, _CHUNK_ELEMENTS // (n * n)))
    keys, queries = rng.integers(0, n, (chunk, 1, n)), rng.integers(0, n, (chunk, n, 1))
    weights, values = rng.random((chunk, n, n)), rng.random((chunk, n, 1))
    selected = np.empty((chunk, n, n), dtype=bool)

    def run() -> None:
        for _chunk in range(0, batch_size, chunk):
            for _ in range(selects):
                np.equal(keys, queries, out=selected)
            for _ in range(reductions):
                np.matmul(weights, values)

    return best_time(run, repeats)


def bench(name, make_input, n, batch_size, reference_samples, repeats, seed=0) -> dict:
    program, origin = load_program(name)
    rng = random.Random(seed)
    batch = [make_input(rng, n) for _ in range(batch_size)]
    program.run_batch(batch[:2])  # warm caches (schedule, lark) before timing
    evaluator_s = best_time(lambda: program.run_batch(batch), repeats)
    results = program.run_batch(batch[:reference_samples])
    start = time.perf_counter()
    expected = [reference_run(program, tokens) for tokens in batch[:reference_samples]]
    reference_s = (time.perf_counter() - start) / reference_samples
    agree = all(same_value(r, e) for r, e in zip(results, expected))
    bound_s = lower_bound(program, batch_size, n)
    return {
        "program": name,
        "origin": origin,
        "N": n,
        "B": batch_size,
        "ops": len(program.graph.schedule([program.output_id(None)])),
        "evaluator_s": evaluator_s,
        "seq_per_s": batch_size / evaluator_s,
        "ref_s_per_seq": reference_s,
        "ref_seq_per_s": 1 / reference_s,
        "speedup": reference_s * batch_size / evaluator_s,
        "agree": agree,
        "bound_s": bound_s,
        "to_bound": evaluator_s / bound_s,
    }


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'program':<24} {'N':>4} {'B':>5} {'ops':>4} {'eval s':>8} {'seq/s':>9} {'tok/s':>10} "
        f"{'ref seq/s':>10} {'ref tok/s':>10} {'speed-up':>9} {'bound s':>8} {'÷ bound':>8}  same"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['program']:<24} {r['N']:>4} {r['B']:>5} {r['ops']:>4} {r['evaluator_s']:>8.3f} "
            f"{r['seq_per_s']:>9.0f} {r['seq_per_s'] * r['N']:>10.0f} {r['ref_seq_per_s']:>10.2f} "
            f"{r['ref_seq_per_s'] * r['N']:>10.0f} {r['speedup']:>8.0f}× {r['bound_s']:>8.4f} {r['to_bound']:>7.1f}×  "
            f"{'yes' if r['agree'] else 'NO'}"
        )


def profile(name, make_input, n, batch_size, top: int = 15) -> None:
    program, _ = load_program(name)
    rng = random.Random(0)
    batch = [make_input(rng, n) for _ in range(batch_size)]
    program.run_batch(batch[:2])
    profiler = cProfile.Profile()
    profiler.enable()
    program.run_batch(batch)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(f"\n--- profile: {name}, B={batch_size}, N={n} (by own time) ---")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:4000])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (B=100, N=16 and 64)")
    parser.add_argument("--batch", type=int, default=None, help="sequences per batch (default 1000)")
    parser.add_argument("--lengths", type=int, nargs="+", default=None, help="sequence lengths (default 64 256)")
    parser.add_argument("--reference-samples", type=int, default=None, help="sequences the reference runs")
    parser.add_argument("--programs", nargs="+", default=None, choices=[p for p, _ in PROGRAMS])
    parser.add_argument("--profile", action="store_true", help="cProfile the evaluator on each program")
    parser.add_argument("--np-rasp", metavar="DIR", help="also run np_rasp's programs from this checkout")
    parser.add_argument(
        "--np-rasp-samples", type=int, default=None, help="sequences np_rasp runs (default all; time scaled)"
    )
    args = parser.parse_args(argv)
    batch_size = args.batch or (100 if args.quick else 1000)
    lengths = args.lengths or ([16, 64] if args.quick else [64, 256])
    repeats = 1 if args.quick else 3
    chosen = [(p, f) for p, f in PROGRAMS if args.programs is None or p in args.programs]

    rows = []
    for n in lengths:
        # The reference is O(N²) Python calls per select: fewer samples at long lengths keep the run short.
        samples = args.reference_samples or (5 if args.quick else (20 if n <= 64 else 3))
        for name, make_input in chosen:
            rows.append(bench(name, make_input, n, batch_size, min(samples, batch_size), repeats))
            print(f"  {name} N={n}: {rows[-1]['evaluator_s']:.3f} s", file=sys.stderr, flush=True)
    print()
    print_table(rows)
    origins = sorted({(r["program"], r["origin"]) for r in rows})
    print("\nsources: " + ", ".join(f"{p} ({o})" for p, o in origins))
    for n in lengths:
        ratios = [r["speedup"] for r in rows if r["N"] == n]
        print(f"speed-up at N={n}: min {min(ratios):.0f}×, max {max(ratios):.0f}×")
    same = all(r["agree"] for r in rows)
    if args.np_rasp:
        import np_rasp_compare

        print("\nbeside np_rasp (its programs, one sequence at a time; ours, the translations in benchmarks/np_rasp/):")
        side = np_rasp_compare.compare(
            args.np_rasp,
            lengths,
            batch_size,
            min(args.np_rasp_samples or batch_size, batch_size),
            lower_bound,
            best_time,
        )
        np_rasp_compare.print_rows(side)
        same = same and all(r["same"] for r in side)
    if args.profile:
        for name, make_input in chosen:
            profile(name, make_input, lengths[0], batch_size)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
