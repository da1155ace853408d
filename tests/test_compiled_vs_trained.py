"""Trained versus compiled (experiments/compiled/study.py, experiments/compiled/attention_maps.py): the attention measure, fine-tuning from compiled weights,
short random-init training, and `rasp trained-vs-compiled`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import compiler  # noqa: E402
import rasp  # noqa: E402
from experiments.compiled.attention_maps import compare_attention, format_table  # noqa: E402
from experiments.compiled.study import ProgramTask, fresh_model, train_on_program  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HIST = ROOT / "programs" / "hist.rasp"
PREV = 'prev = aggregate(select(indices, indices - 1, ==), tokens, default="_");'  # causal, one select


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _inputs(program, model, vocab, per_length=20):
    return ProgramTask(program, model, vocab).evaluation_set(0, per_length)[0]


@pytest.mark.parametrize("source", ["hist", "prev", "tomita_4"])
def test_compiled_against_itself_is_distance_zero(source):
    if source == "hist":
        program, vocab, n = rasp.load(HIST), "abc", 6
    elif source == "prev":
        program, vocab, n = rasp.parse(PREV), "ab", 6
    else:
        program, vocab, n = rasp.load(ROOT / "programs" / "tomita_4.rasp"), [0, 1], 6
    model = compiler.compile(program, vocab, n)
    table = compare_attention(model, model, _inputs(program, model, vocab))
    assert len(table) == sum(model.cfg.heads())
    for row in table:
        assert row["best_distance"] == pytest.approx(0.0, abs=1e-9)
        assert row["same_position_distance"] == pytest.approx(0.0, abs=1e-9)
        assert 0.0 < row["uniform_distance"] <= 1.0


def test_measure_uniform_attention_and_disjoint_bounds():
    """A copy whose queries are zeroed attends uniformly over the visible keys: its distance to the compiled
    head is the table's uniform yardstick; every distance lies in [0, 1]."""
    program, vocab = rasp.parse(PREV), "ab"
    model = compiler.compile(program, vocab, 6)
    flat = copy.deepcopy(model)
    with torch.no_grad():
        for block in flat.blocks:
            if block.attn is not None:
                block.attn.W_Q.zero_()
    (row,) = compare_attention(model, flat, _inputs(program, model, vocab))
    assert row["same_position_distance"] == pytest.approx(row["uniform_distance"], abs=1e-9)
    # previous-token head vs uniform over i + 1 keys (BOS included): 1 - 1/(i + 1) at query i ≥ 1
    assert 0.5 <= row["uniform_distance"] < 1.0


def test_fine_tuning_from_compiled_weights_keeps_accuracy():
    program = rasp.load(HIST)
    result = train_on_program(program, "abc", 5, steps=15, init="compiled", seed=0)
    assert result.compiled_accuracy == 1.0
    assert result.accuracy == 1.0
    assert result.held_out_accuracy in (None, 1.0)
    assert 0.0 < result.drift["relative"] < 0.01
    table = compare_attention(result.compiled, result.model, _inputs(program, result.compiled, "abc"))
    assert all(row["same_position_distance"] < 0.05 for row in table)
    summary = result.summary()
    json.dumps(summary)
    assert summary["config"]["heads"] == result.compiled.cfg.heads()


def test_random_init_has_the_compiled_config_and_a_table_row_per_head(tmp_path):
    program = rasp.load(ROOT / "programs" / "tomita_4.rasp")
    vocab = [0, 1]
    result = train_on_program(program, vocab, 5, steps=10, init="random", seed=1)
    compiled_cfg, trained_cfg = result.compiled.cfg, result.model.cfg
    assert trained_cfg == compiled_cfg
    assert not trained_cfg.layer_norm and trained_cfg.pos_encoding == "ape"
    assert [tuple(p.shape) for p in result.model.parameters()] == [tuple(p.shape) for p in result.compiled.parameters()]
    assert 0.0 <= result.accuracy <= 1.0 and result.history
    png = tmp_path / "heads.png"
    table = compare_attention(result.compiled, result.model, _inputs(program, result.compiled, vocab), png=png)
    assert len(table) == sum(compiled_cfg.heads())
    assert {(r["layer"], r["head"]) for r in table} == {
        (layer, h) for layer, n in enumerate(compiled_cfg.heads()) for h in range(n)
    }
    for row in table:
        assert 0.0 <= row["best_distance"] <= row["same_position_distance"] + 1e-12 <= 1.0 + 1e-12
        assert all(0.0 <= d <= 1.0 for d in row["distances"].values())
    assert png.stat().st_size > 1000
    assert "compiled head" in format_table(table)


def test_fresh_model_is_seeded():
    program = rasp.load(HIST)
    model = compiler.compile(program, "ab", 4)
    a, b = fresh_model(model, 3), fresh_model(model, 3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_numerical_output_trains_with_mse():
    program = rasp.parse('frac = numerical(aggregate(select(tokens, tokens, True), indicator(tokens == "a")));')
    result = train_on_program(program, "ab", 4, steps=10, init="compiled")
    assert result.compiled.spec.output_kind == "numerical"
    assert result.accuracy == 1.0


def test_bad_init_is_a_user_error():
    with pytest.raises(rasp.RaspError):
        train_on_program(rasp.parse(PREV), "ab", 4, steps=1, init="pretrained")


def test_cli_writes_table_figure_and_json(tmp_path, capsys):
    from rasp_cli import main

    out = tmp_path / "out"
    code = main(
        [
            "trained-vs-compiled",
            str(HIST),
            "--vocab",
            "a b c",
            "--max-len",
            "5",
            "--steps",
            "10",
            "--init",
            "compiled",
            "--compare-inputs",
            "10",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "compiled head" in printed and "TV best" in printed and "exact match" in printed
    assert (out / "attention.png").stat().st_size > 1000
    data = json.loads((out / "result.json").read_text())
    assert data["accuracy"] == 1.0 and data["init"] == "compiled"
    assert len(data["attention"]) == 1 and data["attention"][0]["best_distance"] < 0.05
    assert (out / "trained.safetensors").exists()
    assert main(["trained-vs-compiled", str(HIST), "--vocab", "a b", "--init", "bogus", "--out", str(out)]) == 1
