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


# ---- causal next-token programs (Zhou et al.): the tokens emitted after the prompt -----------------


def count(prompt: list) -> list:
    a, b = prompt[0], prompt[1]
    return list(range(a, b + 1)) + ["."]


def mode(prompt: list) -> list:
    """mode.rasp (C-RASP): the most frequent token; a tie goes to the one first in the alphabet."""
    xs = prompt[: prompt.index(">")]
    top = max(xs.count(t) for t in xs)
    return [min(t for t in xs if xs.count(t) == top), "."]


def mode_rasp_l(prompt: list) -> list:
    """mode_rasp_l.rasp: the most frequent token; a tie goes to the one that reaches the top count first."""
    xs = prompt[: prompt.index(">")]
    counts = {}
    for t in xs:
        counts[t] = counts.get(t, 0) + 1
    top = max(counts.values())
    seen = {}
    for t in xs:  # the token whose running count reaches the top count first
        seen[t] = seen.get(t, 0) + 1
        if seen[t] == top:
            return [t, "."]
    raise AssertionError("unreachable")


def copy_unique(prompt: list) -> list:
    return prompt[: prompt.index(">")] + ["."]


def sort(prompt: list) -> list:
    return sorted(prompt[: prompt.index(">")]) + ["."]


def parity_scratchpad(prompt: list) -> list:
    bits = prompt[: prompt.index(">")]
    out, parity = [], 0
    for bit in bits:
        parity ^= bit
        out.append(parity)
    return (out or [0]) + ["."]


HINTS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _operands(prompt: list) -> tuple[list, list, list]:
    """(hints of the first operand, its digits, the second operand's digits) in prompt order."""
    plus, equals = prompt.index("+"), prompt.index("=")
    a, b = prompt[:plus], prompt[plus + 1 : equals]
    return a[0::2], a[1::2], b[1::2]


def addition_hints_reversed(prompt: list) -> list:
    hints, a, b = _operands(prompt)  # least significant digit first
    total = int("".join(str(d) for d in reversed(a))) + int("".join(str(d) for d in reversed(b)))
    digits = [int(c) for c in reversed(str(total).zfill(len(a)))]
    hints = hints + [HINTS[HINTS.index(hints[-1]) + 1]]
    return [t for h, d in zip(hints, digits) for t in (h, d)] + ["."]


def addition_hints(prompt: list) -> list:
    hints, a, b = _operands(prompt)  # most significant digit first
    total = int("".join(str(d) for d in a)) + int("".join(str(d) for d in b))
    digits = [int(c) for c in str(total).zfill(len(a))]
    if len(digits) > len(a):
        hints = [HINTS[HINTS.index(hints[0]) + 1]] + hints
    return [t for h, d in zip(hints, digits) for t in (h, d)] + ["."]


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
    "count": count,
    "mode": mode,
    "mode_rasp_l": mode_rasp_l,
    "copy_unique": copy_unique,
    "sort": sort,
    "parity_scratchpad": parity_scratchpad,
    "addition_hints_reversed": addition_hints_reversed,
    "addition_hints": addition_hints,
}
