"""What every task is made of: its examples' frame and special tokens, the `Example` and the `Task` (a generator
of examples of a given length, with its vocabulary). The suite itself is programs/tasks.py."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rasp.errors import RaspInputError

from .algorithmic import NUMBERS

BOS, SEP, EOS, PAD = "<bos>", "<sep>", "<eos>", "<pad>"
SPECIALS = (PAD, BOS, SEP, EOS)
PROGRAMS_DIR = Path(__file__).parent
DATA_KINDS = ("authors", "uniform")  # the first is the default

Pair = tuple[list[str], list[str]]  # (input, answer) or (string, labels)


@dataclass(frozen=True)
class Example:
    tokens: list[str]
    targets: list[str | None]
    length: int | None = None  # the task's own length where it is not the symbol count (Task.separator_counts)

    @property
    def input_length(self) -> int:
        if self.length is not None:
            return self.length
        return self.tokens.index(SEP) - 1 if SEP in self.tokens else len(self.tokens) - 1


@dataclass(frozen=True)
class Task:
    id: str
    family: str  # "algorithmic", "formal", or "rasp_l" (Zhou et al.'s next-token tasks)
    description: str
    symbols: tuple[str, ...]  # what inputs are made of
    answers: tuple[str, ...]  # what answers (or labels) are made of
    make: Callable[..., Pair | None] = field(repr=False)  # make(rng, length, **options)
    min_length: int = 0
    options: dict = field(default_factory=dict, compare=False)  # e.g. {"numbers": ...} for the number tasks
    data: str = DATA_KINDS[0]  # which generator: "authors" or "uniform"
    # how `sample` draws a length in [low, high]: None is uniformly; the authors' BMI rounds to a multiple of 3
    draw_length: Callable[[random.Random, int, int], int] | None = field(default=None, repr=False, compare=False)
    separator_counts: bool = False  # the length counts the <sep> (the authors' addition counts its '=')
    # how `sample` draws from a whole window [low, high] where the generator depends on it (the authors' formal
    # languages aim at the window's top end): one draw, or None when the generator drops it (then drawn again)
    sample_window: Callable[[random.Random, int, int], Pair | None] | None = field(
        default=None, repr=False, compare=False
    )

    def with_vocabulary_limit(self, size: int | None) -> Task:
        """The task over its first `size` number tokens (tasks over the 150 numbers only; others unchanged).

        The quick profile uses this: 64 numbers still allow distinct tokens at its longest test length (60)
        and are learned in far fewer steps than 150.
        """
        if size is None or self.symbols != NUMBERS:
            return self
        numbers = NUMBERS[:size]
        return replace(self, symbols=numbers, answers=numbers, options={**self.options, "numbers": numbers})

    @property
    def program_path(self) -> Path | None:
        path = PROGRAMS_DIR / f"{self.id}.rasp"
        return path if path.exists() else None

    @property
    def vocabulary(self) -> list[str]:
        return list(SPECIALS) + sorted(set(self.symbols) | set(self.answers), key=_natural)

    def example(self, rng: random.Random, length: int) -> Example | None:
        """An example of exactly `length` (input symbols, and the <sep> where it counts), or None if none exists."""
        pair = self.make(rng, length, **self.options)
        if pair is None:
            return None
        inputs, answer = pair
        if self.family == "formal":
            return Example([BOS, *inputs], list(answer))
        tokens = [BOS, *inputs, SEP, *answer, EOS]
        start = len(inputs) + 1  # the <sep> position predicts the first answer token
        targets = [None] * start + tokens[start + 1 :] + [None]
        return Example(tokens, targets, len(inputs) + 1 if self.separator_counts else None)

    def sample(self, rng: random.Random, low: int, high: int, tries: int = 100) -> Example:
        """An example with length in [low, high], drawn uniformly or by `draw_length` (lengths with no example are
        redrawn)."""
        low = max(low, self.min_length)
        if self.sample_window is not None:
            # A window draw is cheap and often dropped (outside it, not in the language): abcde_star keeps 0.9% of
            # its draws in [25, 32], where 1,000 tries failed once in ~7,000 calls (huang-quick v1, seed 0). More
            # tries change nothing else: the kept draw is the first that passes, whatever the cap.
            for _ in range(tries * 1000):
                pair = self.sample_window(rng, low, high)
                if pair is not None:
                    return Example([BOS, *pair[0]], list(pair[1]))
        else:
            draw = self.draw_length or (lambda rng, low, high: rng.randint(low, high))
            for _ in range(tries):
                example = self.example(rng, draw(rng, low, high))
                if example is not None:
                    return example
        raise RaspInputError(f"task {self.id}: no example with input length in [{low}, {high}]")


def _natural(token: str):
    """Numbers in numeric order, then the rest; the token itself breaks ties ("1" and "01"), so the order (and
    every token id) is the same in every process, whatever the set's iteration order."""
    return (0, int(token), token) if token.isdigit() else (1, 0, token)


# ---- algorithmic tasks (Huang et al. 2025): samplers in programs.algorithmic ---------------------------

# ---- formal languages ----------------------------------------------------------------------------
