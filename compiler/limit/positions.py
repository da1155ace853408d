"""Positions in the limit construction (C-RASP[periodic, local]): periodic features from a periodic position
table, and reads of a fixed number of positions back from per-offset attention biases (`rel_window`).

Neither grows with the input: a residue class of `i mod m` is a column whose position-table entries repeat with
period m, and "the token d positions back" is a head whose only positional parameter is a score bias β at offset
d. β is set so the head puts at least 99% of its weight on position i - d among up to bound + 1 keys; an MLP
step then makes the copied one-hot exact. A mixin of `Builder`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..errors import CompileError
from .exprs import at_query, show, weights
from .stages import Stage, Unit


class PositionalColumns:
    labels: list[str]
    one: int
    inv: int

    def init_positions(self, bound: int) -> None:
        self.positional: dict[int, Callable[[int], float]] = {}  # column → its value at model position p (BOS: 0)
        self.offset_score = math.log(100.0 * (bound + 1))  # e^β / (e^β + bound) ≥ 99%
        self.shifts: dict[tuple[int, int], int] = {}  # (column, d) → the column d positions back, made exact
        self.exists: dict[int, int] = {}  # d → the column that is 1 where position i - d is a token

    def periodic_block(self, m: int, offset: int) -> dict[Any, int]:
        """`(i + offset) mod m` as a one-hot block written by the position table (token i is at position i + 1)."""
        block = {}
        for r in range(m):
            block[r] = self.column(f"(i + {offset}) mod {m} = {r}")
            self.positional[block[r]] = lambda p, r=r: 1.0 if p >= 1 and (p - 1 + offset) % m == r else 0.0
        return block

    def token_exists(self, d: int) -> int:
        """1 where i ≥ d (position i - d holds a token), from the count of positions so far."""
        if d not in self.exists:
            holds = ("cmp", ">=", ("count", ("lit", True), None), ("lit", d + 1))
            self.exists[d] = self.finite_block(f"i >= {d}", holds)[True]
        return self.exists[d]

    def shifted(self, column: int, d: int) -> int:
        """A 0/1 column's value at position i - d (0 where there is none): a head biased to offset d copies it
        (within 1% of 0 or 1), and a step of slope 4 gated by `token_exists(d)` makes it exact."""
        if d == 0:
            return column
        if (column, d) not in self.shifts:
            raw = self.column(f"{self.labels[column]} at i-{d} (≈)")
            self.stages.append(Stage("attn", heads=[(column, raw, d)]))
            out = self.column(f"{self.labels[column]} at i-{d}")
            exists = self.token_exists(d)
            reads = {raw: 4.0, exists: 4.0, self.one: -5.0}
            self.mlp([Unit(reads, {out: 1.0}), Unit(reads | {self.one: -6.0}, {out: -1.0})])
            self.shifts[(column, d)] = out
        return self.shifts[(column, d)]

    def local_pick(self, name: str, e: tuple) -> dict[Any, int]:
        """`the {v(j) : j = i - d, φ(j)} else default`: v's one-hot at i - d where φ held there, else the default."""
        _, how, value, pred, window, default = e
        if len(window) != 1 or how != "the":
            raise CompileError(f"{name}: a {how} over several nearby positions has no limit construction yet")
        (d,) = window
        if any(leaf[-1] == "i" for leaf in _reads(pred) + _reads(value)):
            raise CompileError(f"{name}: a read of a nearby position whose predicate reads the query is not built yet")
        values = self.finite_block(f"{name}.v", at_query(value))
        holds = self.finite_block(f"[{show(pred)}]", at_query(pred)).get(True)
        block = {v: self.column(f"{name}={v!r}") for v in dict.fromkeys([*values, default])}
        units = [Unit({self.one: 1.0}, {block[default]: 1.0})]
        if holds is not None:
            there = self.shifted(holds, d)
            for v, col in values.items():
                reads = {self.shifted(col, d): 1.0, there: 1.0, self.one: -1.0}
                units.append(Unit(reads, weights([(block[v], 1.0), (block[default], -1.0)])))
        self.mlp(units)
        return block

    def local_count(self, name: str, e: tuple) -> dict[Any, int]:
        """`#[j = i - d1 or ...] φ(j)`: a number from 0 to the window's size, a lookup over φ at each offset."""
        _, pred, window = e
        holds = self.finite_block(f"[{show(pred)}]", at_query(pred)).get(True)
        block = {k: self.column(f"{name}={k}") for k in range(len(window) + 1)}
        if holds is None:
            self.mlp([Unit({self.one: 1.0}, {block[0]: 1.0})])
            return block
        bits = [self.shifted(holds, d) for d in window]
        units = []
        for pattern in range(2 ** len(bits)):
            on = [b for k, b in enumerate(bits) if pattern >> k & 1]
            reads = {b: 1.0 if b in on else -1.0 for b in bits} | {self.one: 1.0 - len(on)}
            units.append(Unit(reads, {block[len(on)]: 1.0}))
        self.mlp(units)
        return block

    def ratio_of(self, block: dict[Any, int]) -> int:
        """A small whole number held one-hot, as value / (i + 2) (the units counts are held in): value·(1/(i+2)) is
        passed where its column is 1 and is at most 0 where it is 0 (1/(i+2) ≤ 1/2)."""
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in block):
            raise CompileError(f"only whole numbers join counts in arithmetic, not {sorted(map(repr, block))[:4]}")
        out = self.column("finite / (i+2)")
        units = []
        for value, col in block.items():
            if value:
                size = abs(value)
                units.append(
                    Unit(
                        {self.inv: float(size), col: float(size), self.one: -float(size)},
                        {out: math.copysign(1.0, value)},
                    )
                )
        self.mlp(units)
        return out


def _reads(e: Any) -> list[tuple]:
    """The token and definition reads inside an expression."""
    if not isinstance(e, tuple) or not e:
        return []
    if e[0] in ("tok", "ref"):
        return [e]
    if e[0] == "fn":
        return [r for a in e[3] for r in _reads(a)]
    return [r for x in e[1:] for r in _reads(x)]
