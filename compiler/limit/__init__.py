"""Limit construction: one transformer for a C-RASP program, the same at every input length.

Built from the analysis' checked witness (rasp/analysis/witness.py), definition by definition (docs/compiler.md,
"The limit construction"). The residual stream has a fixed set of columns: BOS, a constant 1, the token one-hot,
one one-hot block per finite definition and one column per count. A count `#[j ≤ i] φ(j)` is a head with all
scores equal (W_Q = W_K = 0): causal uniform attention averages φ over BOS and the prefix, so the column holds
C(i)/(i+2); a head on the BOS column holds 1/(i+2), which turns constants into the same units. A comparison of an
integer linear combination y of counts is then the sign of y/(i+2) ± 1/(2(i+2)), a margin of 1/(2(i+2)) either
way, read by a ReLU step of slope S: exact while 2(i+2) ≤ S, i.e. for inputs up to S/2 - 1 tokens. Finite
functions are lookup MLPs on one-hot blocks, `max`/`min`/`the` retrievals a count per value and an MLP that keeps
the first present value; a predicate that reads the query is split by the query's values. Nothing in it depends
on the length but the stated bound.

C-RASP programs give NoPE models; C-RASP[periodic, local] programs add a periodic position table and per-offset
attention biases for nearby positions (positions.py). Any other program is refused with the analysis' reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasp.analysis.crasp_eval import Witness

from ..errors import CompileError
from .assemble import assemble
from .builder import Builder

DEFAULT_BOUND = 4095  # inputs up to this length are exact (the step slope is 2 * (bound + 2))

__all__ = ["DEFAULT_BOUND", "LimitModel", "build_limit", "compile_limit"]


@dataclass
class LimitModel:
    """The construction and what it states: `model` (a NoPE CausalTransformer with `run`), the longest input it
    is exact on, and its size (the same for every input length)."""

    model: Any
    bound: int
    witness: Witness

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def run(self, tokens: list) -> list:
        return self.model.run(tokens)

    def run_batch(self, batch: list[list]) -> list[list]:
        return self.model.run_batch(batch)


def build_limit(witness: Witness, vocab: list, bound: int = DEFAULT_BOUND, dtype: Any = None) -> LimitModel:
    """The limit construction of a C-RASP witness over `vocab`, exact on inputs up to `bound` tokens."""
    import torch

    builder = Builder(witness, list(vocab), bound)
    output = builder.finite.get(witness.output)
    if output is None:
        raise CompileError(f"the output {witness.output} is a count; a C-RASP program outputs finite values")
    model = assemble(builder, output, witness.output, bound)
    return LimitModel(model.to(dtype or torch.float64), bound, witness)


def compile_limit(program: Any, vocab: list, bound: int = DEFAULT_BOUND, output: str | None = None) -> LimitModel:
    """The limit construction of a program the analysis places in C-RASP (NoPE) or, failing that, in
    C-RASP[periodic, local] (APE: periodic position features, per-offset biases), from the verdict's witness,
    checked against the program; any other program is refused with the analysis' located reasons."""
    import rasp

    prediction = rasp.predict(program, output, vocab=list(vocab))
    for verdict in (prediction.crasp, prediction.crasp_pos):
        if verdict.ok and verdict.witness is not None:
            return build_limit(verdict.witness, list(vocab), bound)
    reasons = "\n  ".join(dict.fromkeys(prediction.crasp.reasons + prediction.crasp_pos.reasons))
    raise CompileError(
        f"{program.filename}: no limit construction: the program has no C-RASP or C-RASP[periodic, local] ✓:\n"
        f"  {reasons}"
    )
