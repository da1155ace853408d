"""The packed training forward and the ensemble trainer: each member trains exactly as its separate `Run` would."""

import random

import pytest

torch = pytest.importorskip("torch")

from experiments.length.ensemble import Ensemble, _Stack  # noqa: E402
from experiments.length.profiles import QUICK, Architecture  # noqa: E402
from experiments.length.train import Run, RunSpec  # noqa: E402
from experiments.training.data import IGNORE  # noqa: E402
from experiments.training.stacked_model import member_losses, pack, stacked_parameters  # noqa: E402
from experiments.training.steps import training_step  # noqa: E402

TINY = QUICK.with_(
    train_lengths=(1, 6),
    test_bins=((1, 6), (7, 12)),
    architecture=Architecture(2, 2, 16, 1e-2),
    steps=24,
    min_steps=0,
    batch_size=8,
    eval_examples=32,
    eval_every=6,
    extensions=0,
    give_up_below=0.0,
)
MEMBERS = [("ape", 0), ("nope", 1), ("reg", 2)]  # different seeds and encodings, one shape


def specs(profile=TINY, task="binary_majority"):
    return [RunSpec(task, pe, seed, profile, profile.architecture) for pe, seed in MEMBERS]


@pytest.mark.parametrize("task", ["sort", "dyck_2"])
def test_packed_loss_equals_the_models_own_forward(task):
    """The packed forward (real tokens only, SDPA) computes what CausalTransformer.forward computes."""
    run = Run(RunSpec(task, "ape", 0, TINY, TINY.architecture))
    batch = run.batch(random.Random(1), (1, 12), 16, offsets=True)
    assert (batch.lengths < batch.ids.shape[1]).any()  # the batch has padding to skip
    logits = run.model(batch.ids, positions=batch.positions)
    expected = torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch.targets.flatten(), ignore_index=IGNORE)
    packed = member_losses(stacked_parameters(run.model), run.model.cfg, pack([batch]))[0]
    assert packed.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step")  # the stack steps, not the optimizer
def test_members_losses_and_gradients_equal_separate_runs():
    separate = [Run(spec) for spec in specs()]
    members = [Run(spec) for spec in specs()]
    for run in separate + members:
        run.begin_training()
    stack = _Stack(members)
    for _ in range(5):
        losses = stack.step([run.next_batch() for run in members])
        for run, loss in zip(members, losses):
            run.after_step(loss)
        for i, run in enumerate(separate):
            regularizer = TINY.reg_coefficient if run.spec.pe == "reg" else 0.0
            expected = training_step(run.model, run.optimizer, run.next_batch(), regularizer)
            run.after_step(expected)
            assert losses[i].item() == pytest.approx(expected.item(), rel=1e-5)
    # after five steps: the same weights, and the same gradients on one more batch
    batches = [run.next_batch() for run in separate]
    for i, (run, batch) in enumerate(zip(separate, batches)):
        stack.write_back(i)
        for name, param in run.model.named_parameters():
            diff = (param - members[i].model.get_parameter(name)).abs().max().item()
            assert diff < 1e-4, (name, diff)  # Adam normalizes updates: float noise grows a little
        run.optimizer.zero_grad()
        member_losses(stacked_parameters(run.model), run.model.cfg, pack([batch]))[0].backward()
    stacked_loss = member_losses(stack.params, stack.cfg, pack(batches), stack.use_positions).sum()
    grads = dict(zip(stack.names, torch.autograd.grad(stacked_loss, [stack.params[n] for n in stack.names])))
    for i, run in enumerate(separate):
        for name, param in run.model.named_parameters():
            assert torch.allclose(grads[name][i], param.grad, rtol=1e-3, atol=1e-5), name
    assert separate[1].model.pos_emb is None
    assert grads["pos_emb.weight"][1].abs().max() == 0  # the NoPE member's zero table gets no gradient


def test_an_ensemble_returns_what_each_separate_run_returns():
    profile = TINY.with_(steps=30, stop_at=0.9)  # members may stop early at different steps: they freeze
    separate = [Run(spec).execute() for spec in specs(profile)]
    together = Ensemble(specs(profile)).execute()
    for alone, member in zip(separate, together):
        assert alone.keys() == member.keys()
        for key in alone.keys() - {"history", "seconds"}:
            assert alone[key] == member[key], key
        assert [h["step"] for h in alone["history"]] == [h["step"] for h in member["history"]]
        assert [h["train_accuracy"] for h in alone["history"]] == [h["train_accuracy"] for h in member["history"]]
        assert [h["loss"] for h in alone["history"]] == pytest.approx([h["loss"] for h in member["history"]], rel=1e-4)


def test_members_with_their_own_learning_rates_equal_separate_runs():
    """Sweep points of one shape: each member keeps its own rate (the per-member AdamW path)."""
    rates = [Architecture(2, 2, 16, lr) for lr in (1e-2, 3e-3)]
    together = Ensemble([RunSpec("parity", "ape", 0, TINY, arch) for arch in rates]).execute()
    for arch, member in zip(rates, together):
        alone = Run(RunSpec("parity", "ape", 0, TINY, arch)).execute()
        assert alone["bins"] == member["bins"] and alone["architecture"] == member["architecture"]
        assert [h["loss"] for h in alone["history"]] == pytest.approx([h["loss"] for h in member["history"]], 1e-4)


def interrupt_at_step_12(watched: Run):
    """A progress callback that stops training when `watched` reaches step 12 (before it saves there)."""

    def progress(run, *_):
        if run is watched and run.step == 12:
            raise KeyboardInterrupt

    return progress


def test_ensemble_checkpoints_are_run_checkpoints(tmp_path):
    """An ensemble interrupted after its first evaluation resumes alone, as Runs, and ends where a Run interrupted
    at the same step does."""
    profile = TINY.with_(steps=18, eval_every=6, stop_at=2.0)  # no early stop: every run reaches step 12
    ensemble = Ensemble(specs(profile), tmp_path / "ensemble")
    for run in ensemble.runs:
        run.progress = interrupt_at_step_12(ensemble.runs[0])  # every member has saved at step 6
    with pytest.raises(KeyboardInterrupt):
        ensemble.execute()
    for spec in specs(profile):
        alone = Run(spec, tmp_path / "alone")
        alone.progress = interrupt_at_step_12(alone)
        with pytest.raises(KeyboardInterrupt):
            alone.train()
        expected = Run(spec, tmp_path / "alone").execute()
        resumed = Run(spec, tmp_path / "ensemble")
        assert resumed.resume() and resumed.step == 6
        record = resumed.execute()
        assert record["resumed"] and record["steps"] == expected["steps"] == 18
        assert record["bins"] == expected["bins"]
        assert [h["loss"] for h in record["history"]] == pytest.approx([h["loss"] for h in expected["history"]], 1e-4)
    # and a finished Run's checkpoint makes an ensemble member that only evaluates
    again = Ensemble(specs(profile), tmp_path / "ensemble").execute()
    assert all(r["resumed"] and r["steps"] == 18 for r in again)


def test_an_ensemble_refuses_runs_of_different_shapes():
    wide = Architecture(2, 2, 32, 1e-2)
    with pytest.raises(ValueError):
        Ensemble([RunSpec("parity", "ape", 0, TINY, TINY.architecture), RunSpec("parity", "ape", 0, TINY, wide)])


def test_jobs_ensembled_record_what_each_job_records(tmp_path):
    """The runner's grouped execution: a sweep round by round, each job stopping at its first converged run."""
    from experiments.length.runner import execute_job, execute_jobs_ensembled, plan

    sweep = (Architecture(1, 2, 16, 1e-3), Architecture(1, 2, 16, 1e-2))
    profile = TINY.with_(sweep=sweep, steps=12, converged_at=0.7)
    jobs = plan(["binary_majority"], ["ape", "nope"], 1, profile, sweep=True)
    together = execute_jobs_ensembled(jobs, str(tmp_path / "together"), members=4)  # CPU default: 1
    assert [job for job, _ in together] == jobs
    for job, records in together:
        alone = execute_job(job, str(tmp_path / "alone"))
        assert [(r["key"], r["converged"], r["selected"], r["job"]) for r in records] == [
            (r["key"], r["converged"], r["selected"], r["job"]) for r in alone
        ]
        assert [r["bins"] for r in records] == [r["bins"] for r in alone]
