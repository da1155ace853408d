"""What `rasp.predict` returns: a `Prediction` of three `Verdict`s, each with its `Violation`s (the offending s-ops,
located) — the data types, built by fragments.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .measure import Measure
from .rules import FRAGMENT_TITLES
from .tasks import PaperResult


@dataclass
class Violation:
    """One offending s-op: where it is, what it does, the rule it breaks."""

    op: int
    label: str
    code: str
    message: str
    rule: str
    where: str  # file:line:col
    via: str = ""  # for ops in a library: where the program reaches them
    used_at: str = ""  # for index arithmetic found at a use: where it is used

    def text(self) -> str:
        via = f" (reached from {self.via})" if self.via else ""
        used = f", used at {self.used_at}" if self.used_at else ""
        return f"{self.where}{via}: {self.label}: {self.message}{used} — {self.rule}"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Verdict:
    """Whether the program is in one fragment, with reasons (`.ok`, `.reasons`)."""

    fragment: str
    ok: bool
    reasons: list[str]
    violations: list[Violation] = field(default_factory=list)
    features: dict[str, Any] = field(default_factory=dict)
    witness: Any = None  # C-RASP fragments: the program in the fragment's own syntax (crasp_eval.Witness)

    @property
    def title(self) -> str:
        return FRAGMENT_TITLES[self.fragment]

    def __bool__(self) -> bool:
        return self.ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "fragment": self.title,
            "ok": self.ok,
            "reasons": self.reasons,
            "violations": [v.as_dict() for v in self.violations],
            "features": self.features,
        }


@dataclass
class Prediction:
    """`rasp.predict(program)`: three verdicts, the value kinds, the length measures, the paper's row."""

    file: str
    task: str | None
    rasp_l: Verdict
    crasp: Verdict
    crasp_pos: Verdict
    kinds: dict[str, str]  # named s-op → value kind
    measure: Measure
    paper: PaperResult | None = None
    impossibility: str | None = None

    def verdict(self, fragment: str) -> Verdict:
        return getattr(self, fragment)

    @property
    def agreement(self) -> dict[str, bool]:
        """For tasks in the paper's table: does each C-RASP verdict equal the paper's prediction?"""
        if self.paper is None:
            return {}
        return {
            "ape": self.crasp_pos.ok == self.paper.pred_ape,
            "nope": self.crasp.ok == self.paper.pred_nope,
        }

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.file,
            "task": self.task,
            "rasp_l": self.rasp_l.as_dict(),
            "crasp": self.crasp.as_dict(),
            "crasp_pos": self.crasp_pos.as_dict(),
            "kinds": self.kinds,
            "measure": self.measure.as_dict(),
        }
        if self.paper is not None:
            data["paper"] = {
                "name": self.paper.name,
                "pred_ape": self.paper.pred_ape,
                "pred_nope": self.paper.pred_nope,
                "ape": list(self.paper.ape),
                "nope": list(self.paper.nope),
                "agrees": self.agreement,
            }
        if self.impossibility:
            data["impossibility"] = self.impossibility
        return data
