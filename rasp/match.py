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

from . import scalar

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


def joint_codes(keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes in one space for two B × N arrays: equal codes iff the values are equal in Python.

    None when numpy's equality could differ from Python's (NaN, or ints a float64 would round).
    """
    if keys.dtype != queries.dtype and (keys.dtype == object or queries.dtype == object):
        keys, queries = keys.astype(object), queries.astype(object)
    for a in (keys, queries):
        if a.dtype.kind == "f" and np.isnan(a).any():
            return None
    kinds = {keys.dtype.kind, queries.dtype.kind}
    if "f" in kinds and kinds & {"i", "u"}:
        if any(a.dtype.kind in "iu" and scalar.magnitude(a) > scalar.FLOAT_EXACT for a in (keys, queries)):
            return None
    both = np.concatenate([keys, queries], axis=0)
    if both.dtype.kind in "iub":  # integers in a short range are their own codes: no sort
        low, high = int(both.min()), int(both.max())
        if high - low <= 4 * both.size:
            codes = both.astype(np.int64) - low
            return codes[: len(keys)], codes[len(keys) :]
    uniques, codes, _ = scalar.unique_codes(both)
    if uniques.dtype == object and any(isinstance(v, float) and v != v for v in uniques):
        return None
    return codes[: len(keys)], codes[len(keys) :]


class Matching:
    """A selector: query i selects key j iff key[b, j] == query[b, i] (codes), and j <= i when causal."""

    def __init__(self, key: np.ndarray, query: np.ndarray, causal: bool):
        self.key, self.query, self.causal = key, query, causal
        batch, length = key.shape
        groups = int(max(key.max(), query.max())) + 1
        rows = np.arange(batch, dtype=np.int64)[:, None] * groups
        key_group = (rows + key).ravel()
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
        self.run = np.cumsum(first) - 1  # which run of equal values each sorted position is in
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
        offset = self.run * size
        if reduce == "max":
            best = np.maximum.accumulate(ordered + offset)[self.at] - offset[self.at]
        else:
            best = np.minimum.accumulate(ordered - offset)[self.at] + offset[self.at]
        return np.where(self.found, best, -1).reshape(self.shape)
