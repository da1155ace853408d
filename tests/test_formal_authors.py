"""The formal languages as Huang et al. make them (lacoco-lab/length_generalization, formal_lang_suite/): the
standard Tomita DFAs, the authors' generators and label formats (programs/formal_authors.py), their file format
(programs/authors_files.py) and their regime as data (programs/authors/formal.json)."""

from __future__ import annotations

import itertools
import json
import random
import statistics

import pytest

from programs import formal_authors, regime
from programs.authors_files import read_authors_dir, write_authors_dir
from programs.formal_authors import (
    AUTHORS,
    LABELS,
    SAMPLERS,
    SYMBOLS,
    corpus,
    dyck_corpus,
    example,
    window_sample,
    windows_for,
)
from programs.languages import END, LANGUAGES
from programs.regime import FORMAL_FIELDS, length_windows, load_formal
from programs.task import BOS
from programs.tasks import TASKS
from rasp.errors import RaspInputError

# ---- 1. Tomita DFAs against the standard minimal DFAs (Tomita 1982), written out here ---------------------

DEAD = None
# state -> {symbol: next state}, and the accepting states; the dead state is implicit.
STANDARD_TOMITA = {
    1: ({0: {"0": DEAD, "1": 0}}, {0}),  # 1*
    2: ({0: {"0": DEAD, "1": 1}, 1: {"0": 0, "1": DEAD}}, {0}),  # (10)*
    # no odd block of 1s immediately followed by an odd block of 0s: 0 even 1s (or none), 1 odd 1s,
    # 2 odd 0s after odd 1s (rejecting), 3 even 0s after odd 1s
    3: ({0: {"0": 0, "1": 1}, 1: {"0": 2, "1": 0}, 2: {"0": 3, "1": DEAD}, 3: {"0": 2, "1": 1}}, {0, 1, 3}),
    4: ({0: {"0": 1, "1": 0}, 1: {"0": 2, "1": 0}, 2: {"0": DEAD, "1": 0}}, {0, 1, 2}),  # no 000
    5: ({0: {"0": 1, "1": 2}, 1: {"0": 0, "1": 3}, 2: {"0": 3, "1": 0}, 3: {"0": 2, "1": 1}}, {0}),  # even 0s, 1s
    6: ({0: {"0": 1, "1": 2}, 1: {"0": 2, "1": 0}, 2: {"0": 0, "1": 1}}, {0}),  # #0 - #1 = 0 mod 3
    7: ({0: {"0": 0, "1": 1}, 1: {"0": 2, "1": 1}, 2: {"0": 2, "1": 3}, 3: {"0": DEAD, "1": 3}}, {0, 1, 2, 3}),
}


def _standard_run(k: int, string: str) -> list:
    """The standard DFA's states after each prefix (DEAD once dead)."""
    table, _ = STANDARD_TOMITA[k]
    states = [0]
    for symbol in string:
        states.append(DEAD if states[-1] is DEAD else table[states[-1]][symbol])
    return states


def _standard_next(k: int, state) -> str:
    """Next-symbol set from a state: symbols leading to a state that can still accept (every live state of
    these DFAs can: each reaches an accepting one), END if accepting."""
    table, accepting = STANDARD_TOMITA[k]
    return "".join(c for c in "01" if table[state][c] is not DEAD) + (END if state in accepting else "")


ALL_STRINGS_TO_12 = ["".join(t) for n in range(13) for t in itertools.product("01", repeat=n)]


@pytest.mark.parametrize("k", range(1, 8))
def test_tomita_equals_the_standard_dfa_on_every_string_up_to_12(k):
    dfa, (_, accepting) = LANGUAGES[f"tomita_{k}"], STANDARD_TOMITA[k]
    for string in ALL_STRINGS_TO_12:
        states = _standard_run(k, string)
        assert dfa.accepts(string) == (states[-1] in accepting), string
        if states[-1] is not DEAD:  # a prefix of the language: the per-prefix next-symbol sets agree too
            assert dfa.labels(string) == [_standard_next(k, s) for s in states], string


def test_tomita_3_forbids_only_the_immediately_following_odd_block():
    assert LANGUAGES["tomita_3"].accepts("100110")  # odd 1-block, even 0s, even 1s, odd 0s
    assert not LANGUAGES["tomita_3"].accepts("10")
    assert not LANGUAGES["tomita_3"].accepts("0111000")

    # the check above has teeth: the earlier misreading (an odd 0-block anywhere after an odd 1-block)
    # disagrees with the standard table on strings of length <= 12
    def misreading(s):
        seen_odd_ones = False
        for symbol, group in itertools.groupby(s):
            odd = len(list(group)) % 2 == 1
            seen_odd_ones |= symbol == "1" and odd
            if symbol == "0" and odd and seen_odd_ones:
                return False
        return True

    differ = [s for s in ALL_STRINGS_TO_12 if misreading(s) != (_standard_run(3, s)[-1] in STANDARD_TOMITA[3][1])]
    assert len(differ) == 327 and "100110" in differ


# ---- 2. labels in the authors' formats ------------------------------------------------------------------


@pytest.mark.parametrize(
    "task, string, labels",
    [
        # tomita_generator.py: Tomita1Language.get_legal_characters ("may 0 follow", "may 1 follow"); for
        # Tomita 3 a rejecting state counts as dead, so after an odd 1-block a 0 "may not follow"
        ("tomita_3", "1001", ["yy", "ny", "yn", "ny", "ny"]),
        ("tomita_2", "1010", ["ny", "yn", "ny", "yn", "ny"]),
        ("tomita_4", "1001", ["yy", "yy", "yy", "ny", "yy"]),
        ("tomita_7", "0110", ["yy", "yy", "yy", "yy", "yy"]),
        ("tomita_7", "0101", ["yy", "yy", "yy", "yy", "ny"]),
        # tomita_generator.py: TomitaLanguage.output_generator (membership y/n)
        ("tomita_5", "0011", ["y", "n", "y", "n", "y"]),
        ("tomita_6", "000", ["y", "n", "n", "y"]),
        # nonstarfree_generator.py: NonStarFreeLanguage.output_generator (membership 1/0)
        ("aa_star", "aaa", ["1", "0", "1", "0"]),
        ("abab_star", "abab", ["1", "0", "0", "0", "1"]),
        # starfree_generator.py: D_nLanguage.get_final_state, AAStarBBStarLanguage / AB_D_BC / ZOT_Z_T
        ("dyck_2", "aabb", ["10", "11", "01", "11", "10"]),
        ("abcde_star", "abbcde", ["A", "B", "C", "C", "D", "E", "T"]),
        ("ab_d_bc", "abdc", ["1101", "1101", "1101", "0110", "0110"]),
        ("zot_02", "02120", ["c", "c", "e", "c", "c", "c"]),
    ],
)
def test_labels_are_the_authors(task, string, labels):
    assert AUTHORS[task].label(string) == labels
    assert set(labels) <= set(LABELS[task])


def _our_dfa_string(task: str, string: str) -> str:
    return string.translate(str.maketrans("ab", "()")) if task.startswith("dyck_") else string


def _next_flags(task: str, allowed: str) -> str:
    """Our next-symbol set written as the authors' chunk: one flag per symbol, no end-of-string flag."""
    return "".join("1" if c in allowed else "0" for c in LANGUAGES[task].alphabet)


def _check_sample(task: str, string: str, labels: list[str]) -> None:
    """In the language, and labelled as the format derives from the DFA: next-symbol flags (Dyck,
    {a,b}*d{b,c}*), the next new letter (abcde), membership (Tomita 5, 6, the (aa)* family), the y/n pairs
    (Tomita 1-4, 7: test_labels_are_the_authors); {0,1,2}*02* differs from the DFA only where the authors'
    ZOT_Z_T does (a prefix ending in 0)."""
    dfa = LANGUAGES[task]
    assert len(labels) == len(string) + 1 and set(string) <= set(SYMBOLS[task]) and set(labels) <= set(LABELS[task])
    ours = _our_dfa_string(task, string)
    assert dfa.accepts(ours), string
    sets = dfa.labels(ours)
    if task.startswith("dyck_") or task == "ab_d_bc":
        assert labels == [_next_flags(task, s) for s in sets]
    elif task == "abcde_star":  # the letter after the current one, T once e is reached
        assert labels == ["A"] + [("T" if END in s else s[-1].upper()) for s in sets[1:]]
    elif task in ("tomita_5", "tomita_6", "aa_star", "aaaa_star", "abab_star"):
        assert [label in "y1" for label in labels] == [END in s for s in sets]
    elif task == "zot_02":
        for i, (label, s) in enumerate(zip(labels, sets, strict=True)):
            assert (label == "e") == (END in s) or (string[i - 1] == "0" and label == "c")
    else:
        assert labels == AUTHORS[task].label(string)


@pytest.mark.parametrize("task", [t for t in AUTHORS if not t.startswith("dyck_")])
def test_every_sample_is_in_the_language_and_labels_agree_with_the_dfa(task):
    """SAMPLERS give strings of exactly n symbols, in the language, labelled in the authors' format."""
    rng, drawn = random.Random(7), 0
    for n in range(1, 60):
        pair = SAMPLERS[task](rng, n)
        if pair is not None:
            drawn += 1
            assert len(pair[0]) == n
            _check_sample(task, "".join(pair[0]), pair[1])
    assert drawn >= 10


@pytest.mark.parametrize("depth", [2, 3, 4, 12])
def test_dyck_samples_are_in_the_language_and_labels_agree_with_the_dfa(depth):
    task = f"dyck_{depth}"
    low, high = length_windows(task)[1]  # a longer bin: little ratio drift, so quick
    for string in dyck_corpus(random.Random(depth), depth, 40, low, high):
        _check_sample(task, string, AUTHORS[task].label(string))


@pytest.mark.slow
@pytest.mark.parametrize("depth", [2, 3, 4, 12])
def test_dyck_samplers_draw_from_a_regenerated_corpus(depth):
    """SAMPLERS for D-n pick among the strings of length n of a regenerated authors' corpus for n's window."""
    task, rng = f"dyck_{depth}", random.Random(0)
    pairs = [p for n in range(2, 101, 2) if (p := SAMPLERS[task](rng, n)) is not None]
    assert len(pairs) >= 5
    for symbols, labels in pairs:
        _check_sample(task, "".join(symbols), labels)


def test_lengths_that_exist():
    rng = random.Random(0)
    assert SAMPLERS["aa_star"](rng, 7) is None and SAMPLERS["aa_star"](rng, 8) is not None
    assert SAMPLERS["aaaa_star"](rng, 6) is None and SAMPLERS["abab_star"](rng, 12) is not None
    assert SAMPLERS["tomita_2"](rng, 5) is None and SAMPLERS["tomita_5"](rng, 5) is None
    assert SAMPLERS["tomita_1"](rng, 0) is None  # every window starts at 1
    # AB_D_BC.generate_string makes at most high - 1 symbols: 50 is not in the training window [2, 50] ...
    assert AUTHORS["ab_d_bc"].exact(rng, 50, (2, 50)) is None
    # ... but it is in the next window, [2, 100]
    assert windows_for("ab_d_bc", 50) == [(2, 50), (2, 100), (2, 150)] and SAMPLERS["ab_d_bc"](rng, 50)
    # abcde: every block gets at least one extra letter while the budget lasts, so nothing under 10
    assert SAMPLERS["abcde_star"](rng, 9) is None and SAMPLERS["abcde_star"](rng, 10) is not None
    assert windows_for("tomita_7", 170) == [(151, 200)]  # past the last bin, by len_incr


# ---- 3. distributions ---------------------------------------------------------------------------------


def _blocks(string: str) -> int:
    return len(list(itertools.groupby(string)))


def test_tomita_3_builds_few_long_blocks():
    """tomita_generator.py: Tomita3Language.generate_string: block sizes uniform in what is left, so a string
    of 100 has a handful of blocks; uniform sampling of the language gives about fifty."""
    rng = random.Random(1)
    theirs = [_blocks(example("tomita_3", rng, 100)[0]) for _ in range(300)]
    uniform = [_blocks(LANGUAGES["tomita_3"].sample(rng, 100)) for _ in range(100)]
    assert statistics.median(theirs) <= 8 and statistics.median(uniform) >= 30


def test_tomita_4_is_a_fair_coin_with_a_third_zero_redrawn():
    """tomita_generator.py: Tomita4Language.generate_string: a Markov chain whose long-run share of 0s is
    3/7 (states: 0, 1 or 2 zeros at the end; a third 0 is redrawn)."""
    rng = random.Random(2)
    strings = ["".join(example("tomita_4", rng, 100)[0]) for _ in range(400)]
    zeros = sum(s.count("0") for s in strings) / 40_000
    assert not any("000" in s for s in strings) and abs(zeros - 3 / 7) < 0.01


@pytest.mark.parametrize("task, mean", [("tomita_5", 51.26), ("tomita_6", 44.54)])
def test_tomita_5_6_lengths_are_geometric_then_filtered(task, mean):
    """tomita_generator.py: TomitaLanguage.generate_string (stop chance 1/51 per symbol for [1, 100], cut at
    100) and generate_list (kept if in the language): the mean length, computed exactly from that process, is
    51.26 / 44.54 (the authors' generated_ds train_src.txt files: 50.25 / 45.37)."""
    lengths = [len(s) for s in corpus(task, random.Random(3), 3000, 1, 100, distinct=False)]
    assert abs(statistics.mean(lengths) - mean) < 2.0
    assert max(lengths) == 100 and sum(n == 100 for n in lengths) > 0.1 * len(lengths)  # the cut at 100


def test_tomita_7_blocks_fill_the_window_top():
    """tomita_generator.py: Tomita7Language.generate_string: each of the four blocks is uniform in what is
    left of the window's top (not of a drawn length), so lengths average 15/16 of it (generated_ds/Tomita-7/
    train_src.txt: 93.8 for the top 100)."""
    rng = random.Random(4)
    lengths = [len(corpus("tomita_7", rng, 1, 1, 100)[0]) for _ in range(3000)]
    assert abs(statistics.mean(lengths) - 93.75) < 1.0
    # the exact-length sampler is that process conditioned on the length: compare with rejection
    exact = [len("".join(example("tomita_7", rng, 100)[0]).split("1")[0]) for _ in range(1500)]
    rejected = [s for s in (window_sample("tomita_7", rng, 1, 100) for _ in range(6000)) if len(s) == 100]
    first_zero_block = [len(s.split("1")[0]) for s in rejected]
    assert len(rejected) > 300
    assert abs(statistics.mean(exact) - statistics.mean(first_zero_block)) < 5


def test_abcde_is_stick_breaking():
    """starfree_generator.py: AAStarBBStarLanguage.generate_string: the first block takes a uniform share of
    the budget, the next a uniform share of the rest, ...: strings near the window top, a long a-block
    (generated_ds/AAStarBBStarCCStarDDStarEEStar/train_src.txt: mean length 191.4)."""
    rng = random.Random(5)
    strings = corpus("abcde_star", rng, 2000, 5, 200)
    assert abs(statistics.mean(map(len, strings)) - 191.4) < 2.0
    assert statistics.mean(s.count("a") for s in strings) > 2 * statistics.mean(s.count("e") for s in strings)
    # conditioned on the length, by the exact sampler and by rejection: the same mean a-block
    exact = [example("abcde_star", rng, 195)[0].count("a") for _ in range(800)]
    rejected = [
        s.count("a") for s in (window_sample("abcde_star", rng, 5, 200) for _ in range(10000)) if s and len(s) == 195
    ]
    assert len(rejected) > 40 and abs(statistics.mean(exact) - statistics.mean(rejected)) < 12


@pytest.mark.parametrize("task", ["ab_d_bc", "zot_02"])
def test_around_the_mandatory_symbol(task):
    """starfree_generator.py: AB_D_BC / ZOT_Z_T.generate_string: the prefix uniform in 0..high-2, the suffix
    uniform in what is left, so lengths stop at high - 1 and average about 3/4 of the top (generated_ds
    ABStar_D_BCStar / 012Star_0_2Star train_src.txt: 37.1 / 37.6 for the top 50)."""
    lengths = [len(s) for s in corpus(task, random.Random(6), 3000, 2, 50)]
    assert max(lengths) == 49 and abs(statistics.mean(lengths) - 37.3) < 1.0


def _depth(string: str) -> int:
    return max(itertools.accumulate(1 if c == "a" else -1 for c in string))


@pytest.mark.parametrize("depth, window, share", [(12, (2, 100), 0.9), (4, (2, 100), 0.99), (4, (101, 200), 0.99)])
def test_dyck_strings_usually_reach_the_depth_cap(depth, window, share):
    """starfree_generator.py: D_nLanguage.generate_d_n: each block nests a block one level shallower, aiming
    at 3/4 of its length, so strings go down to the cap: every D-4 string of generated_ds/D-4 does, and 83.5%
    of generated_ds/D-12/train_src.txt (after the ratio drift of a full 12,000-string corpus: the slow test).
    Uniform sampling of D-12 at length 48 never reaches depth 12."""
    strings = dyck_corpus(random.Random(8), depth, 300, *window)
    assert len(strings) == 300 and all(
        LANGUAGES[f"dyck_{depth}"].accepts(_our_dfa_string("dyck_2", s)) for s in strings
    )
    assert sum(_depth(s) == depth for s in strings) >= share * len(strings)
    uniform = [LANGUAGES["dyck_12"].sample(random.Random(9), 48) for _ in range(50)]
    assert max(max(itertools.accumulate(1 if c == "(" else -1 for c in s)) for s in uniform) < 12


@pytest.mark.slow
def test_dyck_12_full_corpus_matches_the_authors_files():
    """The whole D-12 training corpus (10,000 + 2,000 strings, D_nLanguage.generate_list with its ratio
    drift) against generated_ds/D-12/train_src.txt: 83.5% reach depth 12, mean length 85.5, 48-100."""
    strings = dyck_corpus(random.Random(10), 12, 12_000, 2, 100)
    assert len(strings) == 12_000
    assert abs(sum(_depth(s) == 12 for s in strings) / len(strings) - 0.835) < 0.03
    assert abs(statistics.mean(map(len, strings)) - 85.5) < 2.0


def test_dyck_ratio_drift_ends_a_list_that_cannot_be_filled(monkeypatch):
    """D_nLanguage.generate_list: after every 20,000 rejected draws the ratio drops by 0.02 and the list ends
    once it would go negative — here D-2 in 2..12, which has too few distinct strings for 500 (patience cut
    to 500 rejections so the test is quick)."""
    monkeypatch.setattr(formal_authors, "DYCK_PATIENCE", 500)
    strings = dyck_corpus(random.Random(11), 2, 500, 2, 12)
    assert 0 < len(strings) < 500 and len(set(strings)) == len(strings)


@pytest.mark.slow
def test_dyck_3_config_window_cannot_fill_its_corpus():
    """configs/dataset/d-3.yaml asks for 10,000 + 2,000 distinct strings of 2-50; the generator gives up after
    about 700, so the shipped generated_ds/D-3 (strings of 2-100, 10,000 + 742) cannot come from this config."""
    assert len(dyck_corpus(random.Random(13), 3, 12_000, 2, 50)) < 2_000


@pytest.mark.parametrize(
    "task, window, lengths",
    [
        # nonstarfree_generator.py: AAStarLanguage / ABABStarLanguage.generate_string, kept if in the window
        ("aa_star", (101, 150), set(range(102, 151, 2))),
        ("aaaa_star", (4, 500), set(range(4, 501, 4))),
        ("abab_star", (501, 600), set(range(504, 601, 4))),
        # tomita_generator.py: Tomita1Language / Tomita2Language.generate_string
        ("tomita_1", (1, 100), set(range(1, 101))),
        ("tomita_2", (101, 150), set(range(102, 151, 2))),
    ],
)
def test_periodic_lengths_are_spread_uniformly_over_the_window(task, window, lengths):
    drawn = [len(s) for s in corpus(task, random.Random(14), 6000, *window, distinct=False)]
    assert set(drawn) == lengths
    counts = [drawn.count(n) for n in sorted(lengths)]
    assert max(counts[1:-1]) < 2 * min(counts[1:-1])  # uniform but for the ends of the window


# ---- 4. the authors' file format ------------------------------------------------------------------------


def _write(directory, name, text):
    (directory / name).write_text(text)


def test_read_a_directory_in_the_authors_format(tmp_path):
    """dataset_utils.py: dump_datasets_locally / read_file: lines joined by newlines, none after the last;
    Tomita targets are 2 characters per symbol (chunk_size 2), nothing for the empty prefix."""
    directory = tmp_path / "Tomita-3"
    directory.mkdir()
    _write(directory, "train_src.txt", "1001\n0")
    _write(directory, "train_tgt.txt", "nyynnyny\nyy")
    _write(directory, "val_src_bin0.txt", "11")
    _write(directory, "val_tgt_bin0.txt", "nyyy")
    _write(directory, "val_src_bin1.txt", "0110\n1")
    _write(directory, "val_tgt_bin1.txt", "yyyyyyyy\nny")
    data = read_authors_dir(directory)
    assert data.task == "tomita_3"
    assert data.train[0].tokens == [BOS, "1", "0", "0", "1"]
    assert data.train[0].targets == ["yy", "ny", "yn", "ny", "ny"]
    assert [len(b) for b in data.bins] == [1, 2]
    assert data.bins[1][1].targets == ["yy", "ny"] and data.train[1].input_length == 1


def test_written_directories_read_back_as_the_samplers_examples(tmp_path):
    rng = random.Random(12)
    for task in ("dyck_4", "ab_d_bc", "tomita_5", "abcde_star"):
        train = corpus(task, rng, 20, *length_windows(task)[0])
        bins = [corpus(task, rng, 5, *window) for window in length_windows(task)[1:]]
        data = read_authors_dir(write_authors_dir(tmp_path / task, task, train, bins), task)
        assert [e.tokens[1:] for e in data.train] == [list(s) for s in train]
        assert [e.targets for e in data.train] == [AUTHORS[task].label(s) for s in train]
        assert len(data.bins) == len(bins)
        task_record = TASKS[task]  # the same length convention as our examples
        assert all(e.input_length == len(s) for e, s in zip(data.train, train, strict=True)) and task_record


@pytest.mark.parametrize(
    "files, message",
    [
        ({"train_src.txt": "10\n1", "train_tgt.txt": "nyyn"}, "train_tgt.txt: 1 lines, but train_src.txt has 2"),
        ({"train_src.txt": "10", "train_tgt.txt": "nyy"}, "train_tgt.txt:1: 3 characters; expected 2 per symbol"),
        ({"train_src.txt": "1x", "train_tgt.txt": "nyyn"}, "train_src.txt:1:2: symbol 'x' is not in tomita_3"),
        ({"train_src.txt": "10", "train_tgt.txt": "nyzz"}, "train_tgt.txt:1:3: label 'zz' is not one of"),
        ({"train_src.txt": "1\n\n1", "train_tgt.txt": "ny\n\nny"}, "train_src.txt:2: empty line"),
        ({"train_src.txt": "1"}, "train_tgt.txt: missing"),
        ({"train_src.txt": "1", "train_tgt.txt": "ny", "val_src_bin0.txt": "1"}, "no val_tgt_bin0.txt"),
        (
            {"train_src.txt": "1", "train_tgt.txt": "ny", "val_src_bin1.txt": "1", "val_tgt_bin1.txt": "ny"},
            "val_src_bin0.txt is missing",
        ),
    ],
)
def test_malformed_files_name_file_line_and_what_was_expected(tmp_path, files, message):
    directory = tmp_path / "Tomita-3"
    directory.mkdir()
    for name, text in files.items():
        _write(directory, name, text)
    with pytest.raises(RaspInputError, match=message.replace("(", r"\(")):
        read_authors_dir(directory)


def test_a_directory_of_another_name_needs_the_task(tmp_path):
    (tmp_path / "mine").mkdir()
    with pytest.raises(RaspInputError, match="not one of the authors' dataset names"):
        read_authors_dir(tmp_path / "mine")
    with pytest.raises(RaspInputError, match="no such directory"):
        read_authors_dir(tmp_path / "absent")


# ---- 5. the regime as data --------------------------------------------------------------------------------


def test_every_language_has_every_field_with_a_source():
    regime = load_formal()
    assert set(regime) == set(AUTHORS) == {t for t, task in TASKS.items() if task.family == "formal"}
    for task, entry in regime.items():
        assert set(entry) == set(FORMAL_FIELDS), task
        for name, item in entry.items():
            assert item.source.strip(), (task, name)
            if item.value is None:  # nothing fixed by the code: the source must say so
                assert item.source.startswith("not in the code:"), (task, name)
            else:
                assert ".py" in item.source or ".yaml" in item.source or "generated_ds" in item.source, (task, name)


def test_regime_values_as_read_from_the_configs():
    regime = load_formal()
    assert regime["tomita_3"]["test_bins"].value == [[1, 100], [101, 150], [101, 150]]
    assert regime["aa_star"]["test_bins"].value == [[2, 100], [101, 150], [150, 200]]
    assert regime["ab_d_bc"]["test_bins"].value == [[2, 50], [2, 100], [2, 150]]
    assert regime["dyck_4"]["test_bins"].value == [[2, 100], [101, 200], [201, 300]]
    assert regime["abab_star"]["epochs"].value == 150 and regime["abab_star"]["batch_size"].value == 4
    assert regime["tomita_6"]["test_size"].value == 10_000 and regime["aa_star"]["training_size"].value == 40
    assert regime["dyck_3"]["learning_rate"].value == 1e-5 and regime["dyck_3"]["weight_decay"].value == 0.1


def test_a_regime_file_without_sources_is_refused(tmp_path, monkeypatch):
    (tmp_path / "broken.json").write_text(json.dumps({"languages": {"x": {"epochs": 100}}}))
    (tmp_path / "bad.json").write_text("{")
    monkeypatch.setattr(regime, "REGIME_DIR", tmp_path)
    load_formal.cache_clear()
    try:
        with pytest.raises(RaspInputError, match=r"x.epochs: expected"):
            load_formal("broken")
        with pytest.raises(RaspInputError, match=r"bad.json:1:2: not JSON"):
            load_formal("bad")
    finally:
        load_formal.cache_clear()
