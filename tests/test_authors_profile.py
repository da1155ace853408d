"""The authors' regime as profiles, and the CPU shrink that changes lengths and budget only."""

import pytest

pytest.importorskip("torch")

from experiments.length.authors_profile import Shrink  # noqa: E402
from experiments.length.profiles import AUTHORS, QUICK_AUTHORS  # noqa: E402
from experiments.length.resolve import for_run  # noqa: E402
from programs.regime import load_regime  # noqa: E402
from rasp.errors import RaspInputError  # noqa: E402


def test_an_algorithmic_run_takes_the_architecture_the_authors_sweep_chose_for_its_encoding():
    entry = load_regime().entry("majority", "nope")
    profile = for_run(AUTHORS, "majority", "nope")
    arch = profile.architecture
    assert (arch.layers, arch.heads, arch.width, arch.lr) == tuple(
        entry[k].value for k in ("layers", "heads", "width", "learning_rate")
    )
    assert for_run(AUTHORS, "majority", "ape").architecture != arch  # each encoding its own choice
    assert profile.train_lengths == (0, 50) and profile.test_bins[-1] == (101, 150)
    assert profile.steps == entry["max_steps"].value and profile.stop_at == 1.0 and profile.schedule == "linear"


def test_a_formal_language_trains_on_a_fixed_set_for_its_epochs_at_a_constant_rate():
    profile = for_run(AUTHORS, "tomita_3", "ape")
    assert profile.training_set == 10_000 and profile.schedule == "constant"
    assert profile.steps == 100 * 625  # 100 epochs of 10,000 strings in batches of 16
    assert profile.architecture.lr == 1e-5 and profile.weight_decay == 0.1


def test_the_shrink_keeps_the_extrapolation_ratio_and_changes_nothing_but_lengths_and_budget():
    for task, pe in [("sort", "ape"), ("parity", "nope"), ("dyck_4", "ape"), ("abab_star", "nope"), ("aa_star", "ape")]:
        full, quick = for_run(AUTHORS, task, pe), for_run(QUICK_AUTHORS, task, pe)
        ratio = lambda p: p.test_bins[-1][1] / p.train_lengths[1]  # noqa: E731
        assert ratio(quick) == pytest.approx(ratio(full), rel=0.1), task
        assert quick.steps <= full.steps and quick.eval_examples == Shrink().examples_per_bin
        assert quick.architecture.lr == full.architecture.lr and quick.schedule == full.schedule
        assert quick.weight_decay == full.weight_decay and quick.batch_size == full.batch_size
        widths = [high - low + 1 for low, high in quick.test_bins[1:]]
        assert min(widths) >= Shrink().min_bin_width - 1, task
    big = for_run(QUICK_AUTHORS, "addition", "ape").architecture  # the authors' 12-layer model, capped by budget
    assert (big.layers, big.width) == (4, 256)


def test_zhou_tasks_are_not_in_the_authors_regime():
    with pytest.raises(RaspInputError, match="Zhou"):
        for_run(AUTHORS, "count", "ape")


def test_a_fixed_training_set_is_gone_through_in_epochs_at_a_constant_rate_after_warm_up():
    from experiments.length.profiles import QUICK, Architecture
    from experiments.length.train import Run, RunSpec

    profile = QUICK.with_(
        train_lengths=(1, 6), test_bins=((1, 6), (7, 12)), architecture=Architecture(1, 1, 16, 1e-3), steps=8,
        min_steps=8, batch_size=4, eval_every=4, eval_examples=8, extensions=0, give_up_below=0.0,
        training_set=8, schedule="constant", warmup_steps=4,
    )  # fmt: skip
    run = Run(RunSpec("tomita_2", "ape", 0, profile, profile.architecture))
    assert len(run.fixed.train) == 8
    assert [run.policy.rate(s) for s in (0, 1, 3, 4, 7)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    run.begin_training()
    seen = [tuple(e.tokens) for _ in range(2) for e in run._epochs.next()]
    assert sorted(seen) == sorted(tuple(e.tokens) for e in run.fixed.train)  # one epoch: every example once
    record = run.execute()
    assert record["steps"] == 8 and len(record["bins"]) == 2
