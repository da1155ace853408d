"""`compile` and `verify`: the compiler's Python API."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from rasp.program import Program

from .errors import CompileError


def compile(
    program: Program,
    vocab: Iterable[Any],
    max_len: int,
    causal: bool | None = None,
    output: str | None = None,
    device: Any = None,
    dtype: Any = None,
    fold_maps: bool = True,
):
    """Compile a program to a `CausalTransformer` that gives the interpreter's values.

    `vocab`: the input tokens; `max_len`: the longest input; `causal=None` follows the program's mode;
    `output`: which named s-op (default the program's output); `dtype`: torch.float64 by default.

    Exactness: for every input of length ≤ max_len over `vocab`, `model.run(tokens)` equals
    `program.run(tokens)` (argmax decoding for categorical outputs; within 1e-4, and snapped to the value
    set where it is known, for numerical ones). Attention is made hard enough for max_len N: the logit gap
    G = ⌈ln(N + 1) + ln(1 + V) + 25⌉ (V the largest aggregated magnitude) bounds the weight outside the
    selected keys by (N + 1)e^{−G} < 1.4e−11/(1 + V); selected keys get exactly equal logits; MLPs that read
    numbers (counts, means) are exact for any input within a quarter of the gap between neighbouring values
    (≥ 1/(16(N + 1)) for counts), far above the attention error. Compiled weights are float64 by default;
    float32 works for most programs (see docs/compiler.md).

    Raises `CompileError` (a `RaspError`) naming the s-op and its source position when it cannot compile.
    """

    from .assemble import Compiler

    if not isinstance(program, Program):
        raise CompileError(f"compile() needs a rasp Program (rasp.parse / rasp.load), got {type(program).__name__}")
    causal = program.causal if causal is None else bool(causal)
    vocab = list(vocab)
    output_id = program._resolve(output)
    if program.graph.op(output_id).is_selector:
        raise CompileError(f"the output {output or program.output} is a selector; compile an s-op (aggregate it)")
    compiler = Compiler(program, vocab, max_len, causal, fold_maps=fold_maps)
    compiler.output_name = output or program.output
    compiler.run(output_id)
    model = compiler.assemble(output_id)
    model.spec.source = program.source
    if dtype is not None:
        model.to(dtype=dtype)
    if device is not None:
        model.to(device)
    model.eval()
    return model


class Agreement(float):
    """verify()'s result: the agreement rate (a float) with details attached."""

    n: int
    agreed: int
    outside: int = 0
    skipped: int
    mismatches: list

    def __new__(cls, agreed: int, n: int, skipped: int = 0, mismatches: list | None = None):
        self = super().__new__(cls, agreed / n if n else 1.0)
        self.n, self.agreed, self.skipped, self.mismatches = n, agreed, skipped, mismatches or []
        return self

    def __repr__(self) -> str:
        return (
            f"Agreement({float(self):.4f}: {self.agreed}/{self.n}, {self.skipped} skipped, "
            f"{self.outside} outside the retrieval domain)"
        )


def same(a: Any, b: Any, tolerance: float = 1e-4) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, str):
        return abs(float(a) - float(b)) <= tolerance
    return a == b


def random_inputs(vocab: list, max_len: int, n: int, seed: int = 0, min_len: int = 1) -> list[list]:
    """n random inputs whose lengths cycle through min_len..max_len (every length is covered when n allows)."""
    rng = random.Random(seed)
    span = max_len - min_len + 1
    return [[rng.choice(vocab) for _ in range(min_len + k % span)] for k in range(n)]


def verify(
    program: Program,
    model,
    n: int = 1000,
    seed: int = 0,
    inputs: list[list] | None = None,
    output: str | None = None,
    batch_size: int = 256,
) -> Agreement:
    """Agreement rate between the compiled model and the interpreter on n random inputs of every length
    1..max_len (or on `inputs`). Inputs on which the interpreter itself fails are skipped (counted)."""
    spec = model.spec
    if inputs is None:
        inputs = random_inputs(spec.vocab[1:], spec.max_len, n, seed)
    name = output or spec.output
    expected: list = []
    try:
        expected = program.run_batch(inputs, output=name, causal=spec.causal)
    except Exception:  # noqa: BLE001 - the interpreter fails on some input: find which, skip those
        expected = []
        for seq in inputs:
            try:
                expected.append(program.run(seq, output=name, causal=spec.causal))
            except Exception:  # noqa: BLE001
                expected.append(None)
    outside = _outside_retrieval_domain(program, spec, inputs) if spec.retrievals else set()
    kept = [(seq, exp) for k, (seq, exp) in enumerate(zip(inputs, expected)) if exp is not None and k not in outside]
    got = model.run_batch([seq for seq, _ in kept], batch_size=batch_size)
    agreed, mismatches = 0, []
    for (seq, exp), out in zip(kept, got):
        if len(exp) == len(out) and all(same(a, b) for a, b in zip(exp, out)):
            agreed += 1
        elif len(mismatches) < 5:
            mismatches.append({"input": seq, "expected": exp, "got": out})
    result = Agreement(agreed, len(kept), len(inputs) - len(kept) - len(outside), mismatches)
    result.outside = len(outside)
    return result


def _outside_retrieval_domain(program: Program, spec, inputs: list[list]) -> set[int]:
    """Inputs on which a categorical aggregate of numbers selects differing values (the interpreter then
    averages them; the compiled retrieval assumes they agree)."""
    ids = {}
    for k, (sel, val, _) in enumerate(spec.retrievals):
        ids[("s", k)], ids[("v", k)] = sel, val
    outside = set()
    for index, seq in enumerate(inputs):
        try:
            got = program.evaluate_ops([seq], ids, causal=spec.causal)
        except Exception:  # noqa: BLE001
            continue
        for k in range(len(spec.retrievals)):
            rows, values = got[("s", k)][0], got[("v", k)][0]
            if any(len({values[j] for j, s in enumerate(row) if s}) > 1 for row in rows):
                outside.add(index)
                break
    return outside
