"""Property tests: the vectorized evaluator agrees with the plain reference evaluator (tests/reference.py).

Programs are random source text from tests/strategies.py; every named s-op and selector is compared,
causally, bidirectionally and in the program's own mode. Floats agree within 1e-9.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

import rasp

try:  # tests/ as a package or as a directory on sys.path (pytest's default rootdir import mode)
    from .reference import reference_values, same_value
    from .strategies import programs_and_batches
except ImportError:
    from reference import reference_values, same_value
    from strategies import programs_and_batches

PROPERTY_SETTINGS = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _describe(source: str, tokens: list, causal: bool | None, name: str, got, expected) -> str:
    return (
        f"\nprogram:\n{source}\ninput: {tokens!r}  causal={causal}\n"
        f"s-op {name}:\n  run_batch  {got!r}\n  reference  {expected!r}"
    )


@PROPERTY_SETTINGS
@given(programs_and_batches(max_batch=5))
def test_run_batch_matches_reference(case):
    generated, batch = case
    program = rasp.parse(generated.source)
    names = list(program.names)
    for causal in (True, False, None):
        got = program.evaluate(batch, names, causal)
        for b, tokens in enumerate(batch):
            expected = reference_values(program, tokens, names, causal)
            for name in names:
                assert same_value(got[name][b], expected[name]), _describe(
                    generated.source, tokens, causal, name, got[name][b], expected[name]
                )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs_and_batches(max_batch=6))
def test_run_batch_matches_run_on_ragged_batches(case):
    generated, batch = case
    program = rasp.parse(generated.source)
    for name in program.names:
        for causal in (True, False):
            together = program.run_batch(batch, output=name, causal=causal)
            assert len(together) == len(batch)
            for tokens, row in zip(batch, together):
                alone = program.run(tokens, output=name, causal=causal)
                assert same_value(row, alone), _describe(generated.source, tokens, causal, name, row, alone)
