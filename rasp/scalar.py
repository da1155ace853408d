"""Scalar functions: the bodies of maps, zipmaps and select predicates.

A function is a small hashable expression tree over its arguments (tuples, so identical functions are
equal and s-ops built from them can be shared):

    ("arg", i)            the i-th argument
    ("lit", value)        a constant (a `Table` for list/dict literals)
    (op, *operands)       op in OPERATORS

The same tree runs two ways: `apply` on Python values (constant folding, the compiler's value tables,
the test reference) and `apply_array` on numpy arrays (the evaluator). Both follow Python semantics,
except that `and`, `or` and `not` always give a bool.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .exact import (
    INT_LIMIT,
    int_array,
    is_int,
    leaves_int64,
    normalize,
    rounds_ints,
    unique_codes,
)

Fn = tuple


class EvalProblem(Exception):
    """A scalar operation failed on some value; the caller adds where in the source."""


class Table:
    """A constant list or dict used as a lookup table (`table[tokens]`). Hashable, immutable."""

    __slots__ = ("mapping", "is_list", "_key")

    def __init__(self, mapping: Mapping[Any, Any], is_list: bool = False):
        self.mapping = dict(mapping)
        self.is_list = is_list
        self._key = (is_list, tuple((_hashable(k), _hashable(v)) for k, v in self.mapping.items()))

    @classmethod
    def from_value(cls, value: list | dict) -> Table:
        if isinstance(value, list):
            return cls(dict(enumerate(value)), is_list=True)
        return cls(value)

    def lookup(self, key: Any) -> Any:
        if isinstance(key, float) and key.is_integer():
            key = int(key)
        try:
            return self.mapping[key]
        except (KeyError, TypeError):
            kind = "index" if self.is_list else "key"
            raise EvalProblem(f"{kind} {key!r} is not in the table {self.to_python()!r}") from None

    def to_python(self) -> list | dict:
        return list(self.mapping.values()) if self.is_list else dict(self.mapping)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Table) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return repr(self.to_python())


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return ("list", tuple(_hashable(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((_hashable(k), _hashable(v)) for k, v in value.items()))
    if isinstance(value, (Table,)):
        return value
    # 1 and 1.0 and True are equal in Python; keep them apart so folding stays exact.
    return (type(value).__name__, value)


def arg(i: int) -> Fn:
    return ("arg", i)


def lit(value: Any) -> Fn:
    if isinstance(value, (list, dict)):
        value = Table.from_value(value)
    return ("lit", (type(value).__name__, value))


def lit_value(fn: Fn) -> Any:
    return fn[1][1]


def substitute(fn: Fn, mapping: dict[int, Fn]) -> Fn:
    """fn with every ("arg", i) replaced by mapping[i] (renumbering arguments, or inlining constants)."""
    if fn[0] == "arg":
        return mapping[fn[1]]
    if fn[0] == "lit":
        return fn
    return (fn[0], *(substitute(f, mapping) for f in fn[1:]))


# Operators that can fail on some numbers (a zero divisor, a missing table key, round() of inf or NaN).
# Everything else is total on numbers (int64 arithmetic that would overflow is redone with Python ints).
_PARTIAL = frozenset({"/", "//", "%", "index", "round", "int", "float"})


def may_fail(fn: Fn) -> bool:
    """Whether `fn` can raise EvalProblem on some numeric arguments."""
    head = fn[0]
    if head in ("arg", "lit"):
        return False
    return head in _PARTIAL or any(may_fail(f) for f in fn[1:])


# ---- Python semantics, one value at a time ---------------------------------------------------------


def _truth(x: Any) -> bool:
    return bool(x)


def _divide(op: Callable[[Any, Any], Any], name: str) -> Callable[[Any, Any], Any]:
    def run(a: Any, b: Any) -> Any:
        if isinstance(b, (int, float)) and b == 0:
            raise EvalProblem(f"division by zero ({a!r} {name} {b!r})")
        return op(a, b)

    return run


def _round(x: Any) -> int:
    if isinstance(x, str):
        raise EvalProblem(f"round() of a string ({x!r})")
    return int(round(x))


def _times(a: Any, b: Any) -> Any:
    """`*`, refusing a string repetition past MAX_STRING before it is built (`'a' * t` on a token of 10**10)."""
    text, count = (a, b) if isinstance(a, str) else (b, a)
    if isinstance(text, str) and isinstance(count, int) and not isinstance(count, bool):
        from . import limits

        if len(text) * count > limits.MAX_STRING:
            raise EvalProblem(
                f"a string of {len(text) * count:,} characters ({text[:10]!r} * {count}) is past the limit of "
                f"{limits.MAX_STRING:,} ({limits.how_to_raise('MAX_STRING')})"
            )
    return a * b


SCALAR_OPS: dict[str, Callable[..., Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": _times,
    "/": _divide(operator.truediv, "/"),
    "//": _divide(operator.floordiv, "//"),
    "%": _divide(operator.mod, "%"),
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "and": lambda a, b: _truth(a) and _truth(b),
    "or": lambda a, b: _truth(a) or _truth(b),
    "not": lambda a: not _truth(a),
    "neg": operator.neg,
    "if": lambda c, x, y: x if _truth(c) else y,
    "indicator": lambda b: 1 if _truth(b) else 0,
    "round": _round,
    "abs": abs,
    "min": min,
    "max": max,
    "str": str,
    "int": int,
    "float": float,
    "bool": _truth,
}
CONVERSIONS = ("str", "int", "float", "bool")
OPERATORS = frozenset(SCALAR_OPS) | {"index"}
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def _checked(op: str, *values: Any) -> Any:
    try:
        return SCALAR_OPS[op](*values)
    except EvalProblem:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        shown = ", ".join(repr(v) for v in values)
        raise EvalProblem(f"'{op}' cannot be applied to {shown}: {exc}") from None


def apply(fn: Fn, args: tuple) -> Any:
    """Evaluate `fn` on Python values."""
    head = fn[0]
    if head == "arg":
        return args[fn[1]]
    if head == "lit":
        return lit_value(fn)
    if head == "index":
        table = apply(fn[1], args)
        return table.lookup(apply(fn[2], args))
    if head == "if":  # lazy, like Python
        return apply(fn[2], args) if _truth(apply(fn[1], args)) else apply(fn[3], args)
    return _checked(head, *(apply(f, args) for f in fn[1:]))


# ---- numpy semantics, a whole array at a time ------------------------------------------------------


def _numeric(a: np.ndarray) -> bool:
    return a.dtype != object


def _truth_array(a: np.ndarray) -> np.ndarray:
    if a.dtype == bool:
        return a
    if a.dtype == object:
        return np.frompyfunc(_truth, 1, 1)(a).astype(bool)
    return a != 0


def _check_divisor(b: np.ndarray, op: str) -> None:
    if np.any(b == 0):
        raise EvalProblem(f"division by zero ('{op}' with a zero divisor)")


def _merge(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Common dtype for two branches; strings, mixed kinds and ints a float64 would round stay Python objects."""
    if _numeric(x) and _numeric(y) and not rounds_ints(x, y):
        return x, y
    return x.astype(object), y.astype(object)


def _round_array(x: np.ndarray) -> np.ndarray:
    """round() of every value: ints as they are, inf and NaN an error (as when folded), huge floats Python ints."""
    if is_int(x):
        return x.astype(np.int64)
    finite = np.isfinite(x)
    if not finite.all():
        _checked("round", x[~finite].flat[0].item())  # raises the folded path's EvalProblem
    rounded = np.rint(x)
    if rounded.size and np.abs(rounded).max() >= INT_LIMIT:
        return normalize(np.frompyfunc(lambda v: int(round(v)), 1, 1)(x).astype(object))
    return rounded.astype(np.int64)


_NUMPY_OPS: dict[str, Callable[..., np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.true_divide,
    "//": np.floor_divide,
    "%": np.mod,
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "neg": np.negative,
    "abs": np.abs,
    "min": np.minimum,
    "max": np.maximum,
}


def _index_array(table: Table, keys: np.ndarray) -> np.ndarray:
    if keys.size == 0:
        return np.empty(keys.shape, dtype=object)
    uniques, inverse, _ = unique_codes(keys)
    looked_up = normalize(np.array([table.lookup(_py(u)) for u in uniques] + [None], dtype=object)[:-1])
    return looked_up[inverse.reshape(-1)].reshape(keys.shape)  # an array even for a 0-d key (a constant)


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _conditional(fn: Fn, args: tuple[np.ndarray, ...]) -> np.ndarray:
    """`x if c else y`, evaluating each branch only where it is taken (as Python does)."""
    condition = _truth_array(np.asarray(apply_array(fn[1], args)))
    if condition.all():
        return np.asarray(apply_array(fn[2], args))
    if not condition.any():
        return np.asarray(apply_array(fn[3], args))
    shape = np.broadcast_shapes(condition.shape, *(np.shape(a) for a in args))
    condition = np.broadcast_to(condition, shape)
    full = tuple(np.broadcast_to(a, shape) for a in args)
    taken = np.asarray(apply_array(fn[2], tuple(a[condition] for a in full)))
    other = np.asarray(apply_array(fn[3], tuple(a[~condition] for a in full)))
    taken, other = _merge(taken, other)
    result = np.empty(shape, dtype=np.result_type(taken, other))
    result[condition] = taken
    result[~condition] = other
    return result


def apply_array(fn: Fn, args: tuple[np.ndarray, ...]) -> np.ndarray:
    """Evaluate `fn` elementwise on numpy arrays (broadcasting), with `apply`'s semantics."""
    head = fn[0]
    if head == "arg":
        return args[fn[1]]
    if head == "lit":
        value = lit_value(fn)
        return np.array(value, dtype=object) if isinstance(value, (str, Table)) else int_array(value)
    if head == "index":
        table = lit_value(fn[1]) if fn[1][0] == "lit" else None
        if not isinstance(table, Table):
            raise EvalProblem("only a constant list or dict can be indexed")
        return _index_array(table, np.asarray(apply_array(fn[2], args)))
    if head == "if":
        return _conditional(fn, args)
    operands = [np.asarray(apply_array(f, args)) for f in fn[1:]]
    if head in ("and", "or", "not"):
        truths = [_truth_array(a) for a in operands]
        if head == "not":
            return ~truths[0]
        return (truths[0] & truths[1]) if head == "and" else (truths[0] | truths[1])
    if head == "indicator":
        return _truth_array(operands[0]).astype(np.int64)
    numeric = all(_numeric(a) for a in operands)
    if numeric and head in _NUMPY_OPS and not leaves_int64(head, operands):
        if head in ("/", "//", "%"):
            _check_divisor(operands[1], head)
        if head in ("+", "-", "*", "/", "//", "%", "neg", "abs") and any(a.dtype == bool for a in operands):
            operands = [a.astype(np.int64) if a.dtype == bool else a for a in operands]
        with np.errstate(all="ignore"):
            return _NUMPY_OPS[head](*operands)
    if head == "round" and numeric:
        return _round_array(operands[0])
    # Strings, mixed kinds: Python semantics element by element.
    shape = np.broadcast_shapes(*(a.shape for a in operands))
    result = np.frompyfunc(lambda *vs: _checked(head, *vs), len(operands), 1)(*operands)
    return normalize(np.asarray(result, dtype=object).reshape(shape))
