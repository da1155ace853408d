"""Static value types and text of scalar functions (`rasp.scalar.Fn`): what a function returns given its
arguments' types (so the lowerer refuses `"a" - 1` before any input), and the function as dialect source."""

from __future__ import annotations

import math
from typing import Any

from .scalar import COMPARISONS, CONVERSIONS, EvalProblem, Fn, Table, lit_value

# ---- static types -------------------------------------------------------------------------------

# Value types: "int", "float", "bool", "str", "any" (unknown until an input is given).
NUMBER_TYPES = {"int", "float", "bool"}


def value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "any"


def join_types(*types: str) -> str:
    distinct = set(types)
    if len(distinct) == 1:
        return distinct.pop()
    if distinct <= {"int", "float", "bool"}:
        return "float" if "float" in distinct else "int"
    return "any"


def infer_type(fn: Fn, arg_types: tuple[str, ...]) -> str:
    """The value type `fn` returns; raises EvalProblem when it can never work (e.g. "a" - 1)."""
    head = fn[0]
    if head == "arg":
        return arg_types[fn[1]]
    if head == "lit":
        value = lit_value(fn)
        return value_type(value)
    if head == "index":
        table = lit_value(fn[1])
        infer_type(fn[2], arg_types)
        return join_types(*(value_type(v) for v in table.mapping.values())) if table.mapping else "any"
    types = [infer_type(f, arg_types) for f in fn[1:]]
    if head in ("and", "or", "not") or head in COMPARISONS:
        if head in ("<", "<=", ">", ">=") and "str" in types and set(types) & NUMBER_TYPES:
            raise EvalProblem(f"'{head}' compares a string with a number")
        return "bool"
    if head == "indicator":
        return "int"
    if head in CONVERSIONS:
        return head
    if head == "if":
        return join_types(types[1], types[2])
    if head in ("min", "max"):
        if "str" in types and set(types) & NUMBER_TYPES:
            raise EvalProblem(f"{head}() of a string and a number")
        return join_types(*types)
    if head in ("neg", "abs", "round"):
        if types[0] == "str":
            raise EvalProblem(f"'{'-' if head == 'neg' else head}' of a string")
        return "int" if head == "round" or types[0] == "bool" else types[0]
    left, right = types
    if "str" in types:
        ok = (head == "+" and left == right == "str") or (head == "*" and {left, right} <= {"str", "int", "any"})
        if not ok and "any" not in types:
            raise EvalProblem(f"'{head}' between {left} and {right}")
        return "str" if ok or left == right else "any"
    if "any" in types:
        return "any"
    if head == "/":
        return "float"
    return "float" if "float" in types else "int"


# ---- text ----------------------------------------------------------------------------------------

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, **{c: 4 for c in COMPARISONS}, "+": 5, "-": 5}
_PRECEDENCE.update({"*": 6, "/": 6, "//": 6, "%": 6, "neg": 7})


def to_text(fn: Fn, names: tuple[str, ...]) -> str:
    """The function body as dialect source, e.g. `x + 1`."""

    def show(f: Fn, outer: int = 0) -> str:
        head = f[0]
        if head == "arg":
            return names[f[1]]
        if head == "lit":
            value = lit_value(f)
            return repr(value.to_python()) if isinstance(value, Table) else _literal_text(value)
        if head == "index":
            return f"{show(f[1], 9)}[{show(f[2])}]"
        if head == "if":
            text = f"{show(f[2], 1)} if {show(f[1], 1)} else {show(f[3])}"
            return f"({text})" if outer > 0 else text
        if head in ("indicator", "round", "abs", "min", "max", *CONVERSIONS):
            return f"{head}({', '.join(show(a) for a in f[1:])})"
        prec = _PRECEDENCE[head]
        if head == "not":
            text = f"not {show(f[1], prec)}"
        elif head == "neg":
            text = f"-{show(f[1], prec)}"
        else:
            text = f"{show(f[1], prec)} {head} {show(f[2], prec + 1)}"
        return f"({text})" if prec < outer else text

    return show(fn)


def _literal_text(value: Any) -> str:
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        raise EvalProblem(f"{value} has no literal form")
    return repr(value)
