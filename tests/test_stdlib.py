"""The standard library (rasp/lib/std.rasp) against plain-Python references, in both modes.

One program binds every library function applied to the input; each reference below computes the same
function with loops, given the input and the mode. `seen(i)` is the set of positions position i may read:
j <= i causally, every position bidirectionally.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import rasp

STD = Path(rasp.__file__).resolve().parent / "lib" / "std.rasp"

# The program under test; $A, $B, $C, $D are the vocabulary's four tokens.
SOURCE = """
load "std";
q = shift_fill(1, tokens, "_");
idx = {$A: 0, $B: 3, $C: 5, $D: 1}[tokens];
make_length_ = make_length();
shift_by_1 = shift_by(1, tokens);
shift_by_2 = shift_by(2, tokens);
shift_by_back = shift_by(-1, tokens);
shift_fill_1 = shift_fill(1, tokens, "_");
index_select_2 = index_select(tokens, 2);
index_select_idx = index_select(tokens, idx);
index_fill_3 = index_fill(tokens, 3, "_");
where_ = where(tokens == $A, indices, -1);
mask_ = mask(tokens, tokens != $B, "_");
cumsum_of_ = cumsum_of(tokens == $A);
count_of_ = count_of(tokens, $B);
hist_ = hist(tokens);
frac_of_ = frac_of(tokens == $A);
any_so_far_ = any_so_far(tokens == $C);
all_so_far_ = all_so_far(tokens != $C);
prefix_count_ = prefix_count(tokens == $A);
count_less_ = count_less(tokens);
first_index_ = first_index(tokens);
last_index_ = last_index(tokens);
prev_index_ = prev_index(tokens);
is_first_ = is_first(tokens);
first_true_ = first_true(tokens == $C);
last_true_ = last_true(tokens == $C);
firsts_ = firsts(tokens, q);
lasts_ = lasts(tokens, q);
has_seen_ = has_seen(tokens, q);
running_max_ = running_max(tokens);
running_min_ = running_min(tokens);
induct_ = induct(tokens);
induct_kqv_ = induct_kqv(tokens, q, tokens, 1);
"""


def program_for(vocab: tuple) -> rasp.Program:
    a, b, c, d = (repr(v).replace("'", '"') for v in vocab)
    source = SOURCE.replace("$A", a).replace("$B", b).replace("$C", c).replace("$D", d)
    return rasp.parse(source, "<stdlib test>")


def references(tokens: list, causal: bool, vocab: tuple) -> dict[str, list]:
    """Every bound name's expected values."""
    A, B, C, D = vocab
    n = len(tokens)

    def seen(i: int) -> list[int]:
        return list(range(i + 1)) if causal else list(range(n))

    def at(j: int, default=0):
        return tokens[j] if 0 <= j < n else default

    def visible_at(i: int, j: int, default=0):
        return tokens[j] if j in seen(i) else default

    q = [at(i - 1, "_") for i in range(n)]
    idx = [{A: 0, B: 3, C: 5, D: 1}[t] for t in tokens]

    def count(i: int, pred) -> int:
        return sum(1 for j in seen(i) if pred(j))

    def firsts(i: int, k: list, query) -> int:
        return min((j for j in seen(i) if k[j] == query), default=-1)

    def lasts(i: int, k: list, query) -> int:
        return max((j for j in seen(i) if k[j] == query), default=-1)

    def prev_index(i: int) -> int:
        return max((j for j in range(i) if tokens[j] == tokens[i]), default=-1)

    def induct(i: int):
        p = prev_index(i)
        return tokens[p + 1] if p >= 0 else 0

    def induct_kqv(i: int):
        f = firsts(i, tokens, q[i])
        return visible_at(i, f + 1) if f >= 0 else 0

    rows = {
        "make_length_": lambda i: len(seen(i)),
        "shift_by_1": lambda i: at(i - 1),
        "shift_by_2": lambda i: at(i - 2),
        "shift_by_back": lambda i: visible_at(i, i + 1),
        "shift_fill_1": lambda i: at(i - 1, "_"),
        "index_select_2": lambda i: visible_at(i, 2),
        "index_select_idx": lambda i: visible_at(i, idx[i]),
        "index_fill_3": lambda i: visible_at(i, 3, "_"),
        "where_": lambda i: i if tokens[i] == A else -1,
        "mask_": lambda i: tokens[i] if tokens[i] != B else "_",
        "cumsum_of_": lambda i: count(i, lambda j: tokens[j] == A),
        "count_of_": lambda i: count(i, lambda j: tokens[j] == B),
        "hist_": lambda i: count(i, lambda j: tokens[j] == tokens[i]),
        "frac_of_": lambda i: count(i, lambda j: tokens[j] == A) / len(seen(i)),
        "any_so_far_": lambda i: count(i, lambda j: tokens[j] == C) > 0,
        "all_so_far_": lambda i: count(i, lambda j: tokens[j] == C) == 0,
        "prefix_count_": lambda i: sum(1 for j in range(i + 1) if tokens[j] == A),
        "count_less_": lambda i: count(i, lambda j: tokens[j] < tokens[i]),
        "first_index_": lambda i: firsts(i, tokens, tokens[i]),
        "last_index_": lambda i: lasts(i, tokens, tokens[i]),
        "prev_index_": prev_index,
        "is_first_": lambda i: prev_index(i) == -1,
        "first_true_": lambda i: min((j for j in seen(i) if tokens[j] == C), default=-1),
        "last_true_": lambda i: max((j for j in seen(i) if tokens[j] == C), default=-1),
        "firsts_": lambda i: firsts(i, tokens, q[i]),
        "lasts_": lambda i: lasts(i, tokens, q[i]),
        "has_seen_": lambda i: firsts(i, tokens, q[i]) >= 0,
        "running_max_": lambda i: max(tokens[j] for j in seen(i)),
        "running_min_": lambda i: min(tokens[j] for j in seen(i)),
        "induct_": induct,
        "induct_kqv_": induct_kqv,
    }
    return {name: [row(i) for i in range(n)] for name, row in rows.items()}


VOCABULARIES = [("a", "b", "c", "d"), (0, 1, 2, 3)]


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "bidirectional"])
@pytest.mark.parametrize("vocab", VOCABULARIES, ids=["letters", "numbers"])
def test_stdlib_against_references(vocab, causal):
    program = program_for(vocab)
    names = [n for n in program.sop_names() if n not in ("q", "idx")]
    expected_names = set(references([], causal, vocab))
    assert set(names) == expected_names
    rng = random.Random(7 if causal else 8)
    small = vocab[:3]
    batch = [[rng.choice(vocab if k % 2 else small) for _ in range(rng.randint(0, 16))] for k in range(200)]
    batch += [[]] + [[v] for v in vocab]
    values = program.evaluate(batch, names, causal=causal)
    for b, tokens in enumerate(batch):
        expected = references(tokens, causal, vocab)
        for name in names:
            assert values[name][b] == expected[name], (name, tokens)


def test_every_library_function_is_tested_and_commented():
    text = STD.read_text()
    functions = re.findall(r"^def (\w+)\(", text, flags=re.M)
    tested = set(re.findall(r"=\s*(\w+)\(", SOURCE))
    assert set(functions) <= tested, set(functions) - tested
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("def "):
            name = line.split()[1].split("(")[0]
            comments = []
            k = number - 1
            while k >= 0 and lines[k].startswith("#"):
                comments.insert(0, lines[k])
                k -= 1
            assert comments and comments[0].startswith(f"# {name}("), f"{name}: no comment line naming it"


def test_std_loads_from_a_file_and_costs_nothing_unused():
    bare = rasp.parse("x = tokens;")
    with_std = rasp.parse('load "std";\nx = tokens;')
    assert len(with_std.graph.nx) == len(bare.graph.nx)
    assert with_std.run(list("ab")) == list("ab")


def test_causal_count_is_a_prefix_count():
    program = rasp.parse('load "std"; c = cumsum_of(tokens == "a");')
    assert program.run(list("abaa")) == [1, 1, 2, 3]
    assert program.run(list("abaa"), causal=False) == [3, 3, 3, 3]
    program = rasp.parse('load "std"; c = prefix_count(tokens == "a");')
    assert program.run(list("abaa"), causal=False) == [1, 1, 2, 3]
