"""Attention heads: a select becomes a query–key bilinear form, an aggregate a value–output map.

A select's predicate is split into conjuncts (`a and b and ...`). Each conjunct reads at most one key-side
and one query-side categorical s-op (several s-ops on one side are first joined into one "tuple" s-op by
an MLP) and becomes a lookup table P[key value, query value] ∈ {0, 1}. With T conjuncts the logit of query
i on key j is

    D · Σ_t P_t(key_t[j], query_t[i])                 (= T·D exactly when j is selected, ≤ (T−1)·D if not)

and the BOS key (position 0) gets a fixed logit between the two, so it wins when nothing is selected
(the default) and loses otherwise. The softmax gap G (D = 2G) is derived from max_len N and the largest
aggregated magnitude V: G = ⌈ln(N + 1) + ln(1 + V) + 25⌉, so the weight that leaks outside the intended
keys is at most (N + 1)·e^{−G} ≤ e^{−25}/(1 + V) < 1.4e−11/(1 + V), and means are off by less than 3e−11.
Logits are exact integers on one-hot inputs, so the selected keys get exactly equal weights.

- mean / categorical retrieval: BOS logit T·D − G; BOS's value is the default's encoding.
- max / min: an extra G·rank(value[j]) on each key (rank in the value order, reversed for min), with
  D = G·(m − 1) + 2G for m values, so the highest-ranked selected value wins by G; BOS at T·D − G.
- selector_width: BOS logit T·D + ln N, so BOS gets weight N/(w + N) for w selected keys; an MLP decodes w.

The query at BOS reads only `one` and `bos` (all other forms vanish there); a `bos`·`bos` term 2D + |BOS
logit| makes BOS attend to itself, so BOS's residual is the same for every input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rasp import scalar

from .layout import BOS, NOTBOS, ONE, Form

Bilinear = dict[tuple[int, int], float]


def gap_for(max_len: int, magnitude: float = 1.0) -> float:
    return float(math.ceil(math.log(max_len + 1) + math.log(1.0 + abs(magnitude)) + 25))


def conjuncts(fn: scalar.Fn) -> list[scalar.Fn]:
    if fn[0] == "and":
        return conjuncts(fn[1]) + conjuncts(fn[2])
    return [fn]


def args_of(fn: scalar.Fn) -> set[int]:
    if fn[0] == "arg":
        return {fn[1]}
    if fn[0] == "lit":
        return set()
    out: set[int] = set()
    for f in fn[1:]:
        out |= args_of(f)
    return out


@dataclass
class Clause:
    """One conjunct: a 0/1 table (keys × queries) over key-side and query-side values (a side may be
    absent: then it is the NOTBOS form)."""

    keys: dict[Any, Form] | None
    queries: dict[Any, Form] | None
    table: np.ndarray  # bool, len(keys) × len(queries)


@dataclass
class HeadSpec:
    clauses: list[Clause]
    n_terms: int  # T: how many conjuncts must hold
    qk: Bilinear = field(default_factory=dict)
    ov: Bilinear = field(default_factory=dict)


def add_outer(target: Bilinear, left: Form, right: Form, scale: float) -> None:
    for a, ca in left.items():
        for b, cb in right.items():
            key = (a, b)
            value = target.get(key, 0.0) + scale * ca * cb
            if value:
                target[key] = value
            else:
                target.pop(key, None)


Block = tuple[list[int], list[int], np.ndarray]  # (query dims, key dims, dense coefficients)


def form_matrix(forms: list[Form]) -> tuple[list[int], np.ndarray]:
    dims = sorted({d for f in forms for d in f})
    index = {d: k for k, d in enumerate(dims)}
    matrix = np.zeros((len(forms), len(dims)))
    for r, form in enumerate(forms):
        for d, c in form.items():
            matrix[r, index[d]] = c
    return dims, matrix


def select_logits(clauses: list[Clause], d: float) -> list[Block]:
    """Each clause's D · Σ P[k, q] · query_form[q] ⊗ key_form[k] as a dense block over the dims it uses."""
    blocks = []
    for clause in clauses:
        keys = list(clause.keys.values()) if clause.keys is not None else [NOTBOS]
        queries = list(clause.queries.values()) if clause.queries is not None else [NOTBOS]
        kdims, kmat = form_matrix(keys)
        qdims, qmat = form_matrix(queries)
        block = d * (qmat.T @ clause.table.T.astype(float) @ kmat)
        blocks.append((qdims, kdims, block))
    return blocks


def bos_terms(qk: Bilinear, bos_logit: float, d: float) -> None:
    add_outer(qk, {ONE: 1.0}, {BOS: 1.0}, bos_logit)
    add_outer(qk, {BOS: 1.0}, {BOS: 1.0}, 2 * d + abs(bos_logit))


def rank_terms(qk: Bilinear, value_forms: list[Form], step: float) -> None:
    """Add step·r to the logit of every key whose value has rank r (forms in rank order)."""
    for rank, form in enumerate(value_forms):
        if rank:
            add_outer(qk, NOTBOS, form, step * rank)
