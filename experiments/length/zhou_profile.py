"""Zhou et al.'s protocol as profiles: `zhou` (the paper's scale, a GPU), `zhou-quick` (2 CPU cores) and
`zhou-quick-long` (zhou-quick with a larger budget, for the rows zhou-quick v1 left without an outcome).

Every task trains on lengths up to L and is judged on L+1 … L+10 (the paper's Figure 1a criterion: exact match on
inputs 10 longer than the longest training input), with a longer bin as the curve beyond. count trains to 60 and is
tested to 149 in both profiles (the paper's Figure 1b: count holds to 150 once trained on 60). Values the paper does
not give are proposals, marked so in docs/zhou_tasks.md (where each value's source is); the protocol file fixes
which profile a run uses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rasp.errors import RaspInputError

from .profiles import Architecture, Profile


@dataclass(frozen=True)
class ZhouLengths:
    train: tuple[int, int]
    bins: tuple[tuple[int, int], ...]  # L+1..L+10 first (the deciding bin), then the curve beyond
    numbers: int | None = None  # the number tasks' vocabulary (None: all 150)
    hint_pool: int | None = None  # hinted tasks: hints drawn from this many (longer than the longest test)
    steps: int | None = None  # None: the profile's
    layers: int | None = None  # None: the profile's (or, in zhou-quick, 3 for the hinted tasks and their partners)


_COUNT = ZhouLengths((0, 60), ((61, 70), (71, 100), (101, 149)), numbers=150)
# task -> lengths, per profile (docs/zhou_tasks.md, "Proposed profiles")
ZHOU_LENGTHS = {
    "zhou": {
        "count": _COUNT,
        **dict.fromkeys(("mode", "mode_poor"), ZhouLengths((1, 40), ((41, 50), (51, 80)))),
        **dict.fromkeys(
            ("zhou_copy_unique", "zhou_copy_repeat", "zhou_sort"), ZhouLengths((1, 40), ((41, 50), (51, 80)))
        ),
        **dict.fromkeys(
            ("zhou_addition", "addition_hints", "addition_hints_reversed"),
            ZhouLengths((1, 40), ((41, 50), (51, 60)), hint_pool=100),
        ),
        **dict.fromkeys(
            ("zhou_parity", "parity_scratchpad"), ZhouLengths((1, 40), ((41, 50), (51, 80)), hint_pool=100)
        ),
    },
    "zhou-quick": {
        "count": ZhouLengths((0, 60), ((61, 70), (71, 100), (101, 149)), numbers=150, steps=8000),
        **dict.fromkeys(("mode", "mode_poor"), ZhouLengths((1, 40), ((41, 50), (51, 80)))),
        **dict.fromkeys(
            ("zhou_copy_unique", "zhou_copy_repeat", "zhou_sort"),
            ZhouLengths((1, 20), ((21, 30), (31, 40)), numbers=64),
        ),
        **dict.fromkeys(
            ("zhou_addition", "addition_hints", "addition_hints_reversed"),
            ZhouLengths((1, 10), ((11, 20), (21, 30)), hint_pool=32),
        ),
        **dict.fromkeys(("zhou_parity", "parity_scratchpad"), ZhouLengths((1, 20), ((21, 30), (31, 40)), hint_pool=48)),
    },
}
# The rows zhou-quick v1 left without an outcome, on zhou-quick's lengths; the budget (four times the steps) is the
# zhou-quick-long profile's (experiments/length/protocols.json). v2: the copy tasks, on zhou-quick's model. v3: forward
# addition with index hints and without, on a model as deep as addition_hints.rasp (5 layers: `rasp measure`). v4:
# parity with the hinted scratchpad (3 layers, its program's depth and v1's model). v5: reversed addition with index
# hints, on a model as deep as addition_hints_reversed.rasp (4 layers)
ZHOU_LENGTHS["zhou-quick-long"] = {
    **{task: ZHOU_LENGTHS["zhou-quick"][task] for task in ("zhou_copy_unique", "zhou_copy_repeat")},
    **{task: replace(ZHOU_LENGTHS["zhou-quick"][task], layers=5) for task in ("zhou_addition", "addition_hints")},
    "parity_scratchpad": replace(ZHOU_LENGTHS["zhou-quick"]["parity_scratchpad"], layers=3),
    "addition_hints_reversed": replace(ZHOU_LENGTHS["zhou-quick"]["addition_hints_reversed"], layers=4),
}
# v6: the copy tasks' NoPE rows on 3 layers, one more than the copy program's two attention layers: without
# positional encodings the model must compute positions (the program's `indices`, and the shift it needs) first
ZHOU_LENGTHS["zhou-quick-long-deep"] = {
    task: replace(ZHOU_LENGTHS["zhou-quick"][task], layers=3) for task in ("zhou_copy_unique", "zhou_copy_repeat")
}
# v7 and v8: the copy tasks at the `zhou` profile's lengths and vocabulary (train 1-40, judged at 41-50, the curve to
# 80; all 150 numbers), each encoding on the model its rows were last decided on: APE on zhou-quick's 2 layers (v2),
# NoPE on 3 (v6). Whether the quick profile's halved lengths (L + 10 is 1.5 L there, 1.25 L here) decided v2's rows
ZHOU_LENGTHS["zhou-quick-copy40"] = {
    task: ZHOU_LENGTHS["zhou"][task] for task in ("zhou_copy_unique", "zhou_copy_repeat")
}
ZHOU_LENGTHS["zhou-quick-copy40-deep"] = {
    task: replace(lengths, layers=3) for task, lengths in ZHOU_LENGTHS["zhou-quick-copy40"].items()
}
# v9: v7's lengths and model; the profile trains APE without random position offsets (profiles.py)
ZHOU_LENGTHS["zhou-quick-copy40-no-offsets"] = ZHOU_LENGTHS["zhou-quick-copy40"]
# v10: v1's lengths and models; the profile trains APE without random position offsets (profiles.py)
ZHOU_LENGTHS["zhou-quick-no-offsets"] = ZHOU_LENGTHS["zhou-quick"]
# the hinted tasks and their ✗ partners need more depth than the quick model (the hinted programs have 3-5 layers)
_DEEPER = ("zhou_addition", "addition_hints", "addition_hints_reversed", "zhou_parity", "parity_scratchpad")


def resolve(profile: Profile, task: str) -> Profile:
    """The profile a run of one of Zhou et al.'s tasks trains under."""
    table = ZHOU_LENGTHS.get(profile.name)
    if table is None or task not in table:
        raise RaspInputError(
            f"the {profile.name} profile is for Zhou et al.'s tasks ({', '.join(ZHOU_LENGTHS['zhou'])})"
        )
    lengths = table[task]
    arch = profile.architecture
    if profile.name.startswith("zhou-quick") and task in _DEEPER:
        arch = Architecture(lengths.layers or 3, 4, arch.width, arch.lr, arch.mlp_ratio)
    elif lengths.layers:
        arch = replace(arch, layers=lengths.layers)
    return profile.with_(
        train_lengths=lengths.train,
        test_bins=(lengths.train, *lengths.bins),
        architecture=arch,
        sweep=(arch,),
        steps=lengths.steps or profile.steps,
        min_steps=lengths.steps or profile.min_steps,
        vocabulary_limit=lengths.numbers,
        hint_pool=lengths.hint_pool,
    )
