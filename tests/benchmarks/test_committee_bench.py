"""Speed of the committee engine beside baselines measured in the same run; ratios only.

* Derive and compile the soft committee machine (erf, K = M = 2 and K = M = 4): the time is
  recorded beside a fixed sympy workload timed in the same run (``extra_info["ratio to
  calibration"]``; the targets of under 5 s and 30 s are read from the report, never asserted).
* Integrate it to ``t = 10^4``: the compiled derived ODE beside a hand-written, vectorised numpy
  right-hand side of the same equations (Saad and Solla's printed I3 and I4), both by LSODA at
  the same tolerances (the hand-written one without a Jacobian, as a script would have it);
  target within 2x.  The two trajectories must agree: an independent check of the derivation.
* Online SGD steps per second: the exact reduced simulator beside the full-dimensional one at
  d = 10^4, the same model, one replica and one thread each; targets 10^6 steps/s on one core
  and 1000x the full simulator per step (each simulator's fixed cost per call taken out).
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from featcheck.numerics.committee.simulators import simulate_full, simulate_reduced
from featcheck.numerics.ode import compile_system, integrate
from featcheck.theory.committee import expectations, overlap_ode
from featcheck.theory.committee.model import committee_model

ERF = "erf(z/sqrt(2))"
T_END = 1e4


def _model(K: int = 2, eta: str = "1/2"):
    return committee_model(
        student_activation=ERF,
        student_width=K,
        teacher_activation=ERF,
        teacher_width=K,
        Q0=(np.eye(K) / 5).tolist(),
        M0=[[2e-3, 1e-3], [1e-3, 1.5e-3]][:K] if K == 2 else (np.eye(K) / 1000).tolist(),
        learning_rate=eta,
    )


def _calibration() -> float:
    """A fixed sympy workload, from an empty cache: how fast this machine runs sympy now."""
    sp.core.cache.clear_cache()
    start = time.perf_counter()
    x, y, w = sp.symbols("x y w")
    sp.diff(sp.expand((x + y + w + 1) ** 8) * sp.asin(x / sp.sqrt(1 + y**2 + w)), x, y)
    return time.perf_counter() - start


def _derive_and_compile(model):
    overlap_ode._derive.cache_clear()
    expectations._evaluate.cache_clear()
    expectations._pattern_derivative.cache_clear()
    ode = overlap_ode.derive_ode(model)
    system = ode.system
    system.__dict__.pop("_compiled", None)
    return ode, compile_system(system)


@pytest.mark.benchmark(group="committee derive and compile")
@pytest.mark.parametrize(("K", "rounds"), [(2, 2), (4, 1)])
def test_derive_and_compile_erf(benchmark, K, rounds):
    """K = M: the state has K(K+1)/2 + K^2 entries (7 for K = 2, 26 for K = 4)."""
    model = _model(K)
    calibration = min(_calibration() for _ in range(3))
    ode, compiled = benchmark.pedantic(_derive_and_compile, args=(model,), rounds=rounds)
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info["seconds"] = seconds
    benchmark.extra_info["calibration seconds"] = calibration
    benchmark.extra_info["ratio to calibration"] = seconds / calibration
    assert ode.system.dimension == K * (K + 1) // 2 + K * K and ode.exact
    y0 = np.array([float(v) for v in ode.initial_state])
    assert np.all(np.isfinite(compiled.rhs(y0, (0.5,))))


# ----------------------------------------------------------------------------
# A hand-written right-hand side of the same ODE (Saad and Solla's I3 and I4)


def _i3(C, a, b, c):
    L3 = (1 + C[a, a]) * (1 + C[c, c]) - C[a, c] ** 2
    return 2 / np.pi * (C[b, c] * (1 + C[a, a]) - C[a, b] * C[a, c]) / ((1 + C[a, a]) * np.sqrt(L3))


def _i4(C, a, b, c, d):
    L4 = (1 + C[a, a]) * (1 + C[b, b]) - C[a, b] ** 2
    L0 = (
        L4 * C[c, d]
        - C[b, c] * C[b, d] * (1 + C[a, a])
        - C[a, c] * C[a, d] * (1 + C[b, b])
        + C[a, b] * C[a, c] * C[b, d]
        + C[a, b] * C[a, d] * C[b, c]
    )
    L1 = (
        L4 * (1 + C[c, c])
        - C[b, c] ** 2 * (1 + C[a, a])
        - C[a, c] ** 2 * (1 + C[b, b])
        + 2 * C[a, b] * C[a, c] * C[b, c]
    )
    L2 = (
        L4 * (1 + C[d, d])
        - C[b, d] ** 2 * (1 + C[a, a])
        - C[a, d] ** 2 * (1 + C[b, b])
        + 2 * C[a, b] * C[a, d] * C[b, d]
    )
    return 4 / np.pi**2 * np.arcsin(L0 / np.sqrt(L1 * L2)) / np.sqrt(L4)


def hand_rhs(eta: float, K: int, M: int):
    """``d(Q upper, M)/dt`` for g = phi = erf(z/sqrt(2)), P = I, written out by hand: every
    I3 and I4 term of the equations at once, by index arrays."""
    rows, cols = np.triu_indices(K)
    students, teachers = list(range(K)), list(range(K, K + M))
    i3_terms, i4_terms = [], []  # (output, sign, weight, indices)
    for out, (i, k) in enumerate(zip(rows, cols, strict=True)):
        for a, b in ((i, k), (k, i)):
            i3_terms += [(out, 1.0, eta, (a, b, n)) for n in teachers]
            i3_terms += [(out, -1.0, eta, (a, b, j)) for j in students]
        i4_terms += [(out, 1.0, eta**2, (i, k, n, m)) for n in teachers for m in teachers]
        i4_terms += [(out, -2.0, eta**2, (i, k, j, n)) for j in students for n in teachers]
        i4_terms += [(out, 1.0, eta**2, (i, k, j, m)) for j in students for m in students]
    for out, (i, n) in enumerate(itertools.product(students, teachers), start=len(rows)):
        i3_terms += [(out, 1.0, eta, (i, n, m)) for m in teachers]
        i3_terms += [(out, -1.0, eta, (i, n, j)) for j in students]
    size = len(rows) + K * M
    out3 = np.array([t[0] for t in i3_terms])
    w3 = np.array([t[1] * t[2] for t in i3_terms])
    a3, b3, c3 = (np.array([t[3][p] for t in i3_terms]) for p in range(3))
    out4 = np.array([t[0] for t in i4_terms])
    w4 = np.array([t[1] * t[2] for t in i4_terms])
    a4, b4, c4, d4 = (np.array([t[3][p] for t in i4_terms]) for p in range(4))

    def rhs(_t, y):
        C = np.eye(K + M)
        C[rows, cols] = y[: len(rows)]
        C[cols, rows] = y[: len(rows)]
        C[:K, K:] = y[len(rows) :].reshape(K, M)
        C[K:, :K] = C[:K, K:].T
        result = np.zeros(size)
        np.add.at(result, out3, w3 * _i3(C, a3, b3, c3))
        np.add.at(result, out4, w4 * _i4(C, a4, b4, c4, d4))
        return result

    return rhs


@pytest.fixture(scope="module")
def soft_committee():
    model = _model(2)
    ode = overlap_ode.derive_ode(model)
    return ode, compile_system(ode.system), np.array([float(v) for v in ode.initial_state])


def _engine(compiled, y0):
    return integrate(
        compiled,
        y0,
        {"eta": 0.5},
        T_END,
        escape_observable=None,
        convergence_tol=None,
        t_eval=np.array([0.0, 100.0, 250.0, 500.0, T_END]),
    ).y


def _by_hand(y0):
    solution = solve_ivp(
        hand_rhs(0.5, 2, 2),
        (0.0, T_END),
        y0,
        method="LSODA",
        rtol=1e-10,
        atol=1e-13,
        t_eval=[0.0, 100.0, 250.0, 500.0, T_END],
    )
    return solution.y


@pytest.mark.benchmark(group="committee integrate to t = 1e4")
def test_integrate_hand_written_baseline(benchmark, soft_committee):
    _, _, y0 = soft_committee
    y = benchmark.pedantic(_by_hand, args=(y0,), rounds=2)
    assert np.all(np.isfinite(y))


@pytest.mark.benchmark(group="committee integrate to t = 1e4")
def test_integrate_derived_ode(benchmark, soft_committee):
    _, compiled, y0 = soft_committee
    start = time.perf_counter()
    reference = _by_hand(y0)
    baseline = time.perf_counter() - start
    y = benchmark.pedantic(_engine, args=(compiled, y0), rounds=3)
    benchmark.extra_info["hand-written seconds"] = baseline
    benchmark.extra_info["ratio to hand-written"] = benchmark.stats.stats.mean / baseline
    # the derived ODE and the printed equations give the same trajectory
    assert np.abs(y - reference).max() < 1e-6
    assert np.abs(y[:, -1] - np.array([1, 0, 1, 1, 0, 0, 1])).max() < 1e-6


# ----------------------------------------------------------------------------
# Online SGD steps per second

REDUCED_STEPS = 200_000
FULL_STEPS = 100
DIM = 10_000


def _reduced(model, steps=REDUCED_STEPS):
    return simulate_reduced(model, dim=DIM, replicas=1, times=[steps / DIM], seed=0, threads=1)


def _full(model, steps=FULL_STEPS):
    return simulate_full(model, dim=DIM, replicas=1, times=[steps / DIM], seed=0)


def _per_step(simulate, model, steps: int, rounds: int = 3) -> float:
    """Seconds per step beyond a call's fixed cost (setup, initial vectors, compiled
    programs): the fastest of ``rounds`` calls of ``3 steps`` less the fastest of ``steps``,
    over ``2 steps``."""

    def fastest(count: int) -> float:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            simulate(model, count)
            times.append(time.perf_counter() - start)
        return min(times)

    short = fastest(steps)
    return (fastest(3 * steps) - short) / (2 * steps)


@pytest.mark.benchmark(group="committee online SGD steps")
def test_full_dimensional_steps(benchmark):
    model = _model(2, eta="1/10")
    run = benchmark.pedantic(_full, args=(model,), rounds=3)
    benchmark.extra_info["steps per call"] = FULL_STEPS
    benchmark.extra_info["steps per second"] = FULL_STEPS / benchmark.stats.stats.mean
    assert np.all(np.isfinite(run.Q))


@pytest.mark.benchmark(group="committee online SGD steps")
def test_reduced_steps(benchmark):
    """The same model, one replica, one thread each (the full simulator's numpy with one
    BLAS thread, tests/conftest.py).  ``ratio to full-dimensional`` compares the cost of a
    step, each simulator's fixed cost per call taken out (:func:`_per_step`); ``ratio per
    call`` compares whole calls, REDUCED_STEPS steps against FULL_STEPS."""
    model = _model(2, eta="1/10")
    _reduced(model)  # compile outside the timing
    start = time.perf_counter()
    _full(model)
    full_call_rate = FULL_STEPS / (time.perf_counter() - start)
    full_step = _per_step(_full, model, FULL_STEPS)
    reduced_step = _per_step(_reduced, model, REDUCED_STEPS // 4)
    run = benchmark.pedantic(_reduced, args=(model,), rounds=3)
    rate = REDUCED_STEPS / benchmark.stats.stats.mean
    benchmark.extra_info["steps per call"] = REDUCED_STEPS
    benchmark.extra_info["steps per second"] = rate
    benchmark.extra_info["seconds per step"] = reduced_step
    benchmark.extra_info["full-dimensional seconds per step"] = full_step
    benchmark.extra_info["ratio to full-dimensional"] = full_step / reduced_step
    benchmark.extra_info["ratio per call"] = rate / full_call_rate
    assert run.steps[-1] == REDUCED_STEPS and np.all(np.isfinite(run.Q))
