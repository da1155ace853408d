"""The fragment rules `predict` applies: a code per rule, the fragments it excludes, and its text.

docs/fragments.md lists them with an example each.
"""

from __future__ import annotations

from dataclasses import dataclass

RASP_L, CRASP, CRASP_POS = "rasp_l", "crasp", "crasp_pos"
FRAGMENTS = (RASP_L, CRASP, CRASP_POS)
FRAGMENT_TITLES = {RASP_L: "RASP-L", CRASP: "C-RASP", CRASP_POS: "C-RASP[periodic, local]"}
NOT_A_PROOF = "no program in the fragment was given; this is not a proof that none exists"


@dataclass(frozen=True)
class Rule:
    code: str
    breaks: frozenset[str]
    text: str


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule(
            "mode",
            frozenset(FRAGMENTS),
            "the fragment describes causal transformers; this program is bidirectional",
        ),
        Rule(
            "periodic",
            frozenset({CRASP}),
            "C-RASP allows no positional information other than counts (indices % m is a periodic position)",
        ),
        Rule(
            "count-map",
            frozenset(FRAGMENTS),
            "counts enter only through linear combinations and comparisons (no arbitrary map of a count); "
            "RASP-L allows index values only to be compared or shifted by constants",
        ),
        Rule(
            "ratio",
            frozenset({CRASP, CRASP_POS}),
            "counts enter only linearly: comparing ratios over different counts multiplies counts",
        ),
        Rule(
            "ratio-sum",
            frozenset(FRAGMENTS),
            "counts enter only linearly (ratios over different counts do not add up linearly); "
            "RASP-L maps only small finite value sets",
        ),
        Rule(
            "mean-sum",
            frozenset({CRASP, CRASP_POS}),
            "counts enter only linearly: a mean over a selector that may select several positions is a ratio of "
            "counts, and ratios over different counts do not add up linearly",
        ),
        Rule(
            "sel-local",
            frozenset({CRASP}),
            "C-RASP selectors compare finite values only; positions are not finite values "
            "(C-RASP[periodic, local] allows this local relation)",
        ),
        Rule(
            "sel-nonlocal",
            frozenset({CRASP, CRASP_POS}),
            "selectors may compare finite values (both fragments) or relate positions within a fixed distance "
            "(C-RASP[periodic, local]); this relation holds at unbounded distance",
        ),
        Rule(
            "sel-count",
            frozenset({CRASP, CRASP_POS}),
            "selector predicates compare finite values only (a finite case split), not counts or positions",
        ),
        Rule(
            "move-count",
            frozenset({CRASP, CRASP_POS}),
            "aggregates carry finite values only; a count read from other positions is not a C-RASP count",
        ),
        Rule(
            "output-count",
            frozenset({CRASP, CRASP_POS}),
            "a C-RASP program outputs Boolean or finite values; an unbounded count is neither",
        ),
        Rule(
            "hint",
            frozenset(),
            "categorical()/numerical() are hints to the compiler: the analysis checks them and trusts only what "
            "it can prove",
        ),
        Rule(
            "no-witness",
            frozenset({CRASP, CRASP_POS}),
            "a ✓ needs a witness: the program rewritten in the fragment's own syntax (docs/fragments.md)",
        ),
        Rule(
            "witness-mismatch",
            frozenset({CRASP, CRASP_POS}),
            "the witness must compute what the program computes; this is a bug in the toolkit, please report it",
        ),
        Rule(
            "rl-compare",
            frozenset({RASP_L}),
            "RASP-L allows index values only to be compared or shifted by constants "
            "(no length - indices, no 2 * indices)",
        ),
        Rule(
            "rl-arith",
            frozenset({RASP_L}),
            "RASP-L maps only small finite value sets and allows index values only to be compared or shifted",
        ),
        Rule(
            "rl-move",
            frozenset({RASP_L}),
            "RASP-L allows index values only to be compared or shifted by constants",
        ),
        Rule(
            "rl-output",
            frozenset({RASP_L}),
            "RASP-L allows index values only to be compared or shifted by constants",
        ),
    )
}
