"""Value-kind inference over the s-op graph (docs/fragments.md), and the findings the fragment rules are made of.

Every s-op gets an abstract value:

- `Const`: the same value at every position;
- `Fin`: values from a set that does not grow with the input's length (tokens, booleans, maps of finite
  values, comparisons of counts, aggregates that retrieve finite values). `Fin.periods` lists the moduli m
  of `indices % m` it was computed from; `Fin.positional` says it depends on positions only;
- `Num`: an unbounded number that is *piecewise linear in counts*: each alternative (a `Lin`) is
  `Σ coef·atom / denom + offset`. Atoms are the quantities that grow with length: the position (`indices`;
  causally `length` is `indices + 1`), the input length (bidirectional only), selector widths, the sums a
  numerical mean divides, and values an aggregate moved from other positions. A coefficient is a number or
  `FIN` (a finite value, e.g. `count * indicator(b)`, a finite case split). `min`, `max`, `abs` and
  conditionals give several alternatives;
- `OTHER`: anything else (an arbitrary map of a count, a product of counts, ...).

The kinds shown to the user follow from these: constant, finite, periodic (a function of `indices % m`
only), count (a `Num` without denominator), ratio (a `Num` divided by a count: numerical means and
`count / length`), other.

While it walks the graph the analysis records `Finding`s: an op does something a fragment may forbid
(a periodic position, a map of a count that is not linear, a selector that relates positions, an
aggregate that moves a count, index arithmetic). `fragments.py` turns them into verdicts. A finding is
recorded where the thing is first done; s-ops computed from an `OTHER` value are not reported again.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .. import scalar
from ..ir import Graph, Op
from .domain import AV, OTHER, Atom, Const, Fin, Lin, Num, lin_atom
from .scalar_eval import Event, FnEval
from .selectors import SelectInfo, SelectorAnalysis

# ---- the per-op analysis ---------------------------------------------------------------------------


@dataclass
class Finding:
    """An op does something some fragment forbids (or needs to be told about, like a local offset)."""

    op: int
    code: str
    message: str
    origin: int | None = None  # for index-arithmetic findings reported at a use: the op that built the value
    data: dict = field(default_factory=dict)


def kind_name(value: AV) -> str:
    if isinstance(value, Const):
        return "constant"
    if isinstance(value, Fin):
        return "periodic" if value.periods and value.positional else "finite"
    if isinstance(value, Num):
        if any(a.cat == "moved" for a in value.atoms()):
            return "other"
        return "ratio" if value.is_ratio else "count"
    return "other"


class KindAnalysis(SelectorAnalysis):
    """Abstract values of every op the output needs, plus the findings of the fragment rules."""

    def __init__(self, graph: Graph, output: int | list[int], causal: bool, vocab: Any = None):
        self.graph = graph
        self.vocab = None if vocab is None else frozenset(vocab)
        self.valsets: dict[int, frozenset | None] = {}  # the finite set of values an op can take, if known
        outputs = output if isinstance(output, list) else [output]
        self.output = outputs[-1]
        self.causal = causal
        self.order = [op.id for op in graph.schedule(outputs)]
        self.values: dict[int, AV] = {}
        self.selects: dict[int, SelectInfo] = {}
        self.expanded: dict[int, Op] = {}  # select → the select judged (finite shifts of positions case-split)
        self.findings: list[Finding] = []
        self.unproved_means: set[int] = set()  # means of values that may differ and be numbers (hint-free)
        self.nonsimple_origin: dict[int, int] = {}  # op → the op that first built its index arithmetic
        for op_id in self.order:
            op = graph.op(op_id)
            self.values[op_id] = getattr(self, f"_{op.kind}")(op)
            self.valsets[op_id] = value_set(self, op)
        out = self.values.get(self.output)
        if isinstance(out, Num) or (out is OTHER and self.valsets.get(self.output) is None):
            form = f"a count, not a finite value ({out.text(graph)})" if isinstance(out, Num) else "not a finite value"
            self.add(self.output, "output-count", f"the output is {form}")
        if isinstance(out, Num) and not out.is_simple():
            origin = self.nonsimple_origin.get(self.output, self.output)
            message = "the output is a value built by arithmetic on counts or positions"
            self.add(self.output, "rl-output", message, origin)

    # -- helpers --------------------------------------------------------------------------------

    def kind(self, op_id: int) -> str:
        if self.graph.op(op_id).kind == "select":
            return "selector"
        return kind_name(self.values[op_id])

    def add(self, op_id: int, code: str, message: str, origin: int | None = None, **data: Any) -> None:
        for f in self.findings:
            if f.op == op_id and f.code == code and f.message == message:
                return
        self.findings.append(Finding(op_id, code, message, origin, dict(data)))

    @staticmethod
    def _tainted(value: AV) -> bool:
        return value is OTHER or (isinstance(value, Num) and any(a.cat == "moved" for a in value.atoms()))

    def is_all_select(self, sel: Op) -> bool:
        return sel.fn == scalar.lit(True)

    def width(self, sel_id: int) -> Lin:
        sel = self.graph.op(sel_id)
        if self.is_all_select(sel):
            return lin_atom(Atom("pos"), 1) if self.causal else lin_atom(Atom("len"))
        return lin_atom(Atom("width", sel_id))

    def _origin_from_inputs(self, op: Op) -> int | None:
        for i in op.inputs:
            if i in self.nonsimple_origin:
                return self.nonsimple_origin[i]
        return None

    def record_events(self, op: Op, events: list[Event], tainted: bool) -> None:
        for e in events:
            if e.code.startswith("rl-"):
                origin = self._origin_from_inputs(op) if e.code == "rl-compare" else None
                self.add(op.id, e.code, e.message, origin)
            elif tainted and e.code in ("ratio", "ratio-sum", "count-map"):
                # C-RASP was told where the value was moved; RASP-L still sees index arithmetic on it
                self.add(op.id, "rl-arith", e.message)
            elif e.code == "ratio-sum" and e.data.get("means") and e.data["means"] <= self.unproved_means:
                self.add(op.id, "mean-sum", e.message)  # a mean RASP-L allows, but not a C-RASP count
            else:
                self.add(op.id, e.code, e.message, **e.data)

    # -- the primitives -----------------------------------------------------------------------------

    def _tokens(self, op: Op) -> AV:
        return Fin()

    def _indices(self, op: Op) -> AV:
        return Num(frozenset({lin_atom(Atom("pos"))}))

    def _constant(self, op: Op) -> AV:
        return Const(op.value)

    def _map(self, op: Op) -> AV:
        args = [self.values[i] for i in op.inputs]
        ev = FnEval(args)
        result = ev.ev(op.fn)
        tainted = any(self._tainted(a) for a in args)
        self.record_events(op, ev.events, tainted)
        if isinstance(result, Num) and not result.is_simple():
            self.nonsimple_origin[op.id] = self._origin_from_inputs(op) or op.id
        return result

    _zipmap = _map

    def _aggregate(self, op: Op) -> AV:
        sel, values = op.inputs
        v = self.values[values]
        info = self.selects.get(sel, SelectInfo("finite"))
        if v is OTHER:
            return OTHER
        if isinstance(v, Num):
            if not self._tainted(v):
                self.add(op.id, "move-count", f"aggregates a count or position value ({v.text(self.graph)})")
            if not v.is_simple():  # RASP-L: an index value read through an aggregate is still an index value
                origin = self.nonsimple_origin.get(values, values)
                self.add(op.id, "rl-move", "aggregates a value built by arithmetic on counts or positions", origin)
            return Num(frozenset({lin_atom(Atom("moved", op.id))}))
        periods = v.periods if isinstance(v, Fin) else frozenset()
        if op.reduce == "mean" and not isinstance(v, Const):
            agree = info.at_most_one or self.values_agree(info, values)
            numeric = self.possibly_numeric(values)
            if numeric and not agree:
                if op.encoding == "categorical":
                    why = "the selector may select several positions whose values may differ and be numbers"
                    self.add(op.id, "hint", f"categorical(...) not proved: {why}, so this is a mean")
                self.unproved_means.add(op.id)
                ratio = Lin(((Atom("sum", op.id), Fraction(1)),), Fraction(0), self.width(sel))
                return Num(frozenset({ratio}))
        if isinstance(v, Const) and v.value == op.value:
            return v
        return Fin(periods, False)

    def possibly_numeric(self, op_id: int) -> bool:
        """Whether an op may carry numbers (a mean of them averages): known values, else its type."""
        values = self.valsets.get(op_id)
        if values is not None:
            return any(isinstance(x, (int, float)) for x in values)
        return self.graph.op(op_id).vtype != "str"

    def values_agree(self, info: SelectInfo, values: int) -> bool:
        """The selected values all equal one query value: the select equates key s-ops with query s-ops, and the
        aggregated s-op is a function of those key s-ops only, so every selected key carries the same value."""
        keys = {key for key, _ in info.equal_pairs}
        return bool(keys) and self._determined_by(values, keys)

    def _determined_by(self, op_id: int, keys: set[int]) -> bool:
        op = self.graph.op(op_id)
        if op_id in keys or op.kind == "constant":
            return True
        return op.kind in ("map", "zipmap") and all(self._determined_by(i, keys) for i in op.inputs)

    def _selector_width(self, op: Op) -> AV:
        return Num(frozenset({self.width(op.inputs[0])}))


MAX_VALUES = 256


def value_set(analysis: KindAnalysis, op: Op) -> frozenset | None:
    """The values an op can take when the analysis can list them (tokens from the vocabulary, constants, maps
    of listed values, retrievals), else None."""
    sets = analysis.valsets
    if op.kind == "tokens":
        return analysis.vocab
    if op.kind == "constant":
        return frozenset({scalar._hashable(op.value)}) if _listable(op.value) else None
    if op.kind in ("map", "zipmap"):
        inputs = [sets.get(i) for i in op.inputs]
        if op.vtype == "bool":
            return frozenset({False, True})
        if any(s is None for s in inputs) or math.prod(len(s) for s in inputs) > 4096:
            return None
        found = set()
        for combo in itertools.product(*inputs):
            try:
                found.add(scalar.apply(op.fn, combo))
            except scalar.EvalProblem:  # a combination the program cannot meet, or an error it reports
                continue
        return frozenset(found) if len(found) <= MAX_VALUES and all(map(_listable, found)) else None
    if op.kind == "aggregate" and isinstance(analysis.values.get(op.id), Fin):
        source = sets.get(op.inputs[1])
        if source is None or not _listable(op.value):
            return None
        return source | {op.value}
    return None


def _listable(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str))


def infer_kinds(program: Any, output: str | None = None, vocab: Any = None) -> dict[str, str]:
    """The value kind of every named s-op (only those `output` needs, when it is given): {name: kind}."""
    if output is None:
        ids = list(program.names.values())
        if not ids:
            return {}
    else:
        ids = [program.output_id(output)]
    analysis = KindAnalysis(program.graph, ids, program.causal, vocab)
    return {name: analysis.kind(i) for name, i in program.names.items() if i in analysis.values}
