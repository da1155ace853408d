"""Intervals for exact-match rates, and the three-way judgement they allow: generalizes, fails, or undecided."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson(correct: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default).

    Chosen over the normal approximation because our rates sit at 0% and 100% as often as not, where the
    normal interval collapses to a point; Wilson stays inside [0, 1] and has close to nominal coverage there."""
    if total <= 0:
        return (0.0, 1.0)
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def judge(interval: tuple[float, float], criterion: float) -> bool | None:
    """True when the whole interval is at or above the criterion, False when wholly below, None (undecided) when it
    straddles it: a row is only called when the data can tell."""
    low, high = interval
    if low >= criterion:
        return True
    if high < criterion:
        return False
    return None
