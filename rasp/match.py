"""Equality selectors without the B × N × N matrix: grouped prefix reductions.

Most selectors in practice compare a function of the keys with a function of the queries for equality
(`select(indices, q, ==)`, `select(tokens, tokens, ==)`, `select(x, -3, ==)`, conjunctions of such, and
predicates of the keys or of the queries alone). Query i then selects the keys j (j <= i in causal mode)
whose key value equals its query value. Sorting the key positions of each sequence by (value, position)
puts every group of equal values in a run; a reduction over the selected keys is then a prefix reduction
within a run, read at the last key position <= i (a binary search). That is O(B·N log(B·N)) work where
the dense selector is O(B·N²), so a program of such selectors costs about as much as its maps.
"""

from __future__ import annotations

import numpy as np

from . import exact, scalar

Fn = scalar.Fn


def arguments(fn: Fn) -> set[int]:
    """The argument positions `fn` reads."""
    if fn[0] == "arg":
        return {fn[1]}
    if fn[0] == "lit":
        return set()
    return set().union(*(arguments(f) for f in fn[1:]))


def split_equality(fn: Fn, n_keys: int) -> list[tuple[Fn, Fn]] | None:
    """`fn` as a conjunction of `key_side == query_side`, each side reading only keys or only queries.

    A predicate of the keys alone is `bool(p(keys)) == True` (likewise of the queries alone). None when
    `fn` has another form (an `or`, an order comparison between keys and queries, ...).
    """
    used = arguments(fn)
    truth = ("not", ("not", fn))
    if all(i < n_keys for i in used):
        return [(truth, scalar.lit(True))]
    if all(i >= n_keys for i in used):
        return [(scalar.lit(True), truth)]
    head = fn[0]
    if head == "and":
        left, right = split_equality(fn[1], n_keys), split_equality(fn[2], n_keys)
        return None if left is None or right is None else left + right
    if head == "==":
        a, b = arguments(fn[1]), arguments(fn[2])
        if all(i < n_keys for i in a) and all(i >= n_keys for i in b):
            return [(fn[1], fn[2])]
        if all(i >= n_keys for i in a) and all(i < n_keys for i in b):
            return [(fn[2], fn[1])]
    return None


def value_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (no two equal) and each position's index among them; integers in a short range are
    their own codes (no sort)."""
    if values.dtype.kind in "iub" and values.size:
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * values.size:
            return np.arange(low, high + 1), values.astype(np.int64) - low
    uniques, codes, _ = exact.unique_codes(values)
    return uniques, codes


def joint_codes(
    keys: tuple[np.ndarray, np.ndarray], queries: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes in one space for two coded arrays (distinct values, codes): equal iff equal in Python.

    Only the distinct values are compared, so strings cost one sort of a few values, not of B × N.
    None when numpy's equality could differ from Python's (NaN, or ints a float64 would round).
    """
    (key_values, key_codes), (query_values, query_codes) = keys, queries
    if key_values.dtype != query_values.dtype and object in (key_values.dtype, query_values.dtype):
        key_values, query_values = key_values.astype(object), query_values.astype(object)
    both = np.concatenate([key_values, query_values])
    if both.dtype.kind == "f" and np.isnan(both).any():
        return None
    if both.dtype == object and any(isinstance(v, float) and v != v for v in both):
        return None
    kinds = {key_values.dtype.kind, query_values.dtype.kind}
    if "f" in kinds and kinds & {"i", "u"} and exact.magnitude(both.astype(object)) > exact.FLOAT_EXACT:
        return None
    _, codes, _ = exact.unique_codes(both)
    return codes[: len(key_values)][key_codes], codes[len(key_values) :][query_codes]


def combine_codes(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of pairs: equal iff both codes are equal (a conjunction of equalities)."""
    size = int(max(second[0].max(), second[1].max())) + 1
    pairs = [a * size + b for a, b in zip(first, second)]
    both = np.concatenate(pairs, axis=0)
    _, codes = np.unique(both, return_inverse=True)
    codes = codes.reshape(both.shape)
    return codes[: len(pairs[0])], codes[len(pairs[0]) :]


class Matching:
    """A selector: query i selects key j iff key[b, j] == query[b, i] (codes), and j <= i when causal."""

    def __init__(self, key: np.ndarray, query: np.ndarray, causal: bool):
        self.key, self.query, self.causal = key, query, causal
        batch, length = key.shape
        groups = int(max(key.max(), query.max())) + 1
        rows = np.arange(batch, dtype=np.int64)[:, None] * groups
        key_group = (rows + key).ravel()
        if np.all(key_group[1:] >= key_group[:-1]):  # keys already in order (indices, a constant): no sort
            self.order = np.arange(len(key_group))
        else:
            self.order = np.argsort(key_group, kind="stable")  # by row, value, then position
        sorted_group = key_group[self.order]
        composite = sorted_group * length + self.order % length
        last = np.arange(length) if causal else length - 1
        query_group = (rows + query).ravel()
        at = np.searchsorted(composite, (query_group.reshape(batch, length) * length + last).ravel(), "right") - 1
        self.at = np.maximum(at, 0)
        self.found = (at >= 0) & (sorted_group[self.at] == query_group)
        first = np.ones(len(sorted_group), dtype=bool)
        first[1:] = sorted_group[1:] != sorted_group[:-1]
        self.starts = np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))
        self._first = first
        self.shape = (batch, length)
        self.count = np.where(self.found, self.at - self.starts[self.at] + 1, 0).reshape(self.shape)

    def dense(self) -> np.ndarray:
        selected = self.key[:, None, :] == self.query[:, :, None]
        if self.causal:
            selected &= np.tri(self.shape[1], dtype=bool)
        return selected

    def _sorted(self, values: np.ndarray) -> np.ndarray:
        return np.broadcast_to(values, self.shape).ravel()[self.order]

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Sums of the selected int64 values (the caller keeps |sums| within int64)."""
        ordered = self._sorted(values).astype(np.int64)
        total = np.cumsum(ordered)
        before = (total - ordered)[self.starts]
        return np.where(self.found, (total - before)[self.at], 0).reshape(self.shape)

    def picked(self, values: np.ndarray) -> np.ndarray:
        """The last selected value (the only one where `count` is 1)."""
        return self._sorted(values)[self.at].reshape(self.shape)

    def extreme(self, codes: np.ndarray, size: int, reduce: str) -> np.ndarray:
        """The largest (or smallest) selected code of codes in [0, size); -1 where nothing is selected."""
        ordered = self._sorted(codes).astype(np.int64)
        offset = (np.cumsum(self._first) - 1) * size  # the run of equal key values each sorted position is in
        if reduce == "max":
            best = np.maximum.accumulate(ordered + offset)[self.at] - offset[self.at]
        else:
            best = np.minimum.accumulate(ordered - offset)[self.at] + offset[self.at]
        return np.where(self.found, best, -1).reshape(self.shape)
