"""Speed of the one-step simulation as ratios to baselines measured in the same test.

* ``simulate_a at n = d = N = 2000``: one whole :func:`simulate_a` run against its BLAS
  floor, the five ``n x d x N`` products any implementation must do (gradient: two;
  features before and after the step; test features).
* ``spectrum and readout at n = N = 1000``: everything :func:`simulate_a` does after
  forming the two feature matrices (top singular values and vectors of the centred
  updated features, deflated bulk edge, initial edge, two ridge readouts, the
  surrogate), through one Gram matrix per feature matrix, against the naive route
  (centred and deflated copies, full SVDs, one factorisation per solve, the
  ``n x n`` matrix ``M`` of the surrogate formed explicitly).  Both give the same
  numbers, which is asserted.

No assertion is on time.  Each test times its baseline itself, in the same process, and
records ``seconds / baseline seconds`` in ``benchmark.extra_info["ratio"]`` (printed as
well); a machine that is slower or busier changes both alike.  One BLAS thread
throughout.  Run ``pytest tests/benchmarks/test_onestep_bench.py -p no:xdist``; with the
benchmarks disabled (under xdist) each test runs once as a plain correctness test.
"""

import math
import time

import numpy as np
import pytest
import scipy.linalg as sla
from threadpoolctl import threadpool_limits

from featcheck.numerics.onestep.gram import Gram
from featcheck.numerics.onestep.simulate import (
    ConfigA,
    hermite_features,
    numpy_pair,
    ridge_objective,
    simulate_a,
    surrogate_training_error,
)

SIM = ConfigA("relu", "tanh", 0.355, 2000, 2000, 2000, spike_degrees=(1, 2))
SIZE = 1000
RIDGE = 1e-2


def blas_floor(x: np.ndarray, w: np.ndarray) -> float:
    """The five ``n x d x N`` products of one model-A run, nothing else."""
    with threadpool_limits(limits=1, user_api="blas"):
        total = 0.0
        for _ in range(5):
            total += float((x @ w.T)[0, 0])
    return total


@pytest.fixture(scope="module")
def features():
    """Initial and updated ReLU features on a second batch, with the learned direction."""
    rng = np.random.default_rng(1)
    sigma, _ = numpy_pair("relu")
    x = rng.standard_normal((SIZE, SIZE))
    w0 = rng.standard_normal((SIZE, SIZE)) / np.sqrt(SIZE)
    direction = rng.standard_normal(SIZE) / np.sqrt(SIZE)
    a = rng.standard_normal(SIZE) / np.sqrt(SIZE)
    w1 = w0 + SIZE**0.355 * np.outer(a, direction)
    learned = x @ direction / np.linalg.norm(direction)
    y = np.tanh(learned) + 0.1 * rng.standard_normal(SIZE)
    return sigma(x @ w0.T), sigma(x @ w1.T), learned, y


def _deflation(learned):
    n = learned.shape[0]
    mean = np.full((n, 1), 1 / np.sqrt(n))
    probes = np.linalg.qr(hermite_features(learned, range(1, 7)))[0]
    return mean, np.hstack([mean, probes])


def gram_route(f0, f1, learned, y):
    mean, deflation = _deflation(learned)
    rng = np.random.default_rng(0)
    n = y.shape[0]
    spikes = np.stack([learned, learned**2], axis=1)
    with threadpool_limits(limits=1, user_api="blas"):
        g0 = Gram(f0)
        s0, _ = g0.top(2, rng, basis=mean)
        g0.factor(n * RIDGE)
        _, train0 = ridge_objective(g0, y, RIDGE)
        surrogate = surrogate_training_error(y, g0, spikes, RIDGE)
        g1 = Gram(f1)
        s1, u1 = g1.top(8, rng, basis=mean, vectors=True)
        edge, _ = g1.top(1, rng, basis=deflation)
        g1.factor(n * RIDGE)
        _, train1 = ridge_objective(g1, y, RIDGE)
    return np.concatenate([s0[:1], s1, edge, [train0, surrogate, train1]]), u1


def naive_route(f0, f1, learned, y):
    _, deflation = _deflation(learned)
    n = y.shape[0]
    spikes = np.stack([learned, learned**2], axis=1)

    def objective(f):
        coef = np.linalg.solve(f.T @ f + n * RIDGE * np.eye(f.shape[1]), f.T @ y)
        return np.mean((y - f @ coef) ** 2) + RIDGE * coef @ coef

    with threadpool_limits(limits=1, user_api="blas"):
        f0c = f0 - f0.mean(axis=0)
        s0 = sla.svdvals(f0c)
        f1c = f1 - f1.mean(axis=0)
        u, s1, _ = sla.svd(f1c, full_matrices=False)
        edge = sla.svdvals(f1 - deflation @ (deflation.T @ f1))
        m = RIDGE * np.linalg.inv(f0 @ f0.T + n * RIDGE * np.eye(n))
        my, mp = m @ y, m @ spikes
        surrogate = y @ my - (spikes.T @ my) @ np.linalg.solve(spikes.T @ mp, spikes.T @ my)
        train0, train1 = objective(f0), objective(f1)
    return np.concatenate([s0[:1], s1[:8], edge[:1], [train0, surrogate, train1]]), u[:, :8]


def best_seconds(function, *args, rounds: int = 1) -> tuple[float, object]:
    """The fastest of ``rounds`` calls, in seconds, and the last call's value."""
    best, value = math.inf, None
    for _ in range(rounds):
        start = time.perf_counter()
        value = function(*args)
        best = min(best, time.perf_counter() - start)
    return best, value


def record_ratio(benchmark, capsys, baseline: str, baseline_seconds: float) -> None:
    """Store (and print) the benchmark's fastest round over the baseline's seconds."""
    benchmark.extra_info["baseline"] = baseline
    benchmark.extra_info["baseline_seconds"] = baseline_seconds
    if benchmark.stats is None:  # benchmarks disabled: the target ran once, untimed
        return
    ratio = benchmark.stats.stats.min / baseline_seconds
    benchmark.extra_info["ratio"] = ratio
    with capsys.disabled():
        print(f"\n{benchmark.name}: {ratio:.2f} x {baseline} ({baseline_seconds:.3g} s)")


@pytest.mark.benchmark(group="simulate_a at n = d = N = 2000")
def test_simulate_a_2000(benchmark, capsys):
    result = benchmark.pedantic(simulate_a, args=(SIM, np.random.default_rng(0)), rounds=1)
    assert result.outliers >= 1 and result.singular_values[0] > result.bulk_edge_updated
    if benchmark.stats is not None:
        rng = np.random.default_rng(0)
        x, w = rng.standard_normal((SIM.n, SIM.d)), rng.standard_normal((SIM.width, SIM.d))
        seconds, value = best_seconds(blas_floor, x, w)
        assert np.isfinite(value)
        record_ratio(benchmark, capsys, "the BLAS floor (five 2000^3 products)", seconds)


@pytest.mark.benchmark(group="spectrum and readout at n = N = 1000")
def test_gram_route(benchmark, capsys, features):
    values, vectors = benchmark.pedantic(gram_route, args=features, rounds=3)
    seconds, (expected, expected_vectors) = best_seconds(naive_route, *features)
    assert np.allclose(values, expected, rtol=1e-8)
    # the outlier's singular vector (sign aside) is the same
    assert abs(vectors[:, 0] @ expected_vectors[:, 0]) > 1 - 1e-8
    record_ratio(benchmark, capsys, "the naive route", seconds)
