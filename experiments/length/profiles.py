"""Experiment profiles: how long to train, on what lengths, with which models.

`quick` fits this project's 2-core CPU machine: the whole suite with APE and NoPE, one seed, in well under
an hour. `paper` is the published protocol of Huang et al. (2025) (docs/experiments.md), for a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Architecture:
    layers: int
    heads: int
    width: int
    lr: float
    mlp_ratio: int = 4  # MLP hidden width = mlp_ratio × width

    @property
    def name(self) -> str:
        return f"L{self.layers}H{self.heads}W{self.width}lr{self.lr:g}"


BIGGEST_SWEPT = Architecture(4, 4, 256, 1e-3)  # the largest model of the authors' sweep (the "big" one is not swept)


@dataclass(frozen=True)
class Shrink:
    """How a CPU profile shrinks the authors' regime: lengths and budget, nothing else."""

    train_max: int = 16  # the longest training input after scaling (the scale factor is at least this / theirs)
    min_bin_width: int = 8  # ... and at least this / their narrowest test bin, so no test bin gets too narrow to sample
    max_steps: int = 3000  # fresh-example training (the algorithmic tasks): at most this many steps
    max_layers: int = BIGGEST_SWEPT.layers
    max_width: int = BIGGEST_SWEPT.width
    max_heads: int = BIGGEST_SWEPT.heads
    examples_per_bin: int = 500
    max_training_set: int = 2000  # a formal language's fixed training set, at most (its epochs stay the authors')

    def scale(self, train: tuple[int, int], bins: list[tuple[int, int]]) -> float:
        narrowest = min(high - low + 1 for low, high in bins[1:]) if len(bins) > 1 else train[1]
        return min(1.0, max(self.train_max / train[1], self.min_bin_width / narrowest))


@dataclass(frozen=True)
class Profile:
    name: str
    train_lengths: tuple[int, int]  # input lengths seen in training (inclusive)
    test_bins: tuple[tuple[int, int], ...]  # input-length bins for testing; the first is in-distribution
    architecture: Architecture  # the one used unless --sweep
    sweep: tuple[
        Architecture, ...
    ]  # --sweep tries these smallest first, keeping the first to reach 100% in-distribution
    steps: int
    min_steps: int = 0  # no early stop before this many steps of a schedule (quick: = steps, the whole schedule)
    converged_at: float = 1.0  # held-out in-distribution exact match that counts as "reached 100%"
    stop_at: float = 1.0  # held-out exact match that stops training early (the protocol: 100%)
    extensions: int = 0  # more schedules for a run that ends one below converged_at but at or above extend_from
    extend_from: float = 1.0
    extension_rate: float = 1.0  # an extension's peak learning rate, as a fraction of the first schedule's
    give_up_below: float = 0.0  # a run whose held-out exact match is still below this after this fraction
    give_up_after: float = 1.0  # of its first schedule stops there (it would end without an outcome anyway)
    batch_size: int = 64
    eval_examples: int = 2000  # per bin
    eval_every: int = 250
    weight_decay: float = 0.01
    reg_coefficient: float = 1e-4  # the APE position regularizer (pe = "reg")
    vocabulary_limit: int | None = None  # number tasks (sort, copy_unique, count) use this many of their 150 numbers
    task_lengths: bool = False  # formal languages on the lengths the paper's code gave each (see for_task)
    per_run: str | None = None  # "authors": every (task, encoding) takes its values from the authors' regime
    shrink: Shrink | None = None  # with per_run: the CPU shrink of lengths and budget (length/authors_profile.py)
    schedule: str = "linear"  # the learning rate over a schedule: "linear" to 0, or "constant"
    warmup_steps: int = 0  # linear warm-up from 0 before the schedule (the authors' big model: 3,000)
    training_set: int | None = None  # a fixed training set of this many examples (None: fresh examples every step)
    hint_pool: int | None = None  # Zhou's hinted tasks: hints drawn from this many (programs.zhou.with_hint_pool)
    steps_override: int | None = None  # --steps / --full-schedule on a per-run profile, applied to each resolved run
    full_schedule: bool = False
    examples_override: int | None = None  # a protocol's examples per bin, applied to each resolved run
    # APE training places each sequence at a random offset in the position table, so every row up to the longest test
    # sequence is trained (docs/experiments.md); False trains every sequence from position 0, as tests read it
    position_offsets: bool = True

    def with_(self, **changes) -> Profile:
        return replace(self, **changes)

    @property
    def max_input_length(self) -> int:
        return max(high for _, high in self.test_bins)

    def budget(self, steps: int | None, full_schedule: bool = False) -> Profile:
        """Another step budget; a profile that trains its whole schedule (quick) keeps doing so, and `full_schedule`
        turns the early stop off (stopping at the first 100% reading can end training before the length-independent
        solution has settled: docs/experiments.md). A shorter budget keeps at least four evaluations."""
        steps = self.steps if steps is None else steps
        whole = full_schedule or self.min_steps >= self.steps
        min_steps = steps if whole else min(self.min_steps, steps)
        return replace(self, steps=steps, min_steps=min_steps, eval_every=min(self.eval_every, max(1, steps // 4)))

    def for_task(self, task: str) -> Profile:
        """The profile a task runs under. With `task_lengths`, a formal language gets the training range and bins
        the authors' code gave it (rasp.analysis.tasks.PAPER_LENGTHS: (abab)* trains on 4-500 and is tested up to
        700, D-4 on 2-100 up to 300); 0-50 / 101-150 are the algorithmic tasks' lengths."""
        if not self.task_lengths:
            return self
        from .predictions import paper_lengths

        lengths = paper_lengths(task)
        # {a,b}*d{b,c}* and {0,1,2}*02*: the authors' longer bins start at 2, so a third of the last one is
        # training-length data and would flatter the outcome; those keep the profile's own (disjoint) bins
        if lengths is None or any(low <= lengths.train[1] for low, _ in lengths.bins):
            return self
        return replace(self, train_lengths=lengths.train, test_bins=(lengths.train, *lengths.bins))


QUICK = Profile(
    name="quick",
    train_lengths=(1, 16),
    test_bins=((1, 16), (17, 32), (33, 48)),
    architecture=Architecture(2, 2, 64, 1e-3, mlp_ratio=2),
    sweep=(Architecture(1, 2, 64, 1e-3, 2), Architecture(2, 2, 64, 1e-3, 2), Architecture(2, 4, 64, 1e-3, 4)),
    # The whole linear schedule, no early stop: stopping at the first 100% reading (learning rate still high) leaves
    # models that fit lengths 1-16 without the length-independent solution (dyck_4 NoPE, 33-48: 29% after an early
    # stop at 3,000 of 4,000 steps, 78.5% after the full 3,500; docs/experiments.md).
    steps=3500,
    min_steps=3500,
    # A run that ends its schedule at 75-99% gets up to two more, from a quarter of the peak rate: most rows the
    # first schedule leaves short of 99% then converge (one extension: tomita_5 NoPE 85.9% -> 99.2%, copy_repeat NoPE
    # 86.3% -> 99.6%, aa_star NoPE 85.9% -> 100%; restarting at the full rate wrecked aa_star and tomita_6 NoPE:
    # 85.9% -> 0%, 91.4% -> 0%). A run still below 5% halfway through gives up (addition_hints_reversed: 1%, 380 s
    # per run).
    extensions=2,
    extend_from=0.75,
    extension_rate=0.25,
    give_up_below=0.05,
    give_up_after=0.5,
    eval_examples=200,
    eval_every=250,
    converged_at=0.99,  # a CPU budget: seeds at >= 99% in-distribution count as converged
    vocabulary_limit=64,  # sort / copy_unique / count over 64 numbers (distinct tokens up to length 48)
)

# Huang et al. (2025): lengths 0-50 for training, bins 0-50 / 51-100 / 101-150 (the algorithmic tasks; each formal
# language has its own, see Profile.for_task), up to 30k steps, and the sweep layers {1,2,4} x heads {1,2,4} x
# width {16,64,256} x lr {1e-3,1e-4}, smallest first.
PAPER = Profile(
    name="paper",
    train_lengths=(0, 50),
    test_bins=((0, 50), (51, 100), (101, 150)),
    architecture=Architecture(2, 4, 256, 1e-4),
    sweep=tuple(
        Architecture(layers, heads, width, lr)
        for layers in (1, 2, 4)
        for heads in (1, 2, 4)
        for width in (16, 64, 256)
        for lr in (1e-3, 1e-4)
        if width % heads == 0
    ),
    steps=30_000,
    eval_examples=2000,
    eval_every=500,
    task_lengths=True,
)


def _authors_profiles() -> tuple[Profile, Profile]:
    """`authors`: each task and encoding as the authors' code trains it (GPU scale). `quick-authors`: the same, shrunk
    in lengths and budget only (experiments/length/authors_profile.py) for 2 CPU cores. The placeholders below are replaced
    per run by `resolve.for_run`."""
    base = PAPER.with_(name="authors", per_run="authors", task_lengths=False)
    return base, base.with_(name="quick-authors", shrink=Shrink())


AUTHORS, QUICK_AUTHORS = _authors_profiles()

# Zhou et al. (2023): each task's lengths in experiments/length/zhou_profile.py; the model and budget here. The paper's
# training settings were not recovered (docs/zhou_tasks.md): `zhou` is a proposal at GPU scale; `zhou-quick` keeps
# the quick model and budget (count: 8,000 steps) and judges on L+1..L+10 as the paper does.
ZHOU = PAPER.with_(
    name="zhou", per_run="zhou", task_lengths=False, architecture=Architecture(6, 8, 512, 1e-4), sweep=(),
    steps=20_000, min_steps=20_000, warmup_steps=1000,
)  # fmt: skip
ZHOU_QUICK = QUICK.with_(name="zhou-quick", per_run="zhou", steps=4000, min_steps=4000, eval_examples=500)
# zhou-quick v2 and v3: the same, four times the steps (its tasks and their lengths: zhou_profile.py) and one
# extension, not two (one extension of a 16,000-step schedule already doubles a run)
ZHOU_QUICK_LONG = ZHOU_QUICK.with_(name="zhou-quick-long", steps=16_000, min_steps=16_000, extensions=1)
# zhou-quick v6: the same budget; its tasks' models are one layer deeper than zhou-quick's (zhou_profile.py)
ZHOU_QUICK_LONG_DEEP = ZHOU_QUICK_LONG.with_(name="zhou-quick-long-deep")
# zhou-quick v7 and v8: the same budget, the copy tasks at the zhou profile's lengths (zhou_profile.py)
ZHOU_QUICK_COPY40 = ZHOU_QUICK_LONG.with_(name="zhou-quick-copy40")
ZHOU_QUICK_COPY40_DEEP = ZHOU_QUICK_LONG.with_(name="zhou-quick-copy40-deep")
# zhou-quick v9: v7's, with APE trained from position 0 (no random offsets): the control v7's copy_repeat result needs
ZHOU_QUICK_COPY40_NO_OFFSETS = ZHOU_QUICK_COPY40.with_(name="zhou-quick-copy40-no-offsets", position_offsets=False)
# zhou-quick v10: zhou-quick (v1) with APE trained from position 0: whether v9's finding reaches mode and sort
ZHOU_QUICK_NO_OFFSETS = ZHOU_QUICK.with_(name="zhou-quick-no-offsets", position_offsets=False)
PROFILES = {
    p.name: p
    for p in (
        *(QUICK, PAPER, AUTHORS, QUICK_AUTHORS, ZHOU, ZHOU_QUICK, ZHOU_QUICK_LONG, ZHOU_QUICK_LONG_DEEP),
        *(ZHOU_QUICK_COPY40, ZHOU_QUICK_COPY40_DEEP, ZHOU_QUICK_COPY40_NO_OFFSETS, ZHOU_QUICK_NO_OFFSETS),
    )
}
