"""Witness expressions (rasp/analysis/crasp_eval.py) as the limit construction reads them: their finite leaves,
evaluation on chosen leaf values, the query/key sides of a count's predicate."""

from __future__ import annotations

import itertools
import math
from typing import Any

from rasp import scalar
from rasp.analysis.crasp_eval import COMPARE

from ..errors import CompileError

MAX_CASES = 4096  # combinations of finite values one lookup MLP may enumerate


def finite_leaves(e: tuple, is_count: Any) -> list[tuple]:
    """The token and definition reads of a finite expression, and its comparisons of counts, each once, in order."""
    head = e[0]
    if head in ("tok", "ref", "pick", "mod") or head == "count" and not is_count(e):
        return [e]
    if head == "cmp" and (is_count(e[2]) or is_count(e[3])):
        return [e]
    if head == "lit":
        return []
    parts = {"fn": lambda: e[3], "cmp": lambda: e[2:], "ite": lambda: e[1:]}.get(head)
    if parts is None:
        raise CompileError(f"the limit construction has no rule for {head!r} in a finite value yet")
    leaves = {repr(leaf): leaf for part in parts() for leaf in finite_leaves(part, is_count)}
    return list(leaves.values())


def order_key(value: Any) -> tuple:
    return (1, value) if isinstance(value, str) else (0, value)


def combinations(blocks: list[dict[Any, int]], what: str) -> Any:
    """Every combination of the blocks' values, as ((value, column), ...) tuples, refused past MAX_CASES."""
    cases = math.prod(len(b) for b in blocks)
    if cases > MAX_CASES:
        raise CompileError(f"{what}: a finite function of {cases:,} argument combinations (limit {MAX_CASES:,})")
    return itertools.product(*(list(b.items()) for b in blocks))


def weights(pairs: list[tuple[int, float]]) -> dict[int, float]:
    """Column weights, summed where a column appears twice (a gate that is the constant column)."""
    out: dict[int, float] = {}
    for col, w in pairs:
        out[col] = out.get(col, 0.0) + w
    return out


def substitute(e: Any, values: dict[str, Any]) -> Any:
    """e with the reads named in `values` (by repr) replaced by those constants."""
    if not isinstance(e, tuple) or not e:
        return e
    if repr(e) in values:
        return ("lit", values[repr(e)])
    if e[0] == "fn":
        return ("fn", e[1], e[2], [substitute(a, values) for a in e[3]])
    if e[0] in ("tok", "ref", "lit"):
        return e
    return (e[0], *(substitute(x, values) for x in e[1:]))


def evaluate(e: tuple, values: dict) -> Any:
    head = e[0]
    if repr(e) in values:
        return values[repr(e)]
    if head in ("tok", "ref"):
        return values[repr(e)]
    if head == "lit":
        return e[1]
    if head == "fn":
        return scalar.apply(e[1], tuple(evaluate(a, values) for a in e[3]))
    if head == "cmp":
        return COMPARE[e[1]](evaluate(e[2], values), evaluate(e[3], values))
    return evaluate(e[2], values) if evaluate(e[1], values) else evaluate(e[3], values)  # ite


def at_query(e: Any) -> Any:
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
        return ("fn", e[1], e[2], [at_query(a) for a in e[3]])
    return (e[0], *(at_query(x) for x in e[1:]))


def reads_query(e: Any) -> bool:
    if not isinstance(e, tuple) or not e:
        return False
    if e[0] in ("tok", "ref"):
        return e[-1] == "i"
    if e[0] == "fn":
        return any(reads_query(a) for a in e[3])
    return any(reads_query(x) for x in e[1:] if isinstance(x, tuple))


def show(e: tuple) -> str:
    from rasp.analysis.crasp_eval import show

    return show(e, "j")
