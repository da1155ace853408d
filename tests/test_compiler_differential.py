"""Differential test: random programs over the compilable subset × random inputs, compiled == interpreted."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import compiler  # noqa: E402
import rasp  # noqa: E402
from compiler.api import random_inputs  # noqa: E402

VOCAB = [0, 1, 2, 3]
MAX_LEN = 6
OPS = ["==", "!=", "<", "<=", ">", ">=", "True"]


@st.composite
def programs(draw) -> str:
    """A straight-line program; every s-op is an int in a small range (so every value set stays small)."""
    lines = ["@mode bidirectional;"] if draw(st.booleans()) else []
    ints = ["tokens", "indices"]
    for k in range(draw(st.integers(2, 5))):
        a, b = draw(st.sampled_from(ints)), draw(st.sampled_from(ints))
        kind = draw(st.sampled_from(["map", "zipmap", "width", "retrieve", "mean", "extreme"]))
        pred = draw(st.sampled_from(OPS))

        def sel(keys: str, queries: str, op: str = pred) -> str:
            s = f"select({keys}, {queries}, {op})"
            extra = draw(st.sampled_from(["", "and", "or", "not"]))
            if extra == "not":
                return f"not {s}"
            if extra:
                other = f"select({draw(st.sampled_from(ints))}, {draw(st.sampled_from(ints))}, {draw(st.sampled_from(OPS))})"
                return f"({s} {extra} {other})"
            return s

        if kind == "map":
            expr = draw(st.sampled_from([f"({a} + 1) % 4", f"min({a}, 2)", f"indicator({a} > 1)", f"3 - {a} % 4"]))
        elif kind == "zipmap":
            expr = draw(st.sampled_from([f"({a} + {b}) % 4", f"{a} if {b} > 1 else 0", f"indicator({a} == {b})"]))
        elif kind == "width":
            expr = f"min(selector_width({sel(a, b)}), 3)"
        elif kind == "retrieve":  # at most one key: exact retrieval
            expr = f"aggregate(select(indices, {a}, ==) and {sel(b, b)}, {b}, default=0)"
        elif kind == "mean":
            expr = f"indicator(numerical(aggregate({sel(a, b)}, indicator({a} > 1), default=0)) > 0.5)"
        else:
            reduce = draw(st.sampled_from(["max", "min"]))
            expr = f"aggregate({sel(a, b)}, {b}, reduce='{reduce}', default=0)"
        name = f"s{k}"
        lines.append(f"{name} = {expr};")
        ints.append(name)
    return "\n".join(lines)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=programs(), seed=st.integers(0, 1000))
def test_compiled_equals_interpreted(source, seed):
    program = rasp.parse(source)
    model = compiler.compile(program, vocab=VOCAB, max_len=MAX_LEN)
    inputs = random_inputs(VOCAB, MAX_LEN, 24, seed=seed)
    result = compiler.verify(program, model, inputs=inputs)
    assert float(result) == 1.0, (source, result.mismatches)
