"""Benchmark the compiler on Tracr's library programs (written in the dialect, benchmarks/tracr_programs/).

    python benchmarks/compiler.py                      # max_len 10, 32, 128
    python benchmarks/compiler.py --max-len 32 --n 1000 --device cuda --programs sort hist

For each program and max_len: compile time, layers, heads (total / most per layer), residual width,
widest MLP, parameters (all / non-zero), forward throughput at batch 64 (sequences of length max_len),
and agreement with the interpreter on n random inputs of every length 1..max_len. Tracr is not installed
here, so DESIGN §5's measured Tracr figures (max_seq_len 32) are printed beside ours.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import compiler  # noqa: E402
import rasp  # noqa: E402

PROGRAMS = ROOT / "benchmarks" / "tracr_programs"
VOCABS = {
    "length": list("abcd"),
    "reverse": list("abcd"),
    "hist": list("abcd"),
    "sort_unique": [1, 2, 3, 4, 5, 6, 7, 8],
    "sort": [1, 2, 3, 4, 5],
    "sort_freq": list("abcd"),
    "frac_prevs": list("abx"),
    "pair_balance": list("()x"),
    "shuffle_dyck": list("()x"),
    "shuffle_dyck2": list("(){}x"),
    "shift_by": list("abc"),
    "detect_pattern": list("abc"),
    "count_less_freq": list("abcd"),
    "count": list("abc"),
}
ORDER = list(VOCABS)

# DESIGN.md §5: Tracr 1.0.0 on its own library programs, max_seq_len 32, default settings.
TRACR = {
    "compile": "2.4-27.5 s per program (about 2.5 s of JAX/Haiku set-up)",
    "agreement": {
        p: "17-53%" for p in ("length", "reverse", "sort_unique", "sort", "sort_freq", "shuffle_dyck", "shuffle_dyck2")
    }
    | {"hist": "70%"},
    "sort_freq": "residual width 1202, 38M parameters (0.02-5% non-zero)",
}


def measure(name: str, max_len: int, n: int, device: str, dtype) -> dict:
    import torch

    program = rasp.load(PROGRAMS / f"{name}.rasp")
    vocab = VOCABS[name]
    start = time.perf_counter()
    model = compiler.compile(program, vocab=vocab, max_len=max_len, device=device, dtype=dtype)
    compile_s = time.perf_counter() - start
    cfg = model.cfg
    ids = torch.randint(1, len(vocab) + 1, (64, max_len + 1), device=device)
    ids[:, 0] = 0
    with torch.no_grad():
        model(ids)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 0.5 or reps < 3:
            model(ids)
            reps += 1
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        throughput = 64 * reps / (time.perf_counter() - t0)
    agreement = compiler.verify(program, model, n=n, seed=1)
    return {
        "program": name,
        "max_len": max_len,
        "compile_s": compile_s,
        "layers": cfg.n_layers,
        "heads": sum(cfg.heads()),
        "max_heads": max(cfg.heads() + [0]),
        "d_model": cfg.d_model,
        "d_mlp": max(cfg.mlp_dims() + [0]),
        "params": model.num_parameters(),
        "nonzero": model.num_parameters(nonzero=True),
        "seq_per_s": throughput,
        "agreement": float(agreement),
        "checked": agreement.n,
        "outside": agreement.outside,
    }


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-len", type=int, nargs="+", default=[10, 32, 128])
    parser.add_argument("--n", type=int, default=1000, help="random inputs for the agreement check")
    parser.add_argument("--programs", nargs="+", default=ORDER)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--float32", action="store_true", help="run the models in float32 (default float64)")
    args = parser.parse_args(argv)
    dtype = torch.float32 if args.float32 else torch.float64
    print(
        f"device: {args.device} ({torch.cuda.get_device_name() if args.device.startswith('cuda') else 'cpu'}), "
        f"dtype {dtype}, agreement on {args.n} random inputs"
    )
    header = (
        f"{'program':16s} {'N':>4s} {'compile':>8s} {'layers':>6s} {'heads':>6s} {'width':>6s} {'mlp':>6s} "
        f"{'params':>10s} {'nonzero':>9s} {'seq/s@64':>9s} {'agree':>7s} {'tracr@32':>9s}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for max_len in args.max_len:
        for name in args.programs:
            try:
                r = measure(name, max_len, args.n, args.device, dtype)
            except rasp.RaspError as error:
                print(f"{name:16s} {max_len:4d} refused: {str(error).splitlines()[0]}")
                continue
            rows.append(r)
            tracr = TRACR["agreement"].get(name, "-")
            print(
                f"{name:16s} {max_len:4d} {r['compile_s']:7.2f}s {r['layers']:6d} "
                f"{r['heads']:3d}/{r['max_heads']:<2d} {r['d_model']:6d} {r['d_mlp']:6d} {r['params']:10d} "
                f"{r['nonzero']:9d} {r['seq_per_s']:9.0f} {100 * r['agreement']:6.1f}% {tracr:>9s}",
                flush=True,
            )
    print()
    print("Tracr 1.0.0 reference (DESIGN §5, max_seq_len 32):")
    print(f"  compile time: {TRACR['compile']}")
    print(f"  sort_freq: {TRACR['sort_freq']}")
    print(
        "  agreement with its own interpreter on 100 random inputs: "
        + ", ".join(f"{k} {v}" for k, v in TRACR["agreement"].items())
    )
    print("  refuses selector and/or/not and the `length` primitive")
    if rows:
        worst = max(r["compile_s"] for r in rows)
        print(
            f"ours: slowest compile {worst:.2f} s; agreement "
            f"{min(r['agreement'] for r in rows) * 100:.1f}% minimum over {len(rows)} runs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
