"""Stages → a CausalTransformer: stages packed into blocks (attention, then MLP; a new block wherever a stage reads
what the current one writes) and the weights set column by column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .builder import Builder


def assemble(builder: Builder, output: dict[Any, int], name: str, bound: int) -> Any:
    """The stages packed into blocks and the weights set: a CausalTransformer (float64)."""
    from ..model import CausalTransformer, DecodeSpec, TransformerConfig

    blocks = _pack(builder.stages)
    cfg = TransformerConfig(
        vocab_size=len(builder.vocab) + 1,
        max_len=bound,
        d_model=len(builder.labels),
        n_layers=len(blocks),
        n_heads=[len(b.heads) for b in blocks],
        d_head=[1] * len(blocks),
        d_mlp=[len(b.units) for b in blocks],
        n_out=len(output),
        pos_encoding="ape" if builder.positional else "nope",  # periodic features live in the position table
        rel_window=1 + max((d for b in blocks for _, _, d in b.heads if d is not None), default=-1),
    )
    positional = " (a position table of period-m columns; per-offset biases for nearby reads)"
    spec = DecodeSpec(
        vocab=[None, *builder.vocab],
        max_len=bound,
        causal=True,
        output=name,
        output_kind="categorical",
        output_values=list(output),
        residual_labels=builder.labels,
        notes=[
            f"limit construction: exact on inputs up to {bound} tokens; the same parameters at every length"
            + (positional if builder.positional or cfg.rel_window else "")
        ],
    )
    model = CausalTransformer(cfg, spec).double()
    _set_weights(model, builder, blocks, output, bound)
    return model


@dataclass
class _Block:
    heads: list = field(default_factory=list)
    units: list = field(default_factory=list)
    attn_writes: set = field(default_factory=set)
    mlp_writes: set = field(default_factory=set)


def _pack(stages: list) -> list[_Block]:
    """Stages into blocks (attention, then MLP), a new block wherever a stage reads what the current one writes."""
    blocks: list[_Block] = []
    for stage in stages:
        current = blocks[-1] if blocks else None
        if stage.kind == "attn":
            if current is None or current.units or stage.reads() & current.attn_writes:
                current = _Block()
                blocks.append(current)
            current.heads += stage.heads
            current.attn_writes |= stage.writes()
        else:
            if current is None or stage.reads() & current.mlp_writes:
                current = _Block()
                blocks.append(current)
            current.units += stage.units
            current.mlp_writes |= stage.writes()
    return blocks


def _set_weights(model: Any, builder: Builder, blocks: list[_Block], output: dict[Any, int], bound: int) -> None:
    """Every parameter zero but the columns the construction names."""
    import torch

    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.tok_emb.weight[0, builder.bos] = 1.0
        model.tok_emb.weight[:, builder.one] = 1.0
        for k, token in enumerate(builder.vocab, start=1):
            model.tok_emb.weight[k, builder.tokens[token]] = 1.0
        for block, layout in zip(model.blocks, blocks):
            for h, (source, target, offset) in enumerate(layout.heads):
                block.attn.W_V[h, source, 0] = 1.0
                block.attn.W_O[h, 0, target] = 1.0
                if offset is not None:
                    block.attn.rel_bias[h, offset] = builder.offset_score
            for u, unit in enumerate(layout.units):
                for col, w in unit.reads.items():
                    block.mlp.fc_in.weight[u, col] = w
                for col, w in unit.writes.items():
                    block.mlp.fc_out.weight[col, u] = w
        for col, value_at in builder.positional.items():
            for p in range(bound + 1):
                model.pos_emb.weight[p, col] = value_at(p)
        for k, col in enumerate(output.values()):
            model.unembed.weight[k, col] = 1.0
