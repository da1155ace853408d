"""The authors' data for Huang et al.'s algorithmic tasks: each generator's distribution, as the Dataset classes of
lacoco-lab/length_generalization `algorithmic/language_modeling_train.py` draw it, and the data switch.

Each check is a function of a task so that it can be run against the uniform samplers too: it must fail there
wherever the two distributions differ (`test_the_checks_reject_the_uniform_samplers`), or it would not test
anything. Counts are compared with a chi-square bound at p = 0.001 on a few thousand draws from a fixed seed.
"""

import math
import random
from collections import Counter

import pytest

from programs.algorithmic import LETTERS, NUMBERS, interleave_length
from programs.task import DATA_KINDS, SEP
from programs.tasks import TASKS, get_task
from rasp.errors import RaspInputError

DRAWS = 3000
TRAIN = (0, 50)  # the authors' training range (run_multiple_seeds.py: train_length_range)


def assert_fits(observed: Counter, expected: dict, draws: int) -> None:
    """`observed` counts agree with the probabilities `expected` (chi-square, p = 0.001); no value outside it."""
    assert set(observed) <= set(expected), f"values never drawn by the authors: {set(observed) - set(expected)}"
    statistic = sum((observed[v] - draws * p) ** 2 / (draws * p) for v, p in expected.items())
    df = len(expected) - 1
    z = 3.09  # the 0.999 quantile of the normal; Wilson-Hilferty for the chi-square's
    critical = df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3
    assert statistic < critical, f"chi-square {statistic:.1f} >= {critical:.1f} (df {df}): {sorted(observed.items())}"


def uniform_over(values) -> dict:
    values = list(values)
    return {v: 1 / len(values) for v in values}


def pairs(task, length: int, draws: int = DRAWS, seed: int = 0):
    """(input, answer) of `draws` examples of one length."""
    rng = random.Random(seed)
    for _ in range(draws):
        example = task.example(rng, length)
        assert example is not None, f"{task.id}: no example of length {length}"
        sep = example.tokens.index(SEP)
        yield example.tokens[1:sep], example.tokens[sep + 1 : -1]


def lengths(task, low: int, high: int, draws: int = DRAWS) -> Counter:
    rng = random.Random(1)
    return Counter(task.sample(rng, low, high).input_length for _ in range(draws))


# ---- one check per generator -------------------------------------------------------------------------------


def check_binary_majority(task) -> None:
    """BinaryMajorityDataset: length uniform over 1..50 (range_min raised to 1); the number of 0s uniform over
    0..n with n/2 excluded (redrawn until it is not a tie), then shuffled; answer the majority bit."""
    assert_fits(lengths(task, *TRAIN), uniform_over(range(1, 51)), DRAWS)
    zeros = Counter()
    for bits, answer in pairs(task, 10):
        zeros[bits.count("0")] += 1
        assert bits.count("0") != bits.count("1"), "a tie"
        assert answer == ["0" if bits.count("0") > bits.count("1") else "1"]
    assert_fits(zeros, uniform_over(k for k in range(11) if k != 5), DRAWS)


def check_majority(task) -> None:
    """MajorityDataset: length uniform over 1..50; 26 letters drawn independently and uniformly, the string redrawn
    while its most frequent letter is not unique; answer that letter."""
    assert_fits(lengths(task, *TRAIN), uniform_over(range(1, 51)), DRAWS)
    letters = Counter()
    for string, answer in pairs(task, 12, draws=1000):
        top = Counter(string).most_common(2)
        assert top[0][1] > top[1][1], string
        assert answer == [top[0][0]]
        letters.update(string)
    assert_fits(letters, uniform_over(LETTERS), 12_000)


def check_binary_majority_interleave(task) -> None:
    """BinaryMajorityInterleaveDataset (period 3): a total uniform in [3, 50] made a multiple of 3 (each stream
    round(total / 3) bits, moved back inside the range), three equal streams interleaved, each with its number of
    0s uniform and never a tie; answer the three streams' majority bits in order."""
    drawn = lengths(task, *TRAIN)
    assert all(length % 3 == 0 for length in drawn), sorted(drawn)
    streams_of = Counter(length // 3 for length in drawn.elements())
    expected = Counter(round(total / 3) for total in range(3, 51))
    expected[16] += expected.pop(17)  # total 50 rounds to 17 streams of 3 = 51 > 50, moved back to 16
    assert_fits(streams_of, {k: c / 48 for k, c in expected.items()}, DRAWS)
    zeros = Counter()
    for bits, answer in pairs(task, 15):
        streams = [bits[k::3] for k in range(3)]
        assert len({len(s) for s in streams}) == 1 and all(s.count("0") != s.count("1") for s in streams), bits
        assert answer == ["0" if s.count("0") > s.count("1") else "1" for s in streams]
        zeros.update(s.count("0") for s in streams)
    assert_fits(zeros, uniform_over([0, 1, 2, 3, 4, 5]), 3 * DRAWS)  # streams of 5 bits: no tie possible


def _check_distinct_numbers(task, answer_of) -> None:
    """Length uniform over 1..50 (never empty); tokens drawn without replacement from the 150 numbers 0..149
    (random.sample), so distinct and each equally likely."""
    assert_fits(lengths(task, *TRAIN), uniform_over(range(1, 51)), DRAWS)
    tokens = Counter()
    for string, answer in pairs(task, 30, draws=1000):
        assert len(set(string)) == len(string) and set(string) <= set(NUMBERS)
        assert answer == answer_of(string)
        tokens.update(string)
    assert_fits(tokens, uniform_over(NUMBERS), 30_000)


def check_sort(task) -> None:
    """SortDataset: as `_check_distinct_numbers`; answer the tokens in increasing numeric order (sorted ids)."""
    _check_distinct_numbers(task, lambda string: sorted(string, key=int))


def check_copy_unique(task) -> None:
    """UniqueCopyDataset: as `_check_distinct_numbers`; answer the input itself."""
    _check_distinct_numbers(task, list)


def check_copy_repeat(task) -> None:
    """RepeatCopyDataset: length uniform over 1..50 (never empty); a and b drawn independently and uniformly
    (random.choices), so the number of a's in 20 symbols is Binomial(20, 1/2); answer the input."""
    assert_fits(lengths(task, *TRAIN), uniform_over(range(1, 51)), DRAWS)
    a_count = Counter()
    for string, answer in pairs(task, 20):
        assert set(string) <= {"a", "b"} and answer == string
        a_count[min(max(string.count("a"), 6), 14)] += 1  # tails pooled so every cell expects >= 5
    binomial = {k: math.comb(20, k) / 2**20 for k in range(21)}
    expected = {k: binomial[k] for k in range(7, 14)}
    expected[6] = sum(binomial[k] for k in range(7))
    expected[14] = sum(binomial[k] for k in range(14, 21))
    assert_fits(a_count, expected, DRAWS)


def check_parity(task) -> None:
    """ParityDataset: length uniform over 0..50 (the class keeps range_min, so the empty input occurs); the
    number of 1s uniform over 0..n (not binomial), shuffled; answer e for an even count, o for an odd one."""
    assert_fits(lengths(task, *TRAIN), uniform_over(range(51)), DRAWS)
    ones = Counter()
    for bits, answer in pairs(task, 10):
        ones[bits.count("1")] += 1
        assert answer == ["o" if bits.count("1") % 2 else "e"]
    assert_fits(ones, uniform_over(range(11)), DRAWS)


def check_addition(task) -> None:
    """AdditionDataset: `a + b = sum`; the length counts a, '+', b and '=' (our <sep>), uniform over 4..50
    (range_min raised to 4); a's length uniform over 1..n-3; an operand of two or more bits starts with 1; the
    sum in binary, most significant bit first, no leading zero."""
    assert_fits(lengths(task, *TRAIN), uniform_over(range(4, 51)), DRAWS)
    a_lengths = Counter()
    rng = random.Random(2)
    for _ in range(DRAWS):
        example = task.example(rng, 12)
        sep = example.tokens.index(SEP)
        assert example.input_length == sep == 12  # <bos> a + b <sep>: the <sep> is the 12th symbol counted
        a, b = "".join(example.tokens[1:sep]).split("+")
        total = "".join(example.tokens[sep + 1 : -1])
        assert all(len(x) == 1 or x[0] == "1" for x in (a, b)) and (total == "0" or total[0] == "1")
        assert int(total, 2) == int(a, 2) + int(b, 2)
        a_lengths[len(a)] += 1
    assert_fits(a_lengths, uniform_over(range(1, 10)), DRAWS)


CHECKS = {
    "binary_majority": check_binary_majority,
    "majority": check_majority,
    "binary_majority_interleave": check_binary_majority_interleave,
    "sort": check_sort,
    "copy_unique": check_copy_unique,
    "copy_repeat": check_copy_repeat,
    "parity": check_parity,
    "addition": check_addition,
}
SAME_AS_UNIFORM = {"majority"}  # the uniform majority already redrew ties over independent letters


def test_every_algorithmic_task_has_a_check():
    assert set(CHECKS) == {t.id for t in TASKS.values() if t.family == "algorithmic"}


@pytest.mark.parametrize("task_id", sorted(CHECKS))
def test_the_authors_sampler_draws_the_authors_distribution(task_id):
    CHECKS[task_id](get_task(task_id))


@pytest.mark.parametrize("task_id", sorted(set(CHECKS) - SAME_AS_UNIFORM))
def test_the_checks_reject_the_uniform_samplers(task_id):
    with pytest.raises(AssertionError):
        CHECKS[task_id](get_task(task_id, data="uniform"))


def test_interleave_length_keeps_to_the_range_and_multiples_of_three():
    rng = random.Random(0)
    for low, high in [(3, 50), (51, 100), (101, 150), (17, 32)]:
        drawn = {interleave_length(rng, low, high) for _ in range(2000)}
        assert all(n % 3 == 0 and low <= n <= high for n in drawn)
        assert min(drawn) == 3 * math.ceil(low / 3) and max(drawn) == 3 * (high // 3)


# ---- the data switch ---------------------------------------------------------------------------------------


def test_get_task_defaults_to_the_authors_data_and_records_the_kind():
    assert DATA_KINDS == ("authors", "uniform")
    for task_id in TASKS:
        assert get_task(task_id).data == "authors"
        uniform = get_task(task_id, data="uniform")
        assert uniform.data == "uniform" and uniform.with_vocabulary_limit(64).data == "uniform"


def test_an_unknown_data_kind_is_a_clear_error():
    with pytest.raises(RaspInputError, match="unknown data kind 'paper'"):
        get_task("parity", data="paper")


# ---- the authors' regime (programs/authors/algorithmic.json) -----------------------------------------------


def test_the_regime_has_every_field_with_a_source_for_every_task_and_encoding():
    from programs.regime import ALGORITHMIC_FIELDS, PES, load_regime

    regime = load_regime("algorithmic")
    assert set(regime.entries) == {(task, pe) for task in CHECKS for pe in PES}
    for key, entry in regime.entries.items():
        assert set(ALGORITHMIC_FIELDS) <= set(entry), key
        assert all(setting.source.strip() for setting in entry.values()), key
        assert entry["dataset_class"].value in entry["dataset_class"].source  # names the class it follows
    assert regime.sweep.source and regime.commit


def test_the_regime_agrees_with_our_samplers_and_the_published_choices():
    from programs.algorithmic import AUTHORS
    from programs.regime import load_regime

    regime = load_regime("algorithmic")
    for (task, pe), entry in regime.entries.items():
        assert entry["dataset_class"].value == AUTHORS[task].source
        assert entry["min_length"].value == get_task(task).min_length
        assert (entry["regularizer_coefficient"].value is not None) == (pe == "reg")
    # a regularized run reuses the APE architecture (run_multiple_seeds.py: --regularize takes the APE table)
    for task in CHECKS:
        ape, reg = regime.entry(task, "ape"), regime.entry(task, "reg")
        assert [ape[f].value for f in ("layers", "heads", "width", "learning_rate")] == [
            reg[f].value for f in ("layers", "heads", "width", "learning_rate")
        ]
    big = regime.entry("addition", "nope")
    assert (big["layers"].value, big["max_steps"].value, big["warmup_steps"].value) == (12, 60_000, 3000)


def test_a_regime_entry_without_a_source_is_refused(tmp_path, monkeypatch):
    import json

    import programs.regime as regime_module

    raw = json.loads((regime_module.REGIME_DIR / "algorithmic.json").read_text())
    raw["entries"][0]["layers"] = {"value": 1, "source": " "}
    (tmp_path / "broken.json").write_text(json.dumps(raw))
    monkeypatch.setattr(regime_module, "REGIME_DIR", tmp_path)
    with pytest.raises(RaspInputError, match="layers: no source"):
        regime_module.load_regime("broken")
    del raw["entries"][0]["layers"]
    (tmp_path / "broken.json").write_text(json.dumps(raw))
    with pytest.raises(RaspInputError, match="missing layers"):
        regime_module.load_regime("broken")
