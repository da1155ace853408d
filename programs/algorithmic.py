"""Huang et al.'s eight algorithmic tasks: two samplers for each, the authors' and the uniform one.

Every sampler is `make(rng, n) -> (input, answer)` or None where the task has no example of length n; the
example frame `<bos> input <sep> answer <eos>` is `programs.task.Task`'s.

- **The authors' samplers** (`AUTHORS`, the default data) draw what the Dataset classes of
  lacoco-lab/length_generalization `algorithmic/language_modeling_train.py` draw (re-derived from that file;
  each sampler names its class). Their frame is ours: `customTokenizer` has the same four specials (`<bos>`,
  `<sep>`, `<eos>`, `<pad>`), the loss is on the answer and `<eos>`, and the lengths are drawn uniformly from a
  range. Where they differ from the uniform samplers it matters for what is learned: the count of ones is
  uniform and ties never occur (binary majority, parity, each stream of BMI), BMI's streams have equal length,
  no task but parity has an empty input, and addition's length counts its `=` (our `<sep>`).
- **The uniform samplers** draw every symbol independently. The quick runs before the authors' data existed used
  them (docs/results/quick-earlier); they stay as a control: the same tasks under another input distribution, which
  shows how much an outcome depends on the generator rather than on the task.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

BITS = ("0", "1")
LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")
NUMBERS = tuple(str(i) for i in range(150))  # the authors' vocabulary for sort and unique copy: 0 .. 149

Pair = tuple[list[str], list[str]]
SOURCE = "lacoco-lab/length_generalization algorithmic/language_modeling_train.py"


def random_bits(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(BITS) for _ in range(n)]


def _majority_bit(bits: list[str]) -> str:
    """1 if more 1s than 0s, else 0 (a tie, which only the uniform samplers produce, answers 0)."""
    return "1" if bits.count("1") > bits.count("0") else "0"


# ---- uniform samplers (the control) ------------------------------------------------------------------


def binary_majority(rng: random.Random, n: int) -> Pair | None:
    if n == 0:
        return None
    bits = random_bits(rng, n)
    return bits, [_majority_bit(bits)]


def majority(rng: random.Random, n: int) -> Pair | None:
    """The most frequent letter; inputs whose most frequent letter is not unique are redrawn."""
    if n == 0:
        return None
    for _ in range(100):
        letters = [rng.choice(LETTERS) for _ in range(n)]
        counts = sorted(((letters.count(c), c) for c in set(letters)), reverse=True)
        if len(counts) == 1 or counts[0][0] > counts[1][0]:
            return letters, [counts[0][1]]
    return None


def binary_majority_interleave(rng: random.Random, n: int) -> Pair | None:
    """Majority bit of each of the three streams at positions i ≡ 0, 1, 2 (mod 3)."""
    if n < 3:
        return None
    bits = random_bits(rng, n)
    return bits, [_majority_bit(bits[k::3]) for k in range(3)]


def sort_unique(rng: random.Random, n: int, numbers: tuple[str, ...] = NUMBERS) -> Pair | None:
    if n > len(numbers):
        return None
    tokens = rng.sample(numbers, n)
    return tokens, sorted(tokens, key=int)


def copy_unique(rng: random.Random, n: int, numbers: tuple[str, ...] = NUMBERS) -> Pair | None:
    if n > len(numbers):
        return None
    tokens = rng.sample(numbers, n)
    return tokens, list(tokens)


def copy_repeat(rng: random.Random, n: int) -> Pair:
    tokens = [rng.choice("ab") for _ in range(n)]
    return tokens, list(tokens)


def parity(rng: random.Random, n: int) -> Pair:
    bits = random_bits(rng, n)
    return bits, ["o" if bits.count("1") % 2 else "e"]


def addition(rng: random.Random, n: int) -> Pair | None:
    """Binary a + b, most significant bit first, no leading zeros; n counts a's bits, '+', b's bits."""
    if n < 3:
        return None
    len_a = rng.randint(1, n - 2)
    len_b = n - 1 - len_a

    def number(k: int) -> int:
        return rng.randint(2 ** (k - 1), 2**k - 1) if k > 1 else rng.randint(0, 1)

    a, b = number(len_a), number(len_b)
    return [*bin(a)[2:], "+", *bin(b)[2:]], list(bin(a + b)[2:])


# ---- the authors' samplers -----------------------------------------------------------------------------


def _count_shuffled(rng: random.Random, n: int, counts: list[int], symbol: str, other: str) -> list[str]:
    """n symbols, `symbol` occurring a count drawn uniformly from `counts`, in a uniformly random order."""
    k = rng.choice(counts)
    string = [symbol] * k + [other] * (n - k)
    rng.shuffle(string)
    return string


def _tie_free_bits(rng: random.Random, n: int) -> list[str]:
    """n bits whose number of 0s is uniform over 0..n without n/2 (the authors' rejection loop, drawn directly)."""
    return _count_shuffled(rng, n, [k for k in range(n + 1) if 2 * k != n], "0", "1")


def authors_binary_majority(rng: random.Random, n: int) -> Pair | None:
    """BinaryMajorityDataset: the number of 0s uniform over 0..n, a tie excluded; answer the majority bit."""
    if n == 0:
        return None
    bits = _tie_free_bits(rng, n)
    return bits, [_majority_bit(bits)]


def authors_majority(rng: random.Random, n: int) -> Pair | None:
    """MajorityDataset: 26 letters drawn independently, redrawn while the top count is shared (as `majority`)."""
    return majority(rng, n)


def authors_binary_majority_interleave(rng: random.Random, n: int) -> Pair | None:
    """BinaryMajorityInterleaveDataset (period 3): three streams of n/3 bits each, every stream's number of 0s
    uniform and never a tie, interleaved s0 s1 s2 s0 s1 s2 ...; answer the three majority bits in stream order.
    Only multiples of 3 have examples; `interleave_length` draws the length as the authors do."""
    if n < 3 or n % 3:
        return None
    streams = [_tie_free_bits(rng, n // 3) for _ in range(3)]
    return [bit for column in zip(*streams, strict=True) for bit in column], [_majority_bit(s) for s in streams]


def interleave_length(rng: random.Random, low: int, high: int) -> int:
    """BinaryMajorityInterleaveDataset.__iter__'s length: a total uniform in [low, high], rounded to the nearest
    multiple of 3 (each stream round(total / 3) long), moved one stream step back inside [low, high] where the
    rounding left it (training on 0-50: streams of 1 to 16 bits, 3-bit totals 3 .. 48)."""
    low = max(low, 3)
    streams = round(rng.randint(low, high) / 3)
    if 3 * streams > high:
        streams -= 1
    if 3 * streams < low:
        streams += 1
    return 3 * streams


def authors_parity(rng: random.Random, n: int) -> Pair:
    """ParityDataset: the number of 1s uniform over 0..n (not binomial), shuffled; answer e (even) or o (odd).
    Length 0 is allowed (the class does not raise its minimum)."""
    bits = _count_shuffled(rng, n, list(range(n + 1)), "1", "0")
    return bits, ["o" if bits.count("1") % 2 else "e"]


def authors_addition(rng: random.Random, n: int) -> Pair | None:
    """AdditionDataset: `a + b = sum`, binary, most significant bit first, an operand of two or more bits starts
    with 1 (a one-bit operand may be 0). The authors' length n counts a, '+', b and '='; our `<sep>` stands where
    their '=' is (only the name differs), so the input is a + b (n - 1 symbols) and the task counts the separator
    (`Task.separator_counts`). a's length is uniform over 1 .. n - 3, which is `addition` on n - 1 symbols."""
    if n < 4:
        return None
    return addition(rng, n - 1)


@dataclass(frozen=True)
class Sampler:
    """One task's authors' sampler and what the Task needs to draw from it as they do."""

    make: Callable[..., Pair | None]
    source: str  # the Dataset class in SOURCE it follows
    min_length: int = 1  # the class's `range_min = max(k, range_min)`
    draw_length: Callable[[random.Random, int, int], int] | None = None  # None: uniform in [low, high]
    separator_counts: bool = False  # the length counts the separator (addition's '=')


AUTHORS: dict[str, Sampler] = {
    "binary_majority": Sampler(authors_binary_majority, "BinaryMajorityDataset"),
    "majority": Sampler(authors_majority, "MajorityDataset"),
    "binary_majority_interleave": Sampler(
        authors_binary_majority_interleave,
        "BinaryMajorityInterleaveDataset",
        min_length=3,
        draw_length=interleave_length,
    ),
    # random.sample over the 150 number tokens (distinct), as sort_unique / copy_unique; never empty
    "sort": Sampler(sort_unique, "SortDataset"),
    "copy_unique": Sampler(copy_unique, "UniqueCopyDataset"),
    # random.choices over {a, b}, as copy_repeat; never empty
    "copy_repeat": Sampler(copy_repeat, "RepeatCopyDataset"),
    "parity": Sampler(authors_parity, "ParityDataset", min_length=0),
    "addition": Sampler(authors_addition, "AdditionDataset", min_length=4, separator_counts=True),
}
