"""Compile Tracr's own library programs with Tracr and measure them, for benchmarks/compiler.py.

Run with the Tracr virtual environment's python (`make bench-tracr` creates `.venv-tracr`); this script
imports only Tracr, JAX and the standard library, never the toolkit:

    .venv-tracr/bin/python benchmarks/tracr_reference.py --max-len 10 32 --n 200 --programs sort hist

Prints one JSON object per line and per (program, max_len), in the order asked:

    {"program", "max_len", "status": "ok" | "timeout" | "error: ...", "vocab", "compile_s", "setup_s",
     "layers", "heads", "max_heads", "head_slots", "d_model", "d_mlp", "params", "nonzero",
     "agreement", "agreement_status", "checked", "positions_checked", "positions_skipped", "eval_failed",
     "mismatches"}

"status" is about the compile ("timeout": it did not finish within --timeout); a model that compiled but whose
agreement check did not finish in the time left has "agreement": null and "agreement_status" saying why.

Each (program, max_len) runs in its own worker process (this script with `--worker`), so that a timeout or
an out-of-memory kill costs only that row. Conventions (chosen to match benchmarks/compiler.py):

- programs: built with `tracr.compiler.lib` with the parameters of benchmarks/tracr_programs/*.rasp (sort and
  sort_freq with max_seq_len=128 in their tie-breaking keys, as there), compiled with
  `compiling.compile_rasp_to_model(program, vocab, max_seq_len=max_len)` and Tracr's defaults otherwise
  (non-causal, compiler_bos "compiler_bos", mlp_exactness 100). The vocabularies are benchmarks/tracr_vocabs.py's,
  shared with benchmarks/compiler.py (each row reports its vocabulary so that the caller can check they agree).
- compile_s: wall time of `compile_rasp_to_model` alone, after a warm-up compile of a small program in the same
  process, so JAX/Haiku's one-off set-up is not in it; setup_s is the import plus that warm-up compile.
- layers: Tracr's `model_config.num_layers`. Tracr's model is a list of `layer_i` blocks, each an attention
  sublayer followed by an MLP sublayer (either may be all zeros); our TransformerConfig counts the same way
  (one Block = attention then MLP = one layer), so the numbers compare directly.
- heads: attention heads that carry weights, summed over layers (a head slot is used if any of its query, key,
  value or output weights is non-zero); max_heads: most used heads in one layer; head_slots: what the
  assembled model allocates (num_layers x num_heads, unused slots zero-filled).
- d_model: residual width; d_mlp: `mlp_hidden_size`, the widest MLP (every layer is allocated that width).
- params: every array in the Haiku params (embeddings, query/key/value/output weights and biases, MLP
  weights and biases) plus the unembedding matrix (residual width x output dimensions), which Tracr keeps
  outside params but which our models count; nonzero: the non-zero entries among them.
- agreement: the share of n random inputs (lengths cycling 1..max_len, tokens drawn uniformly from the
  vocabulary with random.Random(seed), as the toolkit's compiler.random_inputs does) on which the compiled
  model's decoded output (BOS prepended, BOS position dropped, float32 as Tracr runs; inputs are batched by
  length, not padded, since the assembled model does not mask its pad token) equals
  `rasp.evaluate(program, input)` at every position: numbers within 1e-4 absolute, anything else by ==.
  Positions where the evaluator gives None (an aggregate's default=None: shift_by's and detect_pattern's first
  positions, sort_unique's positions that no key lands on) are not compared, since no decoded value can match
  None; they are counted in positions_skipped. Inputs on which the evaluator raises are dropped (eval_failed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import time

from tracr_vocabs import ORDER, VOCABS  # noqa: E402  (benchmarks/ is on sys.path when run as a script)


def build(name: str):
    """The Tracr library program with the parameters of benchmarks/tracr_programs/<name>.rasp."""
    from tracr.compiler import lib
    from tracr.rasp import rasp

    tokens = rasp.tokens
    makers = {
        "length": lambda: lib.make_length(),
        "reverse": lambda: lib.make_reverse(tokens),
        "hist": lambda: lib.make_hist(),
        "sort_unique": lambda: lib.make_sort_unique(tokens, tokens),
        "sort": lambda: lib.make_sort(tokens, tokens, max_seq_len=128, min_key=1),
        "sort_freq": lambda: lib.make_sort_freq(max_seq_len=128),
        "frac_prevs": lambda: lib.make_frac_prevs(tokens == "x"),
        "pair_balance": lambda: lib.make_pair_balance(tokens, "(", ")"),
        "shuffle_dyck": lambda: lib.make_shuffle_dyck(pairs=["()"]),
        "shuffle_dyck2": lambda: lib.make_shuffle_dyck2(),
        "shift_by": lambda: lib.shift_by(2, tokens),
        "detect_pattern": lambda: lib.detect_pattern(tokens, "abc"),
        "count_less_freq": lambda: lib.make_count_less_freq(2),
        "count": lambda: lib.make_count(tokens, "a"),
    }
    return makers[name]()


def random_inputs(vocab: list, max_len: int, n: int, seed: int) -> list[list]:
    rng = random.Random(seed)
    return [[rng.choice(vocab) for _ in range(1 + k % max_len)] for k in range(n)]


def same(expected, got, tolerance: float = 1e-4) -> bool:
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(got, numbers):
        return math.isfinite(float(got)) and abs(float(expected) - float(got)) <= tolerance
    return expected == got


def sizes(model, program) -> dict:
    import numpy as np

    cfg = model.model_config
    params = {f"{module}/{name}": np.asarray(a) for module, d in model.params.items() for name, a in d.items()}
    d_model = len(model.residual_labels)
    label = program.label
    n_out = sum(1 for lab in model.residual_labels if lab == label or lab.startswith(label + ":"))
    total = sum(a.size for a in params.values()) + d_model * n_out
    nonzero = sum(int(np.count_nonzero(a)) for a in params.values()) + n_out  # the unembedding is a projection
    heads_per_layer = []
    for layer in range(cfg.num_layers):
        prefix = f"transformer/layer_{layer}/attn"
        used = 0
        for h in range(cfg.num_heads):
            cols = slice(h * cfg.key_size, (h + 1) * cfg.key_size)
            parts = [params[f"{prefix}/{m}/w"][:, cols] for m in ("query", "key", "value")]
            parts.append(params[f"{prefix}/linear/w"][cols, :])
            used += any(np.any(p) for p in parts)
        heads_per_layer.append(used)
    return {
        "layers": cfg.num_layers,
        "heads": sum(heads_per_layer),
        "max_heads": max(heads_per_layer + [0]),
        "head_slots": cfg.num_layers * cfg.num_heads,
        "d_model": d_model,
        "d_mlp": cfg.mlp_hidden_size,
        "params": int(total),
        "nonzero": int(nonzero),
    }


def agreement(model, program, vocab: list, max_len: int, n: int, seed: int) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np
    from tracr.rasp import rasp

    forward = jax.jit(model.forward)  # one trace per input length; Tracr's model masks no padding
    bos = model.input_encoder.bos_token
    inputs = random_inputs(vocab, max_len, n, seed)
    by_length: dict[int, list[int]] = {}
    for k, seq in enumerate(inputs):
        by_length.setdefault(len(seq), []).append(k)
    decoded: list = [None] * len(inputs)
    for ks in by_length.values():
        ids = jnp.array([model.input_encoder.encode([bos] + inputs[k]) for k in ks])
        out = np.asarray(forward(model.params, ids).unembedded_output)
        for row, k in zip(out, ks):
            values = row.tolist()
            if model.output_encoder is not None:
                values = model.output_encoder.decode(values)
            decoded[k] = values[1:]
    agreed = checked = eval_failed = positions = skipped = 0
    mismatches = []
    for seq, got in zip(inputs, decoded):
        try:
            expected = rasp.evaluate(program, seq)
        except Exception:  # noqa: BLE001 - the evaluator itself fails on this input
            eval_failed += 1
            continue
        checked += 1
        ok = len(expected) == len(got)
        for e, g in zip(expected, got):
            if e is None:
                skipped += 1
                continue
            positions += 1
            ok = ok and same(e, g)
        agreed += ok
        if not ok and len(mismatches) < 2:
            mismatches.append({"input": seq, "expected": expected, "got": got})
    return {
        "agreement": agreed / checked if checked else None,
        "checked": checked,
        "positions_checked": positions,
        "positions_skipped": skipped,
        "eval_failed": eval_failed,
        "mismatches": json.loads(json.dumps(mismatches, default=str)),
    }


def worker(name: str, max_len: int, n: int, seed: int) -> None:
    """Prints the row twice: once compiled and measured, and again with the agreement check (if it ends)."""
    start = time.perf_counter()
    from tracr.compiler import compiling, lib

    compiling.compile_rasp_to_model(lib.make_hist(), vocab={"a", "b"}, max_seq_len=3)  # warm-up
    setup_s = time.perf_counter() - start
    program = build(name)
    vocab = VOCABS[name]
    t0 = time.perf_counter()
    model = compiling.compile_rasp_to_model(program, vocab=set(vocab), max_seq_len=max_len)
    compile_s = time.perf_counter() - t0
    row = {"compile_s": compile_s, "setup_s": setup_s, "tracr_output": program.label}
    row.update(sizes(model, program))
    print(json.dumps(row | {"agreement": None, "agreement_status": "not finished"}), flush=True)
    try:
        row.update(agreement(model, program, vocab, max_len, n, seed))
        row["agreement_status"] = "ok"
    except Exception as error:  # noqa: BLE001 - keep the compile figures
        row.update({"agreement": None, "agreement_status": f"error: {type(error).__name__}: {error}"[:300]})
    print(json.dumps(row), flush=True)


def run_one(name: str, max_len: int, n: int, seed: int, timeout: float, mem_gb: float) -> dict:
    row = {"program": name, "max_len": max_len, "vocab": VOCABS.get(name)}
    if name not in VOCABS:
        return row | {"status": f"error: unknown program {name!r}"}
    command = [sys.executable, os.path.abspath(__file__), "--worker", name, str(max_len), "--n", str(n)]
    command += ["--seed", str(seed), "--mem-gb", str(mem_gb)]
    timed_out = False
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        stdout, stderr, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as expired:
        timed_out, code = True, None
        stdout, stderr = [x.decode() if isinstance(x, bytes) else (x or "") for x in (expired.stdout, expired.stderr)]
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:  # not even compiled
        if timed_out:
            return row | {"status": "timeout", "timeout_s": timeout}
        tail = (stderr.strip().splitlines() or [f"exit status {code}"])[-1]
        if code < 0 or "MemoryError" in stderr or "RESOURCE_EXHAUSTED" in stderr:
            tail = f"out of memory ({mem_gb:g} GB address-space limit) or killed: {tail}"
        return row | {"status": f"error: {tail[:300]}"}
    result = row | {"status": "ok"} | json.loads(lines[-1])
    if result.get("agreement_status") == "not finished":  # compiled, but the check did not end
        result["agreement_status"] = f"timeout after {timeout:g} s" if timed_out else f"died (exit status {code})"
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-len", type=int, nargs="+", default=[10, 32])
    parser.add_argument("--n", type=int, default=100, help="random inputs for the agreement check")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--programs", nargs="+", default=ORDER)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per (program, max_len)")
    parser.add_argument("--mem-gb", type=float, default=12.0, help="address-space limit of each worker")
    parser.add_argument("--worker", nargs=2, metavar=("PROGRAM", "MAX_LEN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        if args.mem_gb > 0:
            limit = int(args.mem_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        worker(args.worker[0], int(args.worker[1]), args.n, args.seed)
        return 0
    for max_len in args.max_len:
        for name in args.programs:
            print(json.dumps(run_one(name, max_len, args.n, args.seed, args.timeout, args.mem_gb)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
