"""The 17 formal languages as Huang et al. (2025) generate and label them, re-derived (not copied) from their
code: lacoco-lab/length_generalization, formal_lang_suite/ (paths below are relative to it).

`SAMPLERS[task](rng, n)` returns (symbols, labels) for a string of exactly n symbols, drawn from the authors'
generator conditioned on that length, or None when their generator never makes one (odd lengths of (aa)*,
lengths the Dyck generator does not reach, ...). The generator for n is the one of the first of the authors'
length windows (programs/authors/formal.json: test_bins; windows continue by len_incr past the last one) that
can make n symbols, because several generators depend on their window's upper end, not only on n.

Labels are one token per position, len(labels) == n + 1, in the authors' format for that language (`LABELS`;
docs/authors_protocol.md): labels[i + 1] is their target at symbol i (their *_tgt.txt line cut into chunks of
the config's chunk_size, dataset_utils.py: tokenize_output_string); labels[0], at <bos>, is the same rule
applied to the empty prefix — a constant per language, where the authors' target at <bos> is the <bos> symbol
itself, just as constant. Their per-string renaming of chunks to letters (tokenize_output_string numbers the
chunks of each string in set order) is not reproduced: a chunk is always the same token here.

`window_sample(task, rng, low, high)` is one draw of the authors' generator for a window (None where their
generate_list would discard it), and `corpus(...)` their list of strings for a window, duplicates removed where
they remove them; the Dyck generator's adaptive ratio lives there.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from .formal_labels import (
    ab_d_bc_labels,
    abcde_labels,
    accepting,
    dyck_labels,
    live,
    membership,
    symbol_pairs,
    zot_02_labels,
)
from .languages import LANGUAGES
from .regime import load_formal

Window = tuple[int, int]
Pair = tuple[list[str], list[str]]


# ---- generators: exact length n, given the window ---------------------------------------------------


def _tomita1(rng: random.Random, n: int, window: Window) -> str | None:
    return "1" * n if n >= 1 else None


def _tomita2(rng: random.Random, n: int, window: Window) -> str | None:
    return "10" * (n // 2) if n >= 2 and n % 2 == 0 else None


def _tomita3(rng: random.Random, n: int, window: Window) -> str | None:
    """tomita_generator.py: Tomita3Language.generate_string: blocks left to right, a fair coin for the symbol,
    the size uniform in what is left — even only for 0s after an odd block of 1s — so every string is in."""
    if n < 1:
        return None
    out: list[str] = []
    last, ones = None, 0
    while len(out) < n:
        symbol, left = rng.choice("01"), n - len(out)
        if symbol == "1":
            size = rng.randint(0, left)
            ones = size if last == "0" and size else ones + size
        elif last is None or ones % 2 == 0:
            size = rng.randint(0, left)
        else:
            size = rng.choice(range(0, left + 1, 2))
        out.extend(symbol * size)
        if size:
            last = symbol
    return "".join(out)


def _tomita4(rng: random.Random, n: int, window: Window) -> str | None:
    """tomita_generator.py: Tomita4Language.generate_string: fair coin per symbol, a third 0 in a row redrawn."""
    if n < 1:
        return None
    out: list[str] = []
    while len(out) < n:
        symbol = rng.choice("01")
        if not (symbol == "0" and out[-2:] == ["0", "0"]):
            out.append(symbol)
    return "".join(out)


def _uniform_member(task: str) -> Callable[[random.Random, int, Window], str | None]:
    """Tomita 5, 6 (tomita_generator.py: TomitaLanguage.generate_string + generate_list): fair coin per symbol
    until a stop, kept if in the language — so, at a given length, uniform among the language's strings."""
    return lambda rng, n, window: LANGUAGES[task].sample(rng, n) if n >= 1 else None


@cache
def _block_weights(blocks: int, n: int, first: int, total: int) -> list[list[float]]:
    """weights[k][u]: the chance that blocks k.. bring the length from u to exactly n, when block k's size is
    uniform in first..(total - u) (and 0 once that is empty)."""
    weights = [[0.0] * (n + 1) for _ in range(blocks + 1)]
    weights[blocks][n] = 1.0
    for k in range(blocks - 1, -1, -1):
        for used in range(n + 1):
            top = total - used
            if top < first:
                weights[k][used] = weights[k + 1][used]
            else:
                sizes = range(first, min(top, n - used) + 1)
                weights[k][used] = sum(weights[k + 1][used + x] for x in sizes) / (top - first + 1)
    return weights


def _draw_blocks(rng: random.Random, weights: list[list[float]], first: int, total: int) -> list[int]:
    """Block sizes drawn from the chain that `_block_weights` describes, conditioned on their sum."""
    used, sizes = 0, []
    for k in range(len(weights) - 1):
        top = total - used
        if top < first:
            sizes.append(0)
            continue
        options = range(first, min(top, len(weights[0]) - 1 - used) + 1)
        size = rng.choices(options, weights=[weights[k + 1][used + x] for x in options])[0]
        sizes.append(size)
        used += size
    return sizes


def _tomita7(rng: random.Random, n: int, window: Window) -> str | None:
    """tomita_generator.py: Tomita7Language.generate_string: four blocks 0*1*0*1*, each uniform in 0..(what is
    left of the window's upper end); the total is whatever they add up to."""
    cap = window[1]
    if not 1 <= n <= cap:
        return None
    sizes = _draw_blocks(rng, _block_weights(4, n, 0, cap), 0, cap)
    return "".join(symbol * size for symbol, size in zip("0101", sizes, strict=True))


def _repeat(word: str) -> Callable[[random.Random, int, Window], str | None]:
    """nonstarfree_generator.py: AAStarLanguage / ABABStarLanguage.generate_string: word^floor(U / |word|)."""
    return lambda rng, n, window: word * (n // len(word)) if n >= 1 and n % len(word) == 0 else None


def _abcde_star(rng: random.Random, n: int, window: Window) -> str | None:
    """starfree_generator.py: AAStarBBStarLanguage.generate_string: block i has low // 5 + c_i letters, c_i
    uniform in 1..R where R is what is left of high - low + 1 (0 once R is 0): stick-breaking, so early blocks
    are long. Conditioned on the length; the last letter must be there (generate_list)."""
    low, high = window
    base, budget = low // 5, high - low + 1
    extra = n - 5 * base
    if not 0 <= extra <= budget:
        return None
    weights = _block_weights(5, extra, 1, budget)
    if weights[0][0] == 0.0:
        return None
    sizes = [base + c for c in _draw_blocks(rng, weights, 1, budget)]
    return None if sizes[-1] == 0 else "".join(letter * size for letter, size in zip("abcde", sizes, strict=True))


def _around(before: str, mandatory: str, after: str) -> Callable[[random.Random, int, Window], str | None]:
    """starfree_generator.py: AB_D_BC / ZOT_Z_T.generate_string: P uniform in 0..high-2 symbols from `before`,
    the mandatory symbol, then uniform in 0..high-P-2 from `after` (so at most high - 1 symbols)."""

    def make(rng: random.Random, n: int, window: Window) -> str | None:
        low, high = window
        if not max(low, 1) <= n <= high - 1:
            return None
        prefix = rng.choices(range(n), weights=[1 / (high - 1 - k) for k in range(n)])[0]
        head = "".join(rng.choice(before) for _ in range(prefix))
        return head + mandatory + "".join(rng.choice(after) for _ in range(n - 1 - prefix))

    return make


# ---- the Dyck D-n generator (starfree_generator.py: D_nLanguage) --------------------------------------

DYCK_RATIO, DYCK_SPREAD, DYCK_PATIENCE, DYCK_RATIO_STEP = 0.75, 0.1, 20_000, 0.02


def _nested(rng: random.Random, depth: int, target: int, ratio: float) -> str:
    """D_nLanguage.generate_d_n: blocks a(...)b appended until `target` symbols; each block's inside aims at
    ratio × (1 + 0.1 N(0, 1)) of the target, one level shallower — so strings usually reach the depth cap."""
    if depth == 0 or target <= 0:
        return ""
    parts, size = [], 0
    while size < target:
        inner = _nested(rng, depth - 1, int(target * ratio * (1 + DYCK_SPREAD * rng.gauss(0, 1))), ratio)
        parts.append(f"a{inner}b")
        size += len(inner) + 2
    return "".join(parts)


def _dyck_draw(rng: random.Random, depth: int, high: int, ratio: float = DYCK_RATIO) -> str:
    """D_nLanguage.generate_string: the whole string aims at ratio × (1 + 0.1 N(0, 1)) of the window's top."""
    return _nested(rng, depth, int(high * ratio * (1 + DYCK_SPREAD * rng.gauss(0, 1))), ratio)


def dyck_corpus(rng: random.Random, depth: int, size: int, low: int, high: int) -> list[str]:
    """D_nLanguage.generate_list: distinct strings in [low, high]; after every 20,000 rejected draws (too
    long, too short, or seen) the ratio drops by 0.02, and the list ends short once it would go negative."""
    ratio, rejected, seen, out = DYCK_RATIO, 0, set(), []
    while len(out) < size:
        string = _dyck_draw(rng, depth, high, ratio)
        if string not in seen and low <= len(string) <= high:
            seen.add(string)
            out.append(string)
        else:
            rejected += 1
        if rejected > DYCK_PATIENCE:
            rejected, ratio = 0, ratio - DYCK_RATIO_STEP
            if ratio < 0:
                break
    return out


@cache
def _dyck_pool(depth: int, low: int, high: int, size: int) -> dict[int, list[str]]:
    """A regenerated authors' corpus for one window (fixed seed), by length: the ratio drift makes the
    distribution a property of the whole list, not of one draw."""
    pool: dict[int, list[str]] = {}
    for string in dyck_corpus(random.Random(f"authors-dyck-{depth}-{low}-{high}"), depth, size, low, high):
        pool.setdefault(len(string), []).append(string)
    return pool


def _dyck_make(task: str, depth: int) -> Callable[[random.Random, int, Window], str | None]:
    def make(rng: random.Random, n: int, window: Window) -> str | None:
        strings = _dyck_pool(depth, *window, _corpus_size(task, window)).get(n)
        return rng.choice(strings) if strings else None

    return make


def _corpus_size(task: str, window: Window) -> int:
    """How many strings the authors generate for a window: training + test set for the training window (one
    corpus, split), the test size for a longer bin."""
    entry = load_formal()[task]
    train = tuple(entry["train_lengths"].value)
    test = entry["test_size"].value
    return entry["training_size"].value + test if window == train else test


# ---- the table ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorsLanguage:
    """One language as the authors make it: its symbols, every label token of its format, the labeller, and
    the exact-length generator given a window."""

    symbols: tuple[str, ...]
    labels: tuple[str, ...]
    label: Callable[[str], list[str]]
    exact: Callable[[random.Random, int, Window], str | None]


_PAIRS = ("nn", "ny", "yn", "yy")
_YN, _10 = ("n", "y"), ("0", "1")


def _tomita(k: int, exact, keeps=live) -> AuthorsLanguage:
    dfa = LANGUAGES[f"tomita_{k}"]
    return AuthorsLanguage(("0", "1"), _PAIRS, symbol_pairs(dfa, keeps(dfa)), exact)


AUTHORS: dict[str, AuthorsLanguage] = {
    **{
        f"dyck_{d}": AuthorsLanguage(("a", "b"), ("01", "10", "11"), dyck_labels(d), _dyck_make(f"dyck_{d}", d))
        for d in (2, 3, 4, 12)
    },
    "tomita_1": _tomita(1, _tomita1),
    "tomita_2": _tomita(2, _tomita2),
    "tomita_3": _tomita(3, _tomita3, accepting),
    "tomita_4": _tomita(4, _tomita4),
    "tomita_5": AuthorsLanguage(
        ("0", "1"), _YN, membership(LANGUAGES["tomita_5"], "y", "n"), _uniform_member("tomita_5")
    ),
    "tomita_6": AuthorsLanguage(
        ("0", "1"), _YN, membership(LANGUAGES["tomita_6"], "y", "n"), _uniform_member("tomita_6")
    ),
    "tomita_7": _tomita(7, _tomita7),
    "aa_star": AuthorsLanguage(("a",), _10, membership(LANGUAGES["aa_star"], "1", "0"), _repeat("aa")),
    "aaaa_star": AuthorsLanguage(("a",), _10, membership(LANGUAGES["aaaa_star"], "1", "0"), _repeat("aaaa")),
    "abab_star": AuthorsLanguage(("a", "b"), _10, membership(LANGUAGES["abab_star"], "1", "0"), _repeat("abab")),
    "abcde_star": AuthorsLanguage(tuple("abcde"), tuple("ABCDET"), abcde_labels, _abcde_star),
    "ab_d_bc": AuthorsLanguage(tuple("abcd"), ("0110", "1101"), ab_d_bc_labels, _around("ab", "d", "bc")),
    "zot_02": AuthorsLanguage(tuple("012"), ("c", "e"), zot_02_labels, _around("012", "0", "2")),
}
SYMBOLS: dict[str, tuple[str, ...]] = {task: language.symbols for task, language in AUTHORS.items()}
LABELS: dict[str, tuple[str, ...]] = {task: language.labels for task, language in AUTHORS.items()}


def windows_for(task: str, n: int) -> list[Window]:
    """The authors' windows that contain n, in their order; past the last one, the next len_incr step."""
    entry = load_formal()[task]
    windows = [tuple(w) for w in entry["test_bins"].value]
    inside = [w for w in dict.fromkeys(windows) if w[0] <= n <= w[1]]
    if inside or n < windows[0][0]:
        return inside
    step, top = entry["len_incr"].value, max(high for _, high in windows)
    high = top + -(-(n - top) // step) * step
    return [(high - step + 1, high)]


def example(task: str, rng: random.Random, n: int) -> Pair | None:
    """(symbols, labels) for a string of exactly n symbols from the authors' generator, or None."""
    language = AUTHORS[task]
    for window in windows_for(task, n):
        string = language.exact(rng, n, window)
        if string is not None:
            return list(string), language.label(string)
    return None


def _sampler(task: str) -> Callable[[random.Random, int], Pair | None]:
    return lambda rng, n: example(task, rng, n)


SAMPLERS: dict[str, Callable[[random.Random, int], Pair | None]] = {task: _sampler(task) for task in AUTHORS}


# ---- whole windows, as the authors draw them -----------------------------------------------------------


def _geometric_length(rng: random.Random, low: int, high: int) -> int:
    """TomitaLanguage.generate_string: stop with chance 1 / (1 + L) before each symbol, L = (low + high) // 2,
    and at `high` symbols at the latest."""
    stop, length = 1 / (1 + (low + high) // 2), 0
    while length < high and rng.random() >= stop:
        length += 1
    return length


def _drawn_length(task: str, rng: random.Random, low: int, high: int) -> int | None:
    """The length of one authors' draw for the window, before their length filter (None: not length-first)."""
    if task in ("tomita_1", "tomita_3", "tomita_4"):
        return rng.randint(low, high)
    if task == "tomita_2":
        return 2 * ((rng.randrange(low, high) + 1) // 2)
    if task in ("tomita_5", "tomita_6"):
        return _geometric_length(rng, low, high)
    if task in _PERIODS:
        return _PERIODS[task] * (rng.randint(low, high) // _PERIODS[task])
    if task == "tomita_7":
        return _blocks_total(rng, 0, 4, high)
    if task == "abcde_star":
        return 5 * (low // 5) + _blocks_total(rng, 1, 5, high - low + 1)
    prefix = rng.randrange(0, high - 1)  # ab_d_bc, zot_02
    return prefix + 1 + rng.randrange(0, high - prefix - 1)


_PERIODS = {"aa_star": 2, "aaaa_star": 4, "abab_star": 4}


def _blocks_total(rng: random.Random, first: int, blocks: int, total: int) -> int:
    """The sum of `blocks` sizes, each uniform in first..(total - the sum so far), 0 once that is empty."""
    used = 0
    for _ in range(blocks):
        top = total - used
        used += rng.randint(first, top) if top >= first else 0
    return used


def window_sample(task: str, rng: random.Random, low: int, high: int) -> str | None:
    """One draw of the authors' generator for the window [low, high]; None where their generate_list drops it
    (outside the window, or not in the language). Dyck draws use the generator's initial ratio."""
    if task.startswith("dyck_"):
        string = _dyck_draw(rng, int(task.split("_")[1]), high)
        return string if low <= len(string) <= high else None
    n = _drawn_length(task, rng, low, high)
    if not low <= n <= high:
        return None
    if task in ("tomita_5", "tomita_6"):  # fair coins, then the membership filter
        string = "".join(rng.choice("01") for _ in range(n))
        return string if LANGUAGES[task].accepts(string) else None
    return AUTHORS[task].exact(rng, n, (low, high))


# Where the authors drop duplicates: while drawing (every star-free generate_list), or once the list is drawn
# (dataloader.py: TomitaCorpus / NonStarFreeCorpus with unique=True, i.e. their test bins), so such a list
# can come out shorter than asked.
_DISTINCT_WHILE_DRAWING = ("abcde_star", "ab_d_bc", "zot_02")


def corpus(task: str, rng: random.Random, size: int, low: int, high: int, distinct: bool = True) -> list[str]:
    """The authors' list of strings for a window: `size` draws that pass their filter; with `distinct`,
    duplicates dropped as they do for that language (the star-free ones always, while drawing; Tomita and
    the (aa)* family after drawing, and only for test bins: their training sets keep duplicates)."""
    if task.startswith("dyck_"):
        return dyck_corpus(rng, int(task.split("_")[1]), size, low, high)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < size:
        string = window_sample(task, rng, low, high)
        if string is None or (task in _DISTINCT_WHILE_DRAWING and string in seen):
            continue
        seen.add(string)
        out.append(string)
    return list(dict.fromkeys(out)) if distinct else out
