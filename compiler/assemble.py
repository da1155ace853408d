"""The compiler: s-op graph → residual layout and tasks → schedule → `CausalTransformer` weights.

Stages (each its own module): value sets (`values`), encodings in the residual stream (`layout`), MLP units
(`mlp`), attention heads (`attention`), layer allocation (`schedule`), and here the walk over the graph that
decides each s-op's encoding and builds its task, and the final assembly into weight matrices. The walk
hands maps and zipmaps to `maps` and aggregates and selector widths (with their selects) to `heads`; both
take this `Compiler` and use its public methods (`get`, `values`, `to_categorical`, `side`, ...).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rasp.ir import Op
from rasp.program import Program

from .errors import CompileError
from .heads import compile_aggregate, compile_selector_width
from .layout import BOS, NOTBOS, ONE, Encoding, Form, Layout, combine
from .maps import compile_map
from .mlp import lookup_units, numeric_units
from .schedule import Task, schedule
from .values import PRODUCT_LIMIT, ValueSets, canonical, is_number, ordered

CATEGORICAL_LIMIT = 20_000  # one-hot dimensions for one s-op


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
