"""Benchmark the compiler on Tracr's library programs (written in the dialect, benchmarks/tracr_programs/).

    python benchmarks/compiler.py                      # max_len 10, 32, 128
    python benchmarks/compiler.py --max-len 32 --n 1000 --device cuda --programs sort hist

For each program and max_len: compile time, layers, heads (total / most per layer), residual width,
widest MLP, parameters (all / non-zero), forward throughput at batch 64 (sequences of length max_len),
and agreement with the interpreter on n random inputs of every length 1..max_len.

With Tracr at hand (`--tracr-python`, default $TRACR_PYTHON, else .venv-tracr/bin/python if it exists, which
`make bench-tracr` creates), the same programs and max_lens are then compiled by Tracr in a subprocess
(benchmarks/tracr_reference.py, whose docstring says how each figure is counted) and a comparison table
follows: ours / Tracr for compile time, layers, heads, residual width, widest MLP and parameters, Tracr / ours
as the compile speed-up, our agreement with our interpreter and Tracr's with its own `rasp.evaluate`, and a
last line saying on how many programs each of the compiler's bars (docs/compiler.md) holds. Without Tracr, the measured Tracr
figures (max_seq_len 32) are printed beside ours.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import compiler  # noqa: E402
import rasp  # noqa: E402

PROGRAMS = ROOT / "benchmarks" / "tracr_programs"
from tracr_vocabs import ORDER, VOCABS  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

# Tracr 1.0.0 on its own library programs, max_seq_len 32, default settings.
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


def default_tracr_python() -> str | None:
    if os.environ.get("TRACR_PYTHON"):
        return os.environ["TRACR_PYTHON"]
    venv = ROOT / ".venv-tracr" / "bin" / "python"
    return str(venv) if venv.exists() else None


def run_tracr(python: str, args) -> list[dict]:
    """benchmarks/tracr_reference.py under Tracr's python, one JSON row per (program, max_len), as they come."""
    if shutil.which(python) is None:
        sys.exit(f"--tracr-python {python}: no such Python (make bench-tracr creates .venv-tracr/bin/python)")
    command = [python, str(ROOT / "benchmarks" / "tracr_reference.py"), "--max-len", *map(str, args.max_len)]
    command += ["--n", str(args.n), "--timeout", str(args.tracr_timeout), "--programs", *args.programs]
    print(f"\nTracr: {' '.join(command)}", flush=True)
    rows = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT) as proc:
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            rows.append(row)
            extra = f" compile {row['compile_s']:.2f}s" if row["status"] == "ok" else ""
            print(f"  tracr {row['program']:16s} {row['max_len']:4d} {row['status'][:100]}{extra}", flush=True)
    if proc.returncode:
        print(f"  tracr_reference.py exited with status {proc.returncode}")
    return rows


BARS = {  # name: holds(ours, tracr)
    "compile >=10x": lambda o, t: t["compile_s"] >= 10 * o["compile_s"],
    "layers <=": lambda o, t: o["layers"] <= t["layers"],
    "heads <=": lambda o, t: o["heads"] <= t["heads"],
    "width <=": lambda o, t: o["d_model"] <= t["d_model"],
    "mlp <=": lambda o, t: o["d_mlp"] <= t["d_mlp"],
    "params <=": lambda o, t: o["params"] <= t["params"],
    "ours 100%": lambda o, t: o["agreement"] == 1.0,
}


def compare(rows: list[dict], tracr_rows: list[dict], n: int) -> None:
    """Ours beside Tracr for every (program, max_len), and how often each bar holds."""
    tracr = {(r["program"], r["max_len"]): r for r in tracr_rows}
    print()
    print(
        f"Ours vs Tracr (ours/tracr; compile: seconds and Tracr/ours speed-up; agreement on {n} random inputs, "
        "ours with our interpreter, Tracr's with its own rasp.evaluate)"
    )
    header = (
        f"{'program':16s} {'N':>4s} {'ours s':>7s} {'tracr s':>8s} {'speedup':>8s} {'layers':>7s} {'heads':>7s} "
        f"{'width':>11s} {'mlp':>11s} {'params':>21s} {'p ratio':>8s} {'ours':>7s} {'tracr':>7s}"
    )
    print(header)
    print("-" * len(header))
    notes: list[str] = []
    held: dict[int, dict[str, int]] = {}
    compared: dict[int, int] = {}
    for o in rows:
        name, max_len = o["program"], o["max_len"]
        t = tracr.get((name, max_len))
        head = f"{name:16s} {max_len:4d} {o['compile_s']:6.2f}s"
        if t is None or t["status"] != "ok":
            status = "not run" if t is None else t["status"]
            print(f"{head} tracr: {status[:120]}   (ours: agreement {100 * o['agreement']:.1f}%)")
            continue
        vocab = VOCABS[name]
        if t.get("vocab") != vocab:
            print(f"{head} tracr ran vocabulary {t.get('vocab')}, ours {vocab}: not compared")
            continue
        compared[max_len] = compared.get(max_len, 0) + 1
        counts = held.setdefault(max_len, dict.fromkeys(BARS, 0))
        for bar, holds in BARS.items():
            counts[bar] += bool(holds(o, t))
        agree_t = f"{100 * t['agreement']:.1f}%" if t.get("agreement") is not None else "-"
        if t.get("agreement") is None and t.get("agreement_status", "ok") != "ok":
            notes.append(f"{name} {max_len}: Tracr's agreement check {t['agreement_status']}")
        print(
            f"{head} {t['compile_s']:7.2f}s {t['compile_s'] / o['compile_s']:7.0f}x "
            f"{o['layers']:>3d}/{t['layers']:<3d} {o['heads']:>3d}/{t['heads']:<3d} "
            f"{o['d_model']:>5d}/{t['d_model']:<5d} {o['d_mlp']:>5d}/{t['d_mlp']:<5d} "
            f"{o['params']:>10d}/{t['params']:<10d} {o['params'] / t['params']:8.3f} "
            f"{100 * o['agreement']:6.1f}% {agree_t:>7s}",
            flush=True,
        )
    for note in notes:
        print(note)
    setup = [t["setup_s"] for t in tracr_rows if t.get("status") == "ok"]
    if setup:
        print(
            f"Tracr's compile times exclude its one-off JAX/Haiku set-up (import and a warm-up compile: "
            f"{min(setup):.1f}-{max(setup):.1f} s per process)."
        )
    for max_len, counts in held.items():
        total = compared[max_len]
        print(
            f"bars at max_len {max_len} ({total} programs compared): "
            + ", ".join(f"{b} {c}/{total}" for b, c in counts.items())
        )


# long: argument parsing and one table's printing, in order
def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-len", type=int, nargs="+", default=[10, 32, 128])
    parser.add_argument("--n", type=int, default=1000, help="random inputs for the agreement check")
    parser.add_argument("--programs", nargs="+", default=ORDER)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--float32", action="store_true", help="run the models in float32 (default float64)")
    parser.add_argument(
        "--tracr-python",
        default=default_tracr_python(),
        help="python of a virtual environment with Tracr (default $TRACR_PYTHON, else .venv-tracr/bin/python)",
    )
    parser.add_argument("--no-tracr", action="store_true", help="do not run Tracr even if it is available")
    parser.add_argument("--tracr-timeout", type=float, default=300.0, help="seconds per Tracr compile and check")
    parser.add_argument("--tracr-rows", help="read Tracr's rows from this JSON-lines file instead of running it")
    parser.add_argument("--save-tracr-rows", help="write Tracr's rows to this JSON-lines file")
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
    tracr_rows = None
    if args.tracr_rows:
        tracr_rows = [json.loads(line) for line in Path(args.tracr_rows).read_text().splitlines() if line.strip()]
    elif args.tracr_python and not args.no_tracr:
        tracr_rows = run_tracr(args.tracr_python, args)
    if tracr_rows is not None:
        if args.save_tracr_rows:
            Path(args.save_tracr_rows).write_text("".join(json.dumps(r) + "\n" for r in tracr_rows))
        compare(rows, tracr_rows, args.n)
        return 0
    print()
    print("Tracr 1.0.0 reference (measured, max_seq_len 32):")
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
