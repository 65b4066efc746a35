"""Online SGD steps per second: the exact reduced simulator (O(1) per step) and the
full-dimensional oracle (O(d) per step) against in-run baselines, never against a fixed time.

* ``test_reduced_against_drawing``: the reduced simulator beside a numba kernel that only
  draws the same random numbers from a PCG64 ``Generator`` (three standard normals and one
  ``chi^2_(d-3)`` per step, the normalized variant without label noise);
  ``extra_info["ratio_to_drawing"]`` is the ratio of their times per step, the floor being
  the draws themselves.
* ``test_full_against_drawing``: the full-dimensional oracle beside drawing its ``d``
  Gaussians per step with the same ``Generator`` (``standard_normal(out=...)`` in blocks of
  the oracle's size); ``extra_info["ratio_to_drawing"]``.
* ``test_reduced_against_full``: the reduced simulator beside the full-dimensional one at
  the same ``d``; ``extra_info["speedup_over_full"]`` (about 1e3 at ``d = 1e4``).
* ``test_reduced_is_dimension_free``: the reduced simulator at a large ``d`` against itself
  at ``d = 1e3``; ``extra_info["time_ratio_to_d_1e3"]`` is expected near 1.

Only correctness is asserted (the baselines draw what the simulators draw); the ratios are
read from the benchmark report.
"""

import math
import time

import numba
import numpy as np
import pytest

from featcheck.numerics.exponents.full_dimensional import BLOCK_NORMALS, simulate_full
from featcheck.numerics.exponents.overlap_chain import _chisquare, steps_per_second_kernel
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


def _full(config, steps=FULL_STEPS):
    return simulate_full(config, 1, steps, 0, (steps,), False)


@numba.njit(cache=False)
def _draw_like_the_chain(rng, d, steps):
    """The random numbers of ``steps`` steps of the reduced chain (normalized variant, no
    label noise) after its start: three standard normals and one ``chi^2_(d-3)`` per step."""
    total = 0.0
    g1 = rng.standard_normal()
    g2 = rng.standard_normal()
    total += g1 + g2 + rng.chisquare(d - 2)
    b = (d - 3) / 2.0 - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * b)
    for _ in range(steps):
        total += rng.standard_normal() + rng.standard_normal() + rng.standard_normal()
        total += _chisquare(rng, b, c)
    return total


def _draw_reduced(d, steps=REDUCED_STEPS):
    return _draw_like_the_chain(np.random.Generator(np.random.PCG64(0)), d, steps)


def _draw_full(d, steps=FULL_STEPS):
    """The standard normals of the oracle's start and of ``steps`` steps (one replica), drawn
    in the oracle's blocks."""
    rng = np.random.default_rng(0)
    rng.standard_normal((d, 2))
    rng.standard_normal((1, d))
    rows = max(1, min(BLOCK_NORMALS // d, steps))
    buffer = np.empty((rows, d))
    done = 0
    while done < steps:
        block = buffer[: min(rows, steps - done)]
        rng.standard_normal(out=block)
        done += block.shape[0]
    return buffer


@pytest.mark.parametrize("d", [10**3, 10**5, 10**8])
def test_reduced_against_drawing(benchmark, d):
    config = _config(d)
    steps_per_second_kernel(config, 10)  # compile outside the timing
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
    assert benchmark(_reduced, config) == -1
    # the chain consumes exactly these draws: after a run of n steps (the threshold is never
    # reached) its generator is where the baseline's is after the same n steps
    chain = np.random.Generator(np.random.PCG64(0))
    baseline = np.random.Generator(np.random.PCG64(0))
    from featcheck.numerics.exponents import overlap_chain

    overlap_chain._run_one(
        chain,
        d,
        config.kappa,
        config.c,
        config.eta,
        1,
        0,
        0.0,
        config.link.kind,
        config.link.array(),
        config.student.kind,
        config.student.array(),
        2.0,
        1,
        True,
        1000,
        True,
        np.array([1000], dtype=np.int64),
        np.full((1, 3), np.nan),
    )
    _draw_like_the_chain(baseline, d, 1000)
    assert chain.bit_generator.state == baseline.bit_generator.state


@pytest.mark.parametrize(("d", "steps"), [(10**3, 2000), (10**4, 200), (10**5, 100)])
def test_full_against_drawing(benchmark, d, steps):
    config = _config(d)
    _full(config, 2)  # compile outside the timing
    drawing = _seconds_per_step(lambda: _draw_full(d, steps), steps)
    full = _seconds_per_step(lambda: _full(config, steps), steps)
    benchmark.group = "online SGD steps: full-dimensional against drawing its Gaussians"
    benchmark.extra_info.update(
        steps_per_call=steps,
        full_steps_per_second=1 / full,
        drawing_steps_per_second=1 / drawing,
        ratio_to_drawing=full / drawing,
    )
    run = benchmark(_full, config, steps)
    assert np.isfinite(run.snapshots).all() and run.hits[0] == -1
    # the oracle draws exactly these Gaussians: the same seed, drawn step by step, gives the
    # same hitting steps with the plain numpy loop of x ~ N(0, Sigma)
    small = OnlineSGD(d=30, eta=0.02, link=Link.hermite(2), kappa=4.0, c=0.6, variant="plain")
    np.testing.assert_array_equal(
        simulate_full(small, 8, 3000, 1).hits, _numpy_loop_hits(small, 8, 3000, 1)
    )


def _numpy_loop_hits(config, replicas, max_steps, seed):
    """Hitting steps of plain online SGD by the plain numpy loop (the oracle's former body)."""
    rng = np.random.default_rng(seed)
    d, kappa, c, eta = config.d, config.kappa, config.c, config.eta
    frame = np.linalg.qr(rng.standard_normal((d, 2)))[0]
    theta, theta_perp = frame[:, 0], frame[:, 1]
    u = c * theta + math.sqrt(max(1 - c * c, 0.0)) * theta_perp
    sigma_u = math.sqrt(u @ u + kappa * (u @ theta) ** 2) / math.sqrt(1 + kappa)
    w = rng.standard_normal((replicas, d))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    sw = lambda w: np.sqrt(((w * w).sum(1) + kappa * (w @ theta) ** 2) / (1 + kappa))  # noqa: E731
    hits = np.full(replicas, -1)
    for t in range(1, max_steps + 1):
        if (hits >= 0).all():
            break
        z = rng.standard_normal((replicas, d))
        x = (z + (math.sqrt(1 + kappa) - 1) * (z @ theta)[:, None] * theta) / math.sqrt(1 + kappa)
        zw = (w * x).sum(1)
        y, _ = config.link((x @ u) / sigma_u)
        _, dphi = config.student(zw)
        new = w + eta * (y * dphi)[:, None] * (x - zw[:, None] * w)
        new /= np.linalg.norm(new, axis=1, keepdims=True)
        active = hits < 0
        w[active] = new[active]
        wu = (w + kappa * (w @ theta)[:, None] * theta) @ u / (1 + kappa)
        rho = wu / (sw(w) * sigma_u)
        hits[active & (np.abs(rho) >= config.threshold)] = t
    return hits


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
