"""Vectorized evaluation of the s-op graph: values are B × N arrays, selectors B × N × N booleans.

Every sequence in a call has the same length (`Program.run_batch` groups ragged batches by length, so
no padding value ever reaches a program and nothing needs masking). Selector entry [b, i, j] says
whether query position i selects key position j; in causal mode only j ≤ i can be selected.

Equality selectors are kept as a `Matching` (rasp/match.py) and aggregated without the B × N × N array.
Numbers follow Python: ints beyond int64's exact range become Python ints (as constant folding has them),
a mean with an inf or NaN changes only the positions that select it, and round() of inf/NaN is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any

import numpy as np

from . import exact, scalar
from .aggregation import Aggregation
from .errors import RaspEvalError
from .ir import Graph, Op
from .match import Matching, combine_codes, joint_codes, split_equality, value_codes
from .match import arguments as match_arguments

# Product of distinct argument values up to which a function is tabulated once and gathered.
_TABLE_LIMIT = 1 << 16


def token_array(sequences: list[list[Any]]) -> np.ndarray:
    """Equal-length token lists → a B × N array of the tightest dtype that holds them exactly."""
    shape = (len(sequences), len(sequences[0]) if sequences else 0)
    kinds = set(map(type, chain.from_iterable(sequences)))
    if kinds == {int}:  # the common case, without object arrays
        try:
            array = np.array(sequences, dtype=np.int64)
        except OverflowError:
            array = None
        if array is not None and -exact.INT_LIMIT < array.min() and array.max() < exact.INT_LIMIT:
            return array
    array = np.empty(shape, dtype=object)
    if shape[0] and shape[1]:
        array[:, :] = sequences  # tokens are scalars, so numpy fills it element by element
    return array if kinds <= {str} else exact.normalize(array)  # strings: nothing to narrow


class DenseValues(Mapping):
    """Op id → value, as callers expect them: a selector kept as a Matching is built as an array when read."""

    def __init__(self, values: dict[int, Any]):
        self._values = values

    def __getitem__(self, op_id: int) -> np.ndarray:
        value = self._values[op_id]
        if isinstance(value, Matching):
            value = self._values[op_id] = value.dense()
        return value

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Evaluation(Aggregation):
    """Evaluates the ops of one graph on one batch of equal-length inputs, caching as it goes."""

    def __init__(self, graph: Graph, tokens: np.ndarray, causal: bool, sources: dict[str, str] | None = None):
        self.graph = graph
        self.tokens = tokens
        self.causal = causal
        self.batch, self.length = tokens.shape
        self.values: dict[int, Any] = {}  # an s-op's array; a selector's dense array or its Matching
        self._codes: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._unordered: set[int] = set()  # s-ops whose values cannot be ordered (e.g. str and int)
        self._derived: dict[tuple[str, int], np.ndarray] = {}  # per selector: counts, float weights
        self.sources = sources or {}

    def fail(self, op: Op, message: str) -> RaspEvalError:
        source = self.sources.get(op.span.file) if op.span else None
        return RaspEvalError(f"{message} (in {op.label})", op.span, source)

    def run(self, ops: list[Op]) -> DenseValues:
        for op in ops:
            if op.id not in self.values:
                self.values[op.id] = getattr(self, f"_{op.kind}")(op)
        return DenseValues(self.values)

    def dense(self, op_id: int) -> np.ndarray:
        """A selector as its B × N × N boolean array (built from a Matching when it is one)."""
        return DenseValues(self.values)[op_id]

    # ---- helpers --------------------------------------------------------------------------------

    def codes(self, op_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Sorted distinct values of an s-op and, per position, the index of its value among them (for
        booleans both values, without a scan)."""
        if op_id not in self._codes and self.values[op_id].dtype == bool:
            self._codes[op_id] = (np.array([False, True]), self.values[op_id].astype(np.int64))
        if op_id not in self._codes:
            uniques, codes, ordered = exact.unique_codes(self.values[op_id])
            if not ordered:
                self._unordered.add(op_id)
            self._codes[op_id] = (uniques, codes)
        return self._codes[op_id]

    def tabulated(self, op: Op, fn: scalar.Fn, placements: list[tuple]) -> np.ndarray | None:
        """fn over every combination of its inputs' distinct values, gathered back by position.

        Fast when inputs take few distinct values (tokens, booleans, small counts), and it applies a
        Python-level function (strings) once per distinct value instead of once per position.
        None when the combinations would outnumber the positions, or when some combination fails: with
        several inputs the table holds combinations that never meet at one position, so a failure there
        says nothing (the caller then evaluates position by position, where a failure is real).
        """
        tables = [self.codes(i) for i in op.inputs]
        size = int(np.prod([len(u) for u, _ in tables], dtype=np.float64)) if tables else 1
        if size > _TABLE_LIMIT:
            return None
        axes = len(tables)
        grids = []
        for axis, (uniques, _) in enumerate(tables):
            shape = [1] * axes
            shape[axis] = len(uniques)
            grids.append(exact.normalize(uniques.reshape(shape)) if uniques.dtype == object else uniques.reshape(shape))
        try:
            table = np.asarray(scalar.apply_array(fn, tuple(grids)))
        except scalar.EvalProblem:
            return None
        table = np.broadcast_to(table, tuple(len(u) for u, _ in tables))
        index = tuple(codes[placement] for (_, codes), placement in zip(tables, placements))
        if op.kind in ("map", "zipmap") and table.dtype == object:
            return self._coded_result(op, table, index)
        return table[index]

    def _coded_result(self, op: Op, table: np.ndarray, index: tuple[np.ndarray, ...]) -> np.ndarray:
        """A map's tabulated Python values, gathered through codes: the result's codes come from the table's
        few values, so nothing later has to scan B × N Python objects to code them again."""
        table_values, table_codes, _ = exact.unique_codes(np.ascontiguousarray(table).reshape(-1))
        at = table_codes[np.ravel_multi_index(index, table.shape)]
        present = np.bincount(at.ravel(), minlength=len(table_values)) > 0  # values that occur somewhere
        uniques, renumbered, ordered = exact.unique_codes(table_values[present])
        renumber = np.zeros(len(table_values), dtype=np.int64)
        renumber[present] = renumbered
        codes = renumber[at]
        self._codes[op.id] = (uniques, codes)
        if not ordered:
            self._unordered.add(op.id)
        return table[index]  # the values themselves (codes merge 1, 1.0 and True; values keep their type)

    def apply(self, op: Op, fn: scalar.Fn, args: tuple[np.ndarray, ...]) -> np.ndarray:
        try:
            return scalar.apply_array(fn, args)
        except scalar.EvalProblem as problem:
            raise self.fail(op, str(problem)) from None

    # ---- primitives -----------------------------------------------------------------------------

    def _tokens(self, op: Op) -> np.ndarray:
        return self.tokens

    def _indices(self, op: Op) -> np.ndarray:
        return np.broadcast_to(np.arange(self.length, dtype=np.int64), (self.batch, self.length))

    def _constant(self, op: Op) -> np.ndarray:
        value = np.asarray(op.value, dtype=object) if isinstance(op.value, str) else exact.int_array(op.value)
        return np.broadcast_to(value, (self.batch, self.length))

    def _map(self, op: Op) -> np.ndarray:
        args = tuple(self.values[i] for i in op.inputs)
        result = None
        if any(a.dtype == object for a in args) or _has_index(op.fn) or all(a.dtype == bool for a in args):
            result = self.tabulated(op, op.fn, [slice(None)] * len(args))
        if result is None:
            result = self.apply(op, op.fn, args)
        # A table over all value combinations may mix kinds that never meet at one position: keep the
        # tightest dtype of the values that do occur, so later ops stay vectorized.
        result = exact.normalize(result) if result.dtype == object else result
        if result.dtype != object:
            self._codes.pop(op.id, None)  # numbers after all: code them as numbers when needed
            self._unordered.discard(op.id)
        return np.broadcast_to(result, (self.batch, self.length))

    _zipmap = _map

    def _select(self, op: Op) -> np.ndarray | Matching:
        matching = self._matching(op)
        if matching is not None:
            return matching
        keys = [self.values[i][:, None, :] for i in op.keys]
        queries = [self.values[i][:, :, None] for i in op.queries]
        args = tuple(keys + queries)
        result = None
        fn, hoisted = self._hoist(op, self._narrowed(op), args)
        if all(a.dtype != object for a in hoisted) and not scalar.may_fail(fn):
            result = self.apply(op, fn, hoisted)  # total on numbers: pairs j > i cannot fail it
        else:
            placements = [(slice(None), None, slice(None))] * op.n_keys + [(slice(None), slice(None), None)] * len(
                queries
            )
            result = self.tabulated(op, op.fn, placements)
        if result is None and self.causal:
            try:
                result = scalar.apply_array(fn, hoisted)
            except scalar.EvalProblem:
                return self._select_pairs(op)  # it failed somewhere: maybe only at pairs j > i
        elif result is None:
            result = self.apply(op, fn, hoisted)
        shape = (self.batch, self.length, self.length)
        result = np.asarray(result, dtype=bool)
        if not self.causal:
            return np.broadcast_to(result, shape)
        if result.shape == shape and result.base is None and result.flags.writeable:
            return np.logical_and(result, np.tri(self.length, dtype=bool), out=result)  # a fresh array: in place
        return np.broadcast_to(result, shape) & np.tri(self.length, dtype=bool)

    def _narrowed(self, op: Op) -> scalar.Fn:
        """The predicate arranged so numpy broadcasting keeps arrays small: constant s-ops become literals, and
        the conjuncts of an `and` that read only keys (B × 1 × N) or only queries (B × N × 1) are combined
        before any conjunct that needs B × N × N. (`and` evaluates both operands, so the order is free.)"""
        constants = {i: scalar.lit(self.graph.op(j).value) for i, j in enumerate(op.inputs)}
        constants = {i: c for i, c in constants.items() if self.graph.op(op.inputs[i]).kind == "constant"}
        fn = scalar.substitute(op.fn, {i: constants.get(i, scalar.arg(i)) for i in range(len(op.inputs))})
        conjuncts: list[scalar.Fn] = []

        def flatten(f: scalar.Fn) -> None:
            if f[0] == "and":
                flatten(f[1])
                flatten(f[2])
            else:
                conjuncts.append(f)

        flatten(fn)
        if len(conjuncts) < 3:
            return fn

        def width(f: scalar.Fn) -> int:  # 0: one side only, 1: both sides
            used = match_arguments(f)
            return int(any(i < op.n_keys for i in used) and any(i >= op.n_keys for i in used))

        ordered = sorted(conjuncts, key=lambda f: (width(f), min(match_arguments(f) or {0}) >= op.n_keys))
        combined = ordered[0]
        for f in ordered[1:]:
            combined = ("and", combined, f)
        return combined

    def _hoist(self, op: Op, fn: scalar.Fn, args: tuple[np.ndarray, ...]) -> tuple[scalar.Fn, tuple]:
        """`fn` with each part that reads one object-valued argument (`q == ">"`) replaced by a new argument:
        that part applied once per distinct value and gathered, so the pairs see numbers, not objects."""
        extra: list[np.ndarray] = []

        def walk(f: scalar.Fn) -> scalar.Fn:
            if f[0] in ("arg", "lit"):
                return f
            used = match_arguments(f)
            if len(used) == 1 and args[next(iter(used))].dtype == object:
                i = next(iter(used))
                uniques, codes = self.codes(op.inputs[i])
                grid: list[Any] = [None] * len(args)
                grid[i] = exact.normalize(uniques) if uniques.dtype == object else uniques
                try:
                    table = np.broadcast_to(np.asarray(scalar.apply_array(f, tuple(grid))), uniques.shape)
                except scalar.EvalProblem:
                    return f  # fails on some value: leave it to the pairs, where a failure is real
                table = exact.normalize(table) if table.dtype == object else table
                extra.append(table[codes].reshape(args[i].shape))
                return ("arg", len(args) + len(extra) - 1)
            return (f[0], *(walk(g) for g in f[1:]))

        if all(a.dtype != object for a in args):
            return fn, args
        hoisted = walk(fn)
        return hoisted, args + tuple(extra)

    def _select_pairs(self, op: Op) -> np.ndarray:
        """A causal select evaluated on exactly the pairs it can select, key j <= query i.

        A predicate that fails only at j > i (`10 // (k - q + 2)` on [5, 3]) must not fail the run: causal
        mode never looks at those pairs. Only reached when evaluating every pair failed somewhere.
        """
        query_at, key_at = np.tril_indices(self.length)
        keys = [self.values[i][:, key_at] for i in op.keys]
        queries = [self.values[i][:, query_at] for i in op.queries]
        result = self.apply(op, op.fn, tuple(keys + queries))
        selected = np.zeros((self.batch, self.length, self.length), dtype=bool)
        selected[:, query_at, key_at] = np.broadcast_to(np.asarray(result, dtype=bool), (self.batch, len(key_at)))
        return selected

    def counts(self, selector: int) -> np.ndarray:
        """How many keys each query selects (cached: aggregates over one selector share it)."""
        key = ("counts", selector)
        if key not in self._derived:
            self._derived[key] = np.count_nonzero(self.dense(selector), axis=-1)
        return self._derived[key]

    def weights(self, selector: int, dtype: type = np.float64) -> np.ndarray:
        """The selector as 0/1 floats, the matmul operand of numeric means (cached, like counts)."""
        key = (f"weights {np.dtype(dtype).name}", selector)
        if key in self._derived:
            return self._derived[key]
        weights = self.dense(selector).astype(dtype)
        readers = [self.graph.op(i) for i in self.graph.nx.successors(selector)]
        if sum(r.kind == "aggregate" and r.reduce == "mean" for r in readers) > 1:  # B·N² floats: keep if shared
            self._derived[key] = weights
        return weights

    def _matching(self, op: Op) -> Matching | None:
        """The select as a Matching when its predicate is an equality of key values and query values."""
        sides = split_equality(op.fn, op.n_keys)
        if sides is None:
            return None
        key, query = None, None
        try:
            for key_fn, query_fn in sides:
                codes = joint_codes(self._side(op, key_fn), self._side(op, query_fn))
                if codes is None:
                    return None
                key, query = codes if key is None else combine_codes((key, query), codes)
        except scalar.EvalProblem:
            return None  # the dense path reports it where it is (or skips it, at j > i in causal mode)
        return Matching(key, query, self.causal)

    def _side(self, op: Op, fn: scalar.Fn) -> tuple[np.ndarray, np.ndarray]:
        """One side of an equality predicate (it reads only keys or only queries) at every position, coded:
        its distinct values and each position's index among them."""
        used = sorted(match_arguments(fn))
        args: list[Any] = [None] * len(op.inputs)
        if not used or self.values[op.inputs[used[0]]].dtype == object:  # once per distinct value
            uniques, codes = np.zeros(1), np.zeros((self.batch, self.length), dtype=np.int64)
            if used:
                uniques, codes = self.codes(op.inputs[used[0]])
                args[used[0]] = exact.normalize(uniques) if uniques.dtype == object else uniques
            table = np.broadcast_to(np.asarray(scalar.apply_array(fn, tuple(args))), uniques.shape)
            table_values, table_codes = value_codes(exact.normalize(table) if table.dtype == object else table)
            return table_values, table_codes[codes]
        for i in used:
            args[i] = self.values[op.inputs[i]]
        result = np.asarray(scalar.apply_array(fn, tuple(args)))
        return value_codes(np.broadcast_to(result, (self.batch, self.length)))


def _has_index(fn: scalar.Fn) -> bool:
    if fn[0] == "index":
        return True
    return fn[0] not in ("arg", "lit") and any(_has_index(f) for f in fn[1:])


def to_python(values: np.ndarray) -> list:
    """One position's values as plain Python: whole floats print as ints, numpy scalars unwrapped."""
    if values.dtype == np.float64:
        return [int(v) if v.is_integer() else v for v in values.tolist()]
    if values.dtype == object:
        items = values.tolist()
        if set(map(type, items)) <= {str, int, bool}:
            return items  # plain already (the common case: tokens and strings)
        return [_plain(v) for v in items]
    return values.tolist()


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
