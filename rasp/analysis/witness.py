"""Builds a C-RASP / C-RASP[periodic, local] witness (crasp_eval.py's syntax) from a program the kind analysis
accepted, and checks it against the program on random inputs.

Each op becomes one definition: a count of a selector becomes `#[j ≤ i] φ(j, i)` (or local counts
`#[j = i - d] φ` over the offsets the analysis found), positions become counts (`i = #[j ≤ i] ⊤ - 1`), a
retrieval of finite values becomes a `max`/`min`/`the` case split, maps become finite functions, linear
arithmetic and comparisons of counts stay what they are. Anything else raises `NoWitness`: the verdict then
says it "could not show" membership.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .. import scalar
from ..errors import RaspError
from .crasp_eval import Expr, Witness
from .domain import Num
from .kinds import KindAnalysis
from .scalar_eval import FnEval
from .selectors import compare_offset

TRUE = ("lit", True)
POSITION = ("lin", ((1, ("count", TRUE, None)),), -1)


class NoWitness(Exception):
    def __init__(self, op: int, message: str):
        super().__init__(message)
        self.op = op


class Builder:
    def __init__(self, analysis: KindAnalysis, names: dict[int, str], periodic: bool, local: bool):
        self.a = analysis
        self.graph = analysis.graph
        self.periodic, self.local = periodic, local
        self.names = names
        self.defs: list[tuple[str, Expr]] = []
        self.expr: dict[int, Expr] = {}
        self.bodies: dict[str, Expr] = {}  # definition name → its expression
        self.op_of: dict[str, int] = {}
        self.position: Expr = ("count", TRUE, None)  # replaced by the reference to `indices`, once defined

    def build(self) -> Witness:
        for op_id in self.a.order:
            op = self.graph.op(op_id)
            if op.kind == "select":
                continue
            expr = getattr(self, f"_{op.kind}")(op)
            if op.kind in ("tokens", "constant"):
                self.expr[op_id] = expr
                continue
            name = self.names.get(op_id) or self.fresh("pos" if op.kind == "indices" else f"v{op_id}")
            if op.kind == "indices":
                self.position = ("ref", name, "i")
            self.defs.append((name, expr))
            self.bodies[name] = expr
            self.op_of[name] = op_id
            self.expr[op_id] = ("ref", name, "i")
        out = self.expr[self.a.output]
        if out[0] != "ref":
            self.defs.append(("out", out))
            out = ("ref", "out", "i")
        return Witness("", _used(self.defs, out[1]), out[1])

    def fresh(self, base: str) -> str:
        """A definition name no s-op of the program is called (the program may have its own `v3` or `pos`)."""
        taken = set(self.names.values()) | set(self.bodies)
        while base in taken:
            base += "'"
        return base

    def is_count(self, op_id: int) -> bool:
        return isinstance(self.a.values[op_id], Num)

    # -- ops ---------------------------------------------------------------------------------------

    def _tokens(self, op: Any) -> Expr:
        return ("tok", "i")

    def _indices(self, op: Any) -> Expr:
        return POSITION

    def _constant(self, op: Any) -> Expr:
        return ("lit", op.value)

    def _map(self, op: Any) -> Expr:
        args = [self.expr[i] for i in op.inputs]
        if not any(self.is_count(i) for i in op.inputs):
            return ("fn", op.fn, "", args)
        ev = FnEval([self.a.values[i] for i in op.inputs])
        return self.scalar(op, op.fn, args, ev)

    _zipmap = _map

    def scalar(self, op: Any, fn: scalar.Fn, args: list, ev: FnEval) -> Expr:
        """A scalar function of counts: linear arithmetic, comparisons, conditionals; else NoWitness."""
        head = fn[0]
        if head == "arg":
            return args[fn[1]]
        if head == "lit":
            return ("lit", scalar.lit_value(fn))
        if not isinstance(ev.ev(fn), Num) and not any(isinstance(ev.ev(f), Num) for f in fn[1:]):
            return ("fn", _reindex(fn), "", [self.scalar(op, f, args, ev) for f in _leaves(fn)])
        sub = [self.scalar(op, f, args, ev) for f in fn[1:]]
        if head in scalar.COMPARISONS:
            return ("cmp", head, sub[0], sub[1])
        if head in ("+", "-"):
            return _lin_add(sub[0], sub[1], 1 if head == "+" else -1)
        if head == "neg":
            return _lin_add(("lit", 0), sub[0], -1)
        if head == "*" and (total := self.mean_times_count(sub[0], sub[1])) is not None:
            return total
        if head == "round" and self.integral(sub[0]):
            return sub[0]
        if head == "*" and (sub[0][0] == "lit" or sub[1][0] == "lit"):
            c, x = (sub[0][1], sub[1]) if sub[0][0] == "lit" else (sub[1][1], sub[0])
            return ("lin", ((c, x),), 0)
        if head == "/" and sub[1][0] == "lit" and sub[1][1]:
            return ("lin", ((Fraction(1) / Fraction(sub[1][1]), sub[0]),), 0)
        if head == "if":
            return ("ite", sub[0], sub[1], sub[2])
        if head in ("min", "max"):
            return ("ite", ("cmp", "<=" if head == "min" else ">=", sub[0], sub[1]), sub[0], sub[1])
        if head == "abs":
            return ("ite", ("cmp", ">=", sub[0], ("lit", 0)), sub[0], _lin_add(("lit", 0), sub[0], -1))
        if head == "indicator" or head in ("and", "or", "not"):
            return ("fn", _reindex(fn), "", [self.scalar(op, f, args, ev) for f in _leaves(fn)])
        if head == "%" and self.periodic and sub[1][0] == "lit" and (shift := self.position_shift(sub[0])) is not None:
            return ("mod", sub[1][1], shift)
        raise NoWitness(op.id, f"could not show '{head}' of a count is in the fragment")

    def deref(self, expr: Expr) -> Expr:
        """The expression a reference at i stands for (through chains of references), single terms unwrapped."""
        while expr[0] == "ref" and expr[2] == "i" and expr[1] in self.bodies:
            expr = self.bodies[expr[1]]
        if expr[0] == "lin" and len(expr[1]) == 1 and expr[1][0][0] == 1 and expr[2] == 0:
            return self.deref(expr[1][0][1])
        return expr

    def mean_times_count(self, a: Expr, b: Expr) -> Expr | None:
        """A mean times the count it divides by is the sum it averaged (`length * frac`)."""
        for mean, other in ((self.deref(a), self.deref(b)), (self.deref(b), self.deref(a))):
            if mean[0] != "mean":
                continue
            _, value, pred, window, _ = mean
            count = ("count", pred, window)
            shifted = other == ("lin", ((1, self.position),), 1) and count == ("count", TRUE, None)
            if other == count or shifted:
                return ("sum", value, pred, window)
        return None

    def position_shift(self, expr: Expr) -> int | None:
        """c when expr is the position plus a constant, i + c (`#[j ≤ i] ⊤` is i + 1), else None."""
        positions = {self.position: 0, ("count", TRUE, None): 1}
        expr = self.deref(expr)
        if expr in positions:
            return positions[expr]
        if expr[0] == "lin" and len(expr[1]) == 1 and expr[1][0][0] == 1:
            inner = self.deref(expr[1][0][1])
            if inner in positions and Fraction(expr[2]).denominator == 1:
                return int(expr[2]) + positions[inner]
        return None

    def integral(self, expr: Expr) -> bool:
        """Whether a count expression takes whole values only (so round() leaves it alone)."""
        expr = self.deref(expr)
        if expr[0] in ("count", "sum"):
            return expr[0] == "count" or self.whole_values(expr[1])
        if expr[0] == "lin":
            return all(Fraction(c).denominator == 1 and self.integral(t) for c, t in expr[1]) and (
                Fraction(expr[2]).denominator == 1
            )
        if expr[0] == "lit":
            return isinstance(expr[1], int)
        return expr == self.position

    def whole_values(self, value: Expr) -> bool:
        if value[0] == "lit":
            return isinstance(value[1], int)
        if value[0] != "ref":
            return False
        op_id = self.op_of.get(value[1])
        return op_id is not None and self.graph.op(op_id).vtype in ("int", "bool")

    def selector(self, sel_id: int) -> list[tuple[int, Expr, Any]]:
        """The select as (sign, predicate, window) parts whose signed counts add up to its width."""
        sel = self.a.expanded.get(sel_id, self.graph.op(sel_id))
        info = self.a.selects[sel_id]
        local_offsets = [d for d in info.offsets if d > 0] if info.kind == "colocal" else info.offsets
        if info.kind in ("count", "nonlocal") or (local_offsets and info.kind != "finite" and not self.local):
            raise NoWitness(sel_id, f"could not show the selector is a {info.kind} relation the fragment has")
        sides = ["j"] * sel.n_keys + ["i"] * (len(sel.inputs) - sel.n_keys)
        args = [_at(self.expr[i], side) for i, side in zip(sel.inputs, sides)]
        abstract = [self.a._sided(self.a.values[i], "k" if s == "j" else "q") for i, s in zip(sel.inputs, sides)]

        def predicate(d: int) -> Expr:
            pred = self.predicate(sel, sel.fn, args, FnEval(abstract), d)
            if "at-key" in repr(pred):
                raise NoWitness(sel_id, "could not show the selector compares finite values only")
            return pred

        if info.kind == "colocal":  # the prefix count of the far predicate, corrected at the nearer offsets
            far = predicate(info.far)
            corrections = [
                part
                for d in info.offsets
                for part in ((1, predicate(d), (d,)), (-1, far, (d,)))
                if part[1] != ("lit", False)  # a count of nothing
            ]
            return [(1, far, None), *corrections]
        windows = [None] if not info.offsets else [(d,) for d in info.offsets]
        return [(1, predicate(0 if window is None else window[0]), window) for window in windows]

    def predicate(self, sel: Any, fn: scalar.Fn, args: list, ev: FnEval, d: int) -> Expr:
        head = fn[0]
        if head in scalar.COMPARISONS:
            a, b = ev.ev(fn[1]), ev.ev(fn[2])
            leaves: list = []
            leaf = self.a._leaf(head, a, b, leaves)
            if leaf[0] == "const":
                return ("lit", leaf[1])
            kind = leaves[leaf[1]]
            if kind[0] == "pos":
                _, op, coef, offset = kind
                return ("lit", compare_offset(op, coef * d + offset))
            if kind[0] == "bad":
                raise NoWitness(sel.id, "could not show the selector compares finite values only")
        if head in ("and", "or", "not", "if"):
            parts = [self.predicate(sel, f, args, ev, d) for f in fn[1:]]
            if head in ("and", "or"):  # drop the constants a normalized positional comparison left behind
                unit = ("lit", head == "and")
                kept = [p for p in parts if p != unit]
                if len(kept) < len(parts) or ("lit", head != "and") in kept:
                    return ("lit", head != "and") if ("lit", head != "and") in kept else (kept or [unit])[0]
            return ("fn", (head, *[("arg", k) for k in range(len(parts))]), "", parts)
        return self.scalar(sel, fn, args, ev)

    def _selector_width(self, op: Any) -> Expr:
        terms = tuple((sign, ("count", pred, window)) for sign, pred, window in self.selector(op.inputs[0]))
        return ("lin", terms, 0)

    def _aggregate(self, op: Any) -> Expr:
        sel, values = op.inputs
        if self.is_count(values):
            raise NoWitness(op.id, "could not show the aggregate retrieves finite values")
        signed = self.selector(sel)
        if any(sign < 0 for sign, _, _ in signed):
            raise NoWitness(op.id, "could not show an aggregate over a prefix corrected at nearby offsets")
        parts = [(pred, window) for _, pred, window in signed]
        how = "the" if op.reduce == "mean" else op.reduce
        value = _at(self.expr[values], "j")
        if isinstance(self.a.values[op.id], Num):  # a mean the analysis kept as a ratio of counts
            if len(parts) != 1 or op.reduce != "mean":
                raise NoWitness(op.id, "could not show the mean is one ratio of counts")
            pred, window = parts[0]
            return ("mean", value, pred, window, op.value)
        if len(parts) == 1:
            pred, window = parts[0]
            return ("pick", how, value, pred, window, op.value)
        # a local relation at several offsets: pick over each offset, nearest first (only one holds a value
        # for `the`; for max/min the case split runs over the union)
        if how == "the":
            result: Expr = ("lit", op.value)
            for pred, window in reversed(parts):
                hit = ("cmp", ">", ("count", pred, window), ("lit", 0))
                result = ("ite", hit, ("pick", "the", value, pred, window, op.value), result)
            return result
        raise NoWitness(op.id, f"could not show a {op.reduce} over several local offsets")


def _used(defs: list[tuple[str, Expr]], output: str) -> list[tuple[str, Expr]]:
    """The definitions the output reads (a position only compared inside a local selector is not one)."""
    bodies = dict(defs)
    needed, stack = set(), [output]
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(_refs(bodies[name]))
    return [(name, expr) for name, expr in defs if name in needed]


def _refs(expr: Any) -> list[str]:
    if not isinstance(expr, tuple) or not expr:
        return []
    if expr[0] == "ref":
        return [expr[1]]
    if expr[0] == "fn":
        return [r for a in expr[3] for r in _refs(a)]
    parts = expr[1:] if isinstance(expr[0], str) else expr  # a node, or a tuple of terms
    return [r for part in parts for r in _refs(part)]


def _at(expr: Expr, side: str) -> Expr:
    """An expression read at the key (j) or the query (i) inside a count."""
    if expr[0] == "ref":
        return ("ref", expr[1], side)
    if expr[0] == "tok":
        return ("tok", side)
    if expr[0] == "lit":
        return expr
    if side == "i":
        return expr
    return ("at-key", expr)  # a position or count read at the key: only its comparisons with i may remain


def _leaves(fn: scalar.Fn) -> list:
    return list(fn[1:]) if fn[0] not in ("arg", "lit") else [fn]


def _reindex(fn: scalar.Fn) -> scalar.Fn:
    if fn[0] in ("arg", "lit"):
        return ("arg", 0)
    return (fn[0], *[("arg", k) for k in range(len(fn) - 1)])


def _lin_add(a: Expr, b: Expr, sign: int) -> Expr:
    def terms(x: Expr) -> tuple[tuple, Any]:
        if x[0] == "lin":
            return x[1], x[2]
        if x[0] == "lit":
            return (), x[1]
        return ((1, x),), 0

    (ta, ca), (tb, cb) = terms(a), terms(b)
    return ("lin", ta + tuple((sign * c, t) for c, t in tb), ca + sign * cb)


def build_witness(analysis: KindAnalysis, program: Any, fragment: str, periodic: bool, local: bool) -> Witness:
    names = {}
    for name, op_id in program.names.items():
        names.setdefault(op_id, name)
    witness = Builder(analysis, names, periodic, local).build()
    witness.fragment = fragment
    return witness


@dataclass
class WitnessCheck:
    checked: int  # inputs the program answers (a retrieval of differing strings is an error in the program)
    problem: str  # '' when the witness agreed on every one of them


def check_witness(
    witness: Witness, program: Any, output: str | None, vocab: list, runs: int, seed: int = 0, max_len: int = 10
) -> WitnessCheck:
    """Run the witness and the program on `runs` random inputs over `vocab` and compare them position by position."""
    rng = random.Random(seed)
    inputs = [[rng.choice(vocab) for _ in range(rng.randint(1, max_len))] for _ in range(runs)]
    checked = 0
    for tokens, expected in zip(inputs, _program_outputs(program, output, inputs)):
        if expected is None:
            continue  # an input the program does not answer (a retrieval of differing strings)
        checked += 1
        try:
            got = witness.run(tokens)
        except Exception as error:  # noqa: BLE001 - any failure of the witness is reported as the toolkit's bug
            return WitnessCheck(checked, f"the witness fails on {tokens}: {error}")
        if any(not _same(x, y) for x, y in zip(expected, got)):
            return WitnessCheck(checked, f"the witness gives {got} where the program gives {expected} on {tokens}")
    return WitnessCheck(checked, "")


def _program_outputs(program: Any, output: str | None, inputs: list[list]) -> list:
    """The program's outputs, all inputs at once where it answers every one, else one by one (None: no answer)."""
    try:
        return program.run_batch(inputs, output=output)
    except (RaspError, scalar.EvalProblem):  # some input fails: find which
        pass
    results = []
    for tokens in inputs:
        try:
            results.append(program.run(tokens, output=output))
        except (RaspError, scalar.EvalProblem):
            results.append(None)
    return results


def _same(x: Any, y: Any) -> bool:
    try:
        return x == y or abs(float(x) - float(y)) < 1e-9
    except (TypeError, ValueError):
        return False


def sample_vocabs(program: Any) -> list[list]:
    """Tokens to try when no vocabulary is given: the program's string constants and one it never names, then
    its integer constants and a few more (two vocabularies, so no comparison mixes strings and numbers)."""
    found = {op.value for op in program.graph if op.kind == "constant"}
    strings = sorted({x for x in found if isinstance(x, str)} | {"?"})
    numbers = sorted({x for x in found if isinstance(x, int) and not isinstance(x, bool)} | {0, 1, 2})
    return [strings, numbers]
