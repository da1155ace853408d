"""A plain reference evaluator of the s-op graph: Python loops over positions, no numpy.

It implements the language contract (README, rasp/grammar.lark) as directly as possible, one value at a time, so the
vectorized evaluator (rasp/evaluate.py) can be checked against it:

- query position i selects key position j iff the select's predicate holds on (keys[j]..., queries[i]...)
  and, in causal mode, j <= i;
- aggregate mean: numbers (bools count as 0/1) → their mean, an int when whole; non-numeric values: the
  selected value passes through when all selected values are equal, differing ones are an error;
  nothing selected → the default; max/min: Python's max/min of the selected values;
- selector_width: how many keys are selected;
- map/zipmap bodies and select predicates run through `rasp.scalar.apply` (Python semantics).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasp import scalar
from rasp.errors import RaspEvalError
from rasp.ir import Op
from rasp.program import Program


def _fail(program: Program, op: Op, message: str) -> RaspEvalError:
    source = program.sources.get(op.span.file) if op.span else None
    return RaspEvalError(f"{message} (in {op.label})", op.span, source)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float))  # bool is an int


def _mean(program: Program, op: Op, picked: list, position: int) -> Any:
    if all(_is_number(v) for v in picked):
        total = sum(picked)
        if all(isinstance(v, int) for v in picked):
            if total % len(picked) == 0:
                return total // len(picked)  # exact, however large
            mean = total / len(picked)  # int / int: correctly rounded
        else:
            mean = sum(float(v) for v in picked) / len(picked)
        return int(mean) if float(mean).is_integer() else mean
    first = picked[0]
    if all(v == first for v in picked[1:]):
        return first
    shown = ", ".join(sorted({repr(v) for v in picked})[:4])
    raise _fail(program, op, f"the mean of differing non-numeric values ({shown}) at position {position}")


def evaluate_op(program: Program, op: Op, values: dict[int, list], tokens: list, causal: bool) -> list:
    """One op's value at every position (a selector: one row of booleans per query position)."""
    n = len(tokens)
    if op.kind == "tokens":
        return list(tokens)
    if op.kind == "indices":
        return list(range(n))
    if op.kind == "constant":
        return [op.value] * n
    if op.kind in ("map", "zipmap"):
        result = []
        for i in range(n):
            args = tuple(values[k][i] for k in op.inputs)
            try:
                result.append(scalar.apply(op.fn, args))
            except scalar.EvalProblem as problem:
                raise _fail(program, op, str(problem)) from None
        return result
    if op.kind == "select":
        rows = []
        for i in range(n):
            queries = tuple(values[q][i] for q in op.queries)
            row = []
            for j in range(n):
                if causal and j > i:
                    row.append(False)
                    continue
                keys = tuple(values[k][j] for k in op.keys)
                try:
                    row.append(bool(scalar.apply(op.fn, keys + queries)))
                except scalar.EvalProblem as problem:
                    raise _fail(program, op, str(problem)) from None
            rows.append(row)
        return rows
    if op.kind == "selector_width":
        return [sum(1 for selected in row if selected) for row in values[op.inputs[0]]]
    if op.kind == "aggregate":
        selector, source = values[op.inputs[0]], values[op.inputs[1]]
        result = []
        for i in range(n):
            picked = [source[j] for j in range(n) if selector[i][j]]
            if not picked:
                result.append(op.value)
            elif op.reduce == "mean":
                result.append(_mean(program, op, picked, i))
            else:
                try:
                    result.append(max(picked) if op.reduce == "max" else min(picked))
                except TypeError:
                    raise _fail(program, op, f"reduce={op.reduce!r} over values that cannot be ordered") from None
        return result
    raise AssertionError(f"unknown op kind {op.kind}")


def reference_values(
    program: Program, tokens: Sequence[Any], names: list[str] | None = None, causal: bool | None = None
) -> dict[str, list]:
    """The named s-ops (default: every top-level name) on one input."""
    causal = program.causal if causal is None else causal
    names = list(program.names) if names is None else names
    ids = {name: program.output_id(name) for name in names}
    tokens = list(tokens)
    values: dict[int, list] = {}
    for op in program.graph.schedule(list(ids.values())):
        values[op.id] = evaluate_op(program, op, values, tokens, causal)
    return {name: values[op_id] for name, op_id in ids.items()}


def reference_run(
    program: Program, tokens: Sequence[Any], output: str | None = None, causal: bool | None = None
) -> list:
    """Like `Program.run`, one position at a time."""
    name = output or program.output
    return reference_values(program, tokens, [name], causal)[name]


def reference_run_all(program: Program, tokens: Sequence[Any], causal: bool | None = None) -> dict[str, list]:
    """Like `Program.run_all`."""
    return reference_values(program, tokens, None, causal)


def same_value(a: Any, b: Any, tolerance: float = 1e-9) -> bool:
    """Values agree: numbers (bools as 0/1) within `tolerance`, everything else exactly and of one kind."""
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(map(same_value, a, b))
    if _is_number(a) and _is_number(b):
        return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))
    return type(a) is type(b) and a == b
