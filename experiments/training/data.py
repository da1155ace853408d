"""Examples → padded tensors, with the random position offsets of the protocol.

Position ids in training get a random offset per sequence so that every row of the position table up to
the longest test position is trained (docs/experiments.md); at test time the offset is 0.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from programs.task import PAD, Example, Task

IGNORE = -100  # target id where there is no loss


@dataclass
class Batch:
    ids: torch.Tensor  # B × T token ids
    targets: torch.Tensor  # B × T target ids, IGNORE where there is none
    positions: torch.Tensor  # B × T position ids
    lengths: torch.Tensor | None = None  # B: each sequence's real tokens (the rest of its row is padding)

    def to(self, device: str | torch.device) -> Batch:
        lengths = None if self.lengths is None else self.lengths.to(device)
        return Batch(self.ids.to(device), self.targets.to(device), self.positions.to(device), lengths)


class Vocabulary:
    def __init__(self, tokens: list[str]):
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.index[t] for t in tokens]


def max_sequence_length(task: Task, max_input_length: int, rng: random.Random | None = None) -> int:
    """The longest example a task produces for inputs up to `max_input_length` (probed by sampling)."""
    if task.family == "formal":
        return max_input_length + 1  # <bos> and the string, whatever the generator
    rng = rng or random.Random(0)
    longest = 0
    for length in range(max(task.min_length, max_input_length - 3), max_input_length + 1):
        for _ in range(4):
            example = task.example(rng, length)
            if example is not None:
                longest = max(longest, len(example.tokens))
    return longest


def collate(
    examples: list[Example], vocab: Vocabulary, rng: random.Random | None = None, max_positions: int | None = None
) -> Batch:
    """Pad to the longest example; with `rng`, shift each sequence's positions by a random offset."""
    width = max(len(e.tokens) for e in examples)
    pad = vocab.index[PAD]
    ids, targets, offsets = [], [], []
    for example in examples:
        n = len(example.tokens)
        ids.append(vocab.encode(example.tokens) + [pad] * (width - n))
        targets.append([IGNORE if t is None else vocab.index[t] for t in example.targets] + [IGNORE] * (width - n))
        offset = 0
        if rng is not None and max_positions is not None and max_positions > n:
            offset = rng.randint(0, max_positions - n)
        offsets.append(offset)
    positions = torch.arange(width) + torch.tensor(offsets).unsqueeze(1)
    if max_positions is not None:
        positions.clamp_(max=max_positions - 1)  # padding past the table's end (never scored)
    lengths = torch.tensor([len(e.tokens) for e in examples])
    return Batch(torch.tensor(ids), torch.tensor(targets), positions, lengths)
