"""Layer allocation: components (an attention head, or one s-op's MLP units) placed in sublayers by a
longest-path schedule (`Component`: named so, not `Task`, which is a training task in programs/tasks.py).

Sublayer 2ℓ is layer ℓ's attention, 2ℓ + 1 its MLP. A task reads residual dimensions; it depends on the
tasks that write them (embeddings write at sublayer −1). Each task goes in the earliest sublayer of its
kind after all its dependencies (ASAP on the networkx DAG), which gives the fewest layers; then MLP tasks
with slack move later when that lowers the widest MLP without adding layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from .layout import Form, Layout
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
    sublayer: int = -1

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


def schedule(tasks: list[Component], layout: Layout) -> int:
    """Set every task's sublayer; returns the number of layers."""
    if not tasks:
        return 0
    graph = task_graph(tasks, layout)
    by_id = {t.id: t for t in tasks}
    for tid in nx.topological_sort(graph):
        task = by_id[tid]
        after = max((by_id[p].sublayer for p in graph.predecessors(tid)), default=-1)
        task.sublayer = _next(after, task.kind)
    last = max(t.sublayer for t in tasks)
    # Move MLP tasks later (within their slack) when it narrows the widest MLP.
    for tid in reversed(list(nx.topological_sort(graph))):
        task = by_id[tid]
        if task.kind != "mlp":
            continue
        latest = min((by_id[s].sublayer - 1 for s in graph.successors(tid)), default=last)
        latest = latest if latest % 2 == 1 else latest - 1
        if latest <= task.sublayer:
            continue
        width = _mlp_widths(tasks)
        best, best_width = task.sublayer, width.get(task.sublayer, 0)
        for s in range(task.sublayer + 2, latest + 1, 2):
            if width.get(s, 0) + len(task.units) < best_width:
                best, best_width = s, width.get(s, 0) + len(task.units)
        task.sublayer = best
    return last // 2 + 1


def _mlp_widths(tasks: list[Component]) -> dict[int, int]:
    width: dict[int, int] = {}
    for t in tasks:
        if t.kind == "mlp":
            width[t.sublayer] = width.get(t.sublayer, 0) + len(t.units)
    return width


def forms_dims(*forms: Form) -> set[int]:
    return {d for f in forms for d in f}
