"""What the limit construction's builder produces: stages of heads and ReLU units over named residual columns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Unit:
    """A hidden ReLU unit: reads Σ w·x over columns (the `one` column gives the bias), writes c·h to columns."""

    reads: dict[int, float]
    writes: dict[int, float]


@dataclass
class Stage:
    kind: str  # "attn": heads (source column → target column, offset); "mlp": units
    # a head averages its source over the prefix (offset None: all scores equal) or reads it `offset` positions back
    heads: list[tuple[int, int, int | None]] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)

    def reads(self) -> set[int]:
        return {s for s, _, _ in self.heads} | {c for u in self.units for c in u.reads}

    def writes(self) -> set[int]:
        return {t for _, t, _ in self.heads} | {c for u in self.units for c in u.writes}
