"""Layer allocation: components (an attention head, or one s-op's MLP units) placed in sublayers by a
longest-path schedule (`Component`: named so, not `Task`, which is a training task in programs/task.py).

Sublayer 2ℓ is layer ℓ's attention, 2ℓ + 1 its MLP. A task reads residual dimensions; it depends on the
tasks that write them (embeddings write at sublayer −1). Each task goes in the earliest sublayer of its
kind after all its dependencies (ASAP on the networkx DAG), which gives the fewest layers; then MLP tasks
with slack move later when that lowers the widest MLP without adding layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from .layout import Layout
from .mlp import Unit


@dataclass
class Component:
    id: int
    kind: str  # "attn" or "mlp"
    label: str
    units: list[Unit] = field(default_factory=list)  # mlp
    qk: dict[tuple[int, int], float] = field(default_factory=dict)  # attn: (query dim, key dim) → coefficient
    qk_blocks: list = field(default_factory=list)  # attn: more of the same as dense blocks (rows, cols, matrix)
    ov: dict[tuple[int, int], float] = field(default_factory=dict)  # attn: (value dim, output dim) → coefficient

    def reads(self) -> set[int]:
        if self.kind == "mlp":
            return {d for form, _ in self.units for d in form}
        dims = {q for q, _ in self.qk} | {k for _, k in self.qk} | {v for v, _ in self.ov}
        for rows, cols, _ in self.qk_blocks:
            dims |= set(rows) | set(cols)
        return dims


def task_graph(tasks: list[Component], layout: Layout) -> nx.DiGraph:
    graph = nx.DiGraph()
    for task in tasks:
        graph.add_node(task.id)
        for dim in task.reads():
            producer = layout.producer[dim]
            if producer is not None and producer != task.id:
                graph.add_edge(producer, task.id)
    return graph


def _next(after: int, kind: str) -> int:
    s = after + 1
    parity = 0 if kind == "attn" else 1
    return s if s % 2 == parity else s + 1


@dataclass(frozen=True)
class Schedule:
    """Where each component goes: sublayer 2ℓ is layer ℓ's attention, 2ℓ + 1 its MLP."""

    n_layers: int
    sublayer: dict[int, int]  # component id → sublayer

    def components_at(self, components: list[Component], sublayer: int) -> list[Component]:
        return [c for c in components if self.sublayer[c.id] == sublayer]


def schedule(tasks: list[Component], layout: Layout) -> Schedule:
    """The fewest layers (each component ASAP after its inputs), then MLP components moved within their slack."""
    if not tasks:
        return Schedule(0, {})
    graph = task_graph(tasks, layout)
    by_id = {t.id: t for t in tasks}
    at: dict[int, int] = {}
    for tid in nx.topological_sort(graph):
        after = max((at[p] for p in graph.predecessors(tid)), default=-1)
        at[tid] = _next(after, by_id[tid].kind)
    last = max(at.values())
    # Move MLP tasks later (within their slack) when it narrows the widest MLP.
    for tid in reversed(list(nx.topological_sort(graph))):
        task = by_id[tid]
        if task.kind != "mlp":
            continue
        latest = min((at[s] - 1 for s in graph.successors(tid)), default=last)
        latest = latest if latest % 2 == 1 else latest - 1
        if latest <= at[tid]:
            continue
        width = _mlp_widths(tasks, at)
        best, best_width = at[tid], width.get(at[tid], 0)
        for s in range(at[tid] + 2, latest + 1, 2):
            if width.get(s, 0) + len(task.units) < best_width:
                best, best_width = s, width.get(s, 0) + len(task.units)
        at[tid] = best
    return Schedule(last // 2 + 1, at)


def _mlp_widths(tasks: list[Component], at: dict[int, int]) -> dict[int, int]:
    width: dict[int, int] = {}
    for t in tasks:
        if t.kind == "mlp":
            width[at[t.id]] = width.get(at[t.id], 0) + len(t.units)
    return width
