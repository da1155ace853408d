"""MLPs: lists of ReLU units, each an input form and an output form (`out += form_out * relu(form_in · x)`).

Biases come from the NOTBOS form (1 at real positions, 0 at BOS), so every unit is silent at BOS.

- `lookup_units`: a function of categorical inputs, one unit per combination of their values: the unit
  `relu(Σ onehot_i − (k − 1))` is 1 exactly when all k inputs have that combination, and it writes f(combo).
- `numeric_units`: a function of one numerical input x (with a finite value set x_0 < … < x_m), optionally
  for each combination of categorical inputs. Wherever f changes between neighbours x_i and x_{i+1}, a
  clamped ramp `relu((x−a)/w) − relu((x−a)/w − 1)` with a = x_i + g/4, w = g/2 (g = x_{i+1} − x_i) steps from 0
  to 1 inside the middle half of the gap; it is exactly 0 at every x ≤ x_i and exactly 1 at every x ≥ x_{i+1},
  so the output is exact even when x is off by up to g/4. Gating by a categorical combination subtracts
  B·(1 − gate) with B larger than any (x−a)/w.
- `affine_units`: f affine in x for each categorical combination: `relu(x − lo + B(gate − 1))` times the slope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .layout import NOTBOS, Form, combine

Unit = tuple[Form, Form]


def gate_form(forms: list[Form]) -> Form:
    """1 where every one-hot form is 1, ≤ 0 otherwise (forms of one combination's values)."""
    if not forms:
        return dict(NOTBOS)
    return combine(*((1.0, f) for f in forms), (-(len(forms) - 1), NOTBOS))


def lookup_units(combos: list[tuple[list[Form], Any]], encode: Callable[[Any], Form]) -> list[Unit]:
    """combos: (one-hot forms of the combination, output value); one unit each (zero outputs dropped)."""
    units = []
    for forms, value in combos:
        out = encode(value)
        if out:
            units.append((gate_form(forms), out))
    return units


def numeric_units(
    x: Form,
    points: list[tuple[float, Any]],
    encode: Callable[[Any], Form],
    gate: list[Form] | None = None,
    span: float | None = None,
) -> list[Unit]:
    """Units computing f(x) exactly on `points` ((x_i, f(x_i)) sorted by x_i), gated by `gate` if given."""
    if not points:
        return []
    gated = bool(gate)
    g = gate_form(gate or [])
    units: list[Unit] = []
    base = encode(points[0][1])
    if base:
        units.append((g, base))
    steps = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if y0 == y1 and type(y0) is type(y1):
            continue
        gap = x1 - x0
        steps.append((x0 + gap / 4, gap / 2, combine((1.0, encode(y1)), (-1.0, encode(y0)))))
    if not steps:
        return units
    big = 0.0
    if gated:
        lo, hi = points[0][0], points[-1][0]
        big = max((max(abs(hi - a), abs(lo - a)) / w + 2.0 for a, w, _ in steps), default=2.0)
        if span is not None:
            big = max(big, span)
    penalty = combine((big, g), (-big, NOTBOS)) if gated else {}
    for a, w, delta in steps:
        if not delta:
            continue
        ramp = combine((1.0 / w, x), (-a / w, NOTBOS), (1.0, penalty))
        units.append((ramp, delta))
        units.append((combine((1.0, ramp), (-1.0, NOTBOS)), combine((-1.0, delta))))
    return units


def affine_units(
    x: Form, lo: float, hi: float, slope: float, intercept: float, out: Form, gate: list[Form]
) -> list[Unit]:
    """f(x) = slope·x + intercept for x in [lo, hi], written to `out` (a numerical form), gated."""
    g = gate_form(gate)
    units: list[Unit] = []
    at_lo = slope * lo + intercept
    if at_lo:
        units.append((g, combine((at_lo, out))))
    if slope:
        big = hi - lo + 1.0
        units.append((combine((1.0, x), (-lo, NOTBOS), (big, g), (-big, NOTBOS)), combine((slope, out))))
    return units
