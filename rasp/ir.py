"""The s-op graph: primitive operations in a networkx DiGraph, shared where identical.

Primitives (`Op.kind`):
    tokens, indices            the inputs
    constant                   the same value at every position
    map / zipmap               an elementwise scalar function of one / several s-ops
    select                     a selector: predicate(keys[j]..., queries[i]...) for query i, key j
    aggregate                  reduce (mean, max, min) the selected values, or a default
    selector_width             how many keys a selector selects

A select may read several key and query s-ops: `select(a, b, ==) and select(c, d, <)` becomes one
select with keys (a, c), queries (b, d) and predicate `k0 == q0 and k1 < q1`. Edges run from an input
to the op that reads it; `Op.inputs` keeps their order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from . import scalar, scalar_types
from .errors import Span

KINDS = ("tokens", "indices", "constant", "map", "zipmap", "select", "aggregate", "selector_width")
REDUCTIONS = ("mean", "max", "min")


@dataclass
class Op:
    id: int
    kind: str
    inputs: tuple[int, ...] = ()
    fn: scalar.Fn | None = None  # map, zipmap: f(inputs...); select: predicate(keys..., queries...)
    n_keys: int = 0  # select: inputs[:n_keys] are keys, the rest queries
    value: Any = None  # constant: the value; aggregate: the default
    reduce: str = "mean"  # aggregate
    span: Span | None = None
    names: list[str] = field(default_factory=list)  # every name bound to this op, first is the label
    vtype: str = "any"  # value type: int, float, bool, str, any
    encoding: str | None = None  # "numerical" / "categorical" hint for the compiler

    @property
    def is_selector(self) -> bool:
        return self.kind == "select"

    @property
    def keys(self) -> tuple[int, ...]:
        return self.inputs[: self.n_keys]

    @property
    def queries(self) -> tuple[int, ...]:
        return self.inputs[self.n_keys :]

    @property
    def label(self) -> str:
        return self.names[0] if self.names else f"{self.kind}_{self.id}"

    def describe(self, graph: Graph) -> str:
        """One line of dialect-like text for this op, naming its inputs by label."""
        labels = tuple(graph.op(i).label for i in self.inputs)
        if self.kind in ("tokens", "indices"):
            return self.kind
        if self.kind == "constant":
            return repr(self.value)
        if self.kind in ("map", "zipmap"):
            params = ("x", "y", "z", "w")[: len(labels)] if len(labels) <= 4 else tuple(f"x{i}" for i in labels)
            body = scalar_types.to_text(self.fn, params)
            return f"{self.kind}(lambda {', '.join(params)}: {body}, {', '.join(labels)})"
        if self.kind == "select":
            keys, queries = labels[: self.n_keys], labels[self.n_keys :]
            params = tuple(f"k{i}" if self.n_keys > 1 else "k" for i in range(self.n_keys))
            params += tuple(f"q{i}" if len(queries) > 1 else "q" for i in range(len(queries)))
            body = scalar_types.to_text(self.fn, params)
            return f"select({', '.join(keys)}; {', '.join(queries)}; lambda {', '.join(params)}: {body})"
        if self.kind == "aggregate":
            return f"aggregate({labels[0]}, {labels[1]}, default={self.value!r}, reduce={self.reduce!r})"
        return f"selector_width({labels[0]})"


class Graph:
    """A DAG of `Op`s, hash-consed: adding an op identical to an existing one returns the existing id."""

    def __init__(self) -> None:
        self.nx = nx.DiGraph()
        self._by_key: dict[tuple, int] = {}

    def op(self, op_id: int) -> Op:
        return self.nx.nodes[op_id]["op"]

    def __len__(self) -> int:
        return self.nx.number_of_nodes()

    def __iter__(self):
        return (self.op(i) for i in self.nx.nodes)

    def add(self, kind: str, inputs: tuple[int, ...] = (), span: Span | None = None, **attrs: Any) -> int:
        key = (
            kind,
            inputs,
            attrs.get("fn"),
            attrs.get("n_keys", 0),
            scalar._hashable(attrs.get("value")),
            attrs.get("reduce", "mean"),
        )
        if key in self._by_key:
            return self._by_key[key]
        op_id = len(self._by_key)
        self._by_key[key] = op_id
        self.nx.add_node(op_id, op=Op(op_id, kind, inputs, span=span, **attrs))
        for source in inputs:
            self.nx.add_edge(source, op_id)
        return op_id

    def ancestors_and_self(self, op_ids: list[int]) -> set[int]:
        needed: set[int] = set(op_ids)
        for op_id in op_ids:
            needed |= nx.ancestors(self.nx, op_id)
        return needed

    def schedule(self, op_ids: list[int] | None = None) -> list[Op]:
        """Ops in an order where every op comes after its inputs (only those `op_ids` need)."""
        order = list(nx.lexicographical_topological_sort(self.nx))
        if op_ids is not None:
            needed = self.ancestors_and_self(op_ids)
            order = [i for i in order if i in needed]
        return [self.op(i) for i in order]
