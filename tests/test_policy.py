"""experiments/length/policy.py: every training decision of a run, on its own (no model, no data)."""

import pytest

from experiments.length.policy import TrainingPolicy
from experiments.length.profiles import PROFILES


def _policy(**changes) -> TrainingPolicy:
    return TrainingPolicy.of(PROFILES["quick"].with_(steps=100, eval_every=25, **changes))


def test_the_rate_decays_linearly_and_an_extension_restarts_it_from_a_lower_peak():
    policy = _policy(extension_rate=0.25)
    assert [policy.rate(s) for s in (0, 50, 99)] == pytest.approx([1.0, 0.5, 0.01])
    assert [policy.rate(s) for s in (100, 150)] == [0.25, 0.125]  # schedule 2: step % steps from 0 again


def test_warm_up_only_in_the_first_schedule_and_a_constant_curve():
    policy = _policy(warmup_steps=4, schedule="constant", extension_rate=0.5)
    assert [policy.rate(s) for s in (0, 1, 3, 50)] == [0.25, 0.5, 1.0, 1.0]
    assert policy.rate(100) == 0.5


def test_early_stop_waits_for_min_steps_of_the_current_schedule():
    policy = _policy(min_steps=50, stop_at=1.0)
    assert not policy.stops_early(25, 100, 1.0)
    assert policy.stops_early(50, 100, 1.0)
    assert not policy.stops_early(125, 200, 1.0) and policy.stops_early(150, 200, 1.0)  # counted from schedule 2
    assert not policy.stops_early(50, 100, 0.99)


def test_a_run_that_learned_nothing_gives_up_in_its_first_schedule_only():
    policy = _policy(give_up_below=0.05, give_up_after=0.5, stop_at=1.0, min_steps=100)
    assert not policy.stops_early(25, 100, 0.0) and policy.stops_early(50, 100, 0.0)
    assert not policy.stops_early(150, 200, 0.0)


def test_an_extension_goes_to_runs_that_came_close_and_only_so_many_times():
    policy = _policy(extensions=1, extend_from=0.75, converged_at=0.99)
    assert policy.extends(100, 0.8) and not policy.extends(100, 0.5) and not policy.extends(100, 0.995)
    assert not policy.extends(200, 0.8)  # the one extension is spent
    assert not policy.extends(100, None)


def test_a_resumed_run_finishes_the_schedule_it_was_in():
    policy = _policy()
    assert [policy.limit_after(s) for s in (0, 1, 100, 101, 250)] == [100, 100, 100, 200, 300]
    assert policy.evaluates_at(25, 100) and policy.evaluates_at(90, 90) and not policy.evaluates_at(30, 100)
