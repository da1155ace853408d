"""How constructions grow (compiler/scaling.py, `rasp compile --scaling`)."""

from pathlib import Path

import pytest

pytest.importorskip("torch")

import rasp  # noqa: E402
from compiler import compile  # noqa: E402
from compiler.scaling import components, growth_exponent, measure_growth  # noqa: E402
from rasp_cli import main  # noqa: E402

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"


def test_the_fit_recovers_known_exponents():
    lengths = [8, 16, 32, 64]
    assert growth_exponent(lengths, [5] * 4) == pytest.approx(0.0)
    assert growth_exponent(lengths, [3 * n for n in lengths]) == pytest.approx(1.0)
    assert growth_exponent(lengths, [n**2 + 0 for n in lengths]) == pytest.approx(2.0)
    assert growth_exponent(lengths, [0, 1, 2, 3]) is None  # nothing to fit through a zero
    assert growth_exponent([8], [4]) is None


def test_components_add_up_to_the_model():
    model = compile(rasp.load(PROGRAMS / "binary_majority.rasp"), vocab=[0, 1], max_len=12)
    parts = components(model)
    assert sum(params for _, params, _ in parts) == sum(p.numel() for p in model.parameters())
    assert [name for name, _, _ in parts][:2] == ["token embedding", "positional embedding"]


def test_the_position_table_grows_linearly_and_the_token_embedding_with_the_residual():
    table = measure_growth(rasp.load(PROGRAMS / "hist.rasp"), list("abcd"), [8, 16, 32])
    by_name = {c.name: c for c in table.components}
    position = by_name["positional embedding"]
    assert position.params == [(n + 1) * d for n, d in zip(table.lengths, table.residual)]
    assert table.exponent(table.totals) > 1.0  # hist's count is one-hot up to max_len: the model grows


def test_the_command_prints_the_table_and_writes_the_plot(tmp_path, capsys):
    plot = tmp_path / "bm.png"
    argv = ["compile", "--scaling", str(PROGRAMS / "binary_majority.rasp"), "--vocab", "0 1", "--max-len", "8", "16"]
    assert main([*argv, "32", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "positional embedding" in out and "exponent" in out and "total" in out
    assert "limit construction" in out  # binary_majority has one: the same size at every length
    assert plot.stat().st_size > 1000


def test_bad_lengths_are_refused(capsys):
    file = str(PROGRAMS / "binary_majority.rasp")
    assert main(["compile", "--scaling", file, "--vocab", "0 1", "--max-len", "16"]) == 1
    assert "at least two positive --max-len" in capsys.readouterr().err
    assert main(["compile", "--scaling", file, "--vocab", "0 1", "--max-len", "0", "8"]) == 1
    assert main(["verify", file, "--vocab", "0 1", "--max-len", "8", "16"]) == 1
    assert "give one --max-len" in capsys.readouterr().err
