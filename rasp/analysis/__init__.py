"""Program analysis: length measures (`measure`), value kinds and fragment verdicts (`predict`), pictures.

`rasp.measure(program)` and `rasp.predict(program)` are re-exported from the package. Nothing here imports
matplotlib or torch at import time (`draw.py` imports matplotlib inside its functions).
"""

from __future__ import annotations

from .fragments import FRAGMENTS, RULES, kinds_table, predict
from .kinds import infer_kinds
from .measure import Layer, Measure, measure
from .verdicts import Prediction, Verdict, Violation

__all__ = [
    "FRAGMENTS",
    "Layer",
    "Measure",
    "Prediction",
    "RULES",
    "Verdict",
    "Violation",
    "infer_kinds",
    "kinds_table",
    "measure",
    "predict",
]
