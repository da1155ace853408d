"""The authors' regime as profiles: `authors` (their values, per task and encoding) and its CPU shrink.

Huang et al.'s code trains every task its own way (programs/authors/*.json, each value with its source; the rules in
words in docs/authors_protocol.md): an algorithmic task gets the architecture their sweep chose for it and its
encoding, a linear schedule over at most 30,000 steps (60,000 with 3,000 warm-up for the "big" model), early stop at
100% in-distribution; a formal language gets a fixed training set, a number of epochs, a constant learning rate of
1e-5 and weight decay 0.1, and its own lengths and bins. `resolve(profile, task, pe)` gives the profile one run of
(task, pe) trains under.

The quick profile is derived from it by shrinking lengths and budget only (`Shrink`): every length is scaled by one
factor per task (so the extrapolation ratio and the bins' shape stay the authors'), the step budget is capped, the
evaluation interval keeps its share of the budget, models are capped at the sweep's largest, and examples per bin are
fewer. Nothing else changes: not the learning rate, not the selection or stopping rule, not the data.
"""

from __future__ import annotations

import math

from rasp.errors import RaspInputError

from .profiles import Architecture, Profile, Shrink


def resolve(profile: Profile, task: str, pe: str) -> Profile:
    """The profile a run of (task, pe) trains under, from the authors' regime (shrunk when the profile says so)."""
    from programs.tasks import get_task

    family = get_task(task).family
    if family == "algorithmic":
        resolved = _algorithmic(profile, task, pe)
    elif family == "formal":
        resolved = _formal(profile, task, pe)
    else:
        raise RaspInputError(
            f"the authors' regime covers Huang et al.'s tasks; {task} is Zhou et al.'s (it has its own profiles)"
        )
    return resolved if profile.shrink is None else _shrunk(resolved, profile.shrink)


def _algorithmic(profile: Profile, task: str, pe: str) -> Profile:
    from programs.regime import load_regime

    entry = {name: setting.value for name, setting in load_regime().entry(task, pe).items()}
    width = entry["width"]
    architecture = Architecture(
        entry["layers"], entry["heads"], width, entry["learning_rate"], mlp_ratio=max(1, entry["mlp_width"] // width)
    )
    train, bins = tuple(entry["train_lengths"]), [tuple(b) for b in entry["test_bins"]]
    return profile.with_(
        train_lengths=train,
        test_bins=tuple(bins),
        architecture=architecture,  # the one their sweep chose; a sweep of our own tries their grid (`with_their_grid`)
        sweep=(architecture,),
        steps=entry["max_steps"],
        warmup_steps=entry["warmup_steps"] or 0,
        batch_size=entry["batch_size"],
        weight_decay=entry["weight_decay"],
        eval_every=entry["eval_every"],
        eval_examples=entry["examples_per_bin"],
        converged_at=1.0,
        stop_at=1.0,
        min_steps=0,
        schedule="linear",
        training_set=None,
    )


def _formal(profile: Profile, task: str, pe: str) -> Profile:
    from programs.regime import load_formal

    regime = load_formal()
    if task not in regime:
        raise RaspInputError(f"no authors' regime for {task}")
    entry = {name: sourced.value for name, sourced in regime[task].items()}
    if pe not in entry["positional_encodings"] and pe != "reg":
        raise RaspInputError(f"the authors did not train {task} with {pe}")
    grid = entry["model"]
    # their code leaves the choice among its grid to a wandb sweep with no recorded rule: ours tries the grid smallest
    # first (the held-out selection rule), and without a sweep uses its smallest model
    sweep = tuple(
        Architecture(layers, heads, width, entry["learning_rate"])
        for layers in grid["layers"]
        for heads in grid["heads"]
        for width in grid["width"]
        if width % heads == 0
    )
    batches = math.ceil(entry["training_size"] / entry["batch_size"])
    train, bins = tuple(entry["train_lengths"]), [tuple(b) for b in entry["test_bins"]]
    return profile.with_(
        train_lengths=train,
        test_bins=tuple(bins),
        architecture=sweep[0],
        sweep=sweep,
        steps=entry["epochs"] * batches,
        warmup_steps=0,
        batch_size=entry["batch_size"],
        weight_decay=entry["weight_decay"],
        eval_every=batches,  # after every epoch, as they do
        eval_examples=entry["test_size"],
        converged_at=1.0,
        stop_at=math.inf,  # no early stop: a fixed number of epochs
        min_steps=0,
        schedule="constant",
        training_set=entry["training_size"],
    )


def _shrunk(profile: Profile, shrink: Shrink) -> Profile:
    scale = shrink.scale(profile.train_lengths, list(profile.test_bins))
    low, high = profile.train_lengths
    train = (max(round(low * scale), min(low, 1)), max(1, round(high * scale)))
    bins = [train]
    for b_low, b_high in profile.test_bins[1:]:
        # a bin that starts inside the training range (the authors' ab_d_bc, zot_02) keeps doing so
        start = math.floor(b_low * scale) if b_low <= high else max(train[1] + 1, math.ceil(b_low * scale))
        bins.append((start, max(start, math.floor(b_high * scale))))

    if profile.training_set is None:  # fresh examples every step: the budget is the step count
        steps, training_set = min(profile.steps, shrink.max_steps), None
    else:  # a fixed set gone through in epochs: the budget is the set's size, the epochs stay theirs
        training_set = min(profile.training_set, shrink.max_training_set)
        steps = max(1, round(profile.steps * training_set / profile.training_set))
    # the same share of the budget between evaluations, but at most 20 of them (the authors evaluate a formal
    # language after every epoch only to log it: nothing stops on it)
    eval_every = max(round(profile.eval_every * steps / profile.steps), steps // 20, 1)
    return profile.with_(
        train_lengths=train,
        test_bins=tuple(bins),
        architecture=_cap(profile.architecture, shrink),
        sweep=_capped(profile.sweep, shrink),
        steps=steps,
        warmup_steps=round(profile.warmup_steps * steps / profile.steps),
        eval_every=eval_every,
        eval_examples=shrink.examples_per_bin,
        training_set=training_set,
    )


def with_their_grid(profile: Profile, task: str) -> Profile:
    """A resolved algorithmic run that sweeps: the authors' grid, in their order (layers outermost, learning rate
    innermost), capped as the profile's models are."""
    from programs.regime import load_regime
    from programs.tasks import get_task

    if profile.per_run != "authors" or get_task(task).family != "algorithmic":
        return profile
    grid = load_regime().sweep.value
    sweep = tuple(
        Architecture(layers, heads, width, lr)
        for layers in grid["layers"]
        for heads in grid["heads"]
        for width in grid["width"]
        for lr in grid["learning_rate"]
        if width % heads == 0
    )
    return profile.with_(sweep=_capped(sweep, profile.shrink) if profile.shrink else sweep)


def _cap(arch: Architecture, shrink: Shrink) -> Architecture:
    """A model no larger than the shrink allows (its learning rate and MLP ratio kept)."""
    return Architecture(
        min(arch.layers, shrink.max_layers), min(arch.heads, shrink.max_heads), min(arch.width, shrink.max_width),
        arch.lr, arch.mlp_ratio,
    )  # fmt: skip


def _capped(sweep: tuple[Architecture, ...], shrink: Shrink) -> tuple[Architecture, ...]:
    return tuple(dict.fromkeys(_cap(a, shrink) for a in sweep))
