"""The abstract domain of the kind analysis: constants, finite values, and numbers piecewise linear in counts.

`kinds.py` gives every s-op one of these values; the module docstring there says what each means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..ir import Graph


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


def make_lin(terms: dict[Atom, Any], offset: Any, denom: Lin | None) -> Lin:
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
        return make_lin({a: _cmul(sign, c) for a, c in y.terms}, offset, y.denom)
    if x.denom != y.denom:
        return None
    terms = dict(x.terms)
    for a, c in y.terms:
        terms[a] = _cadd(terms.get(a, Fraction(0)), _cmul(sign, c))
    return make_lin(terms, offset, x.denom)


def lin_scale(x: Lin, c: Any) -> Lin:
    return make_lin({a: _cmul(c, k) for a, k in x.terms}, _cmul(c, x.offset), x.denom)


def lin_sided(x: Lin, side: str) -> Lin:
    def tag(a: Atom) -> Atom:
        return a if a == ONE else Atom(a.cat, a.ref, side)

    denom = lin_sided(x.denom, side) if x.denom is not None else None
    return make_lin({tag(a): c for a, c in x.terms}, x.offset, denom)


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

MAX_ALTS = 64


def as_fraction(value: Any) -> Any:
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
        f = as_fraction(v.value)
        return None if f is None else frozenset({Lin((), f)})
    return None


def num_from_alts(alts: set[Lin]) -> AV:
    """A Num, or a Const/Fin when no alternative has an atom left."""
    if all(not alt.terms for alt in alts):
        offsets = {alt.offset for alt in alts}
        if len(offsets) == 1 and FIN not in offsets:
            value = offsets.pop()
            return Const(int(value) if value.denominator == 1 else float(value))
        return Fin()
    return Num(frozenset(alts))
