"""The residual stream: named dimensions, and each s-op's encoding as linear forms over them.

Two dimensions are always there: `one` (1 at every position) and `bos` (1 at the BOS position only);
`one - bos` (NOTBOS) is 1 at every real position. A categorical s-op is one-hot: for each value, a linear
form whose value is 1 where the s-op has that value and 0 elsewhere. A numerical s-op is one linear form.

Forms are sparse (`{dim: coefficient}`), so an s-op need not own dimensions: a map of one categorical
s-op is a sum of its input's one-hot dimensions (`f(x) == y` iff x is in f⁻¹(y)), and an affine function of
numerical s-ops is their weighted sum. Such s-ops are *virtual*: the weights that read them read the
underlying dimensions. Every form is 0 at the BOS position (the compiler keeps that invariant).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Form = dict[int, float]

ONE, BOS = 0, 1
NOTBOS: Form = {ONE: 1.0, BOS: -1.0}


def combine(*terms: tuple[float, Form]) -> Form:
    """Σ coefficient · form, dropping zeros."""
    out: Form = {}
    for coef, form in terms:
        if coef == 0:
            continue
        for dim, c in form.items():
            out[dim] = out.get(dim, 0.0) + coef * c
    return {d: c for d, c in out.items() if c != 0}


@dataclass
class Encoding:
    """How an s-op is read from the residual stream."""

    values: list  # its value set, in the interpreter's order
    cat: dict[Any, Form] | None = None  # value → one-hot form (None: not available categorically)
    num: Form | None = None  # numerical form (None: not numeric, or only available categorically)
    primary: str = "categorical"


@dataclass
class Layout:
    labels: list[str] = field(default_factory=lambda: ["one", "bos"])
    producer: list[int | None] = field(default_factory=lambda: [None, None])  # task id, None: embedding

    def new(self, label: str, producer: int | None) -> int:
        self.labels.append(label)
        self.producer.append(producer)
        return len(self.labels) - 1

    def __len__(self) -> int:
        return len(self.labels)
