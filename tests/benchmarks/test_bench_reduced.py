"""Online SGD steps per second: the exact reduced simulator (O(1) per step) against in-run
baselines, never against a fixed time.

* ``test_reduced_against_full``: the reduced simulator beside the full-dimensional one
  (O(d) per step) at the same ``d``; ``extra_info["speedup_over_full"]`` is the ratio of
  their times per step, measured in the same run (expected: about 1e3 at ``d = 1e4``).
* ``test_reduced_is_dimension_free``: the reduced simulator at a large ``d`` against itself
  at ``d = 1e3``; ``extra_info["time_ratio_to_d_1e3"]`` is expected near 1.

Only correctness is asserted; the ratios are read from the benchmark report.
"""

import time

import numpy as np
import pytest

from featcheck.numerics.exponents.full_dimensional import simulate_full
from featcheck.numerics.exponents.overlap_chain import steps_per_second_kernel
from featcheck.numerics.exponents.spherical_sgd import Link, OnlineSGD

REDUCED_STEPS = 200_000
FULL_STEPS = 20
REPEATS = 3


def _config(d):
    return OnlineSGD(
        d=d, eta=1e-7, link=Link.hermite(3), kappa=float(d) ** 0.5, c=0.5, variant="normalized"
    )


def _seconds_per_step(run, steps: int) -> float:
    """The best of ``REPEATS`` timings of ``run()`` (which takes ``steps`` steps), per step."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best / steps


def _reduced(config):
    return steps_per_second_kernel(config, REDUCED_STEPS)


def _full(config):
    return simulate_full(config, 1, FULL_STEPS, 0, (FULL_STEPS,), False)


@pytest.mark.parametrize("d", [10**3, 10**4, 10**5])
def test_reduced_against_full(benchmark, d):
    config = _config(d)
    steps_per_second_kernel(config, 10)  # compile outside the timing
    full = _seconds_per_step(lambda: _full(config), FULL_STEPS)
    reduced = _seconds_per_step(lambda: _reduced(config), REDUCED_STEPS)
    benchmark.group = "online SGD steps: reduced against full-dimensional"
    benchmark.extra_info.update(
        steps_per_call=REDUCED_STEPS,
        reduced_steps_per_second=1 / reduced,
        full_steps_per_second=1 / full,
        speedup_over_full=full / reduced,
    )
    hit = benchmark(_reduced, config)
    assert hit == -1  # the unreachable threshold makes every call run all its steps
    run = _full(config)
    assert np.isfinite(run.snapshots).all()


@pytest.mark.parametrize("d", [10**5, 10**8])
def test_reduced_is_dimension_free(benchmark, d):
    config, baseline_config = _config(d), _config(10**3)
    steps_per_second_kernel(config, 10)
    baseline = _seconds_per_step(lambda: _reduced(baseline_config), REDUCED_STEPS)
    reduced = _seconds_per_step(lambda: _reduced(config), REDUCED_STEPS)
    benchmark.group = "online SGD steps: reduced, against d = 1e3"
    benchmark.extra_info.update(
        steps_per_call=REDUCED_STEPS,
        reduced_steps_per_second=1 / reduced,
        time_ratio_to_d_1e3=reduced / baseline,
    )
    assert benchmark(_reduced, config) == -1
