"""Fixed datasets: a training set drawn once (or read from the authors' files) and gone through in epochs.

The algorithmic tasks train on fresh examples every step; the authors train each formal language on a fixed set
for a number of epochs (programs/authors/formal.json: `training_size`, `epochs`), and ship the sets they used
(`generated_ds/<lang>/`). A `FixedData` holds such a set and, when read from files, the test bins as well; `Epochs`
hands out its batches: every example once per epoch, in a fresh order each epoch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from programs.task import Example, Task
from rasp.errors import RaspInputError


@dataclass(frozen=True)
class FixedData:
    train: list[Example]
    bins: list[list[Example]] | None = None  # test bins (bin 0 first) when they come with the data, else sampled
    source: str = "drawn"  # "drawn" or the directory it was read from

    @property
    def bin_lengths(self) -> tuple[tuple[int, int], ...]:
        """Each test bin's input lengths, as the shortest and longest of its examples."""
        if not self.bins:
            return ()
        return tuple((min(e.input_length for e in b), max(e.input_length for e in b)) for b in self.bins)

    @property
    def train_lengths(self) -> tuple[int, int]:
        lengths = [e.input_length for e in self.train]
        return (min(lengths), max(lengths))


def drawn(task: Task, size: int, lengths: tuple[int, int], seed: int) -> FixedData:
    """A training set of `size` examples drawn once from the task's sampler (duplicates kept, as the authors' training
    sets keep them), seeded apart from the run's other streams."""
    rng = random.Random(f"training-set-{task.id}-{task.data}-{seed}")
    return FixedData([task.sample(rng, *lengths) for _ in range(size)])


def from_directory(directory: str | Path, task: Task) -> FixedData:
    """The authors' files for a language (generated_ds/<lang>/ format: programs/authors_files.py)."""
    from programs.authors_files import read_authors_dir

    data = read_authors_dir(directory, task.id)
    if not data.train:
        raise RaspInputError(f"{directory}: the training set is empty")
    if not data.bins or any(not b for b in data.bins):
        raise RaspInputError(f"{directory}: every test bin needs at least one example")
    unknown = {t for e in data.train for t in e.tokens + [t for t in e.targets if t]} - set(task.vocabulary)
    if unknown:
        raise RaspInputError(f"{directory}: tokens outside {task.id}'s vocabulary: {', '.join(sorted(unknown)[:5])}")
    return FixedData(data.train, data.bins, str(directory))


class Epochs:
    """Batches from a fixed set: each example once per epoch, reshuffled every epoch (the last batch may be short)."""

    def __init__(self, examples: list[Example], batch_size: int, rng: random.Random):
        self.examples, self.batch_size, self.rng = examples, batch_size, rng
        self.order: list[int] = []

    def next(self) -> list[Example]:
        if not self.order:
            self.order = list(range(len(self.examples)))
            self.rng.shuffle(self.order)
        batch, self.order = self.order[: self.batch_size], self.order[self.batch_size :]
        return [self.examples[i] for i in batch]
