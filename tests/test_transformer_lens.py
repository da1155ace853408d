"""`compiler.to_hooked_transformer`: the TransformerLens model computes our model's logits and attention.

Runs only where TransformerLens (2.x / 3.x, the `transformer-lens` extra) is installed. Tolerances: logits
within tol · max(1, largest |logit|), attention patterns within tol; tol = 1e-9 for compiled float64 models
(far below every decoding margin), 1e-12 for random float64 models, 1e-5 / 1e-4 for float32 (rounding,
amplified by softmax on random weights).
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformer_lens")
# TransformerLens 4 removed HookedTransformer (the extra pins <4).
pytest.importorskip("transformer_lens.HookedTransformer", reason="TransformerLens without HookedTransformer (>=4)")

import compiler  # noqa: E402
import rasp  # noqa: E402
from compiler.model import CausalTransformer, TransformerConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def assert_same(model: CausalTransformer, ids: torch.Tensor, tol: float) -> None:
    """Logits within tol · max(1, largest |logit|), attention patterns within tol."""
    tl_model = compiler.to_hooked_transformer(model)
    with torch.no_grad():
        logits, patterns = model(ids, return_attention=True)
        tl_logits, cache = tl_model.run_with_cache(ids)
    assert tl_logits.dtype == logits.dtype
    assert tl_logits.shape == logits.shape
    scale = max(1.0, logits.abs().max().item())
    torch.testing.assert_close(tl_logits, logits, rtol=0, atol=tol * scale)
    for layer, pattern in enumerate(patterns):
        if pattern is None:
            continue
        tl_pattern = cache["pattern", layer][:, : pattern.shape[1]]
        torch.testing.assert_close(tl_pattern, pattern, rtol=0, atol=tol)


def random_ids(model: CausalTransformer, batch: int, length: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, model.cfg.vocab_size, (batch, length), generator=generator)
    ids[:, 0] = 0  # BOS
    return ids.to(model.device)


@pytest.mark.parametrize(
    "name, vocab, max_len, causal",
    [
        ("reverse", "abc", 8, None),  # bidirectional
        ("hist", "abc", 10, None),  # bidirectional selector width
        ("hist", "abc", 10, True),  # causal
        ("sort_unique", [1, 2, 3, 4, 5, 6], 6, None),  # bidirectional
        ("sort", [1, 2, 3, 4, 5, ">", "."], 8, None),  # causal
        ("majority", "abc", 8, None),  # causal
        ("frac_prevs", "xab", 10, None),  # numerical output
        ("length", "ab", 8, None),  # numerical output
        ("dyck1", "()", 8, None),
    ],
)
def test_compiled_programs(name, vocab, max_len, causal):
    program = rasp.load(ROOT / "programs" / f"{name}.rasp")
    model = compiler.compile(program, vocab=vocab, max_len=max_len, causal=causal)
    assert next(model.parameters()).dtype == torch.float64
    assert compiler.to_hooked_transformer(model).cfg.attention_dir == (
        "causal" if model.cfg.causal else "bidirectional"
    )
    for length in (1, max_len // 2, max_len):
        assert_same(model, random_ids(model, 16, length + 1, seed=length), tol=1e-9)


def test_compiled_model_runs_the_program():
    program = rasp.load(ROOT / "programs" / "sort_unique.rasp")
    model = compiler.compile(program, vocab="abcdef", max_len=6)
    tl_model = compiler.to_hooked_transformer(model)
    tokens = list("fbdca")
    ids = torch.tensor([model.encode(tokens)])
    assert model.decode(tl_model(ids)[0, 1:]) == program.run(tokens)
    assert tl_model.cfg.attention_dir == "bidirectional"


def test_float32_compiled_model():
    model = compiler.compile(rasp.load(ROOT / "programs" / "hist.rasp"), vocab="abc", max_len=8, dtype=torch.float32)
    tl_model = compiler.to_hooked_transformer(model)
    assert tl_model.W_E.dtype == torch.float32
    assert_same(model, random_ids(model, 8, 9), tol=1e-5)


def random_model(seed: int = 0, **overrides) -> CausalTransformer:
    torch.manual_seed(seed)
    settings = dict(vocab_size=11, max_len=12, d_model=16, n_layers=3, n_heads=2, d_mlp=24, n_out=5)
    settings.update(overrides)
    model = CausalTransformer(TransformerConfig(**settings))
    with torch.no_grad():  # every parameter random, including layer-norm weights and biases
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    return model.eval()


@pytest.mark.parametrize(
    "overrides",
    [
        dict(layer_norm=True, bias=True),  # trained-style: layer norm, APE, biases, 1/sqrt(d_head)
        dict(layer_norm=True, bias=False, causal=False),
        dict(layer_norm=False, pos_encoding="nope", attn_scale=0.7),
        # per-layer shapes, a layer without attention and one without MLP; per-layer scales are folded into W_Q
        dict(layer_norm=True, bias=True, n_heads=[2, 0, 3], d_head=[4, 8, 5], d_mlp=[24, 10, 0]),
        dict(layer_norm=True, n_heads=[1, 2, 1], d_mlp=0),  # attention only
    ],
)
def test_random_models(overrides):
    model = random_model(**overrides)
    assert_same(model, random_ids(model, 8, 13), tol=1e-4)
    assert_same(model.double(), random_ids(model, 8, 13), tol=1e-12)


def test_shapes_and_config():
    model = random_model(n_heads=[2, 0, 3], d_head=[4, 8, 5], d_mlp=[24, 10, 0], layer_norm=True)
    tl_model = compiler.to_hooked_transformer(model)
    assert (tl_model.cfg.n_heads, tl_model.cfg.d_head, tl_model.cfg.d_mlp) == (3, 5, 24)
    assert tl_model.cfg.n_ctx == model.cfg.max_len + 1
    assert tl_model.cfg.d_vocab_out == 5
    assert tl_model.cfg.normalization_type == "LN"
    assert torch.count_nonzero(tl_model.blocks[1].attn.W_O) == 0  # no attention in layer 1
    assert torch.count_nonzero(tl_model.blocks[2].mlp.W_in) == 0  # no MLP in layer 2


def test_mismatched_layer_norm_eps_is_refused():
    model = random_model(layer_norm=True)
    model.ln_f.eps = 1e-6
    with pytest.raises(ValueError, match="eps"):
        compiler.to_hooked_transformer(model)


def test_not_a_model():
    with pytest.raises(TypeError):
        compiler.to_hooked_transformer(torch.nn.Linear(2, 2))
