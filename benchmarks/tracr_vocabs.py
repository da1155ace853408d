"""The vocabulary each Tracr library program is benchmarked on, shared by benchmarks/compiler.py (ours) and
benchmarks/tracr_reference.py (Tracr's; it runs under Tracr's own Python, so this module imports nothing)."""

VOCABS = {
    "length": list("abcd"),
    "reverse": list("abcd"),
    "hist": list("abcd"),
    "sort_unique": [1, 2, 3, 4, 5, 6, 7, 8],
    "sort": [1, 2, 3, 4, 5],
    "sort_freq": list("abcd"),
    "frac_prevs": list("abx"),
    "pair_balance": list("()x"),
    "shuffle_dyck": list("()x"),
    "shuffle_dyck2": list("(){}x"),
    "shift_by": list("abc"),
    "detect_pattern": list("abc"),
    "count_less_freq": list("abcd"),
    "count": list("abc"),
}
ORDER = list(VOCABS)
