"""The formal languages of the suite as DFAs, and per-prefix next-symbol labels.

Following Bhattamishra et al. (2020), as Huang et al. (2025) do: the model reads a string of the language
and, after every prefix (the empty one included), predicts the set of symbols that can come next — `$` for
"the string may end here". A prediction is correct when the whole sequence of sets is.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

END = "$"


@dataclass(frozen=True)
class Dfa:
    """A complete DFA over `alphabet`; `step(state, symbol)` returns None for the dead state."""

    alphabet: str
    start: object
    step: Callable[[object, str], object | None]
    accepting: Callable[[object], bool]
    max_states: int = 64

    @cached_property
    def _live(self) -> set:
        """States from which an accepting state is reachable (found by exploring from the start)."""
        states, frontier, edges = {self.start}, [self.start], {}
        while frontier:
            state = frontier.pop()
            for symbol in self.alphabet:
                nxt = self.step(state, symbol)
                if nxt is None:
                    continue
                edges.setdefault(nxt, set()).add(state)
                if nxt not in states:
                    if len(states) >= self.max_states:
                        raise ValueError("DFA has more states than max_states")
                    states.add(nxt)
                    frontier.append(nxt)
        live = {s for s in states if self.accepting(s)}
        frontier = list(live)
        while frontier:
            for prev in edges.get(frontier.pop(), ()):
                if prev not in live:
                    live.add(prev)
                    frontier.append(prev)
        return live

    def allowed(self, state) -> str:
        """The next-symbol set after reaching `state`, as a sorted string (END last)."""
        if state not in self._allowed:
            symbols = "".join(c for c in self.alphabet if (n := self.step(state, c)) is not None and n in self._live)
            self._allowed[state] = symbols + (END if self.accepting(state) else "")
        return self._allowed[state]

    @cached_property
    def _allowed(self) -> dict:
        return {}

    def labels(self, string: str) -> list[str]:
        """Next-symbol sets after each prefix: len(string) + 1 labels, the empty prefix first."""
        state = self.start
        labels = [self.allowed(state)]
        for symbol in string:
            state = self.step(state, symbol)
            if state is None:
                raise ValueError(f"{string!r} is not a prefix of the language")
            labels.append(self.allowed(state))
        return labels

    def accepts(self, string: str) -> bool:
        state = self.start
        for symbol in string:
            state = self.step(state, symbol)
            if state is None:
                return False
        return self.accepting(state)

    @cached_property
    def _moves(self) -> dict:
        """Live state → [(symbol, next live state)]."""
        moves = {}
        for state in self._live:
            moves[state] = [(c, n) for c in self.alphabet if (n := self.step(state, c)) is not None and n in self._live]
        return moves

    @cached_property
    def _choices_cache(self) -> dict:
        return {}

    def sample(self, rng: random.Random, length: int) -> str | None:
        """A uniformly random string of the language of exactly `length` symbols (None if there is none)."""
        if length == 0:
            return "" if self.start in self._live and self.accepting(self.start) else None
        if length not in self._choices_cache:
            self._choices_cache[length] = self._choices(length)
        choices = self._choices_cache[length]
        if self.start not in choices[0]:
            return None
        state, out = self.start, []
        for position in range(length):
            symbols, following, cumulative = choices[position][state]
            pick = bisect.bisect_right(cumulative, rng.randrange(cumulative[-1]))
            out.append(symbols[pick])
            state = following[pick]
        return "".join(out)

    def _choices(self, length: int) -> list[dict]:
        """choices[i][state]: the moves from `state` at position i that can still end in an accepted string of
        `length` symbols, as (symbols, next states, cumulative counts of such completions) — weights that make
        the string uniform among those of the language."""
        counts = self._counts(length)
        choices: list[dict] = []
        for position in range(length):
            table = {}
            following = counts[position + 1]
            for state in counts[position]:
                moves = [(c, n, following[n]) for c, n in self._moves[state] if n in following]
                if moves:
                    table[state] = (
                        [c for c, _, _ in moves],
                        [n for _, n, _ in moves],
                        list(itertools.accumulate(w for _, _, w in moves)),
                    )
            choices.append(table)
        return choices

    def _counts(self, length: int) -> list[dict]:
        """counts[i][state]: number of accepted completions of length `length - i` from `state`."""
        counts: list[dict] = [dict() for _ in range(length + 1)]
        counts[length] = {s: 1 for s in self._live if self.accepting(s)}
        for i in range(length - 1, -1, -1):
            for s, moves in self._moves.items():
                total = sum(counts[i + 1].get(nxt, 0) for _, nxt in moves)
                if total:
                    counts[i][s] = total
        return counts


def _pattern(blocks: str, alphabet: str) -> Dfa:
    """Languages like aa*bb*cc*: state = (index of the current block, whether it is non-empty)."""

    def step(state, symbol):
        block = state
        for nxt in range(max(block, 0), len(blocks)):
            if blocks[nxt] == symbol and (nxt == block or nxt == block + 1 or block == -1 and nxt == 0):
                return nxt
        return None

    return Dfa(alphabet, -1, step, lambda s: s == len(blocks) - 1)


def _cycle(word: str) -> Dfa:
    """(word)*: the position inside the word."""
    return Dfa(
        "".join(sorted(set(word))),
        0,
        lambda s, c: (s + 1) % len(word) if word[s] == c else None,
        lambda s: s == 0,
    )


def _dyck(depth: int) -> Dfa:
    """D-n of Huang et al.: Dyck-1 with nesting depth at most n (state = current depth)."""
    return Dfa(
        "()",
        0,
        lambda s, c: (s + 1 if s < depth else None) if c == "(" else (s - 1 if s > 0 else None),
        lambda s: s == 0,
    )


# Tomita 3 (Tomita 1982): no odd block of 1s *immediately* followed by an odd block of 0s ("100110" is in the
# language: its odd 0-block follows an even 1-block). The standard minimal DFA: 0 start / after an even 1-block,
# 1 inside an odd 1-block, 2 odd 0s right after an odd 1-block (rejecting; a 1 here is fatal), 3 even 0s there.
_TOMITA3 = {0: {"0": 0, "1": 1}, 1: {"0": 2, "1": 0}, 2: {"0": 3, "1": None}, 3: {"0": 2, "1": 1}}


LANGUAGES: dict[str, Dfa] = {
    "dyck_2": _dyck(2),
    "dyck_3": _dyck(3),
    "dyck_4": _dyck(4),
    "dyck_12": _dyck(12),
    "tomita_1": Dfa("01", 0, lambda s, c: 0 if c == "1" else None, lambda s: True),
    "tomita_2": _cycle("10"),
    "tomita_3": Dfa("01", 0, lambda s, c: _TOMITA3[s][c], lambda s: s != 2),
    "tomita_4": Dfa("01", 0, lambda s, c: (s + 1 if s < 2 else None) if c == "0" else 0, lambda s: True),
    "tomita_5": Dfa(
        "01", (0, 0), lambda s, c: ((s[0] + (c == "0")) % 2, (s[1] + (c == "1")) % 2), lambda s: s == (0, 0)
    ),
    "tomita_6": Dfa("01", 0, lambda s, c: (s + (1 if c == "0" else -1)) % 3, lambda s: s == 0),
    # Tomita 7, 0*1*0*1*: state = which of the four blocks we are in.
    "tomita_7": Dfa("01", 0, lambda s, c: s if "0101"[s] == c else (s + 1 if s < 3 else None), lambda s: True),
    "aa_star": _cycle("aa"),
    "aaaa_star": _cycle("aaaa"),
    "abab_star": _cycle("abab"),
    "abcde_star": _pattern("abcde", "abcde"),
    "ab_d_bc": Dfa(
        "abcd",
        0,
        lambda s, c: (0 if c in "ab" else 1 if c == "d" else None) if s == 0 else (1 if c in "bc" else None),
        lambda s: s == 1,
    ),
    "zot_02": Dfa(
        "012",
        0,
        # state 0: anything so far, last symbol not the start of "02*"; 1: inside a candidate 0 2* suffix
        lambda s, c: 1 if c == "0" else (1 if s == 1 and c == "2" else 0),
        lambda s: s == 1,
    ),
}
