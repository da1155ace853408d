"""Every program in programs/ against its plain-Python reference (tests/references.py) on random inputs.

Per-position programs are compared at every position (run_batch, plus a few single `run` calls). Next-token
programs are run through generate_batch, and also teacher-forced: on prompt + answer, the value at every
position from the prompt's last one on is the token that follows it.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import rasp
from rasp.inputs import split_input

try:  # tests/ as a package or as a directory on sys.path (pytest's default rootdir import mode)
    from . import references
except ImportError:
    import references

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
MAX_LEN = 20
CASES = 150


def load(name: str) -> rasp.Program:
    return rasp.load(PROGRAMS / f"{name}.rasp")


# ---- random inputs ------------------------------------------------------------------------------------


def uniform(vocab):
    vocab = list(vocab)
    return lambda rng, n: [rng.choice(vocab) for _ in range(n)]


def distinct(pool):
    pool = list(pool)
    return lambda rng, n: rng.sample(pool, n)


def mutated(member, vocab):
    """Strings from `member` (a sampler of strings of the language), half of them with one symbol changed."""
    vocab = list(vocab)

    def sample(rng, n):
        string = member(rng, n)[:n]
        if string and rng.random() < 0.5:
            string[rng.randrange(len(string))] = rng.choice(vocab)
        return string

    return sample


def mixed(*samplers):
    return lambda rng, n: rng.choice(samplers)(rng, n)


def walk(opens, closes, bias):
    """Bracket strings as a random walk that opens with probability `bias`."""
    return lambda rng, n: [rng.choice(opens) if rng.random() < bias else rng.choice(closes) for _ in range(n)]


def bounded_dyck(depth):
    def sample(rng, n):
        out, d = [], 0
        for _ in range(n):
            if d == 0 or (d < depth and rng.random() < 0.5):
                out.append("(")
                d += 1
            else:
                out.append(")")
                d -= 1
        return out

    return sample


def nested_dyck2(rng, n):
    out, stack = [], []
    for _ in range(n):
        if stack and rng.random() < 0.5:
            out.append({"(": ")", "{": "}"}[stack.pop()])
        else:
            stack.append(rng.choice("({"))
            out.append(stack[-1])
    return out


def repeat(word):
    return lambda rng, n: [word[i % len(word)] for i in range(n)]


def blocks(letters, numbers=False):
    """Strings letter1+ letter2+ ...: random block lengths."""

    def sample(rng, n):
        out = []
        for letter in letters:
            out += [letter] * rng.randint(0 if numbers else 1, 4)
        return out

    return sample


def tomita_7_member(rng, n):
    return [0] * rng.randint(0, 5) + [1] * rng.randint(0, 5) + [0] * rng.randint(0, 5) + [1] * rng.randint(0, 5)


def ab_d_bc_member(rng, n):
    k = rng.randint(0, max(0, n - 1))
    return [rng.choice("ab") for _ in range(k)] + ["d"] + [rng.choice("bc") for _ in range(n - k - 1)]


LETTERS = "abcdefghijklmnopqrstuvwxyz"

# Each entry: one or more samplers; each one's inputs make a batch of their own (an evaluation batch mixing
# letters and numbers fails where a program orders tokens: the evaluator compares values across the batch).
INPUTS = {
    "reverse": [uniform("abcde"), uniform(range(10))],
    "hist": [mixed(uniform("abc"), uniform(LETTERS)), uniform(range(5))],
    "sort_unique": [distinct(LETTERS), distinct(range(100))],
    "sort_dup": [uniform("abcd"), uniform(range(6))],
    "double_hist": [mixed(uniform("abc"), uniform("abcdefg"))],
    "most_freq": [mixed(uniform("abc"), uniform("abcdefg")), uniform(range(4))],
    "length": [uniform("ab")],
    "frac_prevs": [uniform("xab")],
    "dyck1": [mixed(walk("(", ")", 0.5), walk("(", ")", 0.65), walk("(", ")a", 0.6))],
    "dyck2": [mixed(mutated(nested_dyck2, "(){}"), uniform("(){}"))],
    "binary_majority": [uniform([0, 1])],
    "majority": [mixed(uniform("abc"), uniform("abcdefg"), uniform(LETTERS))],
    "binary_majority_interleave": [uniform([0, 1])],
    "dyck_2": [mixed(mutated(bounded_dyck(2), "()"), mutated(bounded_dyck(3), "()"), walk("(", ")", 0.5))],
    "dyck_3": [mixed(mutated(bounded_dyck(3), "()"), mutated(bounded_dyck(4), "()"), walk("(", ")", 0.55))],
    "dyck_4": [mixed(mutated(bounded_dyck(4), "()"), mutated(bounded_dyck(5), "()"), walk("(", ")", 0.6))],
    "dyck_12": [mixed(mutated(bounded_dyck(12), "()"), mutated(bounded_dyck(14), "()"), walk("(", ")", 0.7))],
    "tomita_1": [mixed(mutated(repeat([1]), [0, 1]), uniform([0, 1]))],
    "tomita_2": [mixed(mutated(repeat([1, 0]), [0, 1]), uniform([0, 1]))],
    "tomita_4": [mixed(uniform([0, 1]), walk([0], [1], 0.75))],
    "tomita_7": [mixed(mutated(tomita_7_member, [0, 1]), uniform([0, 1]))],
    "aa_star": [mixed(mutated(repeat("a"), "ab"), repeat("a"))],
    "aaaa_star": [mixed(mutated(repeat("a"), "ab"), repeat("a"))],
    "abab_star": [mixed(mutated(repeat("ab"), "ab"), uniform("ab"))],
    "abcde_star": [mixed(mutated(blocks("abcde"), "abcde"), blocks("abcde"), uniform("abcde"))],
    "ab_d_bc": [mixed(mutated(ab_d_bc_member, "abcd"), uniform("abcd"))],
}


def with_sep(sampler):
    return lambda rng, n: sampler(rng, n) + [">"]


PROMPTS = {
    "copy_unique": with_sep(distinct(range(150))),
    "sort": with_sep(distinct(range(150))),
}


def _seed(name: str) -> int:
    return sum(map(ord, name))  # stable across runs (hash() of a str is salted)


def random_inputs(sampler, seed: int, cases: int = CASES) -> list[list]:
    rng = random.Random(seed)
    inputs = [sampler(rng, n) for n in range(MAX_LEN + 1)]  # every length at least once
    inputs += [sampler(rng, rng.randint(0, MAX_LEN)) for _ in range(cases)]
    return inputs


# ---- the suite ------------------------------------------------------------------------------------------


def test_every_program_has_a_reference_and_inputs():
    names = sorted(p.stem for p in PROGRAMS.glob("*.rasp"))
    zhou = set(references.ZHOU_ANSWERS) & set(names)  # checked on their tasks' examples by tests/test_zhou.py
    covered = set(references.PER_POSITION) | set(references.GENERATE) | zhou
    assert sorted(covered) == names
    assert set(INPUTS) == set(references.PER_POSITION)
    assert set(PROMPTS) == set(references.GENERATE)


@pytest.mark.parametrize("name", sorted(references.PER_POSITION))
def test_per_position_program(name):
    program = load(name)
    reference = references.PER_POSITION[name]
    for k, sampler in enumerate(INPUTS[name]):
        inputs = random_inputs(sampler, seed=_seed(name) + k, cases=CASES // len(INPUTS[name]))
        outputs = program.run_batch(inputs)
        for tokens, got in zip(inputs, outputs):
            assert got == reference(tokens), tokens
    for tokens in inputs[-3:]:  # single runs agree with batched ones
        assert program.run(tokens) == reference(tokens), tokens


@pytest.mark.parametrize("name", sorted(references.GENERATE))
def test_next_token_program(name):
    program = load(name)
    assert program.mode == "causal"
    reference = references.GENERATE[name]
    prompts = random_inputs(PROMPTS[name], seed=_seed(name), cases=80)
    expected = [reference(p) for p in prompts]
    generated = program.generate_batch(prompts, max_new=2 * MAX_LEN + 8, stop=".")
    for prompt, want, got in zip(prompts, expected, generated):
        assert got == want, prompt
    # Teacher forcing: the value at each position is the token that comes next.
    full = [p + want for p, want in zip(prompts, expected)]
    for prompt, want, values in zip(prompts, expected, program.run_batch(full)):
        assert values[len(prompt) - 1 : -1] == want, prompt
    for prompt, want in zip(prompts[-2:], expected[-2:]):
        assert program.generate(prompt, max_new=2 * MAX_LEN + 8, stop=".") == want


def test_sort_emits_the_sorted_list():
    assert load("sort").generate([31, 4, 15, 9, 26, ">"], stop=".") == [4, 9, 15, 26, 31, "."]


def test_membership_programs_answer_per_prefix():
    program = load("dyck_2")
    tokens = list("(())((()))")
    values = program.run(tokens)
    assert values == [program.run(tokens[: i + 1])[-1] for i in range(len(tokens))]


# ---- headers ----------------------------------------------------------------------------------------------


def header(path: Path) -> dict[str, str]:
    """The leading comment block's `# key: value` lines."""
    fields: dict[str, str] = {}
    lines = path.read_text().splitlines()
    assert lines and lines[0].startswith("#"), f"{path.name} does not start with a header comment"
    for line in lines[1:]:  # the first line is the title
        if not line.startswith("#"):
            break
        match = re.match(r"#\s*([a-z-]+):\s*(.*)$", line)
        if match:
            fields.setdefault(match.group(1), match.group(2).strip())
    return fields


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.rasp")), ids=lambda p: p.stem)
def test_header_and_example(path):
    fields = header(path)
    assert "vocabulary" in fields, f"{path.name}: no '# vocabulary:' line"
    assert "mode" in fields, f"{path.name}: no '# mode:' line"
    program = rasp.load(path)
    declared = fields["mode"].split()[0].rstrip(";,.")
    assert declared == program.mode, f"{path.name}: the header says {declared}, the file runs {program.mode}"
    if "example" in fields:
        tokens = split_input(fields["example"])
    elif "example-tokens" in fields:
        tokens = split_input(fields["example-tokens"], whitespace=True)
    else:
        if path.stem == "reverse":  # not written by this suite's owner; its header has no example line yet
            pytest.skip("reverse.rasp has no '# example:' line")
        raise AssertionError(f"{path.name}: no '# example:' or '# example-tokens:' line")
    assert tokens, f"{path.name}: empty example"
    if "generate" in fields:
        stop = split_input(fields["generate"].split()[-1], whitespace=True)[0]
        new = program.generate(tokens, max_new=64, stop=stop)
        if path.stem in references.ZHOU_ANSWERS:  # `<bos> input <sep>` → answer `<eos>`, the task's frame
            inputs = [str(t) for t in tokens[1:-1]]
            assert [str(t) for t in new] == [*references.ZHOU_ANSWERS[path.stem](inputs), "<eos>"]
        else:
            assert new == references.GENERATE[path.stem](tokens)
    else:
        assert program.run(tokens) == references.PER_POSITION[path.stem](tokens)
