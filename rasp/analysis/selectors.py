"""What a select relates, for the kind analysis (docs/fragments.md, "The rules" and "Normalizations").

A select's predicate becomes a Boolean formula over leaves: finite facts about the key or the query (free
Booleans), comparisons `c·(i - j) OP k` of the two positions, and comparisons the fragments do not have. From
the positional leaves the select is judged: `finite` (no positional information), `local` (a finite set of
offsets i - j), `colocal` (causal: one finite predicate from some distance on, so the prefix count of that
predicate corrected at the nearer offsets), `nonlocal`, or `count` (compares counts or positions beyond their
distance). A position shifted by a finite value (`indices - t`) is first split into the cases of t's values.

`SelectorAnalysis` is a part of `KindAnalysis` (kinds.py): it reads and writes that analysis' state.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from .. import scalar
from ..ir import Op
from .domain import AV, FIN, OTHER, Atom, Const, Fin, Num, lin_add, lin_sided, to_alts
from .scalar_eval import FnEval

# A local relation is checked offset by offset; past this distance it is judged unbounded (soundly: ✗, not ✓).
MAX_LOCAL_DISTANCE = 100_000


@dataclass
class SelectInfo:
    kind: str  # "finite" (a finite case split), "local", "colocal" (the prefix, corrected nearby), "nonlocal", "count"
    offsets: tuple[int, ...] = ()
    pointer: bool = False  # selects by an equality of positions/counts (one position, in practice)
    detail: str = ""
    at_most_one: bool = False  # proved: selects at most one key per query
    equal_pairs: frozenset[tuple[int, int]] = frozenset()  # (key op, query op) equal at every selected key
    far: int = 0  # colocal: the distance from which on the predicate no longer depends on it


class SelectorAnalysis:
    """The select rules of `KindAnalysis` (which sets `values`, `valsets`, `selects`, `expanded`, `causal`)."""

    def _select(self, op: Op) -> AV:
        written = op
        op = self.expanded.setdefault(op.id, self._split_finite_shifts(op))
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
        sided = [self._sided(self.values[i], "k" if n < written.n_keys else "q") for n, i in enumerate(written.inputs)]
        info.at_most_one = info.at_most_one or selects_at_most_one(written, sided)
        if info.kind == "local" and len(info.offsets) == 1:
            info.at_most_one = True  # one relative position: one key
        info.equal_pairs = equal_pairs(op)
        self.selects[op.id] = info
        return Fin()

    def _split_finite_shifts(self, op: Op) -> Op:
        """`select(indices, indices - t, ==)` with t a finite value: the query position is shifted by one of t's
        few values, so the select is the case split `OR_a (t(i) == a and j == i - a)`, a relation at the offsets
        t can take. Inputs that are a map of positions and finite values with listed values are inlined that way;
        the select is returned unchanged when there is none (or too many cases)."""
        inputs: list[int] = []
        n_keys = 0
        mapping: dict[int, scalar.Fn] = {}
        cases: list[tuple[int, frozenset]] = []  # (new argument, the values it takes)
        for position, op_id in enumerate(op.inputs):
            src, value = self.graph.op(op_id), self.values[op_id]
            finite = [i for i in src.inputs if not isinstance(self.values[i], Num)] if src.fn is not None else []
            shifted = isinstance(value, Num) and src.kind in ("map", "zipmap") and _has_fin(value)
            if not shifted or not finite or any(self.valsets.get(i) is None for i in finite):
                mapping[position] = scalar.arg(len(inputs))
                inputs.append(op_id)
                n_keys += position < op.n_keys
                continue
            renumber = {}
            for k, i in enumerate(src.inputs):
                renumber[k] = scalar.arg(len(inputs))
                if i in finite:
                    cases.append((len(inputs), self.valsets[i]))
                inputs.append(i)
                n_keys += position < op.n_keys
            mapping[position] = scalar.substitute(src.fn, renumber)
        if not cases or math.prod(len(values) for _, values in cases) > MAX_SHIFT_CASES:
            return op
        body = scalar.substitute(op.fn, mapping)
        fn: scalar.Fn = scalar.lit(False)
        for combo in itertools.product(*(sorted(values, key=repr) for _, values in cases)):
            known = {slot: scalar.lit(v) for (slot, _), v in zip(cases, combo)}
            case = scalar.substitute(body, {k: known.get(k, scalar.arg(k)) for k in range(len(inputs))})
            for slot, v in known.items():
                case = ("and", ("==", scalar.arg(slot), v), case)
            fn = case if fn == scalar.lit(False) else ("or", fn, case)
        return replace(op, inputs=tuple(inputs), n_keys=n_keys, fn=fn)

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
            return ("const", bool(value.value))
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
            except scalar.EvalProblem:
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
                coef = coefs[Atom("pos", -1, "q")]
                if self.causal and (always := _constant_for_causal(op, coef, d.offset)) is not None:
                    return ("const", always)  # e.g. j <= i holds for every key a causal query sees
                leaves.append(("pos", op, coef, d.offset))
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
        if len(variables) > 14 or bound > MAX_LOCAL_DISTANCE:
            detail = (
                "a positional predicate too large to analyse"
                if len(variables) > 14
                else f"relates positions up to {bound - 2:,} apart, past the {MAX_LOCAL_DISTANCE:,} the analysis "
                "enumerates (judged as unbounded: a ✗ it cannot prove wrong, never a ✓ it cannot check)"
            )
            self.add(op.id, "sel-nonlocal", detail)
            return SelectInfo("nonlocal", pointer=pointer, detail=detail)

        cache: dict[tuple, bool] = {}

        def satisfiable(d: int) -> bool:
            # the answer depends on d only through the truth of the positional leaves
            key = tuple(compare_offset(leaf[1], leaf[2] * d + leaf[3]) for leaf in positional)
            if key not in cache:
                cache[key] = any(
                    _holds(formula, leaves, dict(zip(variables, bits)), d)
                    for bits in itertools.product((False, True), repeat=len(variables))
                )
            return cache[key]

        far = [bound] if self.causal else [bound, -bound]
        if any(satisfiable(d) for d in far):
            if self.causal:
                same: dict[tuple, bool] = {}  # like `satisfiable`, the answer depends on d only through the leaves

                def as_far(d: int) -> bool:
                    key = tuple(compare_offset(leaf[1], leaf[2] * d + leaf[3]) for leaf in positional)
                    if key not in same:
                        same[key] = self._same_as_far(formula, leaves, variables, d, bound)
                    return same[key]

                return self._colocal(op, [d for d in range(bound) if not as_far(d)], bound, pointer)
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

    @staticmethod
    def _same_as_far(formula: tuple, leaves: list, variables: list[int], d: int, far: int) -> bool:
        """Whether the predicate at distance d is the one it is at every distance from `far` on."""
        return all(
            _holds(formula, leaves, assignment, d) == _holds(formula, leaves, assignment, far)
            for bits in itertools.product((False, True), repeat=len(variables))
            for assignment in [dict(zip(variables, bits))]
        )

    def _colocal(self, op: Op, near: list[int], far: int, pointer: bool) -> SelectInfo:
        """A causal select that is one finite predicate from some distance on: its count is the prefix count of
        that predicate, corrected at the nearer offsets (`j < i` is `j ≤ i` less the query itself). Corrections at
        the query only are C-RASP; at earlier offsets they are local counts."""
        earlier = [d for d in near if d > 0]
        if earlier:
            shown = ", ".join(_offset_text(d) for d in earlier)
            self.add(op.id, "sel-local", f"selects the prefix except at relative positions {shown}", offsets=earlier)
        return SelectInfo("colocal", tuple(near), pointer=pointer, far=far)


MAX_SHIFT_CASES = 64  # a position shifted by a finite value: at most this many cases are split


def _has_fin(value: Num) -> bool:
    return any(alt.offset is FIN or any(c is FIN for _, c in alt.terms) for alt in value.alts)


def selects_at_most_one(op: Op, args: list[AV]) -> bool:
    """A conjunct of the predicate fixes the key's position: `j + c == f(i)` (indices are distinct)."""
    ev = FnEval(args)
    for conjunct in _conjuncts(op.fn):
        if conjunct[0] != "==":
            continue
        a, b = ev.ev(conjunct[1]), ev.ev(conjunct[2])
        alts_a, alts_b = to_alts(a), to_alts(b)
        if alts_a is None or alts_b is None or len(alts_a) != 1 or len(alts_b) != 1:
            continue
        diff = lin_add(next(iter(alts_a)), next(iter(alts_b)), -1)
        if diff is None or diff.denom is not None:
            continue
        coefs = dict(diff.terms)
        key_pos = coefs.get(Atom("pos", -1, "k"))
        others = [atom for atom in coefs if atom != Atom("pos", -1, "k")]
        if key_pos is not None and key_pos is not FIN and key_pos != 0 and all(x.side == "q" for x in others):
            return True
    return False


def equal_pairs(op: Op) -> frozenset[tuple[int, int]]:
    """(key s-op, query s-op) pairs that a top-level `k == q` conjunct of the predicate equates."""
    pairs = set()
    for conjunct in _conjuncts(op.fn):
        if conjunct[0] == "==" and conjunct[1][0] == "arg" and conjunct[2][0] == "arg":
            x, y = conjunct[1][1], conjunct[2][1]
            if x >= op.n_keys > y:
                x, y = y, x
            if x < op.n_keys <= y:
                pairs.add((op.inputs[x], op.inputs[y]))
    return frozenset(pairs)


def _conjuncts(fn: scalar.Fn) -> list:
    if fn[0] == "and":
        return _conjuncts(fn[1]) + _conjuncts(fn[2])
    return [fn]


def _constant_for_causal(op: str, coef: Any, offset: Any) -> bool | None:
    """The truth of `coef·d + offset OP 0` when it is the same for every distance d = i - j >= 0, else None."""
    if coef is FIN or offset is FIN or coef == 0:
        return None
    root = -offset / coef
    if op in ("==", "!="):
        if root >= 0 and root.denominator == 1:
            return None
        return op == "!="
    near, far = compare_offset(op, offset), compare_offset(op, coef * 10**9 + offset)
    return near if near == far else None  # a linear function changes sign at most once


def _offset_text(d: int) -> str:
    return "i" if d == 0 else f"i-{d}" if d > 0 else f"i+{-d}"


def compare_offset(op: str, x: Fraction, y: int = 0) -> bool:
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
        return compare_offset(op, coef * d + offset)
    return True  # "bad" leaves are reported anyway
