"""Value-kind inference over the s-op graph (DESIGN §4), and the findings the fragment rules are made of.

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

# ---- the abstract domain ----------------------------------------------------------------------------


class _Fin:
    """A coefficient or offset that is a finite-valued s-op rather than a number."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "FIN"

    def __reduce__(self):
        return (_Fin, ())


FIN = _Fin()


def _cadd(a: Any, b: Any) -> Any:
    return FIN if a is FIN or b is FIN else a + b


def _cmul(a: Any, b: Any) -> Any:
    if (a is not FIN and a == 0) or (b is not FIN and b == 0):
        return Fraction(0)
    return FIN if a is FIN or b is FIN else a * b


@dataclass(frozen=True, order=True)
class Atom:
    """A quantity that grows with the input's length.

    cat: "pos" (the position i), "len" (the whole input's length, bidirectional), "width" (a selector's
    width; ref = the select), "sum" (the sum a numerical mean divides; ref = the aggregate), "moved" (a
    count an aggregate read from other positions; ref = the aggregate), "one" (the constant 1 inside a
    ratio's numerator). side: "k" or "q" inside a select predicate (evaluated at the key / the query).
    """

    cat: str
    ref: int = -1
    side: str = ""

    def text(self, graph: Graph | None = None) -> str:
        if self.cat == "pos":
            base = "j" if self.side == "k" else "i" if self.side == "q" else "i"
            return base
        if self.cat == "len":
            return "n"
        if self.cat == "one":
            return "1"
        suffix = f"@{self.side}" if self.side else ""
        if graph is None:
            return f"{self.cat}{self.ref}{suffix}"
        if self.cat == "width":  # name the count by the selector width that computes it, if it has a name
            for user in sorted(graph.nx.successors(self.ref)):
                if graph.op(user).kind == "selector_width" and graph.op(user).names:
                    return graph.op(user).names[0] + suffix
            return f"#{graph.op(self.ref).label}{suffix}"
        prefix = {"sum": "Σ", "moved": "moved:"}[self.cat]
        return f"{prefix}{graph.op(self.ref).label}{suffix}"


ONE = Atom("one")


@dataclass(frozen=True)
class Lin:
    """Σ coef·atom / denom + offset (denom None: no division)."""

    terms: tuple[tuple[Atom, Any], ...] = ()
    offset: Any = Fraction(0)
    denom: Lin | None = None

    @property
    def atoms(self) -> tuple[Atom, ...]:
        return tuple(a for a, _ in self.terms)

    def all_atoms(self) -> set[Atom]:
        found = set(self.atoms)
        if self.denom is not None:
            found |= set(self.denom.atoms)
        return found - {ONE}

    def is_simple_value(self) -> bool:
        """One atom with coefficient 1 plus a constant, or a constant: a shifted index value."""
        if self.offset is FIN:
            return not self.terms
        if not self.terms:
            return True
        return len(self.terms) == 1 and self.terms[0][1] == 1 and self.terms[0][0] != ONE

    def text(self, graph: Graph | None = None) -> str:
        parts = []
        for atom, coef in self.terms:
            name = atom.text(graph)
            if coef is FIN:
                parts.append(f"f·{name}")
            elif coef == 1:
                parts.append(name)
            elif coef == -1:
                parts.append(f"-{name}")
            else:
                parts.append(f"{_numtext(coef)}·{name}")
        body = " + ".join(parts).replace("+ -", "- ") or "0"
        if self.denom is not None:
            body = f"({body}) / ({self.denom.text(graph)})"
        if self.offset is FIN:
            body += " + f"
        elif self.offset != 0:
            body += f" {'-' if self.offset < 0 else '+'} {_numtext(abs(self.offset))}"
        return body


def _numtext(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else str(float(x))


def _make_lin(terms: dict[Atom, Any], offset: Any, denom: Lin | None) -> Lin:
    kept = tuple(sorted((a, c) for a, c in terms.items() if c is FIN or c != 0))
    if not kept and denom is not None:
        denom = None
    return Lin(kept, offset, denom)


def lin_atom(atom: Atom, offset: Any = 0) -> Lin:
    return Lin(((atom, Fraction(1)),), Fraction(offset))


def lin_add(x: Lin, y: Lin, sign: int = 1) -> Lin | None:
    """x + sign·y, or None when the denominators differ (not linear in the counts)."""
    offset = _cadd(x.offset, _cmul(sign, y.offset))
    if not y.terms:
        return Lin(x.terms, offset, x.denom)
    if not x.terms:
        return _make_lin({a: _cmul(sign, c) for a, c in y.terms}, offset, y.denom)
    if x.denom != y.denom:
        return None
    terms = dict(x.terms)
    for a, c in y.terms:
        terms[a] = _cadd(terms.get(a, Fraction(0)), _cmul(sign, c))
    return _make_lin(terms, offset, x.denom)


def lin_scale(x: Lin, c: Any) -> Lin:
    return _make_lin({a: _cmul(c, k) for a, k in x.terms}, _cmul(c, x.offset), x.denom)


def lin_sided(x: Lin, side: str) -> Lin:
    def tag(a: Atom) -> Atom:
        return a if a == ONE else Atom(a.cat, a.ref, side)

    denom = lin_sided(x.denom, side) if x.denom is not None else None
    return _make_lin({tag(a): c for a, c in x.terms}, x.offset, denom)


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Fin:
    periods: frozenset[int] = frozenset()
    positional: bool = False  # a function of the position only


@dataclass(frozen=True)
class Num:
    alts: frozenset[Lin]

    def atoms(self) -> set[Atom]:
        found: set[Atom] = set()
        for alt in self.alts:
            found |= alt.all_atoms()
        return found

    @property
    def is_ratio(self) -> bool:
        return any(alt.denom is not None for alt in self.alts)

    def is_simple(self) -> bool:
        return all(alt.is_simple_value() for alt in self.alts)

    def text(self, graph: Graph | None = None) -> str:
        texts = sorted(alt.text(graph) for alt in self.alts)
        return texts[0] if len(texts) == 1 else "one of " + " | ".join(texts)


class _Other:
    def __repr__(self) -> str:
        return "OTHER"


OTHER = _Other()

AV = Any  # Const | Fin | Num | OTHER

_MAX_ALTS = 64


def _fraction(value: Any) -> Any:
    if isinstance(value, bool):
        return Fraction(int(value))
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
            return FIN
        return Fraction(value)
    return None


def to_alts(v: AV) -> frozenset[Lin] | None:
    if isinstance(v, Num):
        return v.alts
    if isinstance(v, Fin):
        return frozenset({Lin((), FIN)})
    if isinstance(v, Const):
        f = _fraction(v.value)
        return None if f is None else frozenset({Lin((), f)})
    return None


def _num(alts: set[Lin]) -> AV:
    """A Num, or a Const/Fin when no alternative has an atom left."""
    if all(not alt.terms for alt in alts):
        offsets = {alt.offset for alt in alts}
        if len(offsets) == 1 and FIN not in offsets:
            value = offsets.pop()
            return Const(int(value) if value.denominator == 1 else float(value))
        return Fin()
    return Num(frozenset(alts))


# ---- evaluating a scalar function abstractly -------------------------------------------------------


@dataclass
class Event:
    """Something a scalar function does that some fragment forbids: code and what it does, in words."""

    code: str
    message: str
    data: dict = field(default_factory=dict)


def _truthy(value: Any) -> bool:
    return bool(value)


class FnEval:
    """Evaluates a `scalar.Fn` over abstract arguments, collecting `Event`s."""

    def __init__(self, args: list[AV]):
        self.args = args
        self.events: list[Event] = []
        self.pointer = False  # an `==` between counts/positions was seen (a select that points at a position)

    def event(self, code: str, message: str, **data: Any) -> None:
        if not any(e.code == code and e.message == message for e in self.events):
            self.events.append(Event(code, message, dict(data)))

    def ev(self, fn: scalar.Fn) -> AV:
        head = fn[0]
        if head == "arg":
            return self.args[fn[1]]
        if head == "lit":
            return Const(scalar.lit_value(fn))
        if head == "if":
            cond, a, b = self.ev(fn[1]), self.ev(fn[2]), self.ev(fn[3])
            if isinstance(cond, Const):
                return a if _truthy(cond.value) else b
            return self.join(a, b)
        vals = [self.ev(f) for f in fn[1:]]
        if any(v is OTHER for v in vals):
            return OTHER
        if head in scalar.COMPARISONS:
            return self.compare(head, vals[0], vals[1])
        if not any(isinstance(v, Num) for v in vals):
            return self.finite(fn, head, vals)
        return self.numeric(head, vals)

    # -- finite values ----------------------------------------------------------------------------

    def finite(self, fn: scalar.Fn, head: str, vals: list[AV]) -> AV:
        if all(isinstance(v, Const) for v in vals):
            try:
                return Const(scalar.apply(fn, ()))
            except Exception:  # noqa: BLE001 - the evaluator reports it on real inputs
                return Fin()
        periods = frozenset().union(*(v.periods for v in vals if isinstance(v, Fin)))
        positional = all(isinstance(v, Const) or v.positional for v in vals)
        return Fin(periods, positional)

    def join(self, a: AV, b: AV) -> AV:
        if a is OTHER or b is OTHER:
            return OTHER
        if not isinstance(a, Num) and not isinstance(b, Num):
            if isinstance(a, Const) and isinstance(b, Const) and a == b:
                return a
            parts = [v for v in (a, b) if isinstance(v, Fin)]
            periods = frozenset().union(*(v.periods for v in parts)) if parts else frozenset()
            return Fin(periods, all(v.positional for v in parts))
        alts_a, alts_b = to_alts(a), to_alts(b)
        if alts_a is None or alts_b is None:
            return OTHER
        return self.limit(set(alts_a) | set(alts_b))

    def limit(self, alts: set[Lin]) -> AV:
        if len(alts) > _MAX_ALTS:
            self.event("count-map", "combines counts through too many cases to analyse")
            return OTHER
        return _num(alts)

    # -- comparisons -----------------------------------------------------------------------------

    def compare(self, op: str, a: AV, b: AV) -> AV:
        if not isinstance(a, Num) and not isinstance(b, Num):
            if isinstance(a, Const) and isinstance(b, Const):
                try:
                    return Const(scalar.apply((op, scalar.lit(a.value), scalar.lit(b.value)), ()))
                except Exception:  # noqa: BLE001
                    return Fin()
            parts = [v for v in (a, b) if isinstance(v, Fin)]
            return Fin(frozenset().union(*(v.periods for v in parts)), all(v.positional for v in parts))
        alts_a, alts_b = to_alts(a), to_alts(b)
        if alts_a is None or alts_b is None:
            return Fin()
        positional = all(v.positional for v in (a, b) if isinstance(v, Fin))
        for la, lb in itertools.product(alts_a, alts_b):
            diff = lin_add(la, lb, -1)
            if diff is None:
                self.event("ratio", f"compares {_ratio_words(la, lb)}")
                if not (la.is_simple_value() and lb.is_simple_value()):
                    self.event("rl-compare", "compares values built by arithmetic on counts or positions")
                continue
            if not _simple_comparison(diff):
                self.event("rl-compare", "compares values built by arithmetic on counts or positions")
            if op == "==" and len({atom.side for atom in diff.all_atoms()}) == 2:
                self.pointer = True  # key and query positions/counts equal: selects one key, in practice
            if any(a_.cat != "pos" for a_ in diff.all_atoms()):
                positional = False
        return Fin(frozenset(), positional)

    # -- numbers ---------------------------------------------------------------------------------

    def numeric(self, head: str, vals: list[AV]) -> AV:
        if head in ("+", "-"):
            return self.add(vals[0], vals[1], 1 if head == "+" else -1)
        if head == "neg":
            return self.limit({lin_scale(x, Fraction(-1)) for x in vals[0].alts})
        if head == "*":
            return self.multiply(vals[0], vals[1])
        if head == "/":
            return self.divide(vals[0], vals[1])
        if head == "//":
            if isinstance(vals[1], Const) and vals[1].value == 1 and isinstance(vals[0], Num):
                return vals[0]
            self.event("count-map", "integer-divides a count" if isinstance(vals[0], Num) else "divides by a count")
            return OTHER
        if head == "%":
            return self.modulo(vals[0], vals[1])
        if head in ("and", "or", "not", "indicator"):
            return Fin()
        if head == "round":
            x = vals[0]
            if all(alt.denom is None and _integral(alt) for alt in x.alts):
                return x
            self.event("count-map", "rounds a ratio of counts")
            return OTHER
        if head == "abs":
            alts = set(vals[0].alts) | {lin_scale(x, Fraction(-1)) for x in vals[0].alts}
            return self.limit(alts)
        if head in ("min", "max"):
            alts_a, alts_b = to_alts(vals[0]), to_alts(vals[1])
            if alts_a is None or alts_b is None:
                return OTHER
            return self.limit(set(alts_a) | set(alts_b))
        if head == "index":
            self.event("count-map", "looks a count up in a table")
            return OTHER
        return OTHER

    def add(self, a: AV, b: AV, sign: int) -> AV:
        alts_a, alts_b = to_alts(a), to_alts(b)
        if alts_a is None or alts_b is None:
            return OTHER
        result = set()
        for la, lb in itertools.product(alts_a, alts_b):
            s = lin_add(la, lb, sign)
            if s is None:
                self.event(
                    "ratio-sum",
                    f"{'adds' if sign > 0 else 'subtracts'} {_ratio_words(la, lb)} (an aggregate that retrieves "
                    "one number is a mean unless marked categorical(...))",
                )
                return OTHER
            result.add(s)
        return self.limit(result)

    def multiply(self, a: AV, b: AV) -> AV:
        if not isinstance(a, Num):
            a, b = b, a
        if not isinstance(b, Num):  # a count times a constant or a finite value
            alts_b = to_alts(b)
            if alts_b is None:
                return OTHER
            return self.limit({lin_scale(x, y.offset) for x in a.alts for y in alts_b})
        # a mean times the count it divides by is the sum it averaged
        for ratio, other in ((a, b), (b, a)):
            if len(ratio.alts) == 1 and len(other.alts) == 1:
                (r,), (o,) = tuple(ratio.alts), tuple(other.alts)
                if r.denom is not None and o.denom is None and r.denom == o:
                    self.event("rl-arith", "multiplies a mean by a count")
                    numerator = Lin(r.terms, Fraction(0), None)
                    total = lin_add(_expand_one(numerator, o), lin_scale(o, r.offset))
                    if total is not None:
                        return _num({total})
        self.event("count-map", "multiplies two counts")
        return OTHER

    def divide(self, a: AV, b: AV) -> AV:
        if not isinstance(b, Num):
            if isinstance(b, Const):
                f = _fraction(b.value)
                if f is None or f is FIN or f == 0:
                    return OTHER
                return self.limit({lin_scale(x, 1 / f) for x in a.alts})
            return self.limit({lin_scale(x, FIN) for x in a.alts})
        alts_a = to_alts(a)
        if alts_a is not None and len(b.alts) == 1:
            (d,) = tuple(b.alts)
            if d.denom is None and d.terms and all(x.denom is None for x in alts_a):
                self.event("rl-arith", "divides by a count")
                result = set()
                for x in alts_a:
                    terms = dict(x.terms)
                    if x.offset is FIN or x.offset != 0:
                        terms[ONE] = x.offset
                    result.add(_make_lin(terms, Fraction(0), d))
                return self.limit(result)
        self.event("count-map", "divides by a count")
        return OTHER

    def modulo(self, a: AV, b: AV) -> AV:
        if isinstance(a, Num) and isinstance(b, Const) and isinstance(b.value, int) and b.value > 0:
            m = b.value
            positional = all(
                alt.denom is None
                and all(atom.cat == "pos" and coef is not FIN and coef.denominator == 1 for atom, coef in alt.terms)
                and (alt.offset is FIN or alt.offset.denominator == 1)
                for alt in a.alts
            )
            if positional:
                self.event("periodic", f"takes the position modulo {m}", period=m)
                self.event("rl-arith", f"takes the position modulo {m} (index arithmetic on an unbounded range)")
                return Fin(frozenset({m}), all(alt.offset is not FIN for alt in a.alts))
            self.event("count-map", f"takes a count modulo {m}")
            return OTHER
        self.event("count-map", "takes a remainder involving a count")
        return OTHER


def _expand_one(numerator: Lin, denom: Lin) -> Lin:
    """A numerator with the `one` atom written out: `one` stands for the denominator after multiplying."""
    terms = {a: c for a, c in numerator.terms if a != ONE}
    base = _make_lin(terms, Fraction(0), None)
    one = dict(numerator.terms).get(ONE)
    if one is None:
        return base
    return lin_add(base, lin_scale(denom, one)) or base


def _integral(x: Lin) -> bool:
    ok = all(c is FIN or c.denominator == 1 for _, c in x.terms)
    return ok and (x.offset is FIN or x.offset.denominator == 1)


def _simple_comparison(diff: Lin) -> bool:
    """RASP-L: at most two index values with coefficients +1 and -1 (a comparison, shifted by a constant)."""
    coefs = [c for a, c in diff.terms if a != ONE]
    if any(c is FIN for c in coefs) or any(a == ONE for a, _ in diff.terms):
        return False
    if len(coefs) > 2 or any(abs(c) != 1 for c in coefs):
        return False
    return len(coefs) < 2 or coefs[0] == -coefs[1]


def _ratio_words(a: Lin, b: Lin) -> str:
    if a.denom is not None and b.denom is not None:
        return "ratios of counts over different denominators"
    return "a ratio of counts with a count"


# ---- the per-op analysis ---------------------------------------------------------------------------


@dataclass
class Finding:
    """An op does something some fragment forbids (or needs to be told about, like a local offset)."""

    op: int
    code: str
    message: str
    origin: int | None = None  # for index-arithmetic findings reported at a use: the op that built the value
    data: dict = field(default_factory=dict)


@dataclass
class SelectInfo:
    kind: str  # "finite" (a finite case split), "local", "nonlocal", "count"
    offsets: tuple[int, ...] = ()
    pointer: bool = False  # selects by an equality of positions/counts (one position, in practice)
    detail: str = ""


KIND_NAMES = ("constant", "finite", "periodic", "count", "ratio", "other", "selector")


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


class KindAnalysis:
    """Abstract values of every op the output needs, plus the findings of the fragment rules."""

    def __init__(self, graph: Graph, output: int | list[int], causal: bool):
        self.graph = graph
        outputs = output if isinstance(output, list) else [output]
        self.output = outputs[-1]
        self.causal = causal
        self.order = [op.id for op in graph.schedule(outputs)]
        self.values: dict[int, AV] = {}
        self.selects: dict[int, SelectInfo] = {}
        self.findings: list[Finding] = []
        self.nonsimple_origin: dict[int, int] = {}  # op → the op that first built its index arithmetic
        for op_id in self.order:
            op = graph.op(op_id)
            self.values[op_id] = getattr(self, f"_{op.kind}")(op)
        out = self.values.get(self.output)
        if isinstance(out, Num) and not out.is_simple() and not self._tainted(out):
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
                continue
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

    def _select(self, op: Op) -> AV:
        args = [self._sided(self.values[i], "k") for i in op.keys]
        args += [self._sided(self.values[i], "q") for i in op.queries]
        ev = FnEval(args)
        leaves: list[Any] = []
        formula = self._formula(op.fn, ev, leaves)
        tainted = any(self._tainted(a) for a in args)
        self.record_events(op, ev.events, tainted)
        bad = [leaf for leaf in leaves if leaf[0] == "bad"]
        positional = [leaf for leaf in leaves if leaf[0] == "pos"]
        pointer = ev.pointer
        if bad:
            parts = []
            for what in dict.fromkeys(leaf[1] for leaf in bad):
                relations = [leaf[2] for leaf in bad if leaf[1] == what and leaf[2]]
                parts.append(f"{what} ({'; '.join(relations)})" if relations else what)
            detail = "; ".join(parts)
            info = SelectInfo("count", pointer=pointer, detail=detail)
            self.add(op.id, "sel-count", detail)
        elif positional:
            info = self._locality(op, formula, leaves, positional, pointer)
        else:
            info = SelectInfo("finite", pointer=pointer)
        self.selects[op.id] = info
        return Fin()

    def _sided(self, value: AV, side: str) -> AV:
        if isinstance(value, Num):
            return Num(frozenset(lin_sided(x, side) for x in value.alts))
        return value

    def _formula(self, fn: scalar.Fn, ev: FnEval, leaves: list) -> tuple:
        """The predicate as a Boolean formula over leaves: finite facts, relative positions, bad comparisons."""
        head = fn[0]
        if head in ("and", "or"):
            return (head, self._formula(fn[1], ev, leaves), self._formula(fn[2], ev, leaves))
        if head == "not":
            return ("not", self._formula(fn[1], ev, leaves))
        if head == "if":
            c = self._formula(fn[1], ev, leaves)
            a, b = self._formula(fn[2], ev, leaves), self._formula(fn[3], ev, leaves)
            return ("or", ("and", c, a), ("and", ("not", c), b))
        if head in scalar.COMPARISONS:
            a, b = ev.ev(fn[1]), ev.ev(fn[2])
            ev.compare(head, a, b)
            return self._leaf(head, a, b, leaves)
        value = ev.ev(fn)
        if isinstance(value, Const):
            return ("const", _truthy(value.value))
        if isinstance(value, Num):
            return self._leaf("!=", value, Const(0), leaves)
        return self._var(leaves)

    @staticmethod
    def _var(leaves: list) -> tuple:
        leaves.append(("var",))
        return ("leaf", len(leaves) - 1)

    def _leaf(self, op: str, a: AV, b: AV, leaves: list) -> tuple:
        if isinstance(a, Const) and isinstance(b, Const):
            try:
                return ("const", bool(scalar.apply((op, scalar.lit(a.value), scalar.lit(b.value)), ())))
            except Exception:  # noqa: BLE001
                return self._var(leaves)
        if not (isinstance(a, Num) or isinstance(b, Num)) or a is OTHER or b is OTHER:
            return self._var(leaves)
        alts_a, alts_b = to_alts(a), to_alts(b)
        if alts_a is None or alts_b is None:
            return self._var(leaves)
        diffs = [lin_add(x, y, -1) for x in alts_a for y in alts_b]
        if any(d is None for d in diffs):
            leaves.append(("bad", "compares ratios of counts over different denominators", ""))
            return ("leaf", len(leaves) - 1)
        atoms = set().union(*(d.all_atoms() for d in diffs))
        if any(atom.cat == "moved" for atom in atoms):
            return self._var(leaves)  # already reported where the count was moved
        sides = {atom.side for atom in atoms}
        if len(sides) < 2:
            return self._var(leaves)  # a count compared at one position only: a finite fact about it
        if len(diffs) == 1:
            (d,) = diffs
            coefs = dict(d.terms)
            if (
                set(coefs) == {Atom("pos", -1, "k"), Atom("pos", -1, "q")}
                and d.denom is None
                and d.offset is not FIN
                and coefs[Atom("pos", -1, "q")] is not FIN
                and coefs[Atom("pos", -1, "q")] == -coefs[Atom("pos", -1, "k")]
            ):
                leaves.append(("pos", op, coefs[Atom("pos", -1, "q")], d.offset))
                return ("leaf", len(leaves) - 1)
        relation = " or ".join(f"{d.text(self.graph)} {op} 0" for d in diffs)
        if atoms <= {Atom("pos", -1, "k"), Atom("pos", -1, "q")}:
            leaves.append(("bad", "relates key and query positions by more than their distance", relation))
        else:
            leaves.append(("bad", "compares counts or positions of the key j with those of the query i", relation))
        return ("leaf", len(leaves) - 1)

    def _locality(self, op: Op, formula: tuple, leaves: list, positional: list, pointer: bool) -> SelectInfo:
        variables = [i for i, leaf in enumerate(leaves) if leaf[0] == "var"]
        bound = 2
        for _, _, coef, offset in positional:
            bound = max(bound, math.ceil(abs(offset / coef)) + 2)
        if len(variables) > 14:
            detail = "a positional predicate too large to analyse"
            self.add(op.id, "sel-nonlocal", detail)
            return SelectInfo("nonlocal", pointer=pointer, detail=detail)

        cache: dict[tuple, bool] = {}

        def satisfiable(d: int) -> bool:
            # the answer depends on d only through the truth of the positional leaves
            key = tuple(_compare(leaf[1], leaf[2] * d + leaf[3]) for leaf in positional)
            if key not in cache:
                cache[key] = any(
                    _holds(formula, leaves, dict(zip(variables, bits)), d)
                    for bits in itertools.product((False, True), repeat=len(variables))
                )
            return cache[key]

        far = [bound] if self.causal else [bound, -bound]
        if any(satisfiable(d) for d in far):
            detail = "relates key and query positions at unbounded distance (i - j is not bounded)"
            self.add(op.id, "sel-nonlocal", detail)
            return SelectInfo("nonlocal", pointer=pointer, detail=detail)
        low = 0 if self.causal else -bound
        offsets = tuple(d for d in range(low, bound + 1) if satisfiable(d))
        if set(offsets) <= {0}:
            return SelectInfo("finite", offsets, pointer=True)  # only j = i: no positional information
        shown = ", ".join(_offset_text(d) for d in offsets)
        self.add(op.id, "sel-local", f"selects by relative position ({shown})", offsets=offsets)
        return SelectInfo("local", offsets, pointer=True)

    def _aggregate(self, op: Op) -> AV:
        sel, values = op.inputs
        v = self.values[values]
        info = self.selects.get(sel, SelectInfo("finite"))
        if v is OTHER:
            return OTHER
        if isinstance(v, Num):
            if not self._tainted(v):
                self.add(op.id, "move-count", f"aggregates a count or position value ({v.text(self.graph)})")
                if not v.is_simple():
                    origin = self.nonsimple_origin.get(values, values)
                    self.add(op.id, "rl-move", "aggregates a value built by arithmetic on counts or positions", origin)
            return Num(frozenset({lin_atom(Atom("moved", op.id))}))
        periods = v.periods if isinstance(v, Fin) else frozenset()
        if op.reduce == "mean":
            vtype = self.graph.op(values).vtype
            numeric = vtype in scalar.NUMBER_TYPES
            if op.encoding == "numerical" or (numeric and not info.pointer and op.encoding != "categorical"):
                ratio = Lin(((Atom("sum", op.id), Fraction(1)),), Fraction(0), self.width(sel))
                return Num(frozenset({ratio}))
        if isinstance(v, Const) and v.value == op.value:
            return v
        return Fin(periods, False)

    def _selector_width(self, op: Op) -> AV:
        return Num(frozenset({self.width(op.inputs[0])}))


def _offset_text(d: int) -> str:
    return "i" if d == 0 else f"i-{d}" if d > 0 else f"i+{-d}"


def _compare(op: str, x: Fraction, y: int = 0) -> bool:
    return bool(scalar.SCALAR_OPS[op](x, y))


def _holds(formula: tuple, leaves: list, assignment: dict[int, bool], d: int) -> bool:
    head = formula[0]
    if head == "const":
        return formula[1]
    if head == "and":
        return _holds(formula[1], leaves, assignment, d) and _holds(formula[2], leaves, assignment, d)
    if head == "or":
        return _holds(formula[1], leaves, assignment, d) or _holds(formula[2], leaves, assignment, d)
    if head == "not":
        return not _holds(formula[1], leaves, assignment, d)
    leaf = leaves[formula[1]]
    if leaf[0] == "var":
        return assignment[formula[1]]
    if leaf[0] == "pos":
        _, op, coef, offset = leaf
        return _compare(op, coef * d + offset)
    return True  # "bad" leaves are reported anyway


def infer_kinds(program: Any, output: str | None = None) -> dict[str, str]:
    """The value kind of every named s-op (only those `output` needs, when it is given): {name: kind}."""
    if output is None:
        ids = list(program.names.values())
        if not ids:
            return {}
    else:
        ids = [program._resolve(output)]
    analysis = KindAnalysis(program.graph, ids, program.causal)
    return {name: analysis.kind(i) for name, i in program.names.items() if i in analysis.values}
