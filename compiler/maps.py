"""Maps and zipmaps: an s-op computed from others by a function, as virtual forms or MLP tasks.

`compile_map(ctx, op)` picks the cheapest encoding (of the composed function of the map's bases when
they take no more combinations than its inputs):

- affine in numerical inputs: their weighted sum, no weights of its own (`_affine`);
- a map of one categorical s-op: a sum of its one-hot dimensions, no weights (`_folded_map`);
- categorical inputs only: a lookup MLP, one unit per combination (`_lookup`), or, for an affine function
  with fewer output values than combinations, the free affine sum discretized (`_discretized_affine`);
- one numerical input: step functions of it, gated by the categorical ones (`_numeric`).

The MLP units themselves are built by `mlp`; the graph walk (`encode`) supplies, through
`context.EncodingContext`, the inputs' encodings, value sets, tasks and output dimensions.
"""

from __future__ import annotations

from typing import Any

from rasp import scalar
from rasp.ir import Op

from . import attention as A
from .context import EncodingContext
from .errors import CompileError
from .layout import NOTBOS, Encoding, Form, combine
from .mlp import affine_units, lookup_units, numeric_units
from .values import canonical, combination_count, is_number, ordered


def _affine_in(fn: scalar.Fn, args: set[int]) -> bool:
    """Whether fn is affine in the given arguments (the others held fixed)."""
    used = A.args_of(fn) & args
    if not used:
        return True
    head = fn[0]
    if head == "arg":
        return True
    if head in ("+", "-"):
        return all(_affine_in(f, args) for f in fn[1:])
    if head == "neg":
        return _affine_in(fn[1], args)
    if head == "*":
        left, right = A.args_of(fn[1]) & args, A.args_of(fn[2]) & args
        return (not left and _affine_in(fn[2], args)) or (not right and _affine_in(fn[1], args))
    if head == "/":
        return not (A.args_of(fn[2]) & args) and _affine_in(fn[1], args)
    return False


def _numeric_type(vtype: str) -> bool:
    return vtype in ("int", "float")


def compile_map(ctx: EncodingContext, op: Op) -> Encoding:
    """A map or zipmap, as a function of its bases when they take no more combinations than its inputs."""
    fn, inputs = op.fn, op.inputs
    composed, bases = ctx.vs.composed(op.id)
    if bases != inputs:
        try:
            if combination_count([ctx.values(b) for b in bases]) <= combination_count([ctx.values(i) for i in inputs]):
                fn, inputs = composed, bases
        except CompileError:
            pass
    return _function(ctx, op, fn, inputs)


def _function(ctx: EncodingContext, op: Op, fn: scalar.Fn, inputs: tuple[int, ...]) -> Encoding:
    """Compile op = fn(inputs...)."""
    encs = [ctx.get(i) for i in inputs]
    numeric_only = [k for k, e in enumerate(encs) if e.cat is None]
    hint = op.encoding
    # An affine function of numerical s-ops is their weighted sum: no weights of its own.
    if (
        all(e.num is not None for e in encs)
        and _affine_in(fn, set(range(len(encs))))
        and (hint == "numerical" or (hint is None and numeric_only))
    ):
        return _affine(ctx, op, fn, encs)
    # A map of one categorical s-op is a sum of its one-hot dimensions.
    if len(encs) == 1 and not numeric_only and ctx.fold_maps:
        return _folded_map(ctx, op, fn, encs[0])
    primary = hint or ("numerical" if numeric_only and _numeric_type(op.vtype) else "categorical")
    if len(numeric_only) > 1:
        # Keep the numerical input with the most values; tabulate the others categorically.
        keep = max(numeric_only, key=lambda k: len(ctx.values(inputs[k])))
        for k in numeric_only:
            if k != keep:
                ctx.to_categorical(inputs[k])
        numeric_only = [keep]
    if not numeric_only:
        if (
            primary == "categorical"
            and len(encs) > 1
            and all(e.num is not None for e in encs)
            and _affine_in(fn, set(range(len(encs))))
        ):
            values = ctx.values(op.id)
            if 2 * len(values) < combination_count([list(e.cat) for e in encs]):
                # Cheaper than a lookup: the affine sum is free, one ramp pair per output value.
                return _discretized_affine(ctx, op, fn, encs, values)
        return _lookup(ctx, op, fn, inputs, primary)
    return _numeric(ctx, op, fn, inputs, numeric_only[0], primary)


def _affine(ctx: EncodingContext, op: Op, fn: scalar.Fn, encs: list[Encoding]) -> Encoding:
    k = len(encs)
    try:
        base = scalar.apply(fn, tuple([0] * k))
        slopes = [scalar.apply(fn, tuple(1 if j == i else 0 for j in range(k))) - base for i in range(k)]
    except scalar.EvalProblem as problem:
        raise ctx.fail(op, str(problem)) from None
    num = combine((float(base), NOTBOS), *((float(s), e.num) for s, e in zip(slopes, encs)))
    enc = Encoding(None, num=num, primary="numerical")
    if op.encoding == "categorical":
        ctx.enc[op.id] = enc
        ctx.to_categorical(op.id)
    return enc


def _discretized_affine(ctx: EncodingContext, op: Op, fn: scalar.Fn, encs: list[Encoding], values: list) -> Encoding:
    k = len(encs)
    base = scalar.apply(fn, tuple([0] * k))
    slopes = [scalar.apply(fn, tuple(1 if j == i else 0 for j in range(k))) - base for i in range(k)]
    num = combine((float(base), NOTBOS), *((float(s), e.num) for s, e in zip(slopes, encs)))
    task = ctx.new_task("mlp", op.label)
    enc, encode = ctx.output_encoding(op, "categorical", values, task.id)
    task.units = numeric_units(num, [(float(v), v) for v in values], encode)
    return enc


def _folded_map(ctx: EncodingContext, op: Op, fn: scalar.Fn, enc: Encoding) -> Encoding:
    cat: dict[Any, Form] = {}
    for x, form in enc.cat.items():
        try:
            y = canonical(scalar.apply(fn, (x,)))
        except scalar.EvalProblem:
            continue
        cat[y] = combine((1.0, cat.get(y, {})), (1.0, form))
    values = ordered(cat)
    ctx.vs.overrides[op.id] = values
    cat = {v: cat[v] for v in values}
    out = ctx.with_num(Encoding(values, cat=cat, primary=op.encoding or "categorical"))
    if op.encoding == "numerical" and out.num is None:
        ctx.check_numeric(op, values)
    return out


def _lookup(ctx: EncodingContext, op: Op, fn: scalar.Fn, inputs: tuple[int, ...], primary: str) -> Encoding:
    import itertools

    encs = [ctx.get(i) for i in inputs]
    sets = [list(e.cat) for e in encs]
    ctx.combos(op, sets)
    table = []
    for combo in itertools.product(*sets):
        try:
            y = canonical(scalar.apply(fn, combo))
        except scalar.EvalProblem:
            continue
        table.append(([e.cat[v] for e, v in zip(encs, combo)], y))
    values = ordered(y for _, y in table)
    if primary == "numerical":
        ctx.check_numeric(op, values)
    ctx.vs.overrides[op.id] = values
    task = ctx.new_task("mlp", op.label)
    enc, encode = ctx.output_encoding(op, primary, values, task.id)
    task.units = lookup_units(table, encode)
    return enc


def _numeric(
    ctx: EncodingContext, op: Op, fn: scalar.Fn, inputs: tuple[int, ...], x_arg: int, primary: str
) -> Encoding:
    import itertools

    encs = [ctx.get(i) for i in inputs]
    x = encs[x_arg]
    others = [k for k in range(len(encs)) if k != x_arg]
    other_sets = [list(encs[k].cat) for k in others]
    affine = primary == "numerical" and _affine_in(fn, {x_arg})
    xs = None if affine else ctx.values(inputs[x_arg])
    ctx.combos(op, other_sets + ([xs] if xs is not None else []))
    task = ctx.new_task("mlp", op.label)
    combos = list(itertools.product(*other_sets))

    def args_for(combo: tuple, xv: Any) -> tuple:
        args: list[Any] = [None] * len(encs)
        for k, v in zip(others, combo):
            args[k] = v
        args[x_arg] = xv
        return tuple(args)

    if affine:
        lo, hi = bounds(ctx, inputs[x_arg])
        enc, _ = ctx.output_encoding(op, "numerical", None, task.id)
        out = enc.num
        for combo in combos:
            try:
                b = scalar.apply(fn, args_for(combo, 0))
                a = scalar.apply(fn, args_for(combo, 1)) - b
            except scalar.EvalProblem:
                continue
            gate = [encs[k].cat[v] for k, v in zip(others, combo)]
            task.units += affine_units(x.num, lo, hi, float(a), float(b), out, gate)
        return enc
    tables = []
    outputs = []
    for combo in combos:
        points = []
        for xv in xs:
            try:
                y = canonical(scalar.apply(fn, args_for(combo, xv)))
            except scalar.EvalProblem:
                continue
            points.append((float(xv), y))
            outputs.append(y)
        tables.append((combo, points))
    values = ordered(outputs)
    if primary == "numerical":
        ctx.check_numeric(op, values)
    ctx.vs.overrides[op.id] = values
    enc, encode = ctx.output_encoding(op, primary, values, task.id)
    for combo, points in tables:
        gate = [encs[k].cat[v] for k, v in zip(others, combo)]
        task.units += numeric_units(x.num, points, encode, gate=gate if others else None)
    return enc


def bounds(ctx: EncodingContext, op_id: int) -> tuple[float, float]:
    op = ctx.graph.op(op_id)
    if op.kind == "aggregate":
        values = [float(v) for v in ctx.values(op.inputs[1]) if is_number(v)] + [float(op.value)]
        return min(values), max(values)
    return ctx.vs.bounds(op_id)
