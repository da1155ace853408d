"""Program length and the transformer a program needs: `rasp.measure(program)`.

The measures (docs/measures.md has the definitions and examples):

- `ops`: primitive ops the output needs, after inlining and sharing (maps, zipmaps, selects, aggregates,
  selector widths; inputs and constants are free). Causally `length` is `indices + 1`: one map.
- `attention_ops`: attention heads. Every aggregate is a head (its select gives the attention pattern),
  and so is every selector width (plus an MLP); a select used by two aggregates is two heads.
- `selects`: distinct selectors those heads use.
- `mlp_ops`: maps and zipmaps (and causal `length`), plus one MLP per selector width.
- `statements`: statements in the program's own file (assignments and expressions, also those inside the
  file's function definitions, each `return` counted); directives, loads and comments are free.
- `layers`, `heads_per_layer`, `max_heads_per_layer`, `mlps_per_layer`: the ops scheduled into layers of one
  attention sublayer followed by one MLP sublayer, as early as their inputs allow. Maps that follow each
  other fuse into one MLP; a map after an aggregate needs the MLP sublayer after that attention; a selector
  width takes an attention sublayer and the MLP after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import scalar
from .. import syntax as S
from ..ir import Graph, Op
from ..parser import parse_source

MLP_KINDS = ("map", "zipmap")


@dataclass
class Layer:
    """One transformer layer: the heads of its attention sublayer and the ops of its MLP sublayer."""

    index: int
    heads: list[int] = field(default_factory=list)  # aggregate / selector_width op ids
    mlp: list[int] = field(default_factory=list)  # map / zipmap / selector_width (its MLP) / causal length


@dataclass
class Measure:
    """The length measures of one program (see the module docstring for each)."""

    file: str
    output: str | None
    mode: str
    ops: int
    attention_ops: int
    selects: int
    mlp_ops: int
    statements: int
    layers: int
    heads_per_layer: list[int]
    mlps_per_layer: list[int]
    by_kind: dict[str, int]
    schedule: list[Layer] = field(repr=False, default_factory=list)
    stage: dict[int, int] = field(repr=False, default_factory=dict)  # op → sublayer (even: attention)

    @property
    def max_heads_per_layer(self) -> int:
        return max(self.heads_per_layer, default=0)

    @property
    def heads(self) -> int:
        return self.attention_ops

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "output": self.output,
            "mode": self.mode,
            "ops": self.ops,
            "attention_ops": self.attention_ops,
            "selects": self.selects,
            "mlp_ops": self.mlp_ops,
            "statements": self.statements,
            "layers": self.layers,
            "heads_per_layer": self.heads_per_layer,
            "max_heads_per_layer": self.max_heads_per_layer,
            "mlps_per_layer": self.mlps_per_layer,
            "by_kind": self.by_kind,
        }

    def summary(self) -> str:
        heads = ",".join(map(str, self.heads_per_layer)) or "-"
        return (
            f"{_n(self.ops, 'op')} ({self.attention_ops} attention, {self.mlp_ops} MLP), "
            f"{_n(self.statements, 'statement')}, {_n(self.layers, 'layer')}, heads per layer {heads}"
        )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def is_causal_length(graph: Graph, op: Op, causal: bool) -> bool:
    """A selector width of a select-all selector: causally that is `indices + 1`, a map."""
    return causal and op.kind == "selector_width" and graph.op(op.inputs[0]).fn == scalar.lit(True)


def count_statements(source: str, filename: str) -> int:
    module = parse_source(source, filename)
    total = 0
    for stmt in module.statements:
        if isinstance(stmt, (S.Assign, S.ExprStmt)):
            total += 1
        elif isinstance(stmt, S.FuncDef):
            total += len(stmt.body) + 1
    return total


def schedule(graph: Graph, output: int, causal: bool) -> tuple[dict[int, int], list[Op]]:
    """Sublayer of every op the output needs (-1: embeddings; 2k: attention of layer k; 2k+1: its MLP).

    Selects get the stage at which their inputs are ready (they live inside the heads that use them).
    """
    ops = graph.schedule([output])
    stage: dict[int, int] = {}
    fusable: set[int] = set()  # ops computed by an MLP that a following map can fuse into
    for op in ops:
        ready = [stage[i] for i in op.inputs]
        if op.kind in ("tokens", "indices", "constant"):
            stage[op.id] = -1
        elif op.kind == "select":
            stage[op.id] = max(ready, default=-1)
        elif op.kind in MLP_KINDS or is_causal_length(graph, op, causal):
            if is_causal_length(graph, op, causal):
                need = 0  # indices is an input
            else:
                need = max((stage[i] if i in fusable else stage[i] + 1 for i in op.inputs), default=0)
            stage[op.id] = max(1, need if need % 2 == 1 else need + 1)
            fusable.add(op.id)
        elif op.kind == "aggregate":
            need = max(ready) + 1
            stage[op.id] = max(0, need if need % 2 == 0 else need + 1)
        elif op.kind == "selector_width":
            need = max(ready) + 1
            attention = max(0, need if need % 2 == 0 else need + 1)
            stage[op.id] = attention + 1
        else:  # pragma: no cover - every kind is handled above
            raise AssertionError(op.kind)
    return stage, ops


def measure(program: Any, output: str | None = None) -> Measure:
    """Program length and layers × heads of a program (its output, or the named s-op)."""
    graph: Graph = program.graph
    causal = program.causal
    out = program.output_id(output)
    stage, ops = schedule(graph, out, causal)
    by_kind = {k: 0 for k in ("map", "zipmap", "select", "aggregate", "selector_width", "length")}
    used_selects: set[int] = set()
    layers: list[Layer] = []

    def layer(k: int) -> Layer:
        while len(layers) <= k:
            layers.append(Layer(len(layers)))
        return layers[k]

    for op in ops:
        if is_causal_length(graph, op, causal):
            by_kind["length"] += 1
            layer(stage[op.id] // 2).mlp.append(op.id)
        elif op.kind in MLP_KINDS:
            by_kind[op.kind] += 1
            layer(stage[op.id] // 2).mlp.append(op.id)
        elif op.kind == "aggregate":
            by_kind["aggregate"] += 1
            used_selects.add(op.inputs[0])
            layer(stage[op.id] // 2).heads.append(op.id)
        elif op.kind == "selector_width":
            by_kind["selector_width"] += 1
            used_selects.add(op.inputs[0])
            k = stage[op.id] // 2
            layer(k).heads.append(op.id)
            layer(k).mlp.append(op.id)
    by_kind["select"] = len(used_selects)
    attention = by_kind["aggregate"] + by_kind["selector_width"]
    mlp = by_kind["map"] + by_kind["zipmap"] + by_kind["length"] + by_kind["selector_width"]
    primitive = by_kind["map"] + by_kind["zipmap"] + by_kind["length"] + len(used_selects) + attention
    if program.filename in program.sources:
        statements = count_statements(program.sources[program.filename], program.filename)
    else:
        statements = count_statements(program.source, program.filename)
    return Measure(
        file=program.filename,
        output=output or program.output,
        mode=program.mode,
        ops=primitive,
        attention_ops=attention,
        selects=len(used_selects),
        mlp_ops=mlp,
        statements=statements,
        layers=len(layers),
        heads_per_layer=[len(layer_.heads) for layer_ in layers],
        mlps_per_layer=[len(layer_.mlp) for layer_ in layers],
        by_kind=by_kind,
        schedule=layers,
        stage=stage,
    )
