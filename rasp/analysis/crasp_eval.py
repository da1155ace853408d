"""C-RASP witnesses (Huang et al. 2025; Yang & Chiang 2024): the syntax, a printer, and an evaluator.

A witness is a list of definitions `name(i) := expr`, each a Boolean/finite-valued formula or a count, in
the fragment's own terms:

- `Q(i)`: the token at i; `"a"`, `3`: constants; `f(x(i), ...)`: a finite function of finite values (shorthand
  for the Boolean case split it stands for; its values are computed by the program's own scalar functions);
- `#[j ≤ i] φ(j, i)`: the counting term, φ a Boolean formula over finite values at j and at i (a case split on
  the finite values at i); `#[j = i - d] φ`: a local count (C-RASP[local]);
- `c1·C1 + ... + k`: linear combinations of counts; `C1 < C2` (any comparison): a Boolean;
  `b ? x : y`: a conditional; `i mod m`: a periodic position (C-RASP[periodic]);
- `Σ[j ≤ i, φ] v(j)`: shorthand for the linear combination `Σ_a a·#[j ≤ i] (φ ∧ v(j) = a)` over the finite
  values a of v; a mean is that sum over `#[j ≤ i] φ` (Huang et al. compare it with a constant c as
  `Σ_a (a - c)·#[...] > 0`; the analysis admits a mean only where such a comparison multiplies it out);
- `max{v(j) : j ≤ i, φ} else d` (also min, and `the` when the selected values agree): shorthand for the case
  split `v = a` iff `#[j ≤ i] (φ ∧ v(j) = a) > 0` over the finitely many values a of v.

The evaluator below follows these definitions position by position; it shares no code with `rasp.evaluate`.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .. import scalar, scalar_types

Expr = tuple  # ("tok", side) | ("lit", v) | ("ref", name, side) | ("fn", fn, text, args) | ("lin", terms, const)
# | ("cmp", op, a, b) | ("ite", c, a, b) | ("mod", m, shift) | ("count", pred, window)
# | ("pick", how, v, pred, window, default) | ("sum", v, pred, window) | ("mean", v, pred, window, default)


COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass
class Witness:
    fragment: str
    defs: list[tuple[str, Expr]]
    output: str

    def text(self) -> str:
        width = max(len(name) for name, _ in self.defs) + 3
        lines = [f"{(name + '(i)').ljust(width)} := {show(expr)}" for name, expr in self.defs]
        return "\n".join(lines + [f"output: {self.output}(i)"])

    def run(self, tokens: list) -> list:
        return evaluate(self, tokens)


# ---- printing ----------------------------------------------------------------------------------------


def show(e: Expr, side: str = "i") -> str:
    head = e[0]
    if head == "tok":
        return f"Q({e[1]})"
    if head == "lit":
        return repr(e[1])
    if head == "ref":
        return f"{e[1]}({e[2]})"
    if head == "fn":
        args = e[3]
        if e[1][0] == "==" and len(args) == 2 and {a[0] for a in args} == {"tok", "lit"}:
            letter = next(a[1] for a in args if a[0] == "lit")
            return f"Q_{letter}({next(a[1] for a in args if a[0] == 'tok')})"  # the paper's token predicate
        names = tuple(show(a, side) for a in e[3])
        return scalar_types.to_text(e[1], names)
    if head == "lin":
        parts = [
            show(t, side) if c == 1 else f"-{show(t, side)}" if c == -1 else f"{c}·{show(t, side)}" for c, t in e[1]
        ]
        if e[2] or not parts:
            parts.append(str(e[2]))
        return " + ".join(parts).replace("+ -", "- ")
    if head == "cmp":
        return f"({show(e[2], side)} {e[1]} {show(e[3], side)})"
    if head == "ite":
        return f"({show(e[1], side)} ? {show(e[2], side)} : {show(e[3], side)})"
    if head == "mod":
        return f"(i + {e[2]}) mod {e[1]}" if e[2] else f"i mod {e[1]}"
    if head == "count":
        pred = show(e[1], "j")
        return f"#[{_range(e[2])}] {pred if ' ' not in pred or pred.startswith('(') else f'({pred})'}"
    if head == "pick":
        _, how, value, pred, window, default = e
        return f"{how}{{{show(value, 'j')} : {_range(window)}, {show(pred, 'j')}}} else {default!r}"
    if head == "sum":
        return f"Σ[{_range(e[3])}, {show(e[2], 'j')}] {show(e[1], 'j')}"
    if head == "mean":
        count = show(("count", e[2], e[3]))
        return f"(Σ[{_range(e[3])}, {show(e[2], 'j')}] {show(e[1], 'j')}) / {count} (else {e[4]!r})"
    raise ValueError(head)


def _range(window: Any) -> str:
    if window is None:
        return "j ≤ i"
    return " or ".join(f"j = i - {d}" if d else "j = i" for d in window)


# ---- evaluation ------------------------------------------------------------------------------------


class _Run:
    def __init__(self, witness: Witness, tokens: list):
        self.tokens = tokens
        self.prefix: dict[int, tuple[Expr, list[int]]] = {}
        self.values: dict[str, list] = {}
        for name, expr in witness.defs:
            self.values[name] = [self.ev(expr, i, i) for i in range(len(tokens))]

    def ev(self, e: Expr, i: int, j: int) -> Any:
        """The value of e; `j` is the key position inside a count (equal to i outside)."""
        head = e[0]
        if head == "tok":
            return self.tokens[j if e[1] == "j" else i]
        if head == "lit":
            return e[1]
        if head == "ref":
            return self.values[e[1]][j if e[2] == "j" else i]
        if head == "fn":
            return scalar.apply(e[1], tuple(self.ev(a, i, j) for a in e[3]))
        if head == "lin":
            return sum(c * self.ev(t, i, j) for c, t in e[1]) + e[2]
        if head == "cmp":
            return COMPARE[e[1]](self.ev(e[2], i, j), self.ev(e[3], i, j))
        if head == "ite":
            return self.ev(e[2], i, j) if self.ev(e[1], i, j) else self.ev(e[3], i, j)
        if head == "mod":
            return (i + e[2]) % e[1]
        if head == "count":
            if e[2] is None and _key_only(e[1]):  # φ(j) alone: one prefix sum serves every i
                return self.prefix_counts(e[1])[i]
            return sum(1 for k in self.keys(i, e[2]) if self.ev(e[1], i, k))
        if head == "pick":
            return self.pick(e, i)
        if head == "sum":
            return self.total(e[1], e[2], e[3], i)
        if head == "mean":
            selected = sum(1 for k in self.keys(i, e[3]) if self.ev(e[2], i, k))
            return Fraction(self.total(e[1], e[2], e[3], i)) / selected if selected else e[4]
        raise ValueError(head)

    def prefix_counts(self, pred: Expr) -> list[int]:
        if id(pred) not in self.prefix:
            running, counts = 0, []
            for k in range(len(self.tokens)):
                running += bool(self.ev(pred, k, k))
                counts.append(running)
            self.prefix[id(pred)] = (pred, counts)  # the expression is kept so its id stays its own
        return self.prefix[id(pred)][1]

    @staticmethod
    def keys(i: int, window: Any) -> list[int]:
        if window is None:
            return list(range(i + 1))
        return [i - d for d in window if 0 <= i - d <= i]

    def total(self, value: Expr, pred: Expr, window: Any, i: int) -> Any:
        """Σ_a a·#[φ ∧ v(j) = a]: the sum of the selected values, as the linear combination of counts it is."""
        keys = [k for k in self.keys(i, window) if self.ev(pred, i, k)]
        values = [self.ev(value, i, k) for k in keys]
        return sum(a * sum(1 for v in values if v == a) for a in set(values))

    def pick(self, e: Expr, i: int) -> Any:
        """The case split over the values a of v: `#[j ≤ i] (φ ∧ v(j) = a) > 0`, tried in the order `how` says."""
        _, how, value, pred, window, default = e
        keys = self.keys(i, window)
        candidates = {_key(self.ev(value, i, k)): self.ev(value, i, k) for k in keys}
        present = [
            a
            for a in candidates.values()
            if sum(1 for k in keys if self.ev(pred, i, k) and self.ev(value, i, k) == a) > 0
        ]
        if not present:
            return default
        if how == "the" and len({_key(a) for a in present}) > 1:
            raise ValueError("the selected values differ")
        return max(present) if how == "max" else min(present) if how == "min" else present[0]


def _key_only(e: Expr) -> bool:
    """Whether a predicate reads the key position j only (so its count over j ≤ i is a prefix sum)."""
    head = e[0]
    if head in ("tok", "ref"):
        return e[-1] == "j"
    if head == "lit":
        return True
    if head == "fn":
        return all(_key_only(a) for a in e[3])
    if head == "cmp":
        return _key_only(e[2]) and _key_only(e[3])
    if head == "ite":
        return all(_key_only(a) for a in e[1:])
    if head == "lin":
        return all(_key_only(t) for _, t in e[1])
    return False


def _key(value: Any) -> Any:
    return (type(value).__name__, value)


def evaluate(witness: Witness, tokens: list) -> list:
    """The witness's output at every position of `tokens`."""
    return _Run(witness, tokens).values[witness.output]
