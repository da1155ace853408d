"""Limit construction: one NoPE transformer for a C-RASP program, the same at every input length.

Built from the analysis' checked witness (rasp/analysis/witness.py), definition by definition (docs/compiler.md,
"The limit construction"). The residual stream has a fixed set of columns: BOS, a constant 1, the token one-hot,
one one-hot block per finite definition and one column per count. A count `#[j ≤ i] φ(j)` is a head with all
scores equal (W_Q = W_K = 0): causal uniform attention averages φ over BOS and the prefix, so the column holds
C(i)/(i+2); a head on the BOS column holds 1/(i+2), which turns constants into the same units. A comparison of an
integer linear combination y of counts is then the sign of y/(i+2) ± 1/(2(i+2)), a margin of 1/(2(i+2)) either
way, read by a ReLU step of slope S: exact while 2(i+2) ≤ S, i.e. for inputs up to S/2 - 1 tokens. Finite
functions are lookup MLPs on one-hot blocks, `max`/`min`/`the` retrievals a count per value and an MLP that keeps
the first present value. Nothing in it depends on the length but the stated bound.

Supported: the NoPE fragment (C-RASP) with prefix counts; periodic and local terms (C-RASP[periodic, local]) are
refused with a reason, as is any program without a C-RASP ✓.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from rasp import scalar
from rasp.analysis.crasp_eval import COMPARE, Witness

from .errors import CompileError

MAX_CASES = 4096  # combinations of finite values one lookup MLP may enumerate
DEFAULT_BOUND = 4095  # inputs up to this length are exact (the step slope is 2 * (bound + 1))


@dataclass
class Unit:
    """A hidden ReLU unit: reads Σ w·x over columns (the `one` column gives the bias), writes c·h to columns."""

    reads: dict[int, float]
    writes: dict[int, float]


@dataclass
class Stage:
    kind: str  # "attn": heads (source column → target column); "mlp": units
    heads: list[tuple[int, int]] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)

    def reads(self) -> set[int]:
        return {s for s, _ in self.heads} | {c for u in self.units for c in u.reads}

    def writes(self) -> set[int]:
        return {t for _, t in self.heads} | {c for u in self.units for c in u.writes}


class _Builder:
    def __init__(self, witness: Witness, vocab: list, slope: float):
        self.vocab, self.slope = vocab, slope
        self.labels: list[str] = []
        self.bos, self.one = self.column("BOS"), self.column("1")
        self.tokens = {t: self.column(f"token={t!r}") for t in vocab}
        self.stages: list[Stage] = []
        self.finite: dict[str, dict[Any, int]] = {}  # definition → value → column
        self.count: dict[str, int] = {}  # definition → the column of count / (i + 2)
        self.blocks: dict[str, dict[Any, int]] = {}  # a finite expression (its repr) → its one-hot block
        self.heads: dict[tuple, int | None] = {}  # a key-side predicate's truth table → its count column
        self.inv = self.column("1/(i+2)")
        self.stages.append(Stage("attn", heads=[(self.bos, self.inv)]))
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
        if head in ("count", "sum", "mean"):
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
        if head == "count":
            return {self.prefix_count(e[1], e[2]): Fraction(1)}, Fraction(0)
        if head == "lin":
            terms: dict[int, Fraction] = {}
            const = Fraction(e[2])
            for c, t in e[1]:
                sub, k = self.linear(t)
                for col, w in sub.items():
                    terms[col] = terms.get(col, Fraction(0)) + Fraction(c) * w
                const += Fraction(c) * k
            return terms, const
        if head == "ite":
            return {self.gated(e): Fraction(1)}, Fraction(0)
        raise CompileError(f"the limit construction has no rule for {head!r} in a count yet")

    def linear_column(self, name: str, form: tuple[dict[int, Fraction], Fraction]) -> int:
        terms, const = form
        if not const and len(terms) == 1 and next(iter(terms.values())) == 1:
            return next(iter(terms))
        out = self.column(f"{name} / (i+2)")
        reads = {col: float(w) for col, w in terms.items()} | ({self.inv: float(const)} if const else {})
        self.mlp([Unit(reads, {out: 1.0}), Unit({c: -w for c, w in reads.items()}, {out: -1.0})])
        return out

    def prefix_count(self, pred: tuple, window: Any) -> int:
        """`#[j ≤ i] φ(j, i)` / (i+2). A φ that reads the query is split by the query's values: one count per
        distinct key-side predicate, each passed through where the query's values select it."""
        if window is not None:
            raise CompileError("a local count (C-RASP[local]) has no limit construction here yet")
        groups = [(gate, self.key_count(phi)) for gate, phi in self.query_cases(pred)]
        groups = [(gate, col) for gate, col in groups if col is not None]
        if len(groups) == 1 and groups[0][0] == self.one:
            return groups[0][1]
        out = self.column(f"#[{_show(pred)}] / (i+2)")
        # c + gate - 1 is c where the gate is 1 and at most 0 where it is 0 (0 ≤ c < 1)
        self.mlp([Unit({col: 1.0, gate: 1.0, self.one: -1.0}, {out: 1.0}) for gate, col in groups])
        return out

    def key_count(self, phi: tuple) -> int | None:
        """The column of `#[j ≤ i] φ(j)` / (i+2) for a predicate of the key only, one head per distinct truth
        table (None where φ never holds)."""
        leaves = _finite_leaves(_at_query(phi), self.is_count)
        blocks = [self.finite_block("leaf", leaf) for leaf in leaves]
        table = []
        for combo in _combinations(blocks, "a key-side predicate"):
            values = {repr(leaf): value for leaf, (value, _) in zip(leaves, combo)}
            try:
                if _evaluate(_at_query(phi), values):
                    table.append(tuple(value for value, _ in combo))
            except scalar.EvalProblem:
                continue
        key = (tuple(map(repr, leaves)), frozenset(table))
        if key not in self.heads:
            if not table:
                self.heads[key] = None
            else:
                out = self.column(f"#[{_show(phi)}] / (i+2)")
                self.stages.append(Stage("attn", heads=[(self.boolean_column(phi), out)]))
                self.heads[key] = out
        return self.heads[key]

    def query_cases(self, pred: tuple) -> list[tuple[int, tuple]]:
        """(gate column, key-side predicate) pairs: the query's values that make `pred` one predicate of the
        key, grouped by that predicate's truth table; the gate is 1 where the query's values are in the group."""
        leaves = [leaf for leaf in _finite_leaves(pred, self.is_count) if _reads_query(leaf)]
        if not leaves:
            return [(self.one, pred)]
        blocks = [self.finite_block("query", leaf) for leaf in leaves]
        key_leaves = [leaf for leaf in _finite_leaves(pred, self.is_count) if not _reads_query(leaf)]
        key_blocks = [self.finite_block("key", _at_query(leaf)) for leaf in key_leaves]
        groups: dict[frozenset, tuple[tuple, list]] = {}
        for combo in _combinations(blocks, "the query's values"):
            phi = _substitute(pred, {repr(leaf): value for leaf, (value, _) in zip(leaves, combo)})
            table = []
            for key_combo in _combinations(key_blocks, "a key-side predicate"):
                values = {repr(_at_query(leaf)): value for leaf, (value, _) in zip(key_leaves, key_combo)}
                try:
                    if _evaluate(_at_query(phi), values):
                        table.append(tuple(value for value, _ in key_combo))
                except scalar.EvalProblem:
                    continue
            groups.setdefault(frozenset(table), (phi, []))[1].append(tuple(col for _, col in combo))
        if len(groups) == 1:
            return [(self.one, next(iter(groups.values()))[0])]
        cases = []
        for phi, combos in groups.values():
            gate = self.column(f"[query selects {_show(phi)}]")
            self.mlp([Unit({c: 1.0 for c in cols} | {self.one: -(len(cols) - 1.0)}, {gate: 1.0}) for cols in combos])
            cases.append((gate, phi))
        return cases

    def gated(self, e: tuple) -> int:
        """`c ? x : y` of counts: each branch passed through where its condition holds (|x| ≤ bound in ratio units)."""
        cond = self.finite_block("cond", e[1])
        out = self.column(f"{_show(e)} / (i+2)")
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
            return self.pick(name, e)
        leaves = _finite_leaves(e, self.is_count)
        blocks = [self.finite_block(f"{name}.{k}", leaf) for k, leaf in enumerate(leaves)]
        table = {}
        for combo in _combinations(blocks, name):
            values = {repr(leaf): value for leaf, (value, _) in zip(leaves, combo)}
            try:
                table[tuple(col for _, col in combo)] = _evaluate(e, values)
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
        block = self.finite_block(f"[{_show(pred)}]", _at_query(pred))
        out = self.column(f"[{_show(pred)}]")
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
        a φ that reads the query is split by the query's values (one such choice per case, gated)."""
        _, how, value, pred, window, default = e
        if window is not None:
            raise CompileError("a local count (C-RASP[local]) has no limit construction here yet")
        values = list(self.finite_block(f"{name}.v", _at_query(value)))
        # Numbers before strings: a block may hold values no input meets together (its leaves are enumerated
        # independently: `num = Q if is_num else 0` lists the token ">" too), and a program that really compares a
        # number with a string fails in the interpreter, where no model output is checked.
        order = sorted(values, key=_order_key, reverse=how != "min") if how in ("max", "min") else values
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
                        _weights([(col, 1.0), (gate, 1.0), (self.one, -1.0)] + [(c, -1.0) for c in seen]),
                        {block[a]: 1.0},
                    )
                )
                seen.append(col)
            units.append(Unit(_weights([(gate, 1.0)] + [(c, -1.0) for c in seen]), {block[default]: 1.0}))
        self.mlp(units)
        return block

    def mlp(self, units: list[Unit]) -> None:
        self.stages.append(Stage("mlp", units=units))


# ---- expressions ---------------------------------------------------------------------------------------


def _finite_leaves(e: tuple, is_count: Any) -> list[tuple]:
    """The token and definition reads of a finite expression, and its comparisons of counts, each once, in order."""
    head = e[0]
    if head in ("tok", "ref", "pick") or head == "cmp" and (is_count(e[2]) or is_count(e[3])):
        return [e]
    if head == "lit":
        return []
    parts = {"fn": lambda: e[3], "cmp": lambda: e[2:], "ite": lambda: e[1:]}.get(head)
    if parts is None:
        raise CompileError(f"the limit construction has no rule for {head!r} in a finite value yet")
    leaves = {repr(leaf): leaf for part in parts() for leaf in _finite_leaves(part, is_count)}
    return list(leaves.values())


def _order_key(value: Any) -> tuple:
    return (1, value) if isinstance(value, str) else (0, value)


def _combinations(blocks: list[dict[Any, int]], what: str) -> Any:
    """Every combination of the blocks' values, as ((value, column), ...) tuples, refused past MAX_CASES."""
    cases = math.prod(len(b) for b in blocks)
    if cases > MAX_CASES:
        raise CompileError(f"{what}: a finite function of {cases:,} argument combinations (limit {MAX_CASES:,})")
    return itertools.product(*(list(b.items()) for b in blocks))


def _weights(pairs: list[tuple[int, float]]) -> dict[int, float]:
    """Column weights, summed where a column appears twice (a gate that is the constant column)."""
    out: dict[int, float] = {}
    for col, w in pairs:
        out[col] = out.get(col, 0.0) + w
    return out


def _substitute(e: Any, values: dict[str, Any]) -> Any:
    """e with the reads named in `values` (by repr) replaced by those constants."""
    if not isinstance(e, tuple) or not e:
        return e
    if repr(e) in values:
        return ("lit", values[repr(e)])
    if e[0] == "fn":
        return ("fn", e[1], e[2], [_substitute(a, values) for a in e[3]])
    if e[0] in ("tok", "ref", "lit"):
        return e
    return (e[0], *(_substitute(x, values) for x in e[1:]))


def _evaluate(e: tuple, values: dict) -> Any:
    head = e[0]
    if repr(e) in values:
        return values[repr(e)]
    if head in ("tok", "ref"):
        return values[repr(e)]
    if head == "lit":
        return e[1]
    if head == "fn":
        return scalar.apply(e[1], tuple(_evaluate(a, values) for a in e[3]))
    if head == "cmp":
        return COMPARE[e[1]](_evaluate(e[2], values), _evaluate(e[3], values))
    return _evaluate(e[2], values) if _evaluate(e[1], values) else _evaluate(e[3], values)  # ite


def _at_query(e: Any) -> Any:
    """A key-side predicate read as a function of one position (computed at every position, averaged by a head)."""
    if not isinstance(e, tuple) or not e:
        return e
    if e[0] == "tok":
        return ("tok", "i")
    if e[0] == "ref":
        return ("ref", e[1], "i")
    if e[0] == "lit":
        return e
    if e[0] == "fn":
        return ("fn", e[1], e[2], [_at_query(a) for a in e[3]])
    return (e[0], *(_at_query(x) for x in e[1:]))


def _reads_query(e: Any) -> bool:
    if not isinstance(e, tuple) or not e:
        return False
    if e[0] in ("tok", "ref"):
        return e[-1] == "i"
    if e[0] == "fn":
        return any(_reads_query(a) for a in e[3])
    return any(_reads_query(x) for x in e[1:] if isinstance(x, tuple))


def _show(e: tuple) -> str:
    from rasp.analysis.crasp_eval import show

    return show(e, "j")


# ---- the model -----------------------------------------------------------------------------------------


@dataclass
class LimitModel:
    """The construction and what it states: `model` (a NoPE CausalTransformer with `run`), the longest input it
    is exact on, and its size (the same for every input length)."""

    model: Any
    bound: int
    witness: Witness

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def run(self, tokens: list) -> list:
        return self.model.run(tokens)

    def run_batch(self, batch: list[list]) -> list[list]:
        return self.model.run_batch(batch)


def build_limit(witness: Witness, vocab: list, bound: int = DEFAULT_BOUND, dtype: Any = None) -> LimitModel:
    """The limit construction of a C-RASP witness over `vocab`, exact on inputs up to `bound` tokens."""
    import torch

    builder = _Builder(witness, list(vocab), slope=2.0 * (bound + 2))
    output = builder.finite.get(witness.output)
    if output is None:
        raise CompileError(f"the output {witness.output} is a count; a C-RASP program outputs finite values")
    model = _assemble(builder, output, witness.output, bound)
    return LimitModel(model.to(dtype or torch.float64), bound, witness)


def _assemble(builder: _Builder, output: dict[Any, int], name: str, bound: int) -> Any:
    """Pack the stages into blocks (attention, then MLP), a new block wherever a stage reads what the current
    one writes, and set the weights."""
    import torch

    from .model import CausalTransformer, DecodeSpec, TransformerConfig

    blocks: list[dict] = []
    for stage in builder.stages:
        current = blocks[-1] if blocks else None
        if stage.kind == "attn":
            if current is None or current["units"] or stage.reads() & current["attn_writes"]:
                current = {"heads": [], "units": [], "attn_writes": set(), "mlp_writes": set()}
                blocks.append(current)
            current["heads"] += stage.heads
            current["attn_writes"] |= stage.writes()
        else:
            if current is None or stage.reads() & current["mlp_writes"]:
                current = {"heads": [], "units": [], "attn_writes": set(), "mlp_writes": set()}
                blocks.append(current)
            current["units"] += stage.units
            current["mlp_writes"] |= stage.writes()
    d = len(builder.labels)
    cfg = TransformerConfig(
        vocab_size=len(builder.vocab) + 1,
        max_len=bound,
        d_model=d,
        n_layers=len(blocks),
        n_heads=[len(b["heads"]) for b in blocks],
        d_head=[1] * len(blocks),
        d_mlp=[len(b["units"]) for b in blocks],
        n_out=len(output),
        pos_encoding="nope",
    )
    spec = DecodeSpec(
        vocab=[None, *builder.vocab],
        max_len=bound,
        causal=True,
        output=name,
        output_kind="categorical",
        output_values=list(output),
        residual_labels=builder.labels,
        notes=[f"limit construction: exact on inputs up to {bound} tokens; the same parameters at every length"],
    )
    model = CausalTransformer(cfg, spec).double()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.tok_emb.weight[0, builder.bos] = 1.0
        model.tok_emb.weight[:, builder.one] = 1.0
        for k, token in enumerate(builder.vocab, start=1):
            model.tok_emb.weight[k, builder.tokens[token]] = 1.0
        for block, layout in zip(model.blocks, blocks):
            for h, (source, target) in enumerate(layout["heads"]):
                block.attn.W_V[h, source, 0] = 1.0
                block.attn.W_O[h, 0, target] = 1.0
            for u, unit in enumerate(layout["units"]):
                for col, w in unit.reads.items():
                    block.mlp.fc_in.weight[u, col] = w
                for col, w in unit.writes.items():
                    block.mlp.fc_out.weight[col, u] = w
        for k, col in enumerate(output.values()):
            model.unembed.weight[k, col] = 1.0
    return model


def compile_limit(program: Any, vocab: list, bound: int = DEFAULT_BOUND, output: str | None = None) -> LimitModel:
    """The limit construction of a program the analysis places in C-RASP (its witness, checked against the
    program); any other program is refused with the analysis' located reasons."""
    import rasp

    verdict = rasp.predict(program, output, vocab=list(vocab)).crasp
    if not verdict.ok or verdict.witness is None:
        reasons = "\n  ".join(verdict.reasons)
        raise CompileError(f"{program.filename}: no limit construction: the program has no C-RASP ✓:\n  {reasons}")
    return build_limit(verdict.witness, list(vocab), bound)
