"""The walk's two interfaces: what `maps` and `heads` may ask of it (`EncodingContext`), and what it hands
the later stages (`Encoded`).

The walk owns the residual layout, the components built so far and each s-op's encoding; a map or an
aggregate needs its inputs' encodings (`get`, `to_categorical`, `side`), their value sets (`values`, `vs`),
a new component (`new_task`) and output dimensions (`output_encoding`). Naming that interface here keeps
`maps` and `heads` from depending on the walker itself (no import cycle between the three).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from rasp.ir import Graph, Op

from .errors import CompileError
from .layout import Encoding, Form, Layout
from .schedule import Component
from .values import ValueSets


class EncodingContext(Protocol):
    graph: Graph
    max_len: int
    causal: bool
    fold_maps: bool  # a map of one categorical s-op becomes a sum of its one-hot dims (no MLP)
    layout: Layout
    vs: ValueSets
    enc: dict[int, Encoding]  # s-op id → encoding, for a builder that settles an s-op's encoding itself
    notes: list[str]  # told to the user with the compiled model
    retrievals: list[list]  # categorical means of numbers: [select id, values id, label]

    def fail(self, op: Op, reason: str) -> CompileError: ...

    def values(self, op_id: int) -> list: ...

    def get(self, op_id: int) -> Encoding: ...

    def new_task(self, kind: str, label: str) -> Component: ...

    def with_num(self, enc: Encoding) -> Encoding: ...

    def output_encoding(
        self, op: Op, primary: str, values: list | None, producer: int
    ) -> tuple[Encoding, Callable[[Any], Form]]: ...

    def check_numeric(self, op: Op, values: list) -> None: ...

    def combos(self, op: Op, sets: list[list]) -> int: ...

    def to_categorical(self, op_id: int) -> dict[Any, Form]: ...

    def side(self, op: Op, ids: tuple[int, ...]) -> dict[Any, Form] | None: ...


@dataclass
class Encoded:
    """The walk's result, all that the later stages need: the residual layout, the components that write it,
    the embeddings' dimensions and the output's read-out rows (one form per output unit)."""

    vocab: list
    max_len: int
    causal: bool
    layout: Layout
    components: list[Component]
    token_dims: dict[Any, int]  # token → its one-hot dim (tokens no s-op reads have none)
    index_dims: list[int]  # position i → its one-hot dim (empty when no s-op reads indices)
    output_name: str
    output_kind: str  # "categorical" (one row per value, argmax) or "numerical" (one row)
    output_values: list | None
    readout: list[Form]
    notes: list[str] = field(default_factory=list)
    retrievals: list[list] = field(default_factory=list)
