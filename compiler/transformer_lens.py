"""Load a `CausalTransformer` into TransformerLens: `to_hooked_transformer(model) -> HookedTransformer`.

    import rasp, compiler
    model = compiler.compile(rasp.load("programs/hist.rasp"), vocab="abc", max_len=16)
    tl_model = compiler.to_hooked_transformer(model)
    logits, cache = tl_model.run_with_cache(ids)  # logits ≈ model(ids); cache["pattern", 0]: its attention

Needs the `transformer-lens` extra (`pip install 'rasp-toolkit[transformer-lens]'`, TransformerLens 2.x or
3.x: 4.0 removed `HookedTransformer`). The conversion is exact up to floating-point rounding and keeps the
model's dtype (float64 for compiled models) and device. How our model maps onto TransformerLens's one shape:

- TransformerLens has one head count, head size and MLP width for all layers; ours may differ per layer. The
  converted model takes the largest of each and pads with zeros: extra heads have zero W_Q W_K W_V W_O (they
  write nothing, their pattern is uniform over the allowed keys), extra head dimensions add 0 to q·k, extra
  MLP units have zero weights. A layer without attention (0 heads) or without an MLP gets all-zero weights;
  a model without any MLP becomes `attn_only`.
- The attention scale: ours multiplies q·k by `scale`, TransformerLens divides by `attn_scale`. One scale for
  all layers becomes `use_attn_scale=False` for 1 (compiled models), TransformerLens's default sqrt(d_head)
  for 1/sqrt(d_head), else `attn_scale = 1 / scale`; per-layer scales (and any scale on TransformerLens
  versions without an `attn_scale` field) are folded into W_Q.
- `pos_encoding="nope"`: TransformerLens has no "no positions" option, so the position table is all zeros.
  Sequences are limited to `n_ctx = max_len + 1` positions (BOS included) either way.
- Layer norm: ours is `torch.nn.LayerNorm` (biased variance, weight and bias), the same function as
  TransformerLens's "LN"; every norm must share one eps (TransformerLens has one), else `ValueError`.
- Biases our model lacks (b_Q, b_K, b_V, b_U, and b_O / the MLP's without `bias=True`) are zero.
- Dropout is not carried over (TransformerLens has none); compare in eval mode.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformer_lens import HookedTransformer

    from .model import CausalTransformer

_EXTRA_HINT = "pip install 'rasp-toolkit[transformer-lens]' (TransformerLens >=2,<4)"


def _import_transformer_lens() -> tuple[Any, Any]:
    try:
        import transformer_lens  # noqa: F401
    except ImportError as exc:
        problem = "is not installed" if exc.name == "transformer_lens" else f"cannot be imported ({exc})"
        raise ImportError(f"to_hooked_transformer needs TransformerLens, which {problem}: {_EXTRA_HINT}") from exc
    try:
        from transformer_lens import HookedTransformer, HookedTransformerConfig
    except ImportError as exc:
        version = getattr(transformer_lens, "__version__", "this version")
        raise ImportError(
            f"to_hooked_transformer needs TransformerLens's HookedTransformer, which TransformerLens "
            f"{version} does not provide (it was removed in 4.0): {_EXTRA_HINT}"
        ) from exc
    return HookedTransformer, HookedTransformerConfig


def _layer_norm_params(norm: Any, d_model: int) -> tuple[Any, Any]:
    """(weight, bias) of a torch.nn.LayerNorm, ones / zeros where it has none."""
    import torch

    if tuple(norm.normalized_shape) != (d_model,):
        raise ValueError(f"cannot convert a layer norm over {tuple(norm.normalized_shape)}; only over d_model")
    weight = norm.weight if norm.weight is not None else torch.ones(d_model)
    bias = norm.bias if norm.bias is not None else torch.zeros(d_model)
    return weight, bias


def to_hooked_transformer(model: CausalTransformer) -> HookedTransformer:
    """A TransformerLens `HookedTransformer` computing the same function as `model` (see the module docstring).

    Its logits equal `model(ids)` and `run_with_cache(ids)[1]["pattern", layer][:, :h]` equals layer's
    attention pattern (`model(ids, return_attention=True)`, h the layer's head count) up to rounding."""
    import torch

    HookedTransformer, HookedTransformerConfig = _import_transformer_lens()
    from .model import CausalTransformer

    if not isinstance(model, CausalTransformer):
        raise TypeError(f"to_hooked_transformer needs a compiler.CausalTransformer, got {type(model).__name__}")

    cfg = model.cfg
    if cfg.rel_window:
        raise ValueError(
            "TransformerLens has no per-offset attention bias: a model with rel_window > 0 cannot be converted"
        )
    reference = model.tok_emb.weight
    dtype, device = reference.dtype, reference.device
    attns = [block.attn for block in model.blocks]
    mlps = [block.mlp for block in model.blocks]
    n_heads = max([a.n_heads for a in attns if a is not None] + [1])
    d_head = max([a.d_head for a in attns if a is not None] + [1])
    d_mlp = max([m.fc_in.out_features for m in mlps if m is not None] + [0])
    scale_options, fold_scale = _scale_options(attns, d_head, HookedTransformerConfig)

    tl_cfg = HookedTransformerConfig(
        n_layers=cfg.n_layers,
        d_model=cfg.d_model,
        n_heads=n_heads,
        d_head=d_head,
        d_mlp=d_mlp if d_mlp else None,
        attn_only=d_mlp == 0,
        d_vocab=cfg.vocab_size,
        d_vocab_out=model.unembed.out_features,
        n_ctx=cfg.max_len + 1,
        act_fn="relu",
        normalization_type="LN" if cfg.layer_norm else None,
        eps=_layer_norm_eps(model),
        positional_embedding_type="standard",
        attention_dir="causal" if cfg.causal else "bidirectional",
        **scale_options,
        dtype=dtype,
        device=str(device),
        init_weights=False,
        default_prepend_bos=False,
    )
    with warnings.catch_warnings():  # TransformerLens 3.x announces HookedTransformer's removal in 4.0
        warnings.filterwarnings("ignore", message="HookedTransformer is deprecated", category=DeprecationWarning)
        tl_model = HookedTransformer(tl_cfg)
    state = _state(model, tl_model, fold_scale, d_mlp)
    with torch.no_grad():
        for name, param in tl_model.named_parameters():
            param.copy_(state[name])
    tl_model.eval()
    return tl_model


def _scale_options(attns: list, d_head: int, config_class: Any) -> tuple[dict[str, Any], bool]:
    """Ours multiplies q·k by each layer's `scale`; TransformerLens divides by one `attn_scale` (a config field in
    3.x, not in 2.0, which has only sqrt(d_head) or, without use_attn_scale, 1). What it can't say is folded into
    W_Q (the second value)."""
    scales = {float(a.scale) for a in attns if a is not None}
    scale = scales.pop() if len(scales) == 1 else None
    if (scale is None and not scales) or scale == 1.0:
        return {"use_attn_scale": False}, False
    if scale == 1.0 / math.sqrt(d_head):
        return {"use_attn_scale": True}, False  # TransformerLens's default, sqrt(d_head)
    if scale and "attn_scale" in {f.name for f in dataclasses.fields(config_class)}:
        return {"use_attn_scale": True, "attn_scale": 1.0 / scale}, False
    return {"use_attn_scale": False}, True


def _layer_norm_eps(model: CausalTransformer) -> float:
    """TransformerLens has one layer-norm eps for the whole model."""
    from torch import nn

    if not model.cfg.layer_norm:
        return 1e-5
    norms = [model.ln_f] + [n for block in model.blocks for n in (block.ln1, block.ln2)]
    if not all(isinstance(n, nn.LayerNorm) for n in norms):
        raise ValueError("to_hooked_transformer supports torch.nn.LayerNorm layer norms only")
    eps_values = {float(n.eps) for n in norms}
    if len(eps_values) > 1:
        raise ValueError(f"TransformerLens has one layer-norm eps; this model uses {sorted(eps_values)}")
    return eps_values.pop()


def _state(model: CausalTransformer, tl_model: Any, fold_scale: bool, d_mlp: int) -> dict[str, Any]:
    """Every TransformerLens parameter, zero unless ours sets it (heads and MLP widths padded to the widest)."""
    import torch

    reference = model.tok_emb.weight
    like = {"dtype": reference.dtype, "device": reference.device}
    d_model, layer_norm = model.cfg.d_model, model.cfg.layer_norm
    state = {name: torch.zeros_like(p, **like) for name, p in tl_model.named_parameters()}

    def put(name: str, value: torch.Tensor, index: Any = ...) -> None:
        if name not in state:
            raise RuntimeError(
                f"TransformerLens model has no parameter {name!r} (unsupported TransformerLens version?)"
            )
        state[name][index] = value.detach().to(**like)

    put("embed.W_E", model.tok_emb.weight)
    if model.pos_emb is not None:
        put("pos_embed.W_pos", model.pos_emb.weight)
    put("unembed.W_U", model.unembed.weight.T)
    if model.unembed.bias is not None:
        put("unembed.b_U", model.unembed.bias)
    if layer_norm:
        w, b = _layer_norm_params(model.ln_f, d_model)
        put("ln_final.w", w)
        put("ln_final.b", b)

    for i, block in enumerate(model.blocks):
        prefix = f"blocks.{i}"
        if layer_norm:
            for ours, theirs in ((block.ln1, "ln1"), (block.ln2, "ln2")):
                if theirs == "ln2" and d_mlp == 0:
                    continue
                w, b = _layer_norm_params(ours, d_model)
                put(f"{prefix}.{theirs}.w", w)
                put(f"{prefix}.{theirs}.b", b)
        attn = block.attn
        if attn is not None:
            h, e = attn.n_heads, attn.d_head
            w_q = attn.W_Q * attn.scale if fold_scale else attn.W_Q
            put(f"{prefix}.attn.W_Q", w_q, (slice(0, h), slice(None), slice(0, e)))
            put(f"{prefix}.attn.W_K", attn.W_K, (slice(0, h), slice(None), slice(0, e)))
            put(f"{prefix}.attn.W_V", attn.W_V, (slice(0, h), slice(None), slice(0, e)))
            put(f"{prefix}.attn.W_O", attn.W_O, (slice(0, h), slice(0, e), slice(None)))
            if attn.b_O is not None:
                put(f"{prefix}.attn.b_O", attn.b_O)
        mlp = block.mlp
        if mlp is not None:
            m = mlp.fc_in.out_features
            put(f"{prefix}.mlp.W_in", mlp.fc_in.weight.T, (slice(None), slice(0, m)))
            put(f"{prefix}.mlp.W_out", mlp.fc_out.weight.T, (slice(0, m), slice(None)))
            if mlp.fc_in.bias is not None:
                put(f"{prefix}.mlp.b_in", mlp.fc_in.bias, slice(0, m))
            if mlp.fc_out.bias is not None:
                put(f"{prefix}.mlp.b_out", mlp.fc_out.bias)
    return state
