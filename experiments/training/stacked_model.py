"""The training forward pass: `CausalTransformer`'s function over M models' stacked parameters, on real tokens only.

One function serves a single run (M = 1, its parameters viewed with a leading axis) and an ensemble of runs
of one architecture (experiments/length/ensemble.py), so both train the same arithmetic:

- every per-token operation (embeddings, layer norms, the Q/K/V and output projections, the MLPs) runs on the
  batch's real tokens only, packed (M × N × d): a right-padded batch no longer pays for its padding there;
- only attention sees the padded layout (M·B × heads × T × d_head), where
  `torch.nn.functional.scaled_dot_product_attention` with `is_causal` fuses the scores, mask, softmax and mix;
  the per-head W_Q, W_K, W_V are concatenated into one matrix, so the three projections are one matmul;
- the unembedding and the loss run on the scored tokens only.

It computes what `CausalTransformer.forward` computes (tests/test_ensemble.py checks that); the model class keeps
its own, readable forward, which also returns the attention probabilities (experiments/compiled/attention_maps.py,
compiler/transformer_lens.py) and serves every compiled model unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .data import IGNORE, Batch


@dataclass
class PackedBatch:
    """M members' batches (B sequences each) as packed real tokens, and where they sit in the padded layout."""

    ids: torch.Tensor  # M × N token ids (N: the most real tokens of any member; the rest are fillers)
    positions: torch.Tensor  # M × N position ids
    slots: torch.Tensor  # M × N flat index into the padded B × T layout; fillers point at slot B·T (discarded)
    scored: torch.Tensor  # M × S index into the N tokens of each scored token (fillers: 0)
    targets: torch.Tensor  # M × S target ids (fillers: IGNORE)
    batch: int  # B
    width: int  # T
    every_token_scored: bool = False  # scored is 0, 1, ..., N - 1 for every member (no gather needed)


def pack(batches: list[Batch]) -> PackedBatch:
    """Pack M right-padded batches of one size (each from `collate`, which records the lengths)."""
    size, width = batches[0].ids.shape[0], max(b.ids.shape[1] for b in batches)
    device = batches[0].ids.device
    ids, positions, slots, scored, targets = [], [], [], [], []
    for b in batches:
        if b.ids.shape[0] != size:
            raise ValueError("an ensemble's members train on batches of one size")
        lengths = b.lengths if b.lengths is not None else torch.full((size,), b.ids.shape[1], device=device)
        real = torch.arange(b.ids.shape[1], device=device) < lengths.unsqueeze(1)  # B × T_member, row-major order
        row, col = real.nonzero(as_tuple=True)
        ids.append(b.ids[real])
        positions.append(b.positions[real])
        slots.append(row * width + col)
        member_targets = b.targets[real]
        is_scored = member_targets != IGNORE
        scored.append(is_scored.nonzero(as_tuple=True)[0])
        targets.append(member_targets[is_scored])
    every_token_scored = (
        all(s.shape[0] == i.shape[0] for s, i in zip(scored, ids)) and len({i.shape[0] for i in ids}) == 1
    )
    return PackedBatch(
        _stack(ids, 0),
        _stack(positions, 0),
        _stack(slots, size * width),
        _stack(scored, 0),
        _stack(targets, IGNORE),
        size,
        width,
        every_token_scored,
    )


def _stack(rows: list[torch.Tensor], fill: int) -> torch.Tensor:
    longest = max(r.shape[0] for r in rows)
    return torch.stack([F.pad(r, (0, longest - r.shape[0]), value=fill) for r in rows])


def stacked_parameters(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A model's parameters as a stack of one (views: gradients reach the model's own parameters)."""
    return {name: p.unsqueeze(0) for name, p in model.named_parameters()}


def _layer_norm(x: torch.Tensor, params: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    if f"{name}.weight" not in params:  # nn.Identity: no layer norm
        return x
    if x.shape[0] == 1:  # one member: the fused affine kernel
        return F.layer_norm(x, x.shape[-1:], params[f"{name}.weight"][0], params[f"{name}.bias"][0])
    x = F.layer_norm(x, x.shape[-1:])
    return x * params[f"{name}.weight"].unsqueeze(1) + params[f"{name}.bias"].unsqueeze(1)


def _linear(x: torch.Tensor, params: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """nn.Linear per member: x (M × N × in) @ weightᵀ (M × in × out) (+ bias)."""
    out = torch.bmm(x, params[f"{name}.weight"].transpose(1, 2))
    bias = params.get(f"{name}.bias")
    return out if bias is None else out + bias.unsqueeze(1)


def _attention(x: torch.Tensor, params: dict[str, torch.Tensor], name: str, data: PackedBatch, scale: float):
    """Causal multi-head attention of packed tokens: project, scatter into the padded layout, attend, gather."""
    w_q, w_k, w_v, w_o = (params[f"{name}.W_{p}"] for p in "QKVO")  # M × heads × d × e (W_O: M × heads × e × d)
    members, heads, d_model, d_head = w_q.shape
    w_qkv = torch.cat([w_q, w_k, w_v], dim=1).permute(0, 2, 1, 3).reshape(members, d_model, 3 * heads * d_head)
    qkv = torch.bmm(x, w_qkv)  # M × N × 3·h·e
    slots = data.batch * data.width + 1  # one extra slot per member for the fillers
    flat = (data.slots + slots * torch.arange(members, device=x.device).unsqueeze(1)).flatten()
    padded = qkv.new_zeros(members * slots, qkv.shape[-1]).index_copy(0, flat, qkv.flatten(0, 1))
    padded = padded.view(members, slots, -1)[:, :-1].reshape(members * data.batch, data.width, 3, heads, d_head)
    q, k, v = padded.permute(2, 0, 3, 1, 4)  # each M·B × h × T × e
    z = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
    z = z.transpose(1, 2).reshape(members, data.batch * data.width, heads * d_head)
    z = F.pad(z, (0, 0, 0, 1)).flatten(0, 1).index_select(0, flat).view(members, -1, heads * d_head)
    out = torch.bmm(z, w_o.reshape(members, heads * d_head, d_model))
    bias = params.get(f"{name}.b_O")
    return out if bias is None else out + bias.unsqueeze(1)


def _embed(tables: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Member m's rows `ids[m]` of its table `tables[m]` (M × N × d), as one embedding lookup."""
    members, rows = tables.shape[:2]
    offsets = torch.arange(members, device=ids.device).unsqueeze(1) * rows
    return F.embedding(ids + offsets, tables.flatten(0, 1))


def residual(params: dict[str, torch.Tensor], cfg, data: PackedBatch, use_positions: torch.Tensor | None = None):
    """The residual stream after the last block at the packed tokens (M × N × d); `cfg` is the members'
    `TransformerConfig`. `use_positions` (M, 0 or 1) turns the position table off for NoPE members of an
    ensemble whose stack carries one (their table stays 0 and gets no gradient)."""
    if not cfg.causal or cfg.dropout:
        raise ValueError("the packed forward is for causal models without dropout (trained models)")
    x = _embed(params["tok_emb.weight"], data.ids)
    if "pos_emb.weight" in params:
        table = params["pos_emb.weight"]
        if use_positions is not None:
            table = table * use_positions.view(-1, 1, 1).to(table.dtype)
        x = x + _embed(table, data.positions)
    for layer, (heads, d_head, d_mlp) in enumerate(zip(cfg.heads(), cfg.head_dims(), cfg.mlp_dims())):
        name = f"blocks.{layer}"
        if heads:
            scale = cfg.attn_scale if cfg.attn_scale is not None else d_head**-0.5
            x = x + _attention(_layer_norm(x, params, f"{name}.ln1"), params, f"{name}.attn", data, scale)
        if d_mlp:
            hidden = F.relu(_linear(_layer_norm(x, params, f"{name}.ln2"), params, f"{name}.mlp.fc_in"))
            x = x + _linear(hidden, params, f"{name}.mlp.fc_out")
    return _layer_norm(x, params, "ln_f")


def member_losses(
    params: dict[str, torch.Tensor], cfg, data: PackedBatch, use_positions: torch.Tensor | None = None
) -> torch.Tensor:
    """Each member's mean cross-entropy over its scored tokens (M), unembedding the scored tokens only."""
    x = residual(params, cfg, data, use_positions)
    if data.scored.shape[1] == x.shape[1] and data.every_token_scored:
        scored = x
    else:
        scored = x.gather(1, data.scored.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
    logits = _linear(scored, params, "unembed")
    losses = F.cross_entropy(logits.flatten(0, 1), data.targets.flatten(), ignore_index=IGNORE, reduction="none")
    counts = (data.targets != IGNORE).sum(dim=1).clamp(min=1)
    return losses.view(data.targets.shape).sum(dim=1) / counts


def position_regularizers(params: dict[str, torch.Tensor]) -> torch.Tensor:
    """Huang et al.'s APE regularizer per member (M): per layer and head, the mean over key positions j of the
    summed squared position–position attention logits ((P W_Q)(P W_K)ᵀ)_ij over query positions i ≥ j."""
    table = params["pos_emb.weight"]  # M × positions × d_model
    positions = table.shape[1]
    causal = torch.tril(torch.ones(positions, positions, dtype=torch.bool, device=table.device))
    total = table.new_zeros(table.shape[0])
    for name in params:
        if name.endswith(".attn.W_Q"):
            q = torch.einsum("mpd,mhde->mhpe", table, params[name])  # W_Q, W_K: M × heads × d_model × d_head
            k = torch.einsum("mpd,mhde->mhpe", table, params[name[:-1] + "K"])
            logits = torch.einsum("mhie,mhje->mhij", q, k)
            total = total + (logits.pow(2) * causal).sum(dim=2).mean(dim=2).sum(dim=1)
    return total
