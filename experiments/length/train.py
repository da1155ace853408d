"""Train one model on one task and measure it by length bin — one "run", the unit of an experiment.

Read top to bottom: build the data and the model, train with AdamW and a linear schedule (early stop at
100% in-distribution exact match), checkpoint as it goes (an interrupted run resumes from its checkpoint),
then evaluate every test bin.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from programs.task import Task
from programs.tasks import get_task

from ..training.data import Batch, Vocabulary, collate, max_sequence_length
from ..training.steps import exact_match, training_step
from .datasets import Epochs, FixedData, drawn, from_directory
from .policy import TrainingPolicy
from .profiles import Architecture, Profile

PE_KINDS = ("ape", "nope", "reg")  # learned absolute positions, none, APE + the position regularizer


def run_key(task: str, pe: str, seed: int, model: str, data: str) -> str:
    """The one spelling of a run's identity (checkpoint names, results.jsonl's `key` and `job`)."""
    return f"{task}/{pe}/s{seed}/{model}/{data}"


@dataclass(frozen=True)
class RunSpec:
    task: str
    pe: str
    seed: int
    profile: Profile
    architecture: Architecture
    data: str = "authors"  # which sampler makes the examples: the authors' (programs.tasks.DATA_KINDS) or uniform
    data_dir: str | None = None  # train and test on a directory in the authors' format instead (--data-dir)

    @property
    def key(self) -> str:
        return run_key(self.task, self.pe, self.seed, self.architecture.name, self.data)


def build_model(task: Task, spec: RunSpec, max_positions: int, vocab: Vocabulary):
    from compiler.model import CausalTransformer, TransformerConfig

    arch = spec.architecture
    config = TransformerConfig(
        vocab_size=len(vocab),
        max_len=max_positions - 1,
        n_layers=arch.layers,
        n_heads=arch.heads,
        d_model=arch.width,
        d_mlp=arch.mlp_ratio * arch.width,
        pos_encoding="nope" if spec.pe == "nope" else "ape",
        layer_norm=True,
    )
    return CausalTransformer(config)


class Run:
    """One training run; `execute()` returns its result record (a dict, one JSON line)."""

    def __init__(self, spec: RunSpec, checkpoint_dir: Path | None = None, device: str = "cpu", progress=None):
        self.spec = spec
        self.task = get_task(spec.task, spec.data).with_vocabulary_limit(spec.profile.vocabulary_limit)
        if spec.profile.hint_pool:
            from programs.zhou import with_hint_pool

            self.task = with_hint_pool(self.task, spec.profile.hint_pool)
        # a fixed training set (the authors' formal languages; or their files, with their test bins too)
        self.fixed: FixedData | None = None
        if spec.data_dir:
            self.fixed = from_directory(spec.data_dir, self.task)
        elif spec.profile.training_set:
            self.fixed = drawn(self.task, spec.profile.training_set, spec.profile.train_lengths, spec.seed)
        self.vocab = Vocabulary(self.task.vocabulary)
        self.device = device
        self.progress = progress
        self.checkpoint = checkpoint_dir / (spec.key.replace("/", "_") + ".pt") if checkpoint_dir else None
        profile = spec.profile
        self.policy = TrainingPolicy.of(profile)
        self.max_positions = max_sequence_length(self.task, profile.max_input_length) + 1
        torch.manual_seed(spec.seed)
        self.model = build_model(self.task, spec, self.max_positions, self.vocab).to(device)
        self.optimizer = torch.optim.AdamW(  # fused: one kernel for all parameters' updates (CPU and CUDA)
            self.model.parameters(), lr=spec.architecture.lr, weight_decay=profile.weight_decay, fused=True
        )
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self.policy.rate)
        self.step = 0
        self.step_limit = self.policy.steps
        self.history: list[dict] = []
        self.finished = False  # training is over (saved with the checkpoint, so a resumed run only evaluates)
        # seconds spent on this run before this process took it up (saved with the checkpoint, so that a run
        # resumed after an interruption reports its whole time, not only the part after the resume)
        self.seconds_before = 0.0
        self._taken_up = time.perf_counter()
        self.training = False  # inside `train` (or an ensemble's), with steps left
        self.before_eval = None  # called before each evaluation in training (see `after_step`)

    # ---- data -----------------------------------------------------------------------------------

    def batch(self, rng: random.Random, lengths: tuple[int, int], size: int, offsets: bool) -> Batch:
        examples = [self.task.sample(rng, *lengths) for _ in range(size)]
        return collate(examples, self.vocab, rng if offsets else None, self.max_positions).to(self.device)

    # ---- training -------------------------------------------------------------------------------

    def train(self) -> None:
        """Train until the policy (experiments/length/policy.py) stops it: early at `stop_at`, or at a schedule's end unless
        it grants an extension."""
        self.begin_training()
        regularizer = self.spec.profile.reg_coefficient if self.spec.pe == "reg" else 0.0
        while self.training:
            self.model.train()
            loss = training_step(self.model, self.optimizer, self.next_batch(), regularizer)
            self.after_step(loss)

    # The loop of `train` in three parts, so that an ensemble (experiments/length/ensemble.py) can drive each member's
    # data, schedule, evaluations and stopping exactly as its own run would, and do the optimizer steps itself.

    def begin_training(self) -> None:
        """Set up the data stream (resumable: seeded by the step) and the step limit; `training` says whether
        there is anything left to train."""
        profile = self.spec.profile
        self._rng = random.Random(self.spec.seed * 1_000_003 + self.step)
        # a fixed set is gone through in epochs (a resumed run starts a fresh epoch order, from the same set)
        self._epochs = Epochs(self.fixed.train, profile.batch_size, self._rng) if self.fixed else None
        self._held_out = self.batch(random.Random(self.spec.seed + 7), profile.train_lengths, 256, offsets=False)
        self._started = time.perf_counter()
        self.step_limit = self.policy.limit_after(self.step)
        self.training = True
        self._end_of_schedule()

    def next_batch(self) -> Batch:
        profile = self.spec.profile
        if self._epochs is not None:
            offsets = self._rng if self._offsets else None
            return collate(self._epochs.next(), self.vocab, offsets, self.max_positions).to(self.device)
        return self.batch(self._rng, profile.train_lengths, profile.batch_size, offsets=self._offsets)

    @property
    def _offsets(self) -> bool:
        """Whether training sequences get random position offsets: only with a position table to train."""
        return self.spec.pe != "nope" and self.spec.profile.position_offsets

    def after_step(self, loss: torch.Tensor) -> None:
        """Count an optimizer step: advance the learning rate, evaluate when due and ask the policy whether to stop
        early; at the schedule's end, extend or finish. `before_eval`, if set, runs first at every evaluation (an
        ensemble copies the member's weights into `model` there)."""
        self.schedule.step()
        self.step += 1
        if self.policy.evaluates_at(self.step, self.step_limit):
            if self.before_eval is not None:
                self.before_eval()
            accuracy = self.accuracy(self._held_out)
            self.history.append({"step": self.step, "loss": loss.item(), "train_accuracy": accuracy})
            if self.progress:
                self.progress(self, loss.item(), accuracy, time.perf_counter() - self._started)
            self.save()
            if self.policy.stops_early(self.step, self.step_limit, accuracy):
                return self._finish()
        self._end_of_schedule()

    def _end_of_schedule(self) -> None:
        while self.training and self.step >= self.step_limit:
            if self.policy.extends(self.step, self._last_accuracy()):
                self.step_limit += self.policy.steps
            else:
                self._finish()

    def _finish(self) -> None:
        self.training = False
        self.finished = True
        self.save()

    def _last_accuracy(self) -> float | None:
        return self.history[-1]["train_accuracy"] if self.history else None

    def accuracy(self, batch: Batch) -> float:
        return self._correct(batch) / batch.ids.shape[0]

    @torch.no_grad()
    def _correct(self, batch: Batch) -> int:
        """How many of the batch's examples the model gets wholly right."""
        return int(exact_match(self.model.eval()(batch.ids, positions=batch.positions), batch.targets).sum())

    # ---- evaluation -----------------------------------------------------------------------------

    def evaluate(self) -> list[dict]:
        if self.fixed is not None and self.fixed.bins:  # the data's own test bins, every example of each
            return [
                {"bin": list(lengths), "accuracy": self._examples_accuracy(examples), "examples": len(examples)}
                for lengths, examples in zip(self.fixed.bin_lengths, self.fixed.bins)
            ]
        rng, n = random.Random(10_000 + self.spec.seed), self.spec.profile.eval_examples
        return [
            {"bin": [low, high], "accuracy": self.accuracy_at(rng, (low, high), n), "examples": n}
            for low, high in self.spec.profile.test_bins
        ]

    def accuracy_at(self, rng: random.Random, lengths: tuple[int, int], examples: int) -> float:
        """Exact match on `examples` inputs with lengths in `lengths` (position offset 0)."""
        sizes = [min(256, examples - start) for start in range(0, examples, 256)]
        return sum(self._correct(self.batch(rng, lengths, size, offsets=False)) for size in sizes) / examples

    def _examples_accuracy(self, examples: list) -> float:
        correct = sum(
            self._correct(collate(examples[start : start + 256], self.vocab, None, self.max_positions).to(self.device))
            for start in range(0, len(examples), 256)
        )
        return correct / len(examples)

    # ---- checkpoints ----------------------------------------------------------------------------

    def save(self) -> None:
        if self.checkpoint is None:
            return
        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "step": self.step,
            "history": self.history,
            "finished": self.finished,
            "lengths": self._lengths(),
            "seconds": self.seconds_before + time.perf_counter() - self._taken_up,
        }
        tmp = self.checkpoint.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.checkpoint)

    def resume(self) -> bool:
        if self.checkpoint is None or not self.checkpoint.exists():
            return False
        try:
            state = torch.load(self.checkpoint, map_location=self.device, weights_only=False)
        except Exception:  # noqa: BLE001 — cut short or corrupt (torch raises several kinds): set aside, start afresh
            self.checkpoint.replace(self.checkpoint.with_suffix(".unreadable"))
            return False
        stale = state.get("lengths", self._lengths()) != self._lengths()  # trained on other input lengths
        if not stale:
            try:
                self.model.load_state_dict(state["model"])
            except RuntimeError:  # written by a different version of the task or model
                stale = True
        if stale:  # start this run afresh, keeping the old checkpoint aside
            self.checkpoint.replace(self.checkpoint.with_suffix(".stale"))
            return False
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.step, self.history = state["step"], state["history"]
        self.finished = state.get("finished", False)
        self.seconds_before = state.get("seconds", 0.0)  # checkpoints written before it was kept: 0
        self._taken_up = time.perf_counter()
        return True

    def _lengths(self) -> dict:
        profile = self.spec.profile
        return {"train": list(profile.train_lengths), "bins": [list(b) for b in profile.test_bins]}

    def execute(self) -> dict:
        started = time.perf_counter()
        resumed = self.resume()
        if not self.finished:  # an early stop interrupted before its result line was written does not train on
            self.train()
        return self.result(resumed, started)

    def result(self, resumed: bool, started: float) -> dict:
        """The run's record: its test bins evaluated now, its training as it went, and its seconds: those since
        `started` (`time.perf_counter()` when its execution began) and those of earlier executions it resumed from."""
        bins = self.evaluate()
        last = self._last_accuracy()
        return {
            "key": self.spec.key,
            "task": self.spec.task,
            "pe": self.spec.pe,
            "seed": self.spec.seed,
            "data": self.spec.data,
            "data_dir": self.spec.data_dir or "",
            "profile": self.spec.profile.name,
            "architecture": asdict(self.spec.architecture),
            "steps": self.step,
            "max_steps": self.spec.profile.steps,
            "min_steps": self.spec.profile.min_steps,  # no early stop before it (equal to max_steps: none at all)
            "train_lengths": list(self.spec.profile.train_lengths),
            "converged": self.policy.converged(last),
            "train_accuracy": math.nan if last is None else last,
            "bins": bins,
            "history": self.history,
            "resumed": resumed,
            "seconds": round(self.seconds_before + time.perf_counter() - started, 2),
            "device": self.device,
        }
