"""`compile` and `verify`: the compiler's Python API."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from typing import Any

from rasp import limits
from rasp.errors import RaspError, RaspInputError
from rasp.program import Program, check_token

from .errors import CompileError

# verify() counts as a pass only when at least this share of its inputs were compared (the rest are inputs
# the interpreter fails on, or outside a categorical aggregate's retrieval domain).
MIN_CHECKED = 0.9


def check_device(device: Any) -> Any:
    """A torch device the user named, refused with a message when torch does not know it or cannot use it."""
    if device is None:
        return None
    import torch

    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise RaspInputError(f"unknown device {device!r}; use cpu, cuda, cuda:0, mps, ...") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RaspInputError(f"device {device!r}: CUDA is not available here (torch {torch.__version__}); use cpu")
    if resolved.type == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise RaspInputError(f"device {device!r}: there are {torch.cuda.device_count()} CUDA devices")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise RaspInputError(f"device {device!r}: MPS is not available here; use cpu")
    return resolved


# long: half of it is the docstring stating the exactness bounds
def compile(
    program: Program,
    vocab: Iterable[Any],
    max_len: int | None = None,
    causal: bool | None = None,
    output: str | None = None,
    device: Any = None,
    dtype: Any = None,
    fold_maps: bool = True,
    limit: bool = False,
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

    `limit=True`: the limit construction instead (compiler/limit/): for a C-RASP program, one NoPE model for
    every input length up to its stated bound (`max_len`, if given, is that bound; default 4,095); for a
    C-RASP[periodic, local] program the same with a periodic position table and per-offset attention biases.

    Raises `CompileError` (a `RaspError`) naming the s-op and its source position when it cannot compile.
    """

    from .encode import encode
    from .schedule import schedule
    from .weights import build_weights, decode_spec, to_torch

    if not isinstance(program, Program):
        raise CompileError(f"compile() needs a rasp Program (rasp.parse / rasp.load), got {type(program).__name__}")
    if limit:
        from .limit import DEFAULT_BOUND, compile_limit

        construction = compile_limit(program, [check_token(t) for t in vocab], max_len or DEFAULT_BOUND, output)
        return construction.model.to(
            device=check_device(device), dtype=dtype or construction.model.tok_emb.weight.dtype
        )
    if not isinstance(max_len, int) or isinstance(max_len, bool) or max_len < 1:
        raise RaspInputError(f"max_len must be a whole number ≥ 1, got {max_len!r}")
    device = check_device(device)
    causal = program.causal if causal is None else bool(causal)
    if isinstance(vocab, bytes) or not isinstance(vocab, Iterable):  # a str is its characters
        raise RaspInputError(f"vocab must be a list of tokens, not {type(vocab).__name__}")
    vocab = [check_token(t) for t in vocab]
    if not vocab:
        raise RaspInputError("the vocabulary is empty")
    output_id = program.output_id(output)
    if program.graph.op(output_id).is_selector:
        raise CompileError(f"the output {output or program.output} is a selector; compile an s-op (aggregate it)")
    try:
        with limits.recursion_room():  # the walk recurses along the graph
            encoded = encode(program, vocab, max_len, causal, output_id, output or program.output, fold_maps)
    except RecursionError:
        raise CompileError(
            "the program's s-ops are chained too deeply to compile (past Python's recursion limit); "
            "break long chains of maps with an aggregate, or compile fewer of them"
        ) from None
    plan = schedule(encoded.components, encoded.layout)
    model = to_torch(build_weights(encoded, plan), decode_spec(encoded), causal)
    model.spec.source = program.source
    if dtype is not None:
        model.to(dtype=dtype)
    if device is not None:
        model.to(device)
    model.eval()
    return model


class Agreement(float):
    """verify()'s result: the agreement rate over the inputs it compared (a float; NaN when it compared none),
    with how many inputs it tried and why the others were not compared. `passed` is what counts: full
    agreement on at least `min_checked` of the inputs tried."""

    total: int  # inputs tried
    n: int  # inputs compared (the rate's denominator)
    agreed: int
    skipped: int  # the interpreter fails on them
    outside: int  # outside a categorical aggregate's retrieval domain: not compared
    mismatches: list
    min_checked: float

    def __new__(
        cls,
        agreed: int,
        n: int,
        skipped: int = 0,
        mismatches: list | None = None,
        outside: int = 0,
        min_checked: float = MIN_CHECKED,
    ):
        self = super().__new__(cls, agreed / n if n else math.nan)
        self.n, self.agreed, self.skipped, self.outside = n, agreed, skipped, outside
        self.total = n + skipped + outside
        self.mismatches, self.min_checked = mismatches or [], min_checked
        return self

    @property
    def checked_share(self) -> float:
        return self.n / self.total if self.total else 0.0

    @property
    def passed(self) -> bool:
        return self.n > 0 and self.agreed == self.n and self.checked_share >= self.min_checked

    def __repr__(self) -> str:
        return (
            f"Agreement({float(self):.4f} on {self.n} of {self.total} inputs: {self.agreed} agreed, "
            f"{self.skipped} skipped, {self.outside} outside the retrieval domain; "
            f"{'passed' if self.passed else 'not passed'})"
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
    min_checked: float = MIN_CHECKED,
) -> Agreement:
    """Agreement rate between the compiled model and the interpreter on n random inputs of every length
    1..max_len (or on `inputs`). Inputs on which the interpreter itself fails are skipped, and inputs outside a
    categorical aggregate's retrieval domain are left out; both are counted, never as agreement, and the
    result passes only when at least `min_checked` of the inputs were compared."""
    spec = getattr(model, "spec", None)
    if spec is None:
        raise RaspInputError("verify() needs a compiled model (compiler.compile or compiler.load)")
    if not isinstance(program, Program):
        raise RaspInputError(f"verify() needs a rasp Program, got {type(program).__name__}")
    if spec.source is not None and spec.source != program.source:
        raise RaspInputError("the model was compiled from a different program than the one given to verify()")
    if inputs is None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise RaspInputError(f"verify() needs at least one input to compare (n = {n!r})")
        inputs = random_inputs(spec.vocab[1:], spec.max_len, n, seed)
    elif not inputs:
        raise RaspInputError("verify() was given no inputs to compare")
    name = output or spec.output
    expected: list = []
    try:
        expected = program.run_batch(inputs, output=name, causal=spec.causal)
    except RaspError:  # the interpreter fails on some input: find which, skip those
        expected = []
        for seq in inputs:
            try:
                expected.append(program.run(seq, output=name, causal=spec.causal))
            except RaspError:
                expected.append(None)
    outside = outside_retrieval_domain(program, spec, inputs) if spec.retrievals else set()
    kept = [(seq, exp) for k, (seq, exp) in enumerate(zip(inputs, expected)) if exp is not None and k not in outside]
    got = model.run_batch([seq for seq, _ in kept], batch_size=batch_size)
    agreed, mismatches = 0, []
    for (seq, exp), out in zip(kept, got):
        if len(exp) == len(out) and all(same(a, b) for a, b in zip(exp, out)):
            agreed += 1
        elif len(mismatches) < 5:
            mismatches.append({"input": seq, "expected": exp, "got": out})
    skipped = len(inputs) - len(kept) - len(outside)
    return Agreement(agreed, len(kept), skipped, mismatches, len(outside), min_checked)


def outside_retrieval_domain(program: Program, spec, inputs: list[list]) -> set[int]:
    """Inputs on which a categorical aggregate of numbers selects differing values (the interpreter then
    averages them; the compiled retrieval assumes they agree)."""
    ids = {}
    for k, (sel, val, _) in enumerate(spec.retrievals):
        ids[("s", k)], ids[("v", k)] = sel, val
    outside = set()
    for index, seq in enumerate(inputs):
        try:
            got = program.evaluate_ops([seq], ids, causal=spec.causal)
        except RaspError:  # the interpreter fails on this input: `verify` skips it already
            continue
        for k in range(len(spec.retrievals)):
            rows, values = got[("s", k)][0], got[("v", k)][0]
            if any(len({values[j] for j, s in enumerate(row) if s}) > 1 for row in rows):
                outside.add(index)
                break
    return outside
