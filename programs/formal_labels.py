"""The formal languages' label formats as Huang et al. (2025) write their targets, one label per position
(programs/formal_authors.py pairs each with its generator; docs/authors_protocol.md gives the sources)."""

from __future__ import annotations

from collections.abc import Callable

from .languages import Dfa


def symbol_pairs(dfa: Dfa, keeps: Callable[[object, str], bool]) -> Callable[[str], list[str]]:
    """Tomita 1-4, 7 (generators/tomita_generator.py: Tomita1Language.get_legal_characters, output_generator):
    after each prefix, whether 0 and whether 1 may follow, as y/n; no end-of-string flag."""

    def labels(string: str) -> list[str]:
        state, out = dfa.start, []
        for i in range(len(string) + 1):
            out.append("".join("y" if keeps(state, c) else "n" for c in "01"))
            if i < len(string):
                state = dfa.step(state, string[i])
        return out

    return labels


def live(dfa: Dfa) -> Callable[[object, str], bool]:
    return lambda state, symbol: symbol in dfa.allowed(state)


def accepting(dfa: Dfa) -> Callable[[object, str], bool]:
    """Tomita 3's dead_states in the authors' generator hold the rejecting live state too, so there a symbol
    'may follow' only if the prefix stays in the language."""
    return lambda state, symbol: (nxt := dfa.step(state, symbol)) is not None and dfa.accepting(nxt)


def membership(dfa: Dfa, yes: str, no: str) -> Callable[[str], list[str]]:
    """Per-prefix membership (tomita_generator.py: TomitaLanguage.output_generator with y/n;
    nonstarfree_generator.py: NonStarFreeLanguage.output_generator with 1/0); the empty prefix is in all of them."""

    def labels(string: str) -> list[str]:
        return [yes if dfa.accepts(string[:i]) else no for i in range(len(string) + 1)]

    return labels


def dyck_labels(depth: int) -> Callable[[str], list[str]]:
    """starfree_generator.py: D_nLanguage.get_final_state: may a / may b follow, as 10, 11 or 01."""

    def labels(string: str) -> list[str]:
        level, out = 0, []
        for i in range(len(string) + 1):
            out.append("10" if level == 0 else "01" if level == depth else "11")
            if i < len(string):
                level += 1 if string[i] == "a" else -1
        return out

    return labels


def abcde_labels(string: str) -> list[str]:
    """starfree_generator.py: AAStarBBStarLanguage.output_generator: the next letter, upper case (T after e)."""
    return ["A"] + ["BCDET"["abcde".index(c)] for c in string]


def ab_d_bc_labels(string: str) -> list[str]:
    """starfree_generator.py: AB_D_BC.output_generator: a,b,c,d flags, 1101 before the d and 0110 from it."""
    split = string.rfind("d")
    return ["1101"] + ["1101" if i < split else "0110" for i in range(len(string))]


def zot_02_labels(string: str) -> list[str]:
    """starfree_generator.py: ZOT_Z_T.output_generator: e at a 2 with only 2s since the last 0, else c. A prefix
    ending in 0 is in {0,1,2}*02* yet labelled c there: kept as the authors have it."""
    after_zero, out = False, ["c"]
    for c in string:
        after_zero = True if c == "0" else False if c == "1" else after_zero
        out.append("e" if c == "2" and after_zero else "c")
    return out
