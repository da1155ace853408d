"""Hypothesis settings for the whole suite: CI and this project's machines run the tests on 2 busy cores, where a
health check that times data generation (too_slow) fails for reasons that have nothing to do with the code. Tests
that set their own `@settings` keep their values; they inherit this where they set nothing."""

from hypothesis import HealthCheck, settings

settings.register_profile("busy-cores", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("busy-cores")
