"""The last stages of `compile()`: the walk's `Encoded` and its `Schedule` → numpy weight matrices (`Weights`)
→ a `CausalTransformer`.

`build_weights` is a pure function of the components, the residual layout, the embeddings' dimensions and the
read-out rows (nothing of the graph walk that made them), so a test can build weights from hand-made components;
`to_torch` copies them into the model class that runs, saves and converts them, with `decode_spec` saying what
its ids and outputs mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .context import Encoded
from .layout import BOS, ONE
from .schedule import Schedule


@dataclass
class Weights:
    """A compiled model as numpy arrays (d = the residual width)."""

    tok: np.ndarray  # (vocab + 1) × d: row 0 is BOS
    pos: np.ndarray  # (max_len + 1) × d: row 0 is BOS's position
    heads: list[list[tuple[np.ndarray, ...]]]  # per layer, per head: W_Q, W_K (d × e), W_V (d × e), W_O (e × d)
    mlps: list[tuple[np.ndarray, np.ndarray]]  # per layer: W_in (d × units), W_out (units × d)
    unembed: np.ndarray  # outputs × d

    @property
    def n_layers(self) -> int:
        return len(self.heads)


def build_weights(encoded: Encoded, plan: Schedule) -> Weights:
    """Factor each head's bilinear forms, lay out the MLP units in their layers, and give every MLP one more unit
    that puts BOS's residual back where it started (BOS is input-independent, so its drift through a layer is a
    constant the unit can subtract)."""
    tasks, layout, n_layers = encoded.components, encoded.layout, plan.n_layers
    d_model = len(layout)
    heads = []
    for li in range(n_layers):
        layer = []
        for t in (t for t in plan.components_at(tasks, 2 * li) if t.kind == "attn"):
            wq, wk = _factor(t.qk, d_model, t.qk_blocks)
            wv, wo = _factor(t.ov, d_model)
            layer.append((wq, wk, wv, wo.T))
        heads.append(layer)

    tok = np.zeros((len(encoded.vocab) + 1, d_model))
    tok[:, ONE] = 1.0
    tok[0, BOS] = 1.0
    for i, v in enumerate(encoded.vocab, start=1):
        if v in encoded.token_dims:
            tok[i, encoded.token_dims[v]] = 1.0
    pos = np.zeros((encoded.max_len + 1, d_model))
    for i, d in enumerate(encoded.index_dims):
        pos[i + 1, d] = 1.0

    x_bos = tok[0] + pos[0]
    mlps = []
    for li in range(n_layers):
        units = [u for t in plan.components_at(tasks, 2 * li + 1) if t.kind == "mlp" for u in t.units]
        mlps.append(_mlp_with_bos_reset(units, heads[li], x_bos, d_model))

    unembed = np.zeros((len(encoded.readout), d_model))
    for r, form in enumerate(encoded.readout):
        for d, c in form.items():
            unembed[r, d] = c
    return Weights(tok, pos, heads, mlps, unembed)


def _mlp_with_bos_reset(units: list, heads: list, x_bos: np.ndarray, d_model: int) -> tuple[np.ndarray, np.ndarray]:
    """One layer's MLP matrices, plus the BOS-reset unit where the layer moves BOS's residual at all."""
    x = x_bos.copy()
    for _wq, _wk, wv, wo in heads:
        x += (x_bos @ wv) @ wo
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
        return w_in, w_out
    return w_in[:, :-1], w_out[:-1]


def decode_spec(encoded: Encoded) -> Any:
    """What the compiled model's ids and outputs mean (`model.DecodeSpec`), from the walk's result."""
    from .model import DecodeSpec

    return DecodeSpec(
        vocab=[None, *encoded.vocab],
        max_len=encoded.max_len,
        causal=encoded.causal,
        output=encoded.output_name,
        output_kind=encoded.output_kind,
        output_values=encoded.output_values,
        residual_labels=list(encoded.layout.labels),
        notes=encoded.notes,
        retrievals=encoded.retrievals,
    )


def to_torch(weights: Weights, spec: Any, causal: bool) -> Any:
    """The weights in a float64 `CausalTransformer` (APE, no layer norm, no biases, attention scale 1)."""
    import torch

    from .model import CausalTransformer, TransformerConfig

    heads = weights.heads
    cfg = TransformerConfig(
        vocab_size=weights.tok.shape[0],
        max_len=weights.pos.shape[0] - 1,
        d_model=weights.tok.shape[1],
        n_layers=weights.n_layers,
        n_heads=[len(h) for h in heads],
        d_head=[max([w[0].shape[1] for w in h] + [w[2].shape[1] for w in h] + [1]) for h in heads],
        d_mlp=[w.shape[1] for w, _ in weights.mlps],
        n_out=weights.unembed.shape[0],
        pos_encoding="ape",
        layer_norm=False,
        causal=causal,
        bias=False,
        attn_scale=1.0,
    )
    model = CausalTransformer(cfg, spec)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    with torch.no_grad():
        model.double()
        model.tok_emb.weight.copy_(t(weights.tok))
        model.pos_emb.weight.copy_(t(weights.pos))
        model.unembed.weight.copy_(t(weights.unembed))
        for li, block in enumerate(model.blocks):
            if block.attn is not None:
                for h, (wq, wk, wv, wo) in enumerate(heads[li]):
                    for param, w in ((block.attn.W_Q, wq), (block.attn.W_K, wk), (block.attn.W_V, wv)):
                        param[h].zero_()
                        param[h, :, : w.shape[1]] = t(w)
                    block.attn.W_O[h].zero_()
                    block.attn.W_O[h, : wo.shape[0]] = t(wo)
            if block.mlp is not None:
                w_in, w_out = weights.mlps[li]
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
