"""The limit construction's builder: witness definitions → stages (attention heads between columns, MLP units)
over a residual stream of named columns (docs/compiler.md, "The limit construction")."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from rasp import scalar
from rasp.analysis.crasp_eval import COMPARE, Witness

from ..errors import CompileError
from .exprs import at_query, combinations, evaluate, finite_leaves, order_key, reads_query, show, substitute, weights
from .positions import PositionalColumns
from .stages import Stage, Unit


class Builder(PositionalColumns):
    def __init__(self, witness: Witness, vocab: list, bound: int):
        self.vocab, self.slope = vocab, 2.0 * (bound + 2)
        self.labels: list[str] = []
        self.bos, self.one = self.column("BOS"), self.column("1")
        self.tokens = {t: self.column(f"token={t!r}") for t in vocab}
        self.stages: list[Stage] = []
        self.finite: dict[str, dict[Any, int]] = {}  # definition → value → column
        self.count: dict[str, int] = {}  # definition → the column of count / (i + 2)
        self.blocks: dict[str, dict[Any, int]] = {}  # a finite expression (its repr) → its one-hot block
        self.heads: dict[tuple, int | None] = {}  # a key-side predicate's truth table → its count column
        self.init_positions(bound)
        self.inv = self.column("1/(i+2)")
        self.stages.append(Stage("attn", heads=[(self.bos, self.inv, None)]))
        for name, expr in witness.defs:
            self.define(name, expr)

    def column(self, label: str) -> int:
        self.labels.append(label)
        return len(self.labels) - 1

    # ---- definitions ------------------------------------------------------------------------------

    def define(self, name: str, expr: tuple) -> None:
        if self.is_count(expr):
            self.count[name] = self.linear_column(name, self.linear(expr))
        else:
            self.finite[name] = self.finite_block(name, expr)

    def is_count(self, e: tuple) -> bool:
        head = e[0]
        if head == "count":
            return e[2] is None  # a count over nearby positions (a window) is a small number: finite
        if head in ("sum", "mean"):
            return True
        if head == "lin":
            return any(self.is_count(t) for _, t in e[1])
        if head == "ref":
            return e[1] in self.count
        if head == "ite":
            return self.is_count(e[2]) or self.is_count(e[3])
        return False

    def linear(self, e: tuple) -> tuple[dict[int, Fraction], Fraction]:
        """A count expression as Σ coef·column + const·(1/(i+2)) (columns hold counts / (i + 2))."""
        head = e[0]
        if head == "lit":
            return {}, Fraction(e[1])
        if head == "ref" and e[1] in self.count:
            return {self.count[e[1]]: Fraction(1)}, Fraction(0)
        if head == "count" and e[2] is None:
            return {self.prefix_count(e[1]): Fraction(1)}, Fraction(0)
        if head == "lin":
            terms: dict[int, Fraction] = {}
            const = Fraction(e[2])
            for c, t in e[1]:
                sub, k = self.linear(t)
                for col, w in sub.items():
                    terms[col] = terms.get(col, Fraction(0)) + Fraction(c) * w
                const += Fraction(c) * k
            return terms, const
        if head == "ite" and self.is_count(e):
            return {self.gated(e): Fraction(1)}, Fraction(0)
        if not self.is_count(e):  # a small whole number (a count over nearby positions) among counts
            return {self.ratio_of(self.finite_block("term", e)): Fraction(1)}, Fraction(0)
        raise CompileError(f"the limit construction has no rule for {head!r} in a count yet")

    def linear_column(self, name: str, form: tuple[dict[int, Fraction], Fraction]) -> int:
        terms, const = form
        if not const and len(terms) == 1 and next(iter(terms.values())) == 1:
            return next(iter(terms))
        out = self.column(f"{name} / (i+2)")
        reads = {col: float(w) for col, w in terms.items()} | ({self.inv: float(const)} if const else {})
        self.mlp([Unit(reads, {out: 1.0}), Unit({c: -w for c, w in reads.items()}, {out: -1.0})])
        return out

    def prefix_count(self, pred: tuple) -> int:
        """`#[j ≤ i] φ(j, i)` / (i+2) (counts over nearby positions are finite values: positions.py). A φ that reads
        the query is split by the query's values: one count per distinct key-side predicate, each passed through
        where the query's values select it."""
        groups = [(gate, self.key_count(phi)) for gate, phi in self.query_cases(pred)]
        groups = [(gate, col) for gate, col in groups if col is not None]
        if len(groups) == 1 and groups[0][0] == self.one:
            return groups[0][1]
        out = self.column(f"#[{show(pred)}] / (i+2)")
        # c + gate - 1 is c where the gate is 1 and at most 0 where it is 0 (0 ≤ c < 1)
        self.mlp([Unit({col: 1.0, gate: 1.0, self.one: -1.0}, {out: 1.0}) for gate, col in groups])
        return out

    def key_count(self, phi: tuple) -> int | None:
        """The column of `#[j ≤ i] φ(j)` / (i+2) for a predicate of the key only, one head per distinct truth
        table (None where φ never holds)."""
        leaves = finite_leaves(at_query(phi), self.is_count)
        blocks = [self.finite_block("leaf", leaf) for leaf in leaves]
        table = []
        for combo in combinations(blocks, "a key-side predicate"):
            values = {repr(leaf): value for leaf, (value, _) in zip(leaves, combo)}
            try:
                if evaluate(at_query(phi), values):
                    table.append(tuple(value for value, _ in combo))
            except scalar.EvalProblem:
                continue
        key = (tuple(map(repr, leaves)), frozenset(table))
        if key not in self.heads:
            if not table:
                self.heads[key] = None
            else:
                out = self.column(f"#[{show(phi)}] / (i+2)")
                self.stages.append(Stage("attn", heads=[(self.boolean_column(phi), out, None)]))
                self.heads[key] = out
        return self.heads[key]

    def query_cases(self, pred: tuple) -> list[tuple[int, tuple]]:
        """(gate column, key-side predicate) pairs: the query's values that make `pred` one predicate of the
        key, grouped by that predicate's truth table; the gate is 1 where the query's values are in the group."""
        leaves = [leaf for leaf in finite_leaves(pred, self.is_count) if reads_query(leaf)]
        if not leaves:
            return [(self.one, pred)]
        blocks = [self.finite_block("query", leaf) for leaf in leaves]
        key_leaves = [leaf for leaf in finite_leaves(pred, self.is_count) if not reads_query(leaf)]
        key_blocks = [self.finite_block("key", at_query(leaf)) for leaf in key_leaves]
        groups: dict[frozenset, tuple[tuple, list]] = {}
        for combo in combinations(blocks, "the query's values"):
            phi = substitute(pred, {repr(leaf): value for leaf, (value, _) in zip(leaves, combo)})
            table = []
            for key_combo in combinations(key_blocks, "a key-side predicate"):
                values = {repr(at_query(leaf)): value for leaf, (value, _) in zip(key_leaves, key_combo)}
                try:
                    if evaluate(at_query(phi), values):
                        table.append(tuple(value for value, _ in key_combo))
                except scalar.EvalProblem:
                    continue
            groups.setdefault(frozenset(table), (phi, []))[1].append(tuple(col for _, col in combo))
        if len(groups) == 1:
            return [(self.one, next(iter(groups.values()))[0])]
        cases = []
        for phi, combos in groups.values():
            gate = self.column(f"[query selects {show(phi)}]")
            self.mlp([Unit({c: 1.0 for c in cols} | {self.one: -(len(cols) - 1.0)}, {gate: 1.0}) for cols in combos])
            cases.append((gate, phi))
        return cases

    def gated(self, e: tuple) -> int:
        """`c ? x : y` of counts: each branch passed through where its condition holds (|x| ≤ bound in ratio units)."""
        cond = self.finite_block("cond", e[1])
        out = self.column(f"{show(e)} / (i+2)")
        units = []
        for truth, branch in ((True, e[2]), (False, e[3])):
            terms, const = self.linear(branch)
            reads = {col: float(w) for col, w in terms.items()} | ({self.inv: float(const)} if const else {})
            bound = sum(abs(w) for w in reads.values()) + 1.0
            gate = cond.get(truth)
            if gate is None:
                continue
            units.append(Unit(reads | {gate: bound, self.one: -bound}, {out: 1.0}))
            units.append(Unit({c: -w for c, w in reads.items()} | {gate: bound, self.one: -bound}, {out: -1.0}))
        self.mlp(units)
        return out

    # ---- finite values ----------------------------------------------------------------------------

    def finite_block(self, name: str, e: tuple) -> dict[Any, int]:
        """The one-hot block of a finite expression at every position (built once per expression)."""
        key = repr(e)
        if key not in self.blocks:
            self.blocks[key] = self._finite_block(name, e)
        return self.blocks[key]

    def _finite_block(self, name: str, e: tuple) -> dict[Any, int]:
        head = e[0]
        if head == "tok":
            return self.tokens
        if head == "ref" and e[1] in self.finite:
            return self.finite[e[1]]
        if head == "ref":
            raise CompileError(f"{name}: the count {e[1]} is used as a finite value")
        if head == "cmp" and (self.is_count(e[2]) or self.is_count(e[3])):
            return self.comparison(name, e)
        if head == "pick":
            return self.local_pick(name, e) if e[4] is not None else self.pick(name, e)
        if head == "mod":
            return self.periodic_block(e[1], e[2])
        if head == "count":
            return self.local_count(name, e)
        leaves = finite_leaves(e, self.is_count)
        blocks = [self.finite_block(f"{name}.{k}", leaf) for k, leaf in enumerate(leaves)]
        table = {}
        for combo in combinations(blocks, name):
            values = {repr(leaf): value for leaf, (value, _) in zip(leaves, combo)}
            try:
                table[tuple(col for _, col in combo)] = evaluate(e, values)
            except scalar.EvalProblem:
                continue  # a combination the program cannot meet
        block = {v: self.column(f"{name}={v!r}") for v in dict.fromkeys(table.values())}
        units = [
            Unit({c: 1.0 for c in cols} | {self.one: -(len(cols) - 1.0)}, {block[value]: 1.0})
            for cols, value in table.items()
        ]
        self.mlp(units)
        return block

    def boolean_column(self, pred: tuple) -> int:
        """The column that is 1 at the input positions where a key-side predicate holds (0 at BOS, which every
        count averages over too)."""
        block = self.finite_block(f"[{show(pred)}]", at_query(pred))
        out = self.column(f"[{show(pred)}]")
        if True in block:
            self.mlp([Unit({block[True]: 1.0, self.bos: -1.0}, {out: 1.0})])
        return out

    def comparison(self, name: str, e: tuple) -> dict[Any, int]:
        """`a OP b` of counts: signs of y = a - b (scaled to integers) with a margin of 1/(2(i+2))."""
        terms, const = self.linear(("lin", ((1, e[2]), (-1, e[3])), 0))
        scale = math.lcm(*(w.denominator for w in [*terms.values(), const]))
        y = {col: float(w * scale) for col, w in terms.items()}
        c = float(const * scale)
        positive = self.step({**y, self.inv: c - 0.5})  # y > 0  (y ≥ 1)
        negative = self.step({**{k: -w for k, w in y.items()}, self.inv: -c - 0.5})  # y < 0
        truth = {col: COMPARE[e[1]](s, 0) for s, col in ((1, positive), (-1, negative))}
        block = {True: self.column(f"{name}=True"), False: self.column(f"{name}=False")}
        zero_true = COMPARE[e[1]](0, 0)
        # value = truth at zero, corrected where y > 0 or y < 0 (at most one of the two holds)
        units = [Unit({self.one: 1.0}, {block[zero_true]: 1.0})]
        for col, holds in truth.items():
            if holds != zero_true:
                units.append(Unit({col: 1.0}, {block[holds]: 1.0, block[zero_true]: -1.0}))
        self.mlp(units)
        return block

    def step(self, reads: dict[int, float]) -> int:
        """1 where Σ reads ≥ 1/(2(i+2)), 0 where ≤ -1/(2(i+2)) (inside the bound)."""
        out = self.column("step")
        scaled = {c: w * self.slope for c, w in reads.items()}
        self.mlp([Unit(scaled, {out: 1.0}), Unit(scaled | {self.one: -1.0}, {out: -1.0})])
        return out

    def pick(self, name: str, e: tuple) -> dict[Any, int]:
        """`max`/`min`/`the {v(j) : j ≤ i, φ} else d`: present_a = (#[φ ∧ v = a] > 0), the first present in order;
        a φ that reads the query is split by the query's values (one such choice per case, gated). Over nearby
        positions (a window) it is `local_pick`."""
        _, how, value, pred, _, default = e
        values = list(self.finite_block(f"{name}.v", at_query(value)))
        # Numbers before strings: a block may hold values no input meets together (its leaves are enumerated
        # independently: `num = Q if is_num else 0` lists the token ">" too), and a program that really compares a
        # number with a string fails in the interpreter, where no model output is checked.
        order = sorted(values, key=order_key, reverse=how != "min") if how in ("max", "min") else values
        block = {v: self.column(f"{name}={v!r}") for v in dict.fromkeys([*order, default])}
        units = []
        for gate, phi in self.query_cases(pred):
            present = {}
            for a in order:
                count = self.key_count(
                    ("fn", ("and", ("arg", 0), ("arg", 1)), "", [phi, ("cmp", "==", value, ("lit", a))])
                )
                if count is not None:
                    present[a] = self.step({count: 1.0, self.inv: -0.5})
            # where the gate is 1: the first present value (or the default); where it is 0, every unit is ≤ 0
            seen: list[int] = []
            for a, col in present.items():
                units.append(
                    Unit(
                        weights([(col, 1.0), (gate, 1.0), (self.one, -1.0)] + [(c, -1.0) for c in seen]),
                        {block[a]: 1.0},
                    )
                )
                seen.append(col)
            units.append(Unit(weights([(gate, 1.0)] + [(c, -1.0) for c in seen]), {block[default]: 1.0}))
        self.mlp(units)
        return block

    def mlp(self, units: list[Unit]) -> None:
        self.stages.append(Stage("mlp", units=units))
