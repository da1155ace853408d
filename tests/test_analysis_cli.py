"""`rasp measure`, `rasp predict` and `rasp draw` on the command line."""

import json
from pathlib import Path

import pytest

from rasp_cli import main

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"

CRASP = 'ones = selector_width(select(tokens, tokens, lambda k, q: k == "1"));\nmaj = ones > length - ones;\n'
PARITY = 'ones = selector_width(select(tokens, tokens, lambda k, q: k == "1"));\nparity = ones % 2 == 1;\n'


@pytest.fixture
def files(tmp_path):
    (tmp_path / "maj.rasp").write_text("# example: 0110\n" + CRASP)
    (tmp_path / "parity.rasp").write_text(PARITY)
    return tmp_path


def test_measure_table_and_json(files, capsys):
    assert main(["measure", str(files / "maj.rasp"), str(files / "parity.rasp")]) == 0
    out = capsys.readouterr().out
    assert "heads/layer" in out and "maj.rasp" in out and "parity.rasp" in out
    assert main(["measure", "--json", str(files / "maj.rasp")]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["attention_ops"] == 1 and row["layers"] == 2 and row["max_heads_per_layer"] == 1


def test_predict_table_details_and_paper(files, capsys):
    assert main(["predict", str(files / "maj.rasp"), str(files / "parity.rasp")]) == 0
    out = capsys.readouterr().out
    assert "C-RASP (NoPE)" in out and "paper APE" in out
    assert "paper's table: 2/2 predictions agree" in out
    assert f"{files / 'parity.rasp'}:2:10" in out  # the offending map, with its line
    assert "proved impossible" in out
    assert "no program in the fragment was given" in out
    assert main(["predict", "--brief", str(files / "maj.rasp")]) == 0
    assert "value kinds" not in capsys.readouterr().out


def test_predict_json(files, capsys):
    assert main(["predict", "--json", str(files / "parity.rasp")]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["task"] == "parity" and row["paper"]["agrees"] == {"ape": True, "nope": True}
    assert row["crasp"]["ok"] is False and row["crasp"]["violations"][0]["where"].endswith("parity.rasp:2:10")
    assert row["measure"]["ops"] == 4 and row["kinds"]["parity"] == "other"


def test_errors_are_reported_not_raised(files, capsys):
    (files / "bad.rasp").write_text("x = ;\n")
    assert main(["predict", str(files / "bad.rasp"), str(files / "maj.rasp")]) == 1
    captured = capsys.readouterr()
    assert "bad.rasp:1:" in captured.err and "maj.rasp" in captured.out
    assert main(["measure", str(files / "missing.rasp")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_predict_all_bundled_programs(capsys):
    paths = sorted(str(p) for p in PROGRAMS.glob("*.rasp"))
    assert main(["predict", "--brief", *paths]) == 0
    out = capsys.readouterr().out
    disagreeing = [line.split()[0] for line in out.splitlines() if "NO:" in line]
    assert disagreeing == []  # every task of the paper's table agrees (tests/test_analysis_paper.py)
    assert sum(line.rstrip().endswith(" yes") for line in out.splitlines()) >= 10


def test_predict_vocab_decides_whether_tokens_may_be_numbers(tmp_path, capsys):
    path = tmp_path / "last.rasp"
    path.write_text(
        'after_a = aggregate(select(tokens, tokens, True), tokens, default="-");\nout = selector_width(select(after_a, after_a, ==)) > 1;\n'
    )
    assert main(["predict", "--brief", str(path)]) == 0
    assert "✗" in capsys.readouterr().out.splitlines()[2]  # tokens may be numbers: a mean over the prefix
    assert main(["predict", "--brief", "--vocab", "a b", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[2].count("✓") == 3


def test_draw_png_and_svg(files, tmp_path, capsys):
    png, svg = tmp_path / "out.png", tmp_path / "out.svg"
    assert main(["draw", str(files / "maj.rasp"), "-o", str(png), "-o", str(svg)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:1000]
    other = tmp_path / "other.png"
    assert main(["draw", str(files / "parity.rasp"), "--input", "1101", "-o", str(other)]) == 0
    assert other.exists()
    assert main(["draw", str(files / "parity.rasp"), "-o", str(tmp_path / "x.png")]) == 1  # no example, no input
    assert main(["draw", str(files / "maj.rasp"), "-o", str(tmp_path / "x.gif")]) == 1
    assert "png or .svg" in capsys.readouterr().err


def test_draw_program_api(tmp_path):
    import rasp
    from rasp.analysis.draw import draw_program

    program = rasp.parse(CRASP + 'prev = aggregate(select(indices, indices - 1, ==), tokens, default="^");\n')
    figure = draw_program(program, list("0110"), tmp_path / "p.png")
    assert (tmp_path / "p.png").exists() and figure is not None
