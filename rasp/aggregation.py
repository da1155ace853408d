"""Aggregates and selector widths for the vectorized evaluator (rasp/evaluate.py).

A mean over numbers is a float64 (or, for small integers, an exact float32) matrix product of the selector with
the values; integers too large for float sums stay Python ints; non-numeric values pass through where the
selected ones agree and are an error where they differ; max/min pick by the values' order codes. A `Matching`
(an equality selector kept without its B × N × N array) is aggregated directly where that gives the same
values, else through the dense path.

`Aggregation` is a part of `Evaluation`: it reads that evaluation's values, codes, counts and weights.
"""

from __future__ import annotations

import numpy as np

from . import exact
from .ir import Op
from .match import Matching, value_codes


class Aggregation:
    """The aggregate and selector_width ops of `Evaluation`."""

    def _selector_width(self, op: Op) -> np.ndarray:
        selected = self.values[op.inputs[0]]
        if isinstance(selected, Matching):
            return selected.count
        return self.counts(op.inputs[0]).astype(np.int64)

    def _aggregate(self, op: Op) -> np.ndarray:
        values = self.values[op.inputs[1]]
        matching = self.values[op.inputs[0]]
        result = self._aggregate_matching(op, matching, values) if isinstance(matching, Matching) else None
        if result is not None:
            empty = matching.count == 0
        else:
            selected = self.dense(op.inputs[0])
            counts = self.counts(op.inputs[0])
            empty = counts == 0
            if op.reduce == "mean" and values.dtype != object:
                result = self._numeric_mean(op.inputs[0], values, counts)
            elif op.reduce == "mean":
                result = self._mean_of_objects(op, selected, values)
            else:
                result = self._extreme(op, selected, values)
        if not empty.any():
            return result
        default = np.asarray(op.value, dtype=object if isinstance(op.value, str) else None)
        if result.dtype == object or default.dtype == object:
            result, default = result.astype(object), default.astype(object)
        return (
            exact.normalize(np.where(empty, default, result))
            if result.dtype == object
            else np.where(empty, default, result)
        )

    def _aggregate_matching(self, op: Op, matching: Matching, values: np.ndarray) -> np.ndarray | None:
        """The aggregate over a Matching, with the dense path's results; None where it needs the dense path."""
        counts = matching.count
        if op.reduce != "mean" or values.dtype == object:
            uniques, codes = self.codes(op.inputs[1]) if values.dtype == object else value_codes(values)
            if op.reduce != "mean":
                if op.inputs[1] in self._unordered:
                    raise self.fail(op, f"reduce={op.reduce!r} over values that cannot be ordered")
                picked = matching.extreme(codes, len(uniques), op.reduce)
                return uniques[np.clip(picked, 0, len(uniques) - 1)]
            low = matching.extreme(codes, len(uniques), "min")
            high = matching.extreme(codes, len(uniques), "max")
            if np.any(high > low):
                return None  # differing values: a numeric mean or an error, as the dense path says
            return np.asarray(uniques[np.clip(high, 0, None)], dtype=object)
        if values.dtype == np.float64 or values.dtype.kind not in "iub":
            if np.any(counts > 1):
                return None
            return np.where(counts == 1, matching.picked(values), 0.0)  # one selected value: itself
        if (
            exact.magnitude(values) * self.length >= exact.FLOAT_EXACT
            or values.size * exact.magnitude(values) >= exact.INT_LIMIT
        ):
            return None
        means = matching.sums(values) / np.maximum(counts, 1)
        if np.all(means == np.round(means)):
            return means.astype(np.int64)  # whole means of integers stay integers, as in _numeric_mean
        return means

    def _numeric_mean(self, selector: int, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
        if values.dtype != np.float64:
            if exact.magnitude(values) * self.length >= exact.FLOAT_EXACT:
                return _exact_int_mean(self.dense(selector), values, counts)  # float64 sums would round
            # float32 sums of integers below 2**24 are exact, at half the memory traffic of float64
            small = exact.magnitude(values) * self.length < 2**24
            dtype = np.float32 if small else np.float64
            means = _float_mean(self.weights(selector, dtype), values.astype(dtype), counts)
            if np.all(means == np.round(means)):
                return means.astype(np.int64)  # whole means of integers stay integers
            return means
        return _float_mean(self.weights(selector), values, counts)

    def _mean_of_objects(self, op: Op, selected: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Non-numeric values pass through when the selected ones agree; differing ones are an error."""
        uniques, codes = self.codes(op.inputs[1])
        low = np.where(selected, codes[:, None, :], len(uniques)).min(axis=-1)
        high = np.where(selected, codes[:, None, :], -1).max(axis=-1)
        differing = (high > low) & (high >= 0)
        if differing.any():
            numeric = np.array([isinstance(u, (int, float)) for u in uniques] + [False])
            all_numeric = ~np.any(selected & ~numeric[codes][:, None, :], axis=-1)
            if np.any(differing & ~all_numeric):
                b, i = np.argwhere(differing & ~all_numeric)[0]
                picked = sorted({repr(values[b, j]) for j in np.flatnonzero(selected[b, i])})
                raise self.fail(
                    op,
                    f"the mean of differing non-numeric values ({', '.join(picked[:4])}) at position {i}; "
                    "select one value, or aggregate numbers",
                )
        passed = (
            uniques[np.clip(high, 0, None)]
            if len(uniques)
            else np.zeros(codes.shape[:1] + codes.shape[1:], dtype=object)
        )
        result = np.asarray(passed, dtype=object)
        if differing.any():
            numbers = [u if isinstance(u, (int, float)) else 0 for u in uniques]
            if any(isinstance(u, int) and abs(u) > exact.FLOAT_EXACT for u in numbers):
                as_number = np.array(numbers + [None], dtype=object)[:-1][codes]
                means = _exact_int_mean(selected, as_number, selected.sum(-1))
            else:
                as_float = np.array([float(u) for u in numbers])[codes]
                means = _float_mean(selected.astype(np.float64), as_float, selected.sum(-1))
            result = np.where(differing, means.astype(object), result)
        return result

    def _extreme(self, op: Op, selected: np.ndarray, values: np.ndarray) -> np.ndarray:
        uniques, codes = self.codes(op.inputs[1])
        if op.inputs[1] in self._unordered:
            raise self.fail(
                op, f"reduce={op.reduce!r} over values that cannot be ordered ({', '.join(map(repr, uniques[:4]))})"
            )
        small = codes.astype(np.int16) if len(uniques) < 2**15 - 1 else codes  # a quarter of the memory traffic
        if op.reduce == "max":
            picked = np.where(selected, small[:, None, :], small.dtype.type(-1)).max(axis=-1)
        else:
            picked = np.where(selected, small[:, None, :], small.dtype.type(len(uniques))).min(axis=-1)
        if len(uniques) == 0:
            return np.zeros(picked.shape, dtype=values.dtype)
        return uniques[np.clip(picked, 0, len(uniques) - 1)]


def _float_mean(weights: np.ndarray, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Means of float64 values (weights: the selector as 0.0/1.0); an inf or NaN changes only the means that
    select it (never 0 · inf)."""
    finite = np.isfinite(values)
    if finite.all():
        sums = np.matmul(weights, values[:, :, None])[:, :, 0]
    else:
        sums = np.matmul(weights, np.where(finite, values, 0.0)[:, :, None])[:, :, 0]
        kinds = np.stack([np.isnan(values), values == np.inf, values == -np.inf], axis=-1).astype(np.float64)
        nan, pos, neg = np.moveaxis(np.matmul(weights, kinds) > 0, -1, 0)
        sums = np.where(pos, np.inf, np.where(neg, -np.inf, sums))
        sums = np.where(nan | (pos & neg), np.nan, sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / np.maximum(counts, 1)


def _exact_int_mean(selected: np.ndarray, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Means of integers too large for float64 sums: Python ints, an int when whole (as when folded)."""
    if values.dtype != object and exact.magnitude(values) * selected.shape[-1] < exact.INT_LIMIT:
        sums = np.matmul(selected.astype(np.int64), values.astype(np.int64)[:, :, None])[:, :, 0]
    else:
        sums = np.matmul(selected.astype(object), values.astype(object)[:, :, None])[:, :, 0]
    divide = np.frompyfunc(lambda s, c: int(s) // c if s % c == 0 else int(s) / c, 2, 1)
    return exact.normalize(np.asarray(divide(sums, np.maximum(counts, 1).astype(object)), dtype=object))
