"""Online SGD steps per second in the exponents' setting (one neuron, one spike, uniform
start, hitting times): the exact reduced committee simulator (O(1) per step) against in-run
baselines, never against a fixed time.

* ``test_reduced_against_drawing``: the reduced simulator beside a numba kernel that only
  draws as many random numbers from a PCG64 ``Generator`` (three standard normals and one
  ``chi^2_(d-3)`` per step); ``extra_info["ratio_to_drawing"]`` is the ratio of their times
  per step, the floor being the draws themselves.
* ``test_reduced_against_full``: the reduced simulator beside the full-dimensional one at
  the same ``d``; ``extra_info["speedup_over_full"]``.
* ``test_reduced_is_dimension_free``: the reduced simulator at a large ``d`` against itself
  at ``d = 1e3``; ``extra_info["time_ratio_to_d_1e3"]`` is expected near 1.

Only correctness is asserted (every call runs all its steps); the ratios are read from the
benchmark report.
"""

import math
import time

import numba
import numpy as np
import pytest

from featcheck.numerics.committee.kernels import chisquare
from featcheck.numerics.exponents.overlap_chain import simulate, simulate_full
from featcheck.numerics.exponents.spherical_sgd import Link, OnlineSGD

REDUCED_STEPS = 200_000
FULL_STEPS = 20
REPEATS = 3


def _config(d):
    # threshold 1: never reached from a random start at this step size
    return OnlineSGD(
        d=d,
        eta=1e-7,
        link=Link.hermite(3),
        kappa=float(d) ** 0.5,
        c=0.5,
        variant="normalized",
        threshold=1.0,
    )


def _seconds_per_step(run, steps: int) -> float:
    """The best of ``REPEATS`` timings of ``run()`` (which takes ``steps`` steps), per step."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best / steps


def _reduced(config, steps=REDUCED_STEPS):
    return simulate(config, 1, steps, 0)


def _full(config, steps=FULL_STEPS):
    return simulate_full(config, 1, steps, 0, (steps,), False)


@numba.njit(cache=False)
def _draw(rng, d, steps):
    """Three standard normals and one ``chi^2_(d-3)`` per step."""
    total = 0.0
    b = (d - 3) / 2.0 - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * b)
    for _ in range(steps):
        total += rng.standard_normal() + rng.standard_normal() + rng.standard_normal()
        total += chisquare(rng, b, c)
    return total


def _draw_reduced(d, steps=REDUCED_STEPS):
    return _draw(np.random.Generator(np.random.PCG64(0)), d, steps)


@pytest.mark.parametrize("d", [10**3, 10**5, 10**8])
def test_reduced_against_drawing(benchmark, d):
    config = _config(d)
    _reduced(config, 10)  # compile outside the timing
    _draw_reduced(d, 10)
    drawing = _seconds_per_step(lambda: _draw_reduced(d), REDUCED_STEPS)
    reduced = _seconds_per_step(lambda: _reduced(config), REDUCED_STEPS)
    benchmark.group = "online SGD steps: reduced against drawing its random numbers"
    benchmark.extra_info.update(
        steps_per_call=REDUCED_STEPS,
        reduced_steps_per_second=1 / reduced,
        drawing_steps_per_second=1 / drawing,
        ratio_to_drawing=reduced / drawing,
    )
    assert benchmark(_reduced, config).hits[0] == -1


@pytest.mark.parametrize("d", [10**3, 10**4, 10**5])
def test_reduced_against_full(benchmark, d):
    config = _config(d)
    _reduced(config, 10)
    full = _seconds_per_step(lambda: _full(config), FULL_STEPS)
    reduced = _seconds_per_step(lambda: _reduced(config), REDUCED_STEPS)
    benchmark.group = "online SGD steps: reduced against full-dimensional"
    benchmark.extra_info.update(
        steps_per_call=REDUCED_STEPS,
        reduced_steps_per_second=1 / reduced,
        full_steps_per_second=1 / full,
        speedup_over_full=full / reduced,
    )
    assert benchmark(_reduced, config).hits[0] == -1
    assert np.isfinite(_full(config).snapshots).all()


@pytest.mark.parametrize("d", [10**5, 10**8])
def test_reduced_is_dimension_free(benchmark, d):
    config, baseline_config = _config(d), _config(10**3)
    _reduced(config, 10)
    baseline = _seconds_per_step(lambda: _reduced(baseline_config), REDUCED_STEPS)
    reduced = _seconds_per_step(lambda: _reduced(config), REDUCED_STEPS)
    benchmark.group = "online SGD steps: reduced, against d = 1e3"
    benchmark.extra_info.update(
        steps_per_call=REDUCED_STEPS,
        reduced_steps_per_second=1 / reduced,
        time_ratio_to_d_1e3=reduced / baseline,
    )
    assert benchmark(_reduced, config).hits[0] == -1
