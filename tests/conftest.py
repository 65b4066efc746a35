"""Test configuration: a deterministic hypothesis profile for every run."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "featcheck",
    derandomize=True,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("featcheck")
