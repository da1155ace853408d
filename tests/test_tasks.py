"""The task suite: languages against independent definitions, and examples in the documented format."""

import itertools
import os
import random
import re
from pathlib import Path

import pytest

from programs.languages import END, LANGUAGES
from programs.task import BOS, EOS, SEP
from programs.tasks import TASKS, get_task
from rasp.errors import RaspInputError


def _dyck(depth):
    def member(s):
        d = 0
        for c in s:
            d += 1 if c == "(" else -1
            if not 0 <= d <= depth:
                return False
        return d == 0

    return member


def _tomita3(s):
    """No odd block of 1s immediately followed by an odd block of 0s (Tomita 1982)."""
    blocks = [(symbol, len(list(group))) for symbol, group in itertools.groupby(s)]
    return not any(
        a == "1" and m % 2 and b == "0" and n % 2 for (a, m), (b, n) in zip(blocks, blocks[1:], strict=False)
    )


def _regex(pattern):
    return lambda s: re.fullmatch(pattern, s) is not None


MEMBERSHIP = {
    "dyck_2": _dyck(2),
    "dyck_3": _dyck(3),
    "dyck_4": _dyck(4),
    "dyck_12": _dyck(12),
    "tomita_1": _regex(r"1*"),
    "tomita_2": _regex(r"(10)*"),
    "tomita_3": _tomita3,
    "tomita_4": lambda s: "000" not in s,
    "tomita_5": lambda s: s.count("0") % 2 == 0 and s.count("1") % 2 == 0,
    "tomita_6": lambda s: (s.count("0") - s.count("1")) % 3 == 0,
    "tomita_7": _regex(r"0*1*0*1*"),
    "aa_star": _regex(r"(aa)*"),
    "aaaa_star": _regex(r"(aaaa)*"),
    "abab_star": _regex(r"(abab)*"),
    "abcde_star": _regex(r"aa*bb*cc*dd*ee*"),
    "ab_d_bc": _regex(r"[ab]*d[bc]*"),
    "zot_02": _regex(r"[012]*02*"),
}


def test_every_language_has_an_independent_definition():
    assert set(MEMBERSHIP) == set(LANGUAGES)


@pytest.mark.parametrize("name", sorted(LANGUAGES))
def test_dfa_matches_definition_on_all_short_strings(name):
    dfa, member = LANGUAGES[name], MEMBERSHIP[name]
    for n in range(8):
        for letters in itertools.product(dfa.alphabet, repeat=n):
            s = "".join(letters)
            assert dfa.accepts(s) == member(s), s


@pytest.mark.parametrize("name", sorted(LANGUAGES))
def test_next_symbol_labels_agree_with_membership(name):
    dfa, member = LANGUAGES[name], MEMBERSHIP[name]
    rng = random.Random(1)
    for length in (4, 6, 8):
        s = dfa.sample(rng, length)
        if s is None:
            continue
        assert member(s)
        for i, label in enumerate(dfa.labels(s)):
            prefix = s[:i]
            assert (END in label) == member(prefix)
            for c in dfa.alphabet:
                # c may follow iff some completion of prefix + c (up to 8 more symbols) is in the language
                extendable = any(
                    member(prefix + c + "".join(rest))
                    for k in range(0, 9)
                    for rest in itertools.product(dfa.alphabet, repeat=k)
                    if k <= 4 or len(dfa.alphabet) <= 2
                )
                assert (c in label) == extendable, (prefix, c, label)


@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_examples_have_the_documented_format(task_id):
    task = get_task(task_id)
    rng = random.Random(0)
    for _ in range(20):
        example = task.sample(rng, 1, 12)
        assert example.tokens[0] == BOS
        assert len(example.tokens) == len(example.targets)
        assert set(example.tokens) <= set(task.vocabulary)
        assert {t for t in example.targets if t is not None} <= set(task.vocabulary)
        if task.family == "formal":
            assert all(t is not None for t in example.targets)
        else:
            sep = example.tokens.index(SEP)
            assert example.tokens[-1] == EOS
            assert example.targets[:sep] == [None] * sep
            assert example.targets[sep:-1] == example.tokens[sep + 1 :]


def test_algorithmic_answers():
    rng = random.Random(3)
    for _ in range(50):
        inputs, answer = get_task("sort").make(rng, 7)
        assert answer == sorted(inputs, key=int)
        inputs, answer = get_task("addition").make(rng, 9)
        a, b = "".join(inputs).split("+")
        assert int("".join(answer), 2) == int(a, 2) + int(b, 2)


def test_unknown_task_is_a_clear_error():
    with pytest.raises(RaspInputError, match="did you mean 'parity'"):
        get_task("parityy")


@pytest.mark.parametrize("profile_name", ["quick", "paper"])
def test_every_task_has_examples_in_every_bin_of_the_profiles(profile_name):
    from experiments.length.profiles import PROFILES

    profile = PROFILES[profile_name]
    for task in TASKS.values():
        if task.family == "rasp_l" and profile_name == "paper":
            continue  # Zhou et al.'s tasks have their own lengths (docs/zhou_tasks.md), not Huang et al.'s 0-150
        task = task.with_vocabulary_limit(profile.vocabulary_limit)
        for low, high in (profile.train_lengths, *profile.test_bins):
            example = task.sample(random.Random(0), low, high)
            assert low <= example.input_length or task.family != "algorithmic"


def test_vocabularies_do_not_depend_on_the_hash_seed():
    # token ids come from the vocabulary order; a set-order tie once made tomita_5's ids differ between processes
    import subprocess
    import sys

    script = "from programs.tasks import TASKS, get_task; print([get_task(t).vocabulary for t in TASKS])"
    root = Path(__file__).resolve().parent.parent
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(8)
    }
    assert len(outputs) == 1
