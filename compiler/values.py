"""Value-set inference: the finite set of values every s-op can take on inputs up to `max_len`.

Sets are computed in topological order, each from its inputs' sets (an over-approximation where inputs are
correlated, which is safe: a larger set only costs width). Large sets (the means a numerical aggregate can
take) are computed only when a consumer needs them. A set larger than the limits is refused with a
`CompileError` naming the s-op.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from rasp import scalar
from rasp.ir import Graph, Op

from .errors import CompileError

PRODUCT_LIMIT = 1_000_000  # argument combinations tabulated for one map / zipmap / select
VALUE_LIMIT = 100_000  # distinct values of one s-op
# Steps (one partial sum extended by one value) spent enumerating one numerical mean's values: each step is
# counted before it is taken, so a mean of means is refused in about a second instead of running for minutes.
MEANS_WORK_LIMIT = 500_000
# Argument combinations tabulated over the whole compile (the sum of every map's and select's products).
WORK_LIMIT = 5_000_000


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, str)


def canonical(value: Any) -> Any:
    """Numpy scalars → Python; whole floats stay floats (1.0 == 1 keeps them one set member anyway)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    return value


def ordered(values: Iterable[Any]) -> list:
    """Distinct values in the interpreter's order (numbers and bools numerically, strings lexically)."""
    distinct = list(dict.fromkeys(canonical(v) for v in values))
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=lambda v: (type(v).__name__, repr(v)))


def can_order(values: list) -> bool:
    try:
        sorted(values)
        return True
    except TypeError:
        return False


class ValueSets:
    """Value sets of the ops of one graph for a vocabulary and a maximum length (computed on demand)."""

    def __init__(self, graph: Graph, vocab: list, max_len: int, causal: bool, fail: Callable[[Op, str], Exception]):
        self.graph = graph
        self.vocab = list(vocab)
        self.max_len = max_len
        self.causal = causal
        self.fail = fail
        self._sets: dict[int, list] = {}
        self.mean_kind: dict[int, str] = {}  # aggregate id → "mean" (numerical) or "retrieval"
        self.overrides: dict[int, list] = {}
        self._composed: dict[int, tuple[scalar.Fn, tuple[int, ...]]] = {}
        self.work = 0  # argument combinations tabulated so far (bounded by WORK_LIMIT)

    def get(self, op_id: int) -> list:
        if op_id not in self._sets:
            values = self.overrides.get(op_id)
            if values is None:
                values = self._compute(self.graph.op(op_id))
            if len(values) > VALUE_LIMIT:
                raise self.fail(
                    self.graph.op(op_id),
                    f"its value set has more than {VALUE_LIMIT} values at max_len {self.max_len}, "
                    "so it cannot be tabulated",
                )
            self._sets[op_id] = values
        return self._sets[op_id]

    def aggregate_mode(self, op: Op) -> str:
        """How a mean aggregate compiles: "mean" (numerical) or "retrieval" (categorical: the selected
        values agree). numerical()/categorical() decide; otherwise a mean of 0/1 values or of a numerical
        s-op is numerical, anything else a retrieval (Tracr's convention)."""
        if op.id in self.mean_kind:
            return self.mean_kind[op.id]
        values = self.get(op.inputs[1])
        numeric = all(is_number(v) for v in values)
        if op.reduce != "mean":
            mode = op.reduce
        elif op.encoding == "numerical":
            if not numeric:
                raise self.fail(op, "a numerical mean of non-numeric values")
            mode = "mean"
        elif op.encoding == "categorical" or not numeric or self.at_most_one(op.inputs[0]):
            mode = "retrieval"
        elif set(values) <= {0, 1} or self.numerical_primary(op.inputs[1]):
            mode = "mean"
        else:
            mode = "retrieval"
        self.mean_kind[op.id] = mode
        return mode

    def at_most_one(self, select_id: int) -> bool:
        """Whether a select provably selects at most one key: a conjunct `indices == q` (or `q == indices`)."""
        sel = self.graph.op(select_id)

        def key_index(side: scalar.Fn) -> bool:  # indices[j] + c, an injective function of the key position
            if side[0] == "arg":
                return side[1] < sel.n_keys and self.graph.op(sel.inputs[side[1]]).kind == "indices"
            if side[0] in ("+", "-") and side[2][0] == "lit" and isinstance(scalar.lit_value(side[2]), int):
                return key_index(side[1])
            if side[0] == "+" and side[1][0] == "lit" and isinstance(scalar.lit_value(side[1]), int):
                return key_index(side[2])
            return False

        def queries_only(side: scalar.Fn) -> bool:
            return all(a >= sel.n_keys for a in _args(side))

        stack = [sel.fn]
        while stack:
            fn = stack.pop()
            if fn[0] == "and":
                stack += [fn[1], fn[2]]
            elif fn[0] == "==":
                if (key_index(fn[1]) and queries_only(fn[2])) or (key_index(fn[2]) and queries_only(fn[1])):
                    return True
        return False

    def numerical_primary(self, op_id: int) -> bool:
        """Whether an s-op is encoded as a number only (not one-hot) unless asked otherwise."""
        op = self.graph.op(op_id)
        if op.encoding is not None:
            return op.encoding == "numerical"
        if op.kind == "aggregate":
            return self.aggregate_mode(op) == "mean"
        if op.kind in ("map", "zipmap"):
            return op.vtype in ("int", "float") and any(self.numerical_primary(i) for i in op.inputs)
        return False

    def joint_mean(self, op: Op) -> list | None:
        """An affine combination of numerical means over one selector is the mean of the combined values
        (plus a constant): `frac_a - frac_b` takes about N²/2 values, not the product of two such sets."""
        fn, bases = self.composed(op.id)
        ops = [self.graph.op(b) for b in bases]
        if not ops or any(
            o.kind != "aggregate" or self.aggregate_mode(o) != "mean" or self.at_most_one(o.inputs[0]) for o in ops
        ):
            return None
        if len({o.inputs[0] for o in ops}) != 1 or len(ops) < 2:
            return None
        try:
            b = scalar.apply(fn, tuple([0] * len(ops)))
            slopes = [scalar.apply(fn, tuple(1 if j == i else 0 for j in range(len(ops)))) - b for i in range(len(ops))]
            probe = tuple(float(k + 2) for k in range(len(ops)))  # affine check at one more point
            if abs(scalar.apply(fn, probe) - (b + sum(a * x for a, x in zip(slopes, probe)))) > 1e-9:
                return None
        except (scalar.EvalProblem, TypeError):
            return None
        parts = [self.composed(o.inputs[1]) for o in ops]
        value_bases = tuple(sorted({x for _, bs in parts for x in bs}))
        terms = []
        for a, (f, bs) in zip(slopes, parts):
            terms.append(
                (
                    "*",
                    scalar.lit(float(a)),
                    scalar.substitute(f, {j: scalar.arg(value_bases.index(x)) for j, x in enumerate(bs)}),
                )
            )
        combined = terms[0]
        for t in terms[1:]:
            combined = ("+", combined, t)
        values = self.image(op, combined, [self.get(x) for x in value_bases])
        default = b + sum(a * float(o.value) for a, o in zip(slopes, ops))
        return ordered([_whole(round(b + m, 12)) for m in self.means(op, values)] + [_whole(default)])

    def composed(self, op_id: int) -> tuple[scalar.Fn, tuple[int, ...]]:
        """A map/zipmap as one function of its *bases*: the nearest ancestors that are not maps (tokens,
        indices, aggregates, counts). `num = tokens if tokens != ">" else 0` is then a function of tokens
        alone, so its value set is exact and it compiles as a lookup on tokens."""
        if op_id in self._composed:
            return self._composed[op_id]
        op = self.graph.op(op_id)
        if op.kind not in ("map", "zipmap"):
            result: tuple[scalar.Fn, tuple[int, ...]] = (scalar.arg(0), (op_id,))
        else:
            parts = [self.composed(i) for i in op.inputs]
            bases = tuple(sorted({b for _, bs in parts for b in bs}))
            mapping = {}
            for k, (fn, bs) in enumerate(parts):
                mapping[k] = scalar.substitute(fn, {j: scalar.arg(bases.index(b)) for j, b in enumerate(bs)})
            result = (scalar.substitute(op.fn, mapping), bases)
        self._composed[op_id] = result
        return result

    def bounds(self, op_id: int) -> tuple[float, float]:
        values = [float(v) for v in self.get(op_id)]
        return (min(values), max(values)) if values else (0.0, 0.0)

    # ---- per kind -------------------------------------------------------------------------------

    def _compute(self, op: Op) -> list:
        if op.kind == "tokens":
            return ordered(self.vocab)
        if op.kind == "indices":
            return list(range(self.max_len))
        if op.kind == "constant":
            return [canonical(op.value)]
        if op.kind in ("map", "zipmap"):
            joint = self.joint_mean(op)
            if joint is not None:
                return joint
            fn, bases = self.composed(op.id)
            direct = [self.get(i) for i in op.inputs]
            try:
                based = [self.get(b) for b in bases]
            except CompileError:
                based = None
            if based is not None and combination_count(based) <= max(combination_count(direct), 1):
                return self.image(op, fn, based)
            return self.image(op, op.fn, direct)
        if op.kind == "selector_width":
            return list(range(self.max_len + 1))
        if op.kind == "aggregate":
            values = self.get(op.inputs[1])
            default = canonical(op.value)
            if self.aggregate_mode(op) == "mean" and not self.at_most_one(op.inputs[0]):
                return ordered(self.means(op, values) + [default])
            return ordered(list(values) + [default])
        raise self.fail(op, f"a {op.kind} has no values")

    def image(self, op: Op, fn: scalar.Fn, sets: list[list]) -> list:
        size = 1
        for s in sets:
            size *= len(s)
        if size > PRODUCT_LIMIT:
            raise self.fail(
                op,
                f"its inputs take {size} combinations of values at max_len {self.max_len} "
                f"(more than {PRODUCT_LIMIT}), so it cannot be tabulated",
            )
        self.work += size
        if self.work > WORK_LIMIT:
            raise self.fail(
                op,
                f"tabulating it takes the compile past {WORK_LIMIT:,} value combinations in all "
                f"(compiler.values.WORK_LIMIT) at max_len {self.max_len}; use a smaller vocabulary or max_len",
            )
        out = []
        for args in itertools.product(*sets):
            try:
                out.append(scalar.apply(fn, args))
            except (scalar.EvalProblem, ZeroDivisionError, TypeError, ValueError, OverflowError):
                continue  # the interpreter fails on such an input too
        return ordered(out)

    def means(self, op: Op, values: list) -> list:
        """Every mean of a multiset of 1..max_len values (the numerical aggregate's possible outputs)."""
        numbers = sorted({float(v) for v in values})
        if not numbers:
            return []
        n = self.max_len
        if len(numbers) == 1:
            return [numbers[0]]
        if len(numbers) == 2:
            a, b = numbers
            out = {a + (b - a) * p / q for q in range(1, n + 1) for p in range(q + 1)}
            return [_whole(v) for v in out]
        sums = {0.0}
        out: set[float] = set()
        work = 0
        for size in range(1, n + 1):
            work += len(sums) * len(numbers)
            if work > MEANS_WORK_LIMIT:
                raise self.fail(
                    op,
                    f"enumerating the values of the mean it computes (a mean of {len(numbers)} distinct values over up "
                    f"to {n} positions) would take more than {MEANS_WORK_LIMIT:,} steps "
                    f"(compiler.values.MEANS_WORK_LIMIT); select at most one value, make it categorical, or "
                    "use a smaller max_len",
                )
            sums = {round(s + v, 9) for s in sums for v in numbers}
            out |= {round(s / size, 12) for s in sums}
            if len(out) > VALUE_LIMIT:
                raise self.fail(
                    op,
                    f"the mean it computes takes more than {VALUE_LIMIT} values at max_len {n}, so a map of it "
                    "cannot be tabulated (select at most one value, or make it categorical)",
                )
        return [_whole(v) for v in out]


def _args(fn: scalar.Fn) -> set[int]:
    if fn[0] == "arg":
        return {fn[1]}
    if fn[0] == "lit":
        return set()
    return set().union(*(_args(f) for f in fn[1:]))


def combination_count(sets: list[list]) -> int:
    size = 1
    for s in sets:
        size *= len(s)
    return size


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value
