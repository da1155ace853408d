"""The compiler: CausalTransformer, compile == interpret, refusals, export, CLI, and a differential test."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import compiler  # noqa: E402
import rasp  # noqa: E402
from compiler.api import random_inputs  # noqa: E402
from compiler.model import CausalTransformer, TransformerConfig  # noqa: E402
from rasp.inputs import split_input  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def agree(source: str, vocab, max_len: int, n: int = 200, **kwargs) -> compiler.Agreement:
    program = rasp.parse(source)
    model = compiler.compile(program, vocab=vocab, max_len=max_len, **kwargs)
    return compiler.verify(program, model, n=n)


# ---- the model class -------------------------------------------------------------------------------


@pytest.mark.parametrize("pos", ["ape", "nope"])
def test_model_trains_and_returns_attention(pos):
    cfg = TransformerConfig(
        vocab_size=7,
        max_len=12,
        d_model=16,
        n_layers=2,
        n_heads=[2, 1],
        d_mlp=[32, 0],
        pos_encoding=pos,
        layer_norm=True,
        bias=True,
    )
    model = CausalTransformer(cfg)
    ids = torch.randint(0, 7, (4, 9))
    logits, patterns = model(ids, return_attention=True)
    assert logits.shape == (4, 9, 7) and patterns[0].shape == (4, 2, 9, 9) and patterns[1].shape == (4, 1, 9, 9)
    assert torch.allclose(patterns[0].sum(-1), torch.ones(4, 2, 9))
    assert torch.all(patterns[0].triu(1) == 0)  # causal
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 7), ids.reshape(-1))
    loss.backward()
    assert model.tok_emb.weight.grad is not None
    # position ids with an offset (the training trick for APE)
    assert model(ids, positions=torch.arange(3, 12)).shape == (4, 9, 7)


# ---- compiled == interpreted ---------------------------------------------------------------------


CASES = [
    ("hist = selector_width(select(tokens, tokens, ==));", "abc"),
    ("@mode bidirectional; hist = selector_width(select(tokens, tokens, ==));", "abc"),
    ("@mode bidirectional; r = aggregate(select(indices, length - indices - 1, ==), tokens);", "abcd"),
    ("f = numerical(aggregate(select(indices, indices, <=), indicator(tokens == 'a'), default=0));", "ab"),
    ("m = aggregate(select(tokens, tokens, <=), tokens, reduce='max', default=-1);", [1, 2, 3, 5]),
    ("m = aggregate(select(tokens, tokens, !=), indices, reduce='min', default=9);", "abc"),
    ("s = aggregate(select(indices, indices - 1, ==), tokens, default='_');", "xyz"),
    ("n = selector_width(select(tokens, tokens, ==) or select(indices, indices, <));", "ab"),
    ("n = selector_width(not select(tokens, 'a', ==));", "ab"),
    ("c = selector_width(select(tokens, tokens, lambda k, q: k == 'a')); b = c > length / 2;", "ab"),
    ("x = tokens + indices; y = x % 3 == 0;", [0, 1, 2]),
    ("@mode bidirectional; d = numerical(aggregate(select(indices, indices, True), tokens)); e = d > 1;", [0, 1, 2]),
]


@pytest.mark.parametrize("source, vocab", CASES)
def test_compiled_matches_interpreter(source, vocab):
    result = agree(source, list(vocab), max_len=8, n=150)
    assert float(result) == 1.0, result.mismatches


def test_tracr_style_mlps_and_float32():
    source = "@mode bidirectional; r = aggregate(select(indices, length - indices - 1, ==), tokens == 'a');"
    assert float(agree(source, "ab", max_len=8, fold_maps=False)) == 1.0
    assert float(agree(source, "ab", max_len=8, dtype=torch.float32)) == 1.0


@pytest.mark.parametrize("name", ["hist", "sort", "frac_prevs", "shuffle_dyck"])
def test_exact_at_max_len(name):
    """Inputs of exactly max_len (the softmax bound's worst case), at a max_len where counts reach 48."""
    program = rasp.load(ROOT / "benchmarks" / "tracr_programs" / f"{name}.rasp")
    vocab = {"sort": [1, 2, 3], "shuffle_dyck": list("()")}.get(name, list("ax"))
    model = compiler.compile(program, vocab=vocab, max_len=48)
    inputs = random_inputs(vocab, 48, 40, seed=3, min_len=48)
    inputs += [[vocab[0]] * 48, [vocab[-1]] * 48]
    assert float(compiler.verify(program, model, inputs=inputs)) == 1.0


SPLIT_CASES = [
    # sort_freq's keys: a strict order over (count, position), one head per "count <" and "count ==, index <"
    (
        "@mode bidirectional; h = -1 * selector_width(select(tokens, tokens, ==));"
        "k = zipmap(lambda x, i: x + i / 64, h, indices); n = selector_width(select(k, k, <));",
        "abc",
    ),
    # causal, <=, and a conjunct on other s-ops that every head keeps
    (
        "k = zipmap(lambda x, i: x + i / 64, tokens, indices);"
        "n = selector_width(select(k, k, <=) and select(tokens, tokens, !=));",
        [1, 2, 3],
    ),
    # different maps on the key and query sides
    (
        "@mode bidirectional; k = zipmap(lambda x, i: x * 100 + i, tokens, indices);"
        "q = zipmap(lambda x, i: x * 100 + 2 * i, tokens, indices); n = selector_width(select(k, q, >));",
        [0, 1, 2],
    ),
]


@pytest.mark.parametrize("source, vocab", SPLIT_CASES)
def test_count_over_two_maps_is_split_over_their_factors(source, vocab):
    """A count over a comparison of two zipmaps compiles as a few heads over the zipmaps' inputs instead of a
    query-key table over their (value-set product) values."""
    program = rasp.parse(source)
    model = compiler.compile(program, vocab=vocab, max_len=20)
    assert any("split over their factors" in note for note in model.spec.notes)
    assert model.cfg.d_model < 200  # the zipmaps take 60 values: no one-hot of them, no 60 × 60 table
    inputs = random_inputs(vocab, 20, 60, seed=4) + random_inputs(vocab, 20, 20, seed=5, min_len=20)
    assert float(compiler.verify(program, model, inputs=inputs)) == 1.0
    assert float(compiler.verify(program, model.to(dtype=torch.float32), inputs=inputs)) == 1.0


def test_sort_freq_at_128():
    """sort_freq's keys take 129 × 128 values at max_len 128: a 16,512² table unless split (2 heads)."""
    program = rasp.load(ROOT / "benchmarks" / "tracr_programs" / "sort_freq.rasp")
    model = compiler.compile(program, vocab="abcd", max_len=128)
    assert model.cfg.d_model < 500
    inputs = random_inputs(list("abcd"), 128, 6, seed=6, min_len=120) + [list("abcd" * 32), list("a" * 128)]
    assert float(compiler.verify(program, model, inputs=inputs)) == 1.0


def test_causal_override_and_length_as_map():
    program = rasp.parse("@mode bidirectional; n = length;")
    causal = compiler.compile(program, vocab="ab", max_len=6, causal=True)
    assert causal.cfg.n_layers == 0  # length = indices + 1, read off the position embedding
    assert causal.run(list("abab")) == [1, 2, 3, 4]
    assert compiler.compile(program, vocab="ab", max_len=6).run(list("abab")) == [4, 4, 4, 4]


def test_generate_and_devices():
    program = rasp.parse("nxt = aggregate(select(indices, indices - 1, ==), tokens, default='a');")
    model = compiler.compile(program, vocab="ab", max_len=8, device="cpu")
    assert model.generate(list("ab"), max_new=3) == program.generate(list("ab"), max_new=3)
    assert model.run_batch([list("ab"), [], list("bba")]) == program.run_batch([list("ab"), [], list("bba")])


def test_generate_with_kv_cache_matches_rerunning_and_the_interpreter():
    program = rasp.load(ROOT / "programs" / "sort.rasp")
    vocab = [*range(12), ">", "."]
    model = compiler.compile(program, vocab=vocab, max_len=16)
    for prompt in ([5, 3, 9, 1, ">"], [7, ">"], [11, 0, 4, 8, 2, 6, ">"]):
        expected = program.generate(prompt, max_new=10, stop=".")
        assert model.generate(prompt, max_new=10, stop=".") == expected
        assert model.generate(prompt, max_new=10, stop=".", use_cache=False) == expected
    # the cache stops at max_len like the plain loop
    long_prompt = [*range(10), ">"]
    assert model.generate(long_prompt, max_new=20) == model.generate(long_prompt, max_new=20, use_cache=False)


def test_kv_cache_forward_equals_full_forward():
    import torch

    torch.manual_seed(0)
    cfg = TransformerConfig(vocab_size=7, max_len=12, d_model=16, n_layers=2, n_heads=2, layer_norm=True, bias=True)
    model = CausalTransformer(cfg).double().eval()
    ids = torch.randint(0, 7, (3, 10))
    full = model.residual(ids)
    cache = compiler.model.KVCache(cfg.n_layers)
    pieces = [model.residual(ids[:, a:b], cache=cache) for a, b in ((0, 4), (4, 5), (5, 10))]
    assert cache.length == 10
    assert torch.allclose(torch.cat(pieces, dim=1), full, atol=1e-12)


# ---- refusals and input errors -----------------------------------------------------------------------


def test_refusals_name_the_sop_and_position():
    program = rasp.parse("x = tokens;\ny = select(x, x, ==);", "p.rasp")
    with pytest.raises(rasp.RaspError, match="selector"):
        compiler.compile(program, vocab="ab", max_len=4)
    program = rasp.parse("a = tokens * 3;\nb = zipmap(lambda x, y: x * 1000 + y, a, indices);", "big.rasp")
    with pytest.raises(compiler.CompileError) as info:
        compiler.compile(program, vocab=list(range(300)), max_len=200)
    assert info.value.line == 2 and "big.rasp:2:" in str(info.value) and "b =" in str(info.value)
    model = compiler.compile(rasp.parse("h = selector_width(select(tokens, tokens, ==));"), vocab="ab", max_len=4)
    with pytest.raises(rasp.RaspInputError, match="vocabulary"):
        model.run(list("abz"))
    with pytest.raises(rasp.RaspInputError, match="max_len"):
        model.run(list("ababa"))


# ---- the bundled programs -----------------------------------------------------------------------------


def header_vocab(path: str) -> list:
    text = Path(path).read_text()
    m = re.search(r"^# example-tokens: (.*)$", text, re.M)
    if m:
        return sorted(set(split_input(m.group(1), whitespace=True)), key=repr)
    m = re.search(r"^# example: (.*)$", text, re.M)
    return sorted(set(split_input(m.group(1))), key=repr) if m else list("abc")


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "programs" / "*.rasp"))), ids=lambda p: Path(p).stem)
def test_bundled_program_compiles_and_verifies(path):
    program = rasp.load(path)
    try:
        model = compiler.compile(program, vocab=header_vocab(path), max_len=16)
    except compiler.CompileError as error:
        pytest.skip(f"refused: {error.message}")
    result = compiler.verify(program, model, n=150)
    assert float(result) == 1.0, result.mismatches


# ---- export and CLI ---------------------------------------------------------------------------------------


def test_safetensors_round_trip_and_cli(tmp_path, capsys):
    from rasp_cli import main

    path = tmp_path / "hist.safetensors"
    program_path = ROOT / "benchmarks" / "tracr_programs" / "hist.rasp"
    assert main(["compile", str(program_path), "--vocab", "a b c", "--max-len", "8", "-o", str(path)]) == 0
    assert (tmp_path / "hist.json").is_file()
    model = compiler.load(path)
    assert model.run(list("abcab")) == rasp.load(program_path).run(list("abcab"))
    capsys.readouterr()
    assert main(["run-compiled", str(path), "abcab"]) == 0
    assert capsys.readouterr().out.split() == ["2", "2", "1", "2", "2"]
    assert main(["run", "--compiled", str(path), "abcab"]) == 0
    assert capsys.readouterr().out.split() == ["2", "2", "1", "2", "2"]
    assert main(["run", "--compiled", str(path), "abcd"]) == 1
    assert "vocabulary" in capsys.readouterr().err
    assert main(["verify", str(program_path), "--vocab", "abc", "--max-len", "6", "-n", "50"]) == 0
