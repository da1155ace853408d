"""Evaluating a scalar function (`scalar.Fn`) over abstract values, recording what it does that a fragment forbids."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .. import scalar
from .domain import (
    AV,
    FIN,
    MAX_ALTS,
    ONE,
    OTHER,
    Const,
    Fin,
    Lin,
    Num,
    as_fraction,
    lin_add,
    lin_scale,
    make_lin,
    num_from_alts,
    to_alts,
)


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
                return Const(scalar.apply((head, *(scalar.lit(v.value) for v in vals)), ()))
            except scalar.EvalProblem:  # the evaluator reports it on real inputs
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
        if len(alts) > MAX_ALTS:
            self.event("count-map", "combines counts through too many cases to analyse")
            return OTHER
        return num_from_alts(alts)

    # -- comparisons -----------------------------------------------------------------------------

    def compare(self, op: str, a: AV, b: AV) -> AV:
        if not isinstance(a, Num) and not isinstance(b, Num):
            if isinstance(a, Const) and isinstance(b, Const):
                try:
                    return Const(scalar.apply((op, scalar.lit(a.value), scalar.lit(b.value)), ()))
                except scalar.EvalProblem:
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
                    "one number is a mean unless it provably selects one position)",
                    means=_sum_refs(la) | _sum_refs(lb),
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
                        return num_from_alts({total})
        self.event("count-map", "multiplies two counts")
        return OTHER

    def divide(self, a: AV, b: AV) -> AV:
        if not isinstance(b, Num):
            if isinstance(b, Const):
                f = as_fraction(b.value)
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
                    result.add(make_lin(terms, Fraction(0), d))
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


def _sum_refs(x: Lin) -> frozenset[int]:
    """The aggregates whose means a value divides by its count."""
    return frozenset(a.ref for a in x.all_atoms() | set(x.atoms) if a.cat == "sum")


def _expand_one(numerator: Lin, denom: Lin) -> Lin:
    """A numerator with the `one` atom written out: `one` stands for the denominator after multiplying."""
    terms = {a: c for a, c in numerator.terms if a != ONE}
    base = make_lin(terms, Fraction(0), None)
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
