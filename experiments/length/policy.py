"""A run's training policy in one place: the learning-rate curve, when to evaluate, when to stop early, and when a
run that ends its schedule short of convergence gets another one.

The values live in the run's `Profile` (they are part of what a protocol's hash covers); `TrainingPolicy.of` reads
the ones that decide training, and `experiments.train.Run` asks it every decision instead of reading the profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from .profiles import Profile


@dataclass(frozen=True)
class TrainingPolicy:
    steps: int  # one schedule's length
    min_steps: int  # no early stop before this many steps of a schedule (= steps: no early stop at all)
    stop_at: float  # held-out exact match that stops training early
    converged_at: float  # held-out exact match that counts as converged (an extension aims at it)
    extensions: int  # at most this many more schedules ...
    extend_from: float  # ... for a run that ends a schedule at or above this accuracy but below converged_at
    extension_rate: float  # an extension's peak learning rate, as a fraction of the first schedule's
    give_up_below: float  # a run still below this accuracy after `give_up_after` of its first schedule stops
    give_up_after: float
    curve: str  # "linear" (peak → 0 over each schedule) or "constant"
    warmup_steps: int  # linear warm-up from 0 at the start of the first schedule
    eval_every: int

    @classmethod
    def of(cls, profile: Profile) -> TrainingPolicy:
        return cls(
            steps=profile.steps,
            min_steps=profile.min_steps,
            stop_at=profile.stop_at,
            converged_at=profile.converged_at,
            extensions=profile.extensions,
            extend_from=profile.extend_from,
            extension_rate=profile.extension_rate,
            give_up_below=profile.give_up_below,
            give_up_after=profile.give_up_after,
            curve=profile.schedule,
            warmup_steps=profile.warmup_steps,
            eval_every=profile.eval_every,
        )

    def rate(self, step: int) -> float:
        """The learning rate at `step` as a fraction of the peak. Schedule k (k ≥ 1 an extension) covers steps
        k·steps … (k+1)·steps − 1: `step % steps` is the position within the current schedule, so an extension
        restarts the linear decay, from `extension_rate` × the peak."""
        first = step < self.steps
        peak = 1.0 if first else self.extension_rate
        warmup = min(1.0, (step + 1) / self.warmup_steps) if self.warmup_steps and first else 1.0
        if self.curve == "constant":
            return peak * warmup
        return peak * warmup * (1 - step % self.steps / self.steps)

    def limit_after(self, step: int) -> int:
        """The step the current schedule ends at, for a run (perhaps resumed) that has made `step` steps."""
        return self.steps * max(1, -(-step // self.steps))

    def evaluates_at(self, step: int, limit: int) -> bool:
        return step % self.eval_every == 0 or step == limit

    def stops_early(self, step: int, limit: int, accuracy: float) -> bool:
        """At an evaluation: stop when held-out accuracy reached `stop_at` (after `min_steps` of this schedule), or
        when the first schedule has learned nothing by `give_up_after` of it (it would end without an outcome)."""
        into_schedule = step - (limit - self.steps)
        if accuracy >= self.stop_at and into_schedule >= self.min_steps:
            return True
        learned_nothing = accuracy < self.give_up_below and limit == self.steps
        return learned_nothing and into_schedule >= self.give_up_after * self.steps

    def extends(self, step: int, accuracy: float | None) -> bool:
        """At a schedule's end (`accuracy`: the last evaluation's): one more schedule for a run that came close."""
        if accuracy is None or step // self.steps > self.extensions:
            return False
        return self.extend_from <= accuracy < self.converged_at

    def converged(self, accuracy: float | None) -> bool:
        return accuracy is not None and accuracy >= self.converged_at
