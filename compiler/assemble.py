"""The compiler: s-op graph → residual layout and tasks → schedule → `CausalTransformer` weights.

Stages (each its own module): value sets (`values`), encodings in the residual stream (`layout`), MLP units
(`mlp`), attention heads (`attention`), layer allocation (`schedule`), and here the walk over the graph that
decides each s-op's encoding and builds its task, and the final assembly into weight matrices.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rasp import scalar
from rasp.ir import Op
from rasp.program import Program

from . import attention as A
from .errors import CompileError
from .layout import BOS, NOTBOS, ONE, Encoding, Form, Layout, combine
from .mlp import affine_units, lookup_units, numeric_units
from .schedule import Task, schedule
from .values import PRODUCT_LIMIT, ValueSets, _size, can_order, canonical, is_number, ordered

CATEGORICAL_LIMIT = 20_000  # one-hot dimensions for one s-op
TABLE_LIMIT = 4_000_000  # entries of one select conjunct's query-key table
FACTOR_HEADS = 4  # most heads a conjunct over two maps may be split into (selector_width)
FACTOR_EVALUATIONS = 2_000_000_000  # predicate evaluations spent looking for that split (about 10 s)
FACTOR_CHUNK = 32_000_000  # of them at a time (one value of the first key factor)


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


class Compiler:
    def __init__(self, program: Program, vocab: list, max_len: int, causal: bool, fold_maps: bool = True):
        if max_len < 1:
            raise CompileError(f"max_len must be at least 1, got {max_len}")
        self.program = program
        self.graph = program.graph
        self.vocab = ordered(vocab)
        if not self.vocab:
            raise CompileError("the vocabulary is empty")
        self.max_len = max_len
        self.causal = causal
        self.fold_maps = fold_maps
        self.layout = Layout()
        self.tasks: list[Task] = []
        self.enc: dict[int, Encoding] = {}
        self.vs = ValueSets(self.graph, self.vocab, max_len, causal, self.fail)
        self._tuples: dict[tuple[int, ...], dict[Any, Form]] = {}
        self.token_dims: dict[Any, int] = {}
        self.index_dims: list[int] = []
        self.notes: list[str] = []
        self.output_name: str | None = None
        self.retrievals: list[list] = []  # categorical means of numbers: [select id, values id, label]

    # ---- errors and bookkeeping -------------------------------------------------------------------

    def fail(self, op: Op, reason: str) -> CompileError:
        source = self.program.sources.get(op.span.file) if op.span else None
        return CompileError(f"cannot compile {op.label} = {op.describe(self.graph)}: {reason}", op.span, source)

    def new_task(self, kind: str, label: str) -> Task:
        task = Task(len(self.tasks), kind, label)
        self.tasks.append(task)
        return task

    def categorical_dims(self, label: str, values: list, producer: int | None, op: Op) -> dict[Any, Form]:
        if len(values) > CATEGORICAL_LIMIT:
            raise self.fail(
                op,
                f"it takes {len(values)} values at max_len {self.max_len}; one-hot encoding "
                f"is limited to {CATEGORICAL_LIMIT} (make it numerical())",
            )
        return {v: {self.layout.new(f"{label}:{v}", producer): 1.0} for v in values}

    def values(self, op_id: int) -> list:
        return self.vs.get(op_id)

    # ---- the walk ---------------------------------------------------------------------------------

    def run(self, output_id: int) -> None:
        self.get(output_id)

    def get(self, op_id: int) -> Encoding:
        """An s-op's encoding, built on first use (so maps used only inside other maps cost nothing)."""
        if op_id not in self.enc:
            op = self.graph.op(op_id)
            if op.kind == "select":
                raise self.fail(op, "a selector is not an s-op")
            self.enc[op_id] = getattr(self, f"_{op.kind}")(op)
        return self.enc[op_id]

    def _tokens(self, op: Op) -> Encoding:
        values = self.values(op.id)
        for v in values:
            self.token_dims[v] = self.layout.new(f"tokens:{v}", None)
        cat = {v: {d: 1.0} for v, d in self.token_dims.items()}
        return self._with_num(Encoding(values, cat=cat, primary=op.encoding or "categorical"))

    def _indices(self, op: Op) -> Encoding:
        values = self.values(op.id)
        if not self.index_dims:
            self.index_dims = [self.layout.new(f"indices:{i}", None) for i in values]
        cat = {i: {d: 1.0} for i, d in zip(values, self.index_dims)}
        return self._with_num(Encoding(values, cat=cat, primary=op.encoding or "categorical"))

    def _with_num(self, enc: Encoding) -> Encoding:
        """Add the numerical form Σ v·onehot_v when every value is a number."""
        if enc.cat is not None and all(is_number(v) for v in enc.cat):
            enc.num = combine(*((float(v), f) for v, f in enc.cat.items()))
        return enc

    def _constant(self, op: Op) -> Encoding:
        value = canonical(op.value)
        return self._with_num(Encoding([value], cat={value: dict(NOTBOS)}, primary=op.encoding or "categorical"))

    # ---- maps and zipmaps -------------------------------------------------------------------------

    def _map(self, op: Op) -> Encoding:
        fn, inputs = op.fn, op.inputs
        composed, bases = self.vs.composed(op.id)
        if bases != inputs:
            try:
                if _size([self.values(b) for b in bases]) <= _size([self.values(i) for i in inputs]):
                    fn, inputs = composed, bases
            except CompileError:
                pass
        return self._function(op, fn, inputs)

    def _function(self, op: Op, fn: scalar.Fn, inputs: tuple[int, ...]) -> Encoding:
        """Compile op = fn(inputs...)."""
        encs = [self.get(i) for i in inputs]
        numeric_only = [k for k, e in enumerate(encs) if e.cat is None]
        hint = op.encoding
        # An affine function of numerical s-ops is their weighted sum: no weights of its own.
        if (
            all(e.num is not None for e in encs)
            and _affine_in(fn, set(range(len(encs))))
            and (hint == "numerical" or (hint is None and numeric_only))
        ):
            return self._affine(op, fn, encs)
        # A map of one categorical s-op is a sum of its one-hot dimensions.
        if len(encs) == 1 and not numeric_only and self.fold_maps:
            return self._folded_map(op, fn, encs[0])
        primary = hint or ("numerical" if numeric_only and _numeric_type(op.vtype) else "categorical")
        if len(numeric_only) > 1:
            # Keep the numerical input with the most values; tabulate the others categorically.
            keep = max(numeric_only, key=lambda k: len(self.values(inputs[k])))
            for k in numeric_only:
                if k != keep:
                    self.to_categorical(inputs[k])
            numeric_only = [keep]
        if not numeric_only:
            if (
                primary == "categorical"
                and len(encs) > 1
                and all(e.num is not None for e in encs)
                and _affine_in(fn, set(range(len(encs))))
            ):
                values = self.values(op.id)
                if 2 * len(values) < _size([list(e.cat) for e in encs]):
                    # Cheaper than a lookup: the affine sum is free, one ramp pair per output value.
                    return self._discretized_affine(op, fn, encs, values)
            return self._lookup(op, fn, inputs, primary)
        return self._numeric(op, fn, inputs, numeric_only[0], primary)

    _zipmap = _map

    def _output_encoding(self, op: Op, primary: str, values: list | None, producer: int) -> tuple[Encoding, Any]:
        """Allocate the output dims of an MLP/attention-computed s-op; returns (encoding, encode(value))."""
        if primary == "numerical":
            dim = self.layout.new(op.label, producer)
            enc = Encoding(values, num={dim: 1.0}, primary="numerical")
            return enc, lambda v: {dim: float(v)} if float(v) else {}
        cat = self.categorical_dims(op.label, values, producer, op)
        enc = self._with_num(Encoding(values, cat=cat, primary="categorical"))
        return enc, lambda v: cat[v]

    def _check_numeric(self, op: Op, values: list) -> None:
        bad = [v for v in values if not is_number(v)]
        if bad:
            raise self.fail(op, f"it is numerical but takes the non-numeric value {bad[0]!r}")

    def _affine(self, op: Op, fn: scalar.Fn, encs: list[Encoding]) -> Encoding:
        k = len(encs)
        try:
            base = scalar.apply(fn, tuple([0] * k))
            slopes = [scalar.apply(fn, tuple(1 if j == i else 0 for j in range(k))) - base for i in range(k)]
        except scalar.EvalProblem as problem:
            raise self.fail(op, str(problem)) from None
        num = combine((float(base), NOTBOS), *((float(s), e.num) for s, e in zip(slopes, encs)))
        enc = Encoding(None, num=num, primary="numerical")
        if op.encoding == "categorical":
            self.enc[op.id] = enc
            self.to_categorical(op.id)
        return enc

    def _discretized_affine(self, op: Op, fn: scalar.Fn, encs: list[Encoding], values: list) -> Encoding:
        k = len(encs)
        base = scalar.apply(fn, tuple([0] * k))
        slopes = [scalar.apply(fn, tuple(1 if j == i else 0 for j in range(k))) - base for i in range(k)]
        num = combine((float(base), NOTBOS), *((float(s), e.num) for s, e in zip(slopes, encs)))
        task = self.new_task("mlp", op.label)
        enc, encode = self._output_encoding(op, "categorical", values, task.id)
        task.units = numeric_units(num, [(float(v), v) for v in values], encode)
        return enc

    def _folded_map(self, op: Op, fn: scalar.Fn, enc: Encoding) -> Encoding:
        cat: dict[Any, Form] = {}
        for x, form in enc.cat.items():
            try:
                y = canonical(scalar.apply(fn, (x,)))
            except scalar.EvalProblem:
                continue
            cat[y] = combine((1.0, cat.get(y, {})), (1.0, form))
        values = ordered(cat)
        self.vs.overrides[op.id] = values
        cat = {v: cat[v] for v in values}
        out = self._with_num(Encoding(values, cat=cat, primary=op.encoding or "categorical"))
        if op.encoding == "numerical" and out.num is None:
            self._check_numeric(op, values)
        return out

    def _combos(self, op: Op, sets: list[list]) -> int:
        size = 1
        for s in sets:
            size *= len(s)
        if size > PRODUCT_LIMIT:
            raise self.fail(
                op, f"its inputs take {size} combinations at max_len {self.max_len} (more than {PRODUCT_LIMIT})"
            )
        return size

    def _lookup(self, op: Op, fn: scalar.Fn, inputs: tuple[int, ...], primary: str) -> Encoding:
        import itertools

        encs = [self.get(i) for i in inputs]
        sets = [list(e.cat) for e in encs]
        self._combos(op, sets)
        table = []
        for combo in itertools.product(*sets):
            try:
                y = canonical(scalar.apply(fn, combo))
            except scalar.EvalProblem:
                continue
            table.append(([e.cat[v] for e, v in zip(encs, combo)], y))
        values = ordered(y for _, y in table)
        if primary == "numerical":
            self._check_numeric(op, values)
        self.vs.overrides[op.id] = values
        task = self.new_task("mlp", op.label)
        enc, encode = self._output_encoding(op, primary, values, task.id)
        task.units = lookup_units(table, encode)
        return enc

    def _numeric(self, op: Op, fn: scalar.Fn, inputs: tuple[int, ...], x_arg: int, primary: str) -> Encoding:
        import itertools

        encs = [self.get(i) for i in inputs]
        x = encs[x_arg]
        others = [k for k in range(len(encs)) if k != x_arg]
        other_sets = [list(encs[k].cat) for k in others]
        affine = primary == "numerical" and _affine_in(fn, {x_arg})
        xs = None if affine else self.values(inputs[x_arg])
        self._combos(op, other_sets + ([xs] if xs is not None else []))
        task = self.new_task("mlp", op.label)
        combos = list(itertools.product(*other_sets))

        def args_for(combo: tuple, xv: Any) -> tuple:
            args: list[Any] = [None] * len(encs)
            for k, v in zip(others, combo):
                args[k] = v
            args[x_arg] = xv
            return tuple(args)

        if affine:
            lo, hi = self.bounds(inputs[x_arg])
            enc, _ = self._output_encoding(op, "numerical", None, task.id)
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
            self._check_numeric(op, values)
        self.vs.overrides[op.id] = values
        enc, encode = self._output_encoding(op, primary, values, task.id)
        for combo, points in tables:
            gate = [encs[k].cat[v] for k, v in zip(others, combo)]
            task.units += numeric_units(x.num, points, encode, gate=gate if others else None)
        return enc

    def bounds(self, op_id: int) -> tuple[float, float]:
        op = self.graph.op(op_id)
        if op.kind == "aggregate":
            values = [float(v) for v in self.values(op.inputs[1]) if is_number(v)] + [float(op.value)]
            return min(values), max(values)
        return self.vs.bounds(op_id)

    def to_categorical(self, op_id: int) -> dict[Any, Form]:
        """Give a numerical-only s-op a categorical encoding too (a discretizing MLP)."""
        enc = self.get(op_id)
        if enc.cat is not None:
            return enc.cat
        op = self.graph.op(op_id)
        values = self.values(op_id)
        task = self.new_task("mlp", f"{op.label}→categorical")
        enc.cat = self.categorical_dims(op.label, values, task.id, op)
        points = [(float(v), v) for v in values]
        task.units = numeric_units(enc.num, points, lambda v: enc.cat[v])
        return enc.cat

    # ---- selectors ---------------------------------------------------------------------------------

    def side(self, op: Op, ids: tuple[int, ...]) -> dict[Any, Form] | None:
        """The one-hot forms of one side of a clause: one s-op, or a tuple of several (built by an MLP)."""
        if not ids:
            return None
        if len(ids) == 1:
            return self.to_categorical(ids[0])
        if ids in self._tuples:
            return self._tuples[ids]
        import itertools

        cats = [self.to_categorical(i) for i in ids]
        sets = [list(c) for c in cats]
        self._combos(op, sets)
        if math.prod(len(s) for s in sets) > CATEGORICAL_LIMIT:
            raise self.fail(
                op,
                f"its predicate combines {len(ids)} s-ops on one side, which together take "
                f"{math.prod(len(s) for s in sets)} values (more than {CATEGORICAL_LIMIT})",
            )
        names = ",".join(self.graph.op(i).label for i in ids)
        task = self.new_task("mlp", f"({names})")
        forms = {combo: {self.layout.new(f"({names}):{combo}", task.id): 1.0} for combo in itertools.product(*sets)}
        task.units = lookup_units(
            [([c[v] for c, v in zip(cats, combo)], combo) for combo in forms], lambda combo: forms[combo]
        )
        self._tuples[ids] = forms
        return forms

    def head_for(self, select_id: int) -> A.HeadSpec:
        sel = self.graph.op(select_id)
        return self._head_for_fn(sel, sel.fn)

    def _head_for_fn(self, sel: Op, predicate: scalar.Fn) -> A.HeadSpec:
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
            keys = self.side(sel, tuple(sel.inputs[a] for a in key_args))
            queries = self.side(sel, tuple(sel.inputs[a] for a in query_args))
            table = self._table(fn, sel, key_args, query_args, keys, queries)
            clauses.append(A.Clause(keys, queries, table))
            n_terms += 1
        return A.HeadSpec(clauses, n_terms)

    def heads_for(self, select_id: int) -> list[A.HeadSpec]:
        """The heads whose selections partition the select's: one head, unless a conjunct compares two
        maps of two s-ops each (`keys = x + i / N; select(keys, keys, <)`): its table over the maps' values
        is quadratic in a product of value sets, so it is split over the factors instead (see
        `_factorized`). Only counts (selector_width) can add up several heads."""
        sel = self.graph.op(select_id)
        for fn in A.conjuncts(sel.fn):
            parts = self._factorized(sel, fn)
            if parts is None:
                continue
            rest = self._without(sel, fn)
            return [A.HeadSpec(rest.clauses + clauses, rest.n_terms + len(clauses)) for clauses in parts]
        return [self.head_for(select_id)]

    def _without(self, sel: Op, skip: scalar.Fn) -> A.HeadSpec:
        """head_for over the conjuncts other than `skip` (the first one equal to it)."""
        others = A.conjuncts(sel.fn)
        others.remove(skip)
        if not others:
            return A.HeadSpec([], 0)
        fn = others[0]
        for f in others[1:]:
            fn = ("and", fn, f)
        return self._head_for_fn(sel, fn)

    def _factor_side(self, op_id: int) -> tuple[scalar.Fn, tuple[int, int]] | None:
        """A map/zipmap as a function of two categorical s-ops (its bases, or else its own inputs)."""
        op = self.graph.op(op_id)
        if op.kind not in ("map", "zipmap"):
            return None
        fn, bases = self.vs.composed(op_id)
        if len(bases) != 2:
            fn, bases = op.fn, op.inputs
            if len(bases) != 2:
                return None
        try:
            if any(self.get(b).cat is None for b in bases):
                return None
        except CompileError:
            return None
        return fn, (bases[0], bases[1])

    def _factorized(self, sel: Op, fn: scalar.Fn) -> list[list[A.Clause]] | None:
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
            side = self._factor_side(op_id)
            if side is None:
                return None
            sides.append(side)
        (fk, (a_id, b_id)), (fq, (c_id, e_id)) = sides
        cats = [self.get(i).cat for i in (a_id, b_id, c_id, e_id)]
        sizes = [len(c) for c in cats]
        evaluations = sizes[0] * sizes[1] * sizes[2] * sizes[3]
        if evaluations > FACTOR_EVALUATIONS:
            return None
        factored_width = sum(sizes)
        try:
            direct_width = len(self.values(k_id)) + len(self.values(q_id))
            direct_table = len(self.values(k_id)) * len(self.values(q_id))
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
                parts = _partition(
                    fn, len(sel.inputs), key_args[0], query_args[0], *((kv.T, qv.T) if flip else (kv, qv))
                )
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
            self.notes.append(
                f"{sel.label}: the conjunct over {self.graph.op(k_id).label} and {self.graph.op(q_id).label} "
                f"is split over their factors into {len(heads)} heads"
            )
            return heads
        return None

    def _table(self, fn: scalar.Fn, sel: Op, key_args: list[int], query_args: list[int], keys, queries) -> np.ndarray:
        """The conjunct's truth table (key values × query values), vectorized where possible."""
        kvals = list(keys) if keys is not None else [None]
        qvals = list(queries) if queries is not None else [None]
        if len(kvals) * len(qvals) > TABLE_LIMIT:
            raise self.fail(
                sel,
                f"its query-key table would have {len(kvals)} × {len(qvals)} entries "
                f"(more than {TABLE_LIMIT}) at max_len {self.max_len}",
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

    # ---- attention ---------------------------------------------------------------------------------

    def _aggregate(self, op: Op) -> Encoding:
        sel_id, val_id = op.inputs
        venc = self.get(val_id)
        values = self.values(val_id)
        mode = self.vs.aggregate_mode(op)
        if mode in ("max", "min") and not can_order(values):
            raise self.fail(op, f"reduce={op.reduce!r} over values that cannot be ordered")
        spec = self.head_for(sel_id)
        task = self.new_task("attn", op.label)
        default = canonical(op.value)
        magnitude = max(
            [abs(float(v)) for v in values if is_number(v)] + [abs(float(default)) if is_number(default) else 0.0, 1.0]
        )
        g = A.gap_for(self.max_len, magnitude if mode == "mean" else 1.0)
        if mode == "mean":
            vform = venc.num
            if vform is None:
                vform = combine(*((float(v), f) for v, f in venc.cat.items()))
            if not is_number(default):
                raise self.fail(op, f"a numerical mean with the non-numeric default {default!r}")
            dim = self.layout.new(op.label, task.id)
            A.add_outer(task.ov, vform, {dim: 1.0}, 1.0)
            A.add_outer(task.ov, {BOS: 1.0}, {dim: 1.0}, float(default))
            d = 2 * g
            task.qk_blocks = A.select_logits(spec.clauses, d)
            A.bos_terms(task.qk, spec.n_terms * d - g, d)
            return Encoding(None, num={dim: 1.0}, primary="numerical")
        # Categorical retrieval, max, min: move the selected value's one-hot.
        if mode == "retrieval" and sum(is_number(v) for v in values) > 1 and not self.vs.at_most_one(sel_id):
            self.retrievals.append([sel_id, val_id, op.label])
        cat_in = self.to_categorical(val_id)
        out_values = self.values(op.id)
        primary = "numerical" if op.encoding == "numerical" else "categorical"
        if primary == "numerical":
            self._check_numeric(op, out_values)
        enc, encode = self._output_encoding(op, primary, out_values, task.id)
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

    def _selector_width(self, op: Op) -> Encoding:
        sel = self.graph.op(op.inputs[0])
        n = self.max_len
        if sel.fn == scalar.lit(True) and self.causal:
            # Causally, selecting every key counts i + 1 positions: a map of indices.
            idx = self.get(1)
            cat = {i + 1: form for i, form in idx.cat.items()}
            self.vs.overrides[op.id] = list(cat)
            return self._with_num(Encoding(list(cat), cat=cat, primary=op.encoding or "categorical"))
        specs = self.heads_for(sel.id)
        if len(specs) > 1:
            return self._split_width(op, specs)
        spec = specs[0]
        attn = self.new_task("attn", f"{op.label} (attention)")
        scratch = self.layout.new(f"{op.label}:bos_weight", attn.id)
        g = A.gap_for(n, 1.0) + math.ceil(2 * math.log(n + 1))
        d = 2 * g
        attn.qk_blocks = A.select_logits(spec.clauses, d)
        A.bos_terms(attn.qk, spec.n_terms * d + math.log(n), d)
        A.add_outer(attn.ov, {BOS: 1.0}, {scratch: 1.0}, 1.0)
        primary = "numerical" if op.encoding == "numerical" else "categorical"
        values = list(range(n + 1))
        self.vs.overrides[op.id] = values
        mlp = self.new_task("mlp", f"{op.label} (count)")
        enc, encode = self._output_encoding(op, primary, values, mlp.id)
        points = sorted((n / (w + n), w) for w in values)
        mlp.units = numeric_units({scratch: 1.0}, points, encode)
        return enc

    def _split_width(self, op: Op, specs: list[A.HeadSpec]) -> Encoding:
        """A count over disjoint selections: one head each (as in _selector_width), one MLP decoding every
        head's count into the same numerical dimension (the sum), one-hot by a discretizing MLP if needed."""
        n = self.max_len
        g = A.gap_for(n, 1.0) + math.ceil(2 * math.log(n + 1))
        d = 2 * g
        values = list(range(n + 1))
        self.vs.overrides[op.id] = values
        mlp = self.new_task("mlp", f"{op.label} (count)")
        dim = self.layout.new(op.label, mlp.id)
        points = sorted((n / (w + n), w) for w in values)
        for k, spec in enumerate(specs):
            attn = self.new_task("attn", f"{op.label} (attention {k + 1}/{len(specs)})")
            scratch = self.layout.new(f"{op.label}:bos_weight{k + 1}", attn.id)
            attn.qk_blocks = A.select_logits(spec.clauses, d)
            A.bos_terms(attn.qk, spec.n_terms * d + math.log(n), d)
            A.add_outer(attn.ov, {BOS: 1.0}, {scratch: 1.0}, 1.0)
            mlp.units += numeric_units({scratch: 1.0}, points, lambda w: {dim: float(w)} if w else {})
        enc = Encoding(values, num={dim: 1.0}, primary="numerical")
        if op.encoding != "numerical":
            self.enc[op.id] = enc
            self.to_categorical(op.id)
            enc.primary = "categorical"
        return enc

    # ---- assembly ------------------------------------------------------------------------------------

    def assemble(self, output_id: int):
        import torch

        from .model import CausalTransformer, DecodeSpec, TransformerConfig

        out_op = self.graph.op(output_id)
        out = self.get(output_id)
        if out.cat is not None and (out.primary == "categorical" or out.num is None):
            kind, out_values, rows = "categorical", list(out.cat), list(out.cat.values())
        else:
            kind, rows = "numerical", [out.num]
            try:
                out_values = self.values(output_id)
            except CompileError:
                out_values = None
        if not rows or (kind == "categorical" and not out_values):
            raise self.fail(
                out_op, "it takes no value on any input over this vocabulary (the interpreter fails on all)"
            )
        n_layers = schedule(self.tasks, self.layout)
        d_model = len(self.layout)
        layers_attn = [[t for t in self.tasks if t.kind == "attn" and t.sublayer == 2 * li] for li in range(n_layers)]
        layers_mlp = [[t for t in self.tasks if t.kind == "mlp" and t.sublayer == 2 * li + 1] for li in range(n_layers)]

        heads = []  # per layer: list of (W_Q, W_K, W_V, W_O) numpy
        for tasks in layers_attn:
            layer = []
            for t in tasks:
                wq, wk = _factor(t.qk, d_model, t.qk_blocks)
                wv, wo = _factor(t.ov, d_model)
                layer.append((wq, wk, wv, wo.T))
            heads.append(layer)

        tok = np.zeros((len(self.vocab) + 1, d_model))
        tok[:, ONE] = 1.0
        tok[0, BOS] = 1.0
        for i, v in enumerate(self.vocab, start=1):
            if v in self.token_dims:
                tok[i, self.token_dims[v]] = 1.0
        pos = np.zeros((self.max_len + 1, d_model))
        for i, d in enumerate(self.index_dims):
            pos[i + 1, d] = 1.0

        # MLPs, with one extra unit per layer that resets BOS's residual (it is input-independent).
        x_bos = tok[0] + pos[0]
        mlps = []
        for li in range(n_layers):
            x = x_bos.copy()
            for _wq, _wk, wv, wo in heads[li]:
                x += (x_bos @ wv) @ wo
            units = [u for t in layers_mlp[li] for u in t.units]
            w_in = np.zeros((d_model, len(units) + 1))
            w_out = np.zeros((len(units) + 1, d_model))
            for k, (fin, fout) in enumerate(units):
                for d, c in fin.items():
                    w_in[d, k] = c
                for d, c in fout.items():
                    w_out[k, d] = c
            x = x + np.maximum(x @ w_in, 0) @ w_out
            deviation = x - x_bos
            if np.abs(deviation).max() > 0:
                w_in[BOS, -1] = 1.0
                w_out[-1] = -deviation
            else:
                w_in, w_out = w_in[:, :-1], w_out[:-1]
            mlps.append((w_in, w_out))

        n_heads = [len(h) for h in heads]
        d_head = [max([w[0].shape[1] for w in h] + [w[2].shape[1] for w in h] + [1]) for h in heads]
        cfg = TransformerConfig(
            vocab_size=len(self.vocab) + 1,
            max_len=self.max_len,
            d_model=d_model,
            n_layers=n_layers,
            n_heads=n_heads,
            d_head=d_head,
            d_mlp=[w.shape[1] for w, _ in mlps],
            n_out=len(rows),
            pos_encoding="ape",
            layer_norm=False,
            causal=self.causal,
            bias=False,
            attn_scale=1.0,
        )
        spec = DecodeSpec(
            vocab=[None, *self.vocab],
            max_len=self.max_len,
            causal=self.causal,
            output=self.output_name or out_op.label,
            output_kind=kind,
            output_values=[canonical(v) for v in out_values] if out_values is not None else None,
            residual_labels=list(self.layout.labels),
            notes=self.notes,
            retrievals=self.retrievals,
        )
        model = CausalTransformer(cfg, spec)
        unembed = np.zeros((len(rows), d_model))
        for r, form in enumerate(rows):
            for d, c in form.items():
                unembed[r, d] = c
        t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
        with torch.no_grad():
            model.double()
            model.tok_emb.weight.copy_(t(tok))
            model.pos_emb.weight.copy_(t(pos))
            model.unembed.weight.copy_(t(unembed))
            for li, block in enumerate(model.blocks):
                if block.attn is not None:
                    for h, (wq, wk, wv, wo) in enumerate(heads[li]):
                        for param, w in ((block.attn.W_Q, wq), (block.attn.W_K, wk), (block.attn.W_V, wv)):
                            param[h].zero_()
                            param[h, :, : w.shape[1]] = t(w)
                        block.attn.W_O[h].zero_()
                        block.attn.W_O[h, : wo.shape[0]] = t(wo)
                if block.mlp is not None:
                    w_in, w_out = mlps[li]
                    block.mlp.fc_in.weight.copy_(t(w_in.T))
                    block.mlp.fc_out.weight.copy_(t(w_out.T))
        return model


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


def _factor(bilinear: dict[tuple[int, int], float], d_model: int, blocks: list | None = None):
    """B (rows × cols, sparse dict plus dense blocks) as L @ R.T with inner size min(#rows, #cols): one
    side selects, the other carries B, so the product is exact."""
    blocks = blocks or []
    rows = sorted({a for a, _ in bilinear} | {r for rs, _, _ in blocks for r in rs})
    cols = sorted({b for _, b in bilinear} | {c for _, cs, _ in blocks for c in cs})
    if not rows:
        return np.zeros((d_model, 1)), np.zeros((d_model, 1))
    ri = {r: k for k, r in enumerate(rows)}
    ci = {c: k for k, c in enumerate(cols)}
    dense = np.zeros((len(rows), len(cols)))
    for (a, b), c in bilinear.items():
        dense[ri[a], ci[b]] += c
    for rs, cs, m in blocks:
        dense[np.ix_([ri[r] for r in rs], [ci[c] for c in cs])] += m
    rows_a, cols_a = np.array(rows), np.array(cols)
    if len(rows) <= len(cols):
        left = np.zeros((d_model, len(rows)))
        left[rows_a, np.arange(len(rows))] = 1.0
        right = np.zeros((d_model, len(rows)))
        right[cols_a, :] = dense.T
        return left, right
    right = np.zeros((d_model, len(cols)))
    right[cols_a, np.arange(len(cols))] = 1.0
    left = np.zeros((d_model, len(cols)))
    left[rows_a, :] = dense
    return left, right
