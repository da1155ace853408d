"""The graph walk: each s-op's encoding in the residual stream and the components (heads, MLP units) that
compute it — the first stage of `compile()`, before `schedule` and `weights`.

The walk starts at the output and builds an s-op's encoding on first use (so maps used only inside other maps
cost nothing). Tokens, indices and constants are encoded here; maps and zipmaps go to `maps`, aggregates and
selector widths (with their selects) to `heads`, which see the walk only through `context.EncodingContext`.
The result is an `Encoded`: the layout, the components and the output's read-out rows.
"""

from __future__ import annotations

import math
from typing import Any

from rasp.ir import Op
from rasp.program import Program

from .context import Encoded
from .errors import CompileError
from .heads import compile_aggregate, compile_selector_width
from .layout import NOTBOS, Encoding, Form, Layout, combine
from .maps import compile_map
from .mlp import lookup_units, numeric_units
from .schedule import Component
from .values import PRODUCT_LIMIT, ValueSets, canonical, is_number, ordered

CATEGORICAL_LIMIT = 20_000  # one-hot dimensions for one s-op


def encode(
    program: Program, vocab: list, max_len: int, causal: bool, output_id: int, output_name: str, fold_maps: bool = True
) -> Encoded:
    """Encode the output and everything it reads; raises `CompileError` at the first s-op that cannot be."""
    walk = _Walk(program, vocab, max_len, causal, fold_maps)
    walk.get(output_id)
    return walk.encoded(output_id, output_name)


class _Walk:
    """Implements `context.EncodingContext` for `maps` and `heads`."""

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
        self.tasks: list[Component] = []
        self.enc: dict[int, Encoding] = {}
        self.vs = ValueSets(self.graph, self.vocab, max_len, causal, self.fail)
        self._tuples: dict[tuple[int, ...], dict[Any, Form]] = {}
        self.token_dims: dict[Any, int] = {}
        self.index_dims: list[int] = []
        self.notes: list[str] = []
        self.retrievals: list[list] = []  # categorical means of numbers: [select id, values id, label]

    # ---- errors and bookkeeping -------------------------------------------------------------------

    def fail(self, op: Op, reason: str) -> CompileError:
        source = self.program.sources.get(op.span.file) if op.span else None
        return CompileError(f"cannot compile {op.label} = {op.describe(self.graph)}: {reason}", op.span, source)

    def new_task(self, kind: str, label: str) -> Component:
        task = Component(len(self.tasks), kind, label)
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
        return self.with_num(Encoding(values, cat=cat, primary=op.encoding or "categorical"))

    def _indices(self, op: Op) -> Encoding:
        values = self.values(op.id)
        if not self.index_dims:
            self.index_dims = [self.layout.new(f"indices:{i}", None) for i in values]
        cat = {i: {d: 1.0} for i, d in zip(values, self.index_dims)}
        return self.with_num(Encoding(values, cat=cat, primary=op.encoding or "categorical"))

    def _constant(self, op: Op) -> Encoding:
        value = canonical(op.value)
        return self.with_num(Encoding([value], cat={value: dict(NOTBOS)}, primary=op.encoding or "categorical"))

    # maps and zipmaps become virtual forms or MLP tasks (`maps`), aggregates and counts attention heads (`heads`)

    def _map(self, op: Op) -> Encoding:
        return compile_map(self, op)

    _zipmap = _map

    def _aggregate(self, op: Op) -> Encoding:
        return compile_aggregate(self, op)

    def _selector_width(self, op: Op) -> Encoding:
        return compile_selector_width(self, op)

    # ---- encodings and tasks that `maps` and `heads` build on -------------------------------------

    def with_num(self, enc: Encoding) -> Encoding:
        """Add the numerical form Σ v·onehot_v when every value is a number."""
        if enc.cat is not None and all(is_number(v) for v in enc.cat):
            enc.num = combine(*((float(v), f) for v, f in enc.cat.items()))
        return enc

    def output_encoding(self, op: Op, primary: str, values: list | None, producer: int) -> tuple[Encoding, Any]:
        """Allocate the output dims of an MLP/attention-computed s-op; returns (encoding, encode(value))."""
        if primary == "numerical":
            dim = self.layout.new(op.label, producer)
            enc = Encoding(values, num={dim: 1.0}, primary="numerical")
            return enc, lambda v: {dim: float(v)} if float(v) else {}
        cat = self.categorical_dims(op.label, values, producer, op)
        enc = self.with_num(Encoding(values, cat=cat, primary="categorical"))
        return enc, lambda v: cat[v]

    def check_numeric(self, op: Op, values: list) -> None:
        bad = [v for v in values if not is_number(v)]
        if bad:
            raise self.fail(op, f"it is numerical but takes the non-numeric value {bad[0]!r}")

    def combos(self, op: Op, sets: list[list]) -> int:
        size = 1
        for s in sets:
            size *= len(s)
        if size > PRODUCT_LIMIT:
            raise self.fail(
                op, f"its inputs take {size} combinations at max_len {self.max_len} (more than {PRODUCT_LIMIT})"
            )
        return size

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
        self.combos(op, sets)
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

    # ---- the result --------------------------------------------------------------------------------

    def encoded(self, output_id: int, output_name: str) -> Encoded:
        """The walk's result, with the output's read-out rows: its one-hot forms, or its number's form."""
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
        return Encoded(
            vocab=self.vocab,
            max_len=self.max_len,
            causal=self.causal,
            layout=self.layout,
            components=self.tasks,
            token_dims=self.token_dims,
            index_dims=self.index_dims,
            output_name=output_name or out_op.label,
            output_kind=kind,
            output_values=[canonical(v) for v in out_values] if out_values is not None else None,
            readout=rows,
            notes=self.notes,
            retrievals=self.retrievals,
        )
