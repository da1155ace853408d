"""Attention heads for selects, and the aggregate and selector_width tasks that read them.

`head_for(ctx, select_id)` turns a select into an `attention.HeadSpec`: its predicate split into
conjuncts, each a 0/1 query–key table over the categorical forms of its key side and query side (several
s-ops on one side are joined into a tuple s-op by the walk's `side`). `heads_for` may instead split a conjunct
that compares two maps of two s-ops each over their factors (`_factorized`, `_partition`): several heads
whose selections partition the select's, which only counts can add up (`_split_width`).

`compile_aggregate` and `compile_selector_width` build the attention tasks (and the counting MLP) from
those specs; the weight-level pieces (logit gap, BOS terms, rank terms) are in `attention`, and the
walk (`encode`, through `context.EncodingContext`) supplies encodings, value sets, tasks and output dimensions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rasp import scalar
from rasp.ir import Op

from . import attention as A
from .context import EncodingContext
from .errors import CompileError
from .layout import BOS, Encoding, combine
from .mlp import numeric_units
from .values import can_order, canonical, is_number, ordered

TABLE_LIMIT = 4_000_000  # entries of one select conjunct's query-key table
FACTOR_HEADS = 4  # most heads a conjunct over two maps may be split into (selector_width)
FACTOR_EVALUATIONS = 2_000_000_000  # predicate evaluations spent looking for that split (about 10 s)
FACTOR_CHUNK = 32_000_000  # of them at a time (one value of the first key factor)


# ---- selects → head specs -------------------------------------------------------------------------


def head_for(ctx: EncodingContext, select_id: int) -> A.HeadSpec:
    sel = ctx.graph.op(select_id)
    return _head_for_fn(ctx, sel, sel.fn)


def _head_for_fn(ctx: EncodingContext, sel: Op, predicate: scalar.Fn) -> A.HeadSpec:
    clauses = []
    n_terms = 0
    for fn in A.conjuncts(predicate):
        used = sorted(A.args_of(fn))
        if not used:
            if not scalar.apply(fn, ()):
                n_terms += 1  # never holds: nothing is selected
            continue
        key_args = [a for a in used if a < sel.n_keys]
        query_args = [a for a in used if a >= sel.n_keys]
        keys = ctx.side(sel, tuple(sel.inputs[a] for a in key_args))
        queries = ctx.side(sel, tuple(sel.inputs[a] for a in query_args))
        table = _table(ctx, fn, sel, key_args, query_args, keys, queries)
        clauses.append(A.Clause(keys, queries, table))
        n_terms += 1
    return A.HeadSpec(clauses, n_terms)


def heads_for(ctx: EncodingContext, select_id: int) -> list[A.HeadSpec]:
    """The heads whose selections partition the select's: one head, unless a conjunct compares two
    maps of two s-ops each (`keys = x + i / N; select(keys, keys, <)`): its table over the maps' values
    is quadratic in a product of value sets, so it is split over the factors instead (see
    `_factorized`). Only counts (selector_width) can add up several heads."""
    sel = ctx.graph.op(select_id)
    for fn in A.conjuncts(sel.fn):
        parts = _factorized(ctx, sel, fn)
        if parts is None:
            continue
        rest = _without(ctx, sel, fn)
        return [A.HeadSpec(rest.clauses + clauses, rest.n_terms + len(clauses)) for clauses in parts]
    return [head_for(ctx, select_id)]


def _without(ctx: EncodingContext, sel: Op, skip: scalar.Fn) -> A.HeadSpec:
    """head_for over the conjuncts other than `skip` (the first one equal to it)."""
    others = A.conjuncts(sel.fn)
    others.remove(skip)
    if not others:
        return A.HeadSpec([], 0)
    fn = others[0]
    for f in others[1:]:
        fn = ("and", fn, f)
    return _head_for_fn(ctx, sel, fn)


def _factor_side(ctx: EncodingContext, op_id: int) -> tuple[scalar.Fn, tuple[int, int]] | None:
    """A map/zipmap as a function of two categorical s-ops (its bases, or else its own inputs)."""
    op = ctx.graph.op(op_id)
    if op.kind not in ("map", "zipmap"):
        return None
    fn, bases = ctx.vs.composed(op_id)
    if len(bases) != 2:
        fn, bases = op.fn, op.inputs
        if len(bases) != 2:
            return None
    try:
        if any(ctx.get(b).cat is None for b in bases):
            return None
    except CompileError:
        return None
    return fn, (bases[0], bases[1])


# long: one derivation (partition the predicate, one head per part) kept whole
def _factorized(ctx: EncodingContext, sel: Op, fn: scalar.Fn) -> list[list[A.Clause]] | None:
    """Split a conjunct P(K[j], Q[i]) with K = f(a, b), Q = g(c, e) into disjoint products
    [A_t(a[j], c[i]) and T_t(b[j], e[i])]: for every pair (a, c) the table over (b, e) is one of few
    distinct tables T_t (lexicographic orders: all-true, the order on (b, e), all-false). Each product is
    a head with two small tables; their counts add up to the conjunct's count. Exact: the partition is
    computed from P itself. A bilinear score cannot do this with one head: equal logits on the selected
    keys of a strict order over V values need rank ≥ V − 1. Returns None when P does not factor into
    at most FACTOR_HEADS products, or when the direct table is small enough and not much wider."""
    used = A.args_of(fn)
    key_args = [a for a in used if a < sel.n_keys]
    query_args = [a for a in used if a >= sel.n_keys]
    if len(key_args) != 1 or len(query_args) != 1:
        return None
    k_id, q_id = sel.inputs[key_args[0]], sel.inputs[query_args[0]]
    sides = []
    for op_id in (k_id, q_id):
        side = _factor_side(ctx, op_id)
        if side is None:
            return None
        sides.append(side)
    (fk, (a_id, b_id)), (fq, (c_id, e_id)) = sides
    cats = [ctx.get(i).cat for i in (a_id, b_id, c_id, e_id)]
    sizes = [len(c) for c in cats]
    evaluations = sizes[0] * sizes[1] * sizes[2] * sizes[3]
    if evaluations > FACTOR_EVALUATIONS:
        return None
    factored_width = sum(sizes)
    try:
        direct_width = len(ctx.values(k_id)) + len(ctx.values(q_id))
        direct_table = len(ctx.values(k_id)) * len(ctx.values(q_id))
    except CompileError:
        direct_width = direct_table = math.inf
    if direct_table <= TABLE_LIMIT and 2 * factored_width >= direct_width:
        return None
    vals = [_column(list(c)) for c in cats]
    try:
        with np.errstate(all="ignore"):
            kv = np.asarray(scalar.apply_array(fk, (vals[0].reshape(-1, 1), vals[1].reshape(1, -1))))
            qv = np.asarray(scalar.apply_array(fq, (vals[2].reshape(-1, 1), vals[3].reshape(1, -1))))
        kv = np.broadcast_to(kv, (sizes[0], sizes[1]))
        qv = np.broadcast_to(qv, (sizes[2], sizes[3]))
    except Exception:  # noqa: BLE001 - e.g. a division by zero for some combination: not factored
        return None
    for outer in ("ac", "be"):
        flip = outer == "be"
        try:
            parts = _partition(fn, len(sel.inputs), key_args[0], query_args[0], *((kv.T, qv.T) if flip else (kv, qv)))
        except Exception:  # noqa: BLE001 - the predicate fails somewhere: not factored
            return None
        outer_cats, inner_cats = (
            ((cats[1], cats[3]), (cats[0], cats[2])) if flip else ((cats[0], cats[2]), (cats[1], cats[3]))
        )
        if not parts:
            continue
        heads = []
        for outer_table, inner_table in parts:
            clauses = []
            for (kc, qc), table in ((outer_cats, outer_table), (inner_cats, inner_table)):
                if not table.all():
                    clauses.append(A.Clause(kc, qc, table))
            heads.append(clauses)
        ctx.notes.append(
            f"{sel.label}: the conjunct over {ctx.graph.op(k_id).label} and {ctx.graph.op(q_id).label} "
            f"is split over their factors into {len(heads)} heads"
        )
        return heads
    return None


def _table(
    ctx: EncodingContext, fn: scalar.Fn, sel: Op, key_args: list[int], query_args: list[int], keys, queries
) -> np.ndarray:
    """The conjunct's truth table (key values × query values), vectorized where possible."""
    kvals = list(keys) if keys is not None else [None]
    qvals = list(queries) if queries is not None else [None]
    if len(kvals) * len(qvals) > TABLE_LIMIT:
        raise ctx.fail(
            sel,
            f"its query-key table would have {len(kvals)} × {len(qvals)} entries "
            f"(more than {TABLE_LIMIT}) at max_len {ctx.max_len}",
        )
    args: list[Any] = [None] * len(sel.inputs)
    for pos, a in enumerate(key_args):
        col = [kv[pos] if len(key_args) > 1 else kv for kv in kvals]
        args[a] = _column(col).reshape(-1, 1)
    for pos, a in enumerate(query_args):
        row = [qv[pos] if len(query_args) > 1 else qv for qv in qvals]
        args[a] = _column(row).reshape(1, -1)
    try:
        with np.errstate(all="ignore"):
            result = np.asarray(scalar.apply_array(fn, tuple(args)))
        if result.dtype == object:
            result = np.frompyfunc(bool, 1, 1)(result).astype(bool)
        return np.broadcast_to(result.astype(bool), (len(kvals), len(qvals)))
    except Exception:  # noqa: BLE001 - e.g. a division by zero somewhere: go value by value
        table = np.zeros((len(kvals), len(qvals)), dtype=bool)
        for r, kv in enumerate(kvals):
            for c, qv in enumerate(qvals):
                vals: list[Any] = [None] * len(sel.inputs)
                for a, v in zip(key_args, kv if len(key_args) > 1 else (kv,)):
                    vals[a] = v
                for a, v in zip(query_args, qv if len(query_args) > 1 else (qv,)):
                    vals[a] = v
                try:
                    table[r, c] = bool(scalar.apply(fn, tuple(vals)))
                except scalar.EvalProblem:
                    pass
        return table


# ---- aggregate and selector_width -----------------------------------------------------------------


def compile_aggregate(ctx: EncodingContext, op: Op) -> Encoding:
    """One head: a numerical mean, a categorical retrieval, or max/min by rank (see `attention`)."""
    sel_id, val_id = op.inputs
    venc = ctx.get(val_id)
    values = ctx.values(val_id)
    mode = ctx.vs.aggregate_mode(op)
    if mode in ("max", "min") and not can_order(values):
        raise ctx.fail(op, f"reduce={op.reduce!r} over values that cannot be ordered")
    spec = head_for(ctx, sel_id)
    task = ctx.new_task("attn", op.label)
    default = canonical(op.value)
    magnitude = max(
        [abs(float(v)) for v in values if is_number(v)] + [abs(float(default)) if is_number(default) else 0.0, 1.0]
    )
    g = A.gap_for(ctx.max_len, magnitude if mode == "mean" else 1.0)
    if mode == "mean":
        vform = venc.num
        if vform is None:
            vform = combine(*((float(v), f) for v, f in venc.cat.items()))
        if not is_number(default):
            raise ctx.fail(op, f"a numerical mean with the non-numeric default {default!r}")
        dim = ctx.layout.new(op.label, task.id)
        A.add_outer(task.ov, vform, {dim: 1.0}, 1.0)
        A.add_outer(task.ov, {BOS: 1.0}, {dim: 1.0}, float(default))
        d = 2 * g
        task.qk_blocks = A.select_logits(spec.clauses, d)
        A.bos_terms(task.qk, spec.n_terms * d - g, d)
        return Encoding(None, num={dim: 1.0}, primary="numerical")
    # Categorical retrieval, max, min: move the selected value's one-hot.
    if mode == "retrieval" and sum(is_number(v) for v in values) > 1 and not ctx.vs.at_most_one(sel_id):
        ctx.retrievals.append([sel_id, val_id, op.label])
    cat_in = ctx.to_categorical(val_id)
    out_values = ctx.values(op.id)
    primary = "numerical" if op.encoding == "numerical" else "categorical"
    if primary == "numerical":
        ctx.check_numeric(op, out_values)
    enc, encode = ctx.output_encoding(op, primary, out_values, task.id)
    for v, form in cat_in.items():
        A.add_outer(task.ov, form, encode(canonical(v)), 1.0)
    A.add_outer(task.ov, {BOS: 1.0}, encode(default), 1.0)
    if mode == "retrieval":
        d = 2 * g
        task.qk_blocks = A.select_logits(spec.clauses, d)
    else:
        ranked = ordered(cat_in)
        if mode == "min":
            ranked = ranked[::-1]
        d = g * (len(ranked) - 1) + 2 * g
        task.qk_blocks = A.select_logits(spec.clauses, d)
        A.rank_terms(task.qk, [cat_in[v] for v in ranked], g)
    A.bos_terms(task.qk, spec.n_terms * d - g, d)
    return enc


def compile_selector_width(ctx: EncodingContext, op: Op) -> Encoding:
    """A count: a head that writes BOS's weight N/(w + N) to a scratch dimension, an MLP that decodes w."""
    sel = ctx.graph.op(op.inputs[0])
    n = ctx.max_len
    if sel.fn == scalar.lit(True) and ctx.causal:
        # Causally, selecting every key counts i + 1 positions: a map of indices.
        idx = ctx.get(1)
        cat = {i + 1: form for i, form in idx.cat.items()}
        ctx.vs.overrides[op.id] = list(cat)
        return ctx.with_num(Encoding(list(cat), cat=cat, primary=op.encoding or "categorical"))
    specs = heads_for(ctx, sel.id)
    if len(specs) > 1:
        return _split_width(ctx, op, specs)
    spec = specs[0]
    attn = ctx.new_task("attn", f"{op.label} (attention)")
    scratch = ctx.layout.new(f"{op.label}:bos_weight", attn.id)
    g = A.gap_for(n, 1.0) + math.ceil(2 * math.log(n + 1))
    d = 2 * g
    attn.qk_blocks = A.select_logits(spec.clauses, d)
    A.bos_terms(attn.qk, spec.n_terms * d + math.log(n), d)
    A.add_outer(attn.ov, {BOS: 1.0}, {scratch: 1.0}, 1.0)
    primary = "numerical" if op.encoding == "numerical" else "categorical"
    values = list(range(n + 1))
    ctx.vs.overrides[op.id] = values
    mlp = ctx.new_task("mlp", f"{op.label} (count)")
    enc, encode = ctx.output_encoding(op, primary, values, mlp.id)
    points = sorted((n / (w + n), w) for w in values)
    mlp.units = numeric_units({scratch: 1.0}, points, encode)
    return enc


def _split_width(ctx: EncodingContext, op: Op, specs: list[A.HeadSpec]) -> Encoding:
    """A count over disjoint selections: one head each (as in _selector_width), one MLP decoding every
    head's count into the same numerical dimension (the sum), one-hot by a discretizing MLP if needed."""
    n = ctx.max_len
    g = A.gap_for(n, 1.0) + math.ceil(2 * math.log(n + 1))
    d = 2 * g
    values = list(range(n + 1))
    ctx.vs.overrides[op.id] = values
    mlp = ctx.new_task("mlp", f"{op.label} (count)")
    dim = ctx.layout.new(op.label, mlp.id)
    points = sorted((n / (w + n), w) for w in values)
    for k, spec in enumerate(specs):
        attn = ctx.new_task("attn", f"{op.label} (attention {k + 1}/{len(specs)})")
        scratch = ctx.layout.new(f"{op.label}:bos_weight{k + 1}", attn.id)
        attn.qk_blocks = A.select_logits(spec.clauses, d)
        A.bos_terms(attn.qk, spec.n_terms * d + math.log(n), d)
        A.add_outer(attn.ov, {BOS: 1.0}, {scratch: 1.0}, 1.0)
        mlp.units += numeric_units({scratch: 1.0}, points, lambda w: {dim: float(w)} if w else {})
    enc = Encoding(values, num={dim: 1.0}, primary="numerical")
    if op.encoding != "numerical":
        ctx.enc[op.id] = enc
        ctx.to_categorical(op.id)
        enc.primary = "categorical"
    return enc


# ---- the factorized partition, value columns ------------------------------------------------------


def _partition(
    fn: scalar.Fn, n_args: int, key_arg: int, query_arg: int, kv: np.ndarray, qv: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """P(kv[a, b], qv[c, e]) as Σ_t [t(a, c) = t]·T_t(b, e): for each (a, c) the (b, e) table, grouped by
    equality (all-false ones dropped). Returns [(outer table over (a, c), T_t)], or None for more than
    FACTOR_HEADS distinct tables. Evaluated one a at a time (|b|·|c|·|e| booleans)."""
    n_a, n_b = kv.shape
    n_c, n_e = qv.shape
    if n_b * n_c * n_e > FACTOR_CHUNK:
        return None
    codes = np.full((n_a, n_c), -1, dtype=np.int64)
    tables: dict[bytes, int] = {}
    inner: list[np.ndarray] = []
    args: list[Any] = [None] * n_args
    args[query_arg] = qv.reshape(1, n_c, n_e)
    for a in range(n_a):
        args[key_arg] = kv[a].reshape(n_b, 1, 1)
        with np.errstate(all="ignore"):
            result = np.asarray(scalar.apply_array(fn, tuple(args)))
        if result.dtype == object:
            result = np.frompyfunc(bool, 1, 1)(result).astype(bool)
        blocks = np.broadcast_to(result.astype(bool), (n_b, n_c, n_e)).transpose(1, 0, 2).reshape(n_c, -1)
        nonzero = blocks.any(axis=1)
        packed = np.packbits(blocks, axis=1)
        for c in np.flatnonzero(nonzero):
            key = packed[c].tobytes()
            code = tables.get(key)
            if code is None:
                if len(tables) == FACTOR_HEADS:
                    return None
                code = tables[key] = len(inner)
                inner.append(blocks[c].reshape(n_b, n_e).copy())
            codes[a, c] = code
    return [(codes == t, table) for t, table in enumerate(inner)]


def _column(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return scalar.normalize(array)
