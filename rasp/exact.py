"""Exact numbers in numpy arrays: which dtype holds a batch's values exactly, and when int64 or float64
would round or wrap, so the evaluator can switch to Python ints instead (exact, as constant folding is).
Also the distinct-value coding that tabulation, max/min and equality selectors share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# int64 holds integers below this exactly, with room for one addition of two of them; larger ones stay
# Python ints (object arrays), so arithmetic on them is exact, as in constant folding.
INT_LIMIT = 2**62
# float64 holds every integer below this exactly; ints mixed with floats in one array must stay below it.
FLOAT_EXACT = 2**53


def normalize(values: np.ndarray) -> np.ndarray:
    """Give an object array the tightest dtype that holds its values exactly (int, float, bool)."""
    if values.dtype != object or values.size == 0:
        return values
    flat = values.ravel().tolist()
    kinds = set(map(type, flat))
    if kinds <= {bool, np.bool_}:
        return values.astype(bool)
    if kinds <= {int, np.int64}:
        try:
            as_int = values.astype(np.int64)
        except OverflowError:
            return values
        return as_int if -INT_LIMIT < as_int.min() and as_int.max() < INT_LIMIT else values
    if kinds <= {float, int, np.float64, np.int64} and kinds & {float, np.float64}:
        if all(-FLOAT_EXACT <= v <= FLOAT_EXACT for v in flat if type(v) in (int, np.int64)):
            return values.astype(np.float64)
    return values


def int_array(value: Any) -> np.ndarray:
    """A constant as an array: ints beyond int64's exact range stay Python ints."""
    if isinstance(value, int) and not isinstance(value, bool) and not -INT_LIMIT < value < INT_LIMIT:
        return np.array(value, dtype=object)
    return np.array(value)


def magnitude(a: np.ndarray) -> int:
    """The largest absolute value in an integer array, as a Python int (exact)."""
    if a.size == 0:
        return 0
    if a.dtype == bool:
        return int(a.any())
    return max(int(a.max()), -int(a.min()))


def is_int(a: np.ndarray) -> bool:
    return a.dtype.kind in "iub"


def rounds_ints(*operands: np.ndarray) -> bool:
    """Whether numpy would turn ints into float64s that cannot hold them (ints beside floats)."""
    if not any(a.dtype.kind == "f" for a in operands):
        return False
    return any(is_int(a) and magnitude(a) > FLOAT_EXACT for a in operands)


def leaves_int64(head: str, operands: list[np.ndarray]) -> bool:
    """Whether an int64 result could leave the exact range: then Python ints compute it, exactly."""
    if not all(is_int(a) for a in operands):
        return rounds_ints(*operands)
    if head in ("+", "-"):
        return magnitude(operands[0]) + magnitude(operands[1]) >= INT_LIMIT
    if head == "*":
        return magnitude(operands[0]) * magnitude(operands[1]) >= INT_LIMIT
    if head == "/":  # numpy divides the float64s of the ints; Python rounds the exact quotient
        return max(magnitude(a) for a in operands) > FLOAT_EXACT
    return False


def unique_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Distinct values, each position's index among them, and whether they are sorted.

    Sorted when the values can be ordered (then codes compare like the values); values that cannot be
    ordered (str and int together) keep first-seen order.
    """
    if values.dtype != object:
        uniques, inverse = np.unique(values, return_inverse=True)
        return uniques, inverse.reshape(values.shape), True
    # Python objects: one dict pass (sorting B × N strings would compare them O(n log n) times), then
    # the few distinct values sorted when they can be.
    flat = values.ravel().tolist()
    seen = {v: i for i, v in enumerate(dict.fromkeys(flat))}  # first-seen order; equal values share a key
    inverse = np.fromiter(map(seen.__getitem__, flat), np.int64, len(flat))
    uniques = np.array(list(seen) + [None], dtype=object)[:-1]
    try:
        rank = np.argsort(uniques)
    except TypeError:
        return uniques, inverse.reshape(values.shape), False
    position = np.empty(len(rank), dtype=np.int64)
    position[rank] = np.arange(len(rank))
    return uniques[rank], position[inverse].reshape(values.shape), True
