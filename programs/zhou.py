"""Zhou et al. (2023)'s task suite, "What Algorithms can Transformers Learn? A Study in Length Generalization"
(arXiv:2310.16028), in the paper's formats, for the RASP-Generalization Conjecture.

Every task uses the suite's frame, `<bos> input <sep> answer <eos>` (loss on the answer, `Task.example`); a
task's program (`programs/<id>.rasp`, for the tasks the paper marks ✓) reads the sequence so far and gives the
next token at every position from `<sep>` on, as the conjecture's causal next-token program does. Formats,
the paper's verdicts and lengths, and where each detail comes from: docs/zhou_tasks.md.

Ids: the tasks that Huang et al.'s suite (`programs.tasks.TASKS`) also has under the same name get the prefix
`zhou_` here (copy, sort, plain addition, plain parity): their programs read this frame with a RASP-L claim, and
their vocabularies or answers differ from Huang et al.'s. count, mode, addition_hints, addition_hints_reversed
and parity_scratchpad are Zhou et al.'s alone and keep their names (their old formats in TASKS are superseded).

Index hints (Zhou et al. Section 5; apple/ml-np-rasp examples/test_add.py, `format_prompt`): one distinct token
per digit place, the same token for the same place in both operands. Here they are a window of consecutive
tokens drawn at a random offset from a pool longer than any test length (`hints`, a task option), so every hint
token, and every pair of neighbours, is seen in training; the pool's order says nothing about significance.
"""

from __future__ import annotations

import random
from dataclasses import replace

from .algorithmic import NUMBERS
from .task import Pair, Task

DIGITS = tuple("0123456789")
BITS = ("0", "1")
MODE_LETTERS = tuple("abcdefgh")
REPEAT_LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")
HINT_POOL = tuple(f"h{i}" for i in range(100))  # operands of up to 99 digits (+1 place for the carry)

# The paper's verdict per task (Figure 1a): True = a short RASP-L program exists and the task length-generalizes.
PAPER_RASP_L: dict[str, bool] = {
    "count": True,
    "mode": True,
    "mode_poor": False,
    "zhou_copy_unique": True,
    "zhou_copy_repeat": False,
    "zhou_sort": True,
    "zhou_addition": False,
    "addition_hints": True,
    "addition_hints_reversed": True,
    "zhou_parity": False,
    "parity_scratchpad": True,
}


# ---- count, mode ---------------------------------------------------------------------------------


def count(rng: random.Random, n: int, numbers: tuple[str, ...] = NUMBERS) -> Pair | None:
    """`a b` → `a a+1 ... b`, with n = b − a: the answer is what grows (Zhou et al. Section 2, Figure 1b;
    ml-np-rasp examples/count.py). Example (n = 3): `5 8` → `5 6 7 8`."""
    if not 0 <= n < len(numbers):
        return None
    start = rng.randrange(len(numbers) - n)
    return [numbers[start], numbers[start + n]], list(numbers[start : start + n + 1])


def _unique_mode(rng: random.Random, n: int, letters: tuple[str, ...]) -> tuple[list[str], dict[str, int]] | None:
    """n letters whose most frequent one is unique (ties are redrawn), with the counts in order of appearance."""
    for _ in range(100):
        tokens = [rng.choice(letters) for _ in range(n)]
        counts = {t: tokens.count(t) for t in dict.fromkeys(tokens)}
        top = sorted(counts.values(), reverse=True)
        if len(top) == 1 or top[0] > top[1]:
            return tokens, counts
    return None


def mode(rng: random.Random, n: int, letters: tuple[str, ...] = MODE_LETTERS) -> Pair | None:
    """The most frequent letter (unique by construction). Example: `b a c a b a` → `a`."""
    drawn = _unique_mode(rng, n, letters) if n >= 1 else None
    if drawn is None:
        return None
    tokens, counts = drawn
    return tokens, [max(counts, key=counts.__getitem__)]


def mode_poor(rng: random.Random, n: int, letters: tuple[str, ...] = MODE_LETTERS) -> Pair | None:
    """Mode behind the poor scratchpad (the paper's ✗ control): each distinct letter in order of first appearance
    with its count, then the mode. Example: `b a c a b a` → `b 2 a 3 c 1 a`. The counts are tokens, so an answer at
    a longer length holds count tokens the training answers never did."""
    drawn = _unique_mode(rng, n, letters) if 1 <= n < len(NUMBERS) else None
    if drawn is None:
        return None
    tokens, counts = drawn
    scratchpad = [t for letter, c in counts.items() for t in (letter, NUMBERS[c])]
    return tokens, [*scratchpad, max(counts, key=counts.__getitem__)]


# ---- copy, sort ----------------------------------------------------------------------------------


def copy_unique(rng: random.Random, n: int, numbers: tuple[str, ...] = NUMBERS) -> Pair | None:
    """Distinct tokens, copied. Example: `7 3 9 1` → `7 3 9 1`."""
    if not 1 <= n <= len(numbers):
        return None
    tokens = rng.sample(numbers, n)
    return tokens, list(tokens)


def copy_repeat(rng: random.Random, n: int, letters: tuple[str, ...] = REPEAT_LETTERS) -> Pair | None:
    """Tokens drawn with replacement from 26 letters, at least one repeated (redrawn otherwise), copied: an
    induction head alone cannot tell which occurrence it is at. Example: `q b q x` → `q b q x`."""
    if n < 2:
        return None
    for _ in range(1000):
        tokens = [rng.choice(letters) for _ in range(n)]
        if len(set(tokens)) < n:
            return tokens, list(tokens)
    return None


def sort(rng: random.Random, n: int, numbers: tuple[str, ...] = NUMBERS) -> Pair | None:
    """Distinct numbers, sorted ascending. Example: `31 4 15 9` → `4 9 15 31`."""
    drawn = copy_unique(rng, n, numbers)
    return None if drawn is None else (drawn[0], sorted(drawn[0], key=int))


# ---- addition ------------------------------------------------------------------------------------


def _operands(rng: random.Random, n: int) -> tuple[list[str], list[str], list[str]]:
    """Two n-digit operands (digits uniform, leading zeros allowed) and their sum, each most significant first
    and padded by one leading 0 to n + 1 places, room for the carry (ml-np-rasp test_add.py, `get_pad_len`)."""
    a = "".join(rng.choice(DIGITS) for _ in range(n))
    b = "".join(rng.choice(DIGITS) for _ in range(n))
    total = str(int(a) + int(b)).zfill(n + 1)
    return ["0", *a], ["0", *b], list(total)


def addition(rng: random.Random, n: int) -> Pair | None:
    """Plain decimal addition, no hints: `0 a1..an + 0 b1..bn` → the n + 1 sum digits, most significant first.
    Example (n = 3): `0 1 3 5 + 0 9 2 7` → `1 0 6 2`."""
    if n < 1:
        return None
    a, b, total = _operands(rng, n)
    return [*a, "+", *b], total


def _hinted(hints: list[str], digits: list[str]) -> list[str]:
    return [t for hint, digit in zip(hints, digits) for t in (hint, digit)]


def _window(rng: random.Random, pool: tuple[str, ...], size: int) -> list[str] | None:
    if size > len(pool):
        return None
    start = rng.randrange(len(pool) - size + 1)
    return list(pool[start : start + size])


def addition_hints(
    rng: random.Random, n: int, hints: tuple[str, ...] = HINT_POOL, reverse: bool = False
) -> Pair | None:
    """Addition with index hints: each operand's n + 1 places (padded, most significant first) preceded by their
    hints; the answer is the hinted sum, most significant first (or least significant first with `reverse`).
    Example (n = 2, window h4 h5 h6): `h4 0 h5 3 h6 5 + h4 0 h5 8 h6 7` → `h4 1 h5 2 h6 2`."""
    window = _window(rng, hints, n + 1) if n >= 1 else None
    if window is None:
        return None
    a, b, total = _operands(rng, n)
    answer = list(zip(window, total))
    if reverse:
        answer.reverse()
    return [*_hinted(window, a), "+", *_hinted(window, b)], [t for pair in answer for t in pair]


def addition_hints_reversed(rng: random.Random, n: int, hints: tuple[str, ...] = HINT_POOL) -> Pair | None:
    """As addition_hints, only the answer reversed (least significant place first, each with its hint).
    Example (n = 2, window h4 h5 h6): `h4 0 h5 3 h6 5 + h4 0 h5 8 h6 7` → `h6 2 h5 2 h4 1`."""
    return addition_hints(rng, n, hints, reverse=True)


# ---- parity --------------------------------------------------------------------------------------


def parity(rng: random.Random, n: int) -> Pair | None:
    """Plain parity: bits → 1 if the number of 1s is odd, else 0. Example: `1 0 1 1` → `1`."""
    if n < 1:
        return None
    bits = [rng.choice(BITS) for _ in range(n)]
    return bits, [str(bits.count("1") % 2)]


def parity_scratchpad(rng: random.Random, n: int, hints: tuple[str, ...] = HINT_POOL) -> Pair | None:
    """Parity with the hinted scratchpad: each bit preceded by its hint; the answer gives, hint by hint, the
    parity of the bits up to that hint (the last one is the answer), so each step is a lookup on a hint token
    and the previous step. Example (window h7 h8 h9): `h7 1 h8 0 h9 1` → `h7 1 h8 1 h9 0`."""
    window = _window(rng, hints, n) if n >= 1 else None
    if window is None:
        return None
    bits = [rng.choice(BITS) for _ in range(n)]
    running = [str(sum(map(int, bits[: k + 1])) % 2) for k in range(n)]
    return _hinted(window, bits), _hinted(window, running)


# ---- the suite -----------------------------------------------------------------------------------


def _suite() -> dict[str, Task]:
    hinted_in, hinted_out = (*HINT_POOL, *DIGITS, "+"), (*HINT_POOL, *DIGITS)
    hints = {"hints": HINT_POOL}
    rows = [
        ("count", "count from a to b (length: b - a)", NUMBERS, NUMBERS, count, 0, {}),
        ("mode", "most frequent of 8 letters (unique)", MODE_LETTERS, MODE_LETTERS, mode, 1, {}),
        (
            "mode_poor",
            "mode behind a scratchpad of per-letter counts",
            MODE_LETTERS,
            (*MODE_LETTERS, *NUMBERS[1:]),
            mode_poor,
            1,
            {},
        ),
        ("zhou_copy_unique", "copy distinct tokens (150 numbers)", NUMBERS, NUMBERS, copy_unique, 1, {}),
        ("zhou_copy_repeat", "copy 26 letters with repeats", REPEAT_LETTERS, REPEAT_LETTERS, copy_repeat, 2, {}),
        ("zhou_sort", "sort distinct tokens (150 numbers)", NUMBERS, NUMBERS, sort, 1, {}),
        ("zhou_addition", "decimal addition, padded, most significant first", (*DIGITS, "+"), DIGITS, addition, 1, {}),
        ("addition_hints", "decimal addition with index hints", hinted_in, hinted_out, addition_hints, 1, hints),
        (
            "addition_hints_reversed",
            "decimal addition with index hints, answer reversed",
            hinted_in,
            hinted_out,
            addition_hints_reversed,
            1,
            hints,
        ),
        ("zhou_parity", "parity of a bit string (answer 0/1)", BITS, BITS, parity, 1, {}),
        (
            "parity_scratchpad",
            "parity with the hinted running-parity scratchpad",
            (*HINT_POOL, *BITS),
            (*HINT_POOL, *BITS),
            parity_scratchpad,
            1,
            hints,
        ),
    ]
    return {
        task_id: Task(task_id, "rasp_l", description, symbols, answers, make, min_length, dict(options))
        for task_id, description, symbols, answers, make, min_length, options in rows
    }


ZHOU_TASKS: dict[str, Task] = _suite()


def with_hint_pool(task: Task, size: int) -> Task:
    """A hinted task over the pool's first `size` hints (the vocabulary shrinks with it): a profile's pool need
    only be longer than its longest test (addition: one more place, the carry's)."""
    if "hints" not in task.options:
        return task
    pool = HINT_POOL[:size]
    keep = [t for t in task.symbols if t not in HINT_POOL]
    answers = [t for t in task.answers if t not in HINT_POOL]
    return replace(task, symbols=(*pool, *keep), answers=(*pool, *answers), options={**task.options, "hints": pool})
