"""Plain-Python references for every program in programs/: simple loops, no numpy.

Two kinds of reference:

- per-position programs (`PER_POSITION`): `ref(tokens) -> list`, the program's value at every position;
- next-token programs (`GENERATE`): `ref(prompt) -> list`, the tokens the program emits after the prompt,
  the stop token "." included.

Tokens are what the CLI reads: numbers are ints, everything else is a string.
"""

from __future__ import annotations

import re

# ---- classic bidirectional RASP (Weiss et al.) ------------------------------------------------------


def reverse(tokens: list) -> list:
    return list(reversed(tokens))


def hist(tokens: list) -> list:
    return [tokens.count(t) for t in tokens]


def sort_unique(tokens: list) -> list:
    return sorted(tokens)


def sort_dup(tokens: list) -> list:
    return sorted(tokens)


def double_hist(tokens: list) -> list:
    counts = {}
    for t in tokens:
        counts[t] = counts.get(t, 0) + 1
    return [sum(1 for u in counts if counts[u] == counts[t]) for t in tokens]


def most_freq(tokens: list) -> list:
    counts, first = {}, {}
    for i, t in enumerate(tokens):
        counts[t] = counts.get(t, 0) + 1
        first.setdefault(t, i)
    ranked = sorted(counts, key=lambda t: (-counts[t], first[t]))
    return ranked + ["-"] * (len(tokens) - len(ranked))


def length(tokens: list) -> list:
    return [len(tokens)] * len(tokens)


def frac_prevs(tokens: list) -> list:
    out, xs = [], 0
    for i, t in enumerate(tokens):
        xs += t == "x"
        out.append(xs / (i + 1))
    return out


def dyck1(tokens: list) -> list:
    out, depth, failed = [], 0, False
    for t in tokens:
        depth += (t == "(") - (t == ")")
        failed = failed or depth < 0
        out.append("F" if failed else "T" if depth == 0 else "P")
    return out


def dyck2(tokens: list) -> list:
    out, stack, failed = [], [], False
    closer = {"(": ")", "{": "}"}
    for t in tokens:
        if t in closer:
            stack.append(t)
        elif t in (")", "}"):
            if not stack or closer[stack.pop()] != t:
                failed = True
        out.append("F" if failed else "T" if not stack else "P")
    return out


# ---- C-RASP: algorithmic tasks (answer for every prefix) --------------------------------------------


def binary_majority(tokens: list) -> list:
    out, ones, zeros = [], 0, 0
    for t in tokens:
        ones += t == 1
        zeros += t == 0
        out.append(1 if ones > zeros else 0)
    return out


def majority(tokens: list) -> list:
    out, counts = [], {}
    for t in tokens:
        counts[t] = counts.get(t, 0) + 1
        top = max(counts.values())
        out.append(min(c for c in counts if counts[c] == top))
    return out


def binary_majority_interleave(tokens: list) -> list:
    out = []
    for i in range(len(tokens)):
        prefix = tokens[: i + 1]
        answer = ""
        for s in range(3):
            stream = prefix[s::3]
            answer += "1" if stream.count(1) > stream.count(0) else "0"
        out.append(answer)
    return out


# ---- C-RASP: formal languages (membership of every prefix) ------------------------------------------


def _prefix_membership(tokens: list, member) -> list:
    return [member(tokens[: i + 1]) for i in range(len(tokens))]


def _dyck(n: int):
    def member(string: list) -> bool:
        depth = 0
        for t in string:
            depth += 1 if t == "(" else -1
            if depth < 0 or depth > n:
                return False
        return depth == 0

    return lambda tokens: _prefix_membership(tokens, member)


dyck_2, dyck_3, dyck_4, dyck_12 = _dyck(2), _dyck(3), _dyck(4), _dyck(12)


def _regular(pattern: str):
    compiled = re.compile(pattern)

    def member(string: list) -> bool:
        return compiled.fullmatch("".join(str(t) for t in string)) is not None

    return lambda tokens: _prefix_membership(tokens, member)


tomita_1 = _regular("1*")
tomita_2 = _regular("(10)*")
tomita_7 = _regular("0*1*0*1*")
aa_star = _regular("(aa)*")
aaaa_star = _regular("(aaaa)*")
abab_star = _regular("(abab)*")
abcde_star = _regular("a+b+c+d+e+")
ab_d_bc = _regular("[ab]*d[bc]*")


def tomita_4(tokens: list) -> list:
    out, zeros_run = [], 0
    ok = True
    for t in tokens:
        zeros_run = zeros_run + 1 if t == 0 else 0
        ok = ok and zeros_run < 3
        out.append(ok)
    return out


# ---- causal next-token programs: the tokens emitted after the prompt `x1 ... xn >` ------------------


def copy_unique(prompt: list) -> list:
    return prompt[: prompt.index(">")] + ["."]


def sort(prompt: list) -> list:
    return sorted(prompt[: prompt.index(">")]) + ["."]


# ---- Zhou et al.'s suite (programs/zhou.py): the answer to an input, both as the task's string tokens ------


def _mode_counts(xs: list[str]) -> dict[str, int]:
    return {t: xs.count(t) for t in dict.fromkeys(xs)}


def _mode(xs: list[str]) -> str:
    counts = _mode_counts(xs)
    return max(counts, key=counts.__getitem__)


def _operand_halves(xs: list[str]) -> tuple[list[str], list[str]]:
    plus = xs.index("+")
    return xs[:plus], xs[plus + 1 :]


def _sum_digits(a: list[str], b: list[str]) -> list[str]:
    return list(str(int("".join(a)) + int("".join(b))).zfill(len(a)))


def _hinted_addition(xs: list[str], reverse: bool) -> list[str]:
    a, b = _operand_halves(xs)
    pairs = list(zip(a[0::2], _sum_digits(a[1::2], b[1::2])))
    return [t for pair in (pairs[::-1] if reverse else pairs) for t in pair]


def _running_parity(xs: list[str]) -> list[str]:
    out, parity = [], 0
    for hint, bit in zip(xs[0::2], xs[1::2]):
        parity ^= bit == "1"
        out += [hint, str(int(parity))]
    return out


ZHOU_ANSWERS = {
    "count": lambda xs: [str(i) for i in range(int(xs[0]), int(xs[1]) + 1)],
    "mode": lambda xs: [_mode(xs)],
    "mode_poor": lambda xs: [t for k, c in _mode_counts(xs).items() for t in (k, str(c))] + [_mode(xs)],
    "zhou_copy_unique": list,
    "zhou_copy_repeat": list,
    "zhou_sort": lambda xs: sorted(xs, key=int),
    "zhou_addition": lambda xs: _sum_digits(*_operand_halves(xs)),
    "addition_hints": lambda xs: _hinted_addition(xs, reverse=False),
    "addition_hints_reversed": lambda xs: _hinted_addition(xs, reverse=True),
    "zhou_parity": lambda xs: [str(xs.count("1") % 2)],
    "parity_scratchpad": _running_parity,
}


PER_POSITION = {
    "reverse": reverse,
    "hist": hist,
    "sort_unique": sort_unique,
    "sort_dup": sort_dup,
    "double_hist": double_hist,
    "most_freq": most_freq,
    "length": length,
    "frac_prevs": frac_prevs,
    "dyck1": dyck1,
    "dyck2": dyck2,
    "binary_majority": binary_majority,
    "majority": majority,
    "binary_majority_interleave": binary_majority_interleave,
    "dyck_2": dyck_2,
    "dyck_3": dyck_3,
    "dyck_4": dyck_4,
    "dyck_12": dyck_12,
    "tomita_1": tomita_1,
    "tomita_2": tomita_2,
    "tomita_4": tomita_4,
    "tomita_7": tomita_7,
    "aa_star": aa_star,
    "aaaa_star": aaaa_star,
    "abab_star": abab_star,
    "abcde_star": abcde_star,
    "ab_d_bc": ab_d_bc,
}

GENERATE = {
    "copy_unique": copy_unique,
    "sort": sort,
}
