"""The machinery of the exponents claims on small inputs, and one whole claim as a smoke test.

``featcheck verify`` runs every claim once at the quick budget; these tests check the parts
the verdicts rest on: the derived constant ``C(c)`` against an independent simulation of
its diffusion, the rules applied to measurements shaped like the family's, the flags for
pre-asymptotic sizes and for step windows that are too narrow.
"""

import math

import numpy as np
import pytest

import featcheck.numerics.claims.exponents as exponents
from featcheck.numerics.claims import rules
from featcheck.numerics.claims.base import REGISTRY, Status, run_claim
from featcheck.numerics.exponents import escape_limit
from featcheck.theory.errors import NumericalError


def _euler_escape_times(s, c, paths, dt, top, rng):
    """Explosion times of dX = (c s X^(s-1) - s c^2 X/2) dt + c sqrt(s(2s+1)) dB by
    Euler-Maruyama, stopped at X = top (the rest of the way in closed form)."""
    x = rng.standard_normal(paths)
    times = np.zeros(paths)
    alive = np.ones(paths, dtype=bool)
    sigma = c * math.sqrt(s * (2 * s + 1))
    t = 0.0
    while alive.any():
        i = np.flatnonzero(alive)
        y = x[i]
        y = y + (c * s * y ** (s - 1) - s * c * c * y / 2) * dt
        y += sigma * math.sqrt(dt) * rng.standard_normal(i.size)
        x[i] = y
        t += dt
        done = np.abs(y) > top
        times[i[done]] = t
        alive[i[done]] = False
    return times + 1 / (c * s * (s - 2) * top ** (s - 2))


@pytest.mark.parametrize(("s", "c"), [(3, 2.0), (4, 1.0)])
def test_escape_constant_matches_a_simulation_of_its_diffusion(s, c):
    limit = escape_limit.mean_escape_time(s, c)
    assert limit.error < 1e-4 * limit.value
    rng = np.random.default_rng(20260)
    times = _euler_escape_times(s, c, 4000, 2e-4 * limit.value, 200.0, rng)
    interval = rules.mean_interval(times, 0.999)
    # Euler's bias is O(dt) = 2e-4 C(c): far inside the interval's half-width (~5%)
    assert interval.contains(limit.value), (interval, limit)


def test_escape_constant_has_an_interior_optimum_at_s3():
    best = escape_limit.optimal_step_constant(3)
    assert 10 < best.c < 13
    for other in (best.c / 2, best.c * 2, exponents.ESCAPE_CONSTANT):
        assert escape_limit.mean_escape_time(3, other).value > best.value
    with pytest.raises(NumericalError, match="edge"):
        escape_limit.optimal_step_constant(3, (0.5, 4.0))


def test_scaled_hitting_times_at_small_d():
    x = escape_limit.scaled_hitting_times(3, 1.0, 40, 64, np.random.SeedSequence(1))
    assert x.shape == (64,) and np.isfinite(x).all()
    # the threshold correction is subtracted: it is negative, so every value is above 0
    assert escape_limit.threshold_shift(3, 1.0, 40, 0.5) < 0 and (x > 0).all()
    assert escape_limit.threshold_shift(4, 1.0, 40, 0.5) == 0


def test_escape_verdict_holds_violated_and_undecided():
    rng = np.random.default_rng(3)
    level = rules.Level(0.05, 4)
    ds = (100, 200, 400, 800)
    limit = 0.75
    # n/d^2 = C(c) + O(1/d), the corrections the derivation leaves: holds
    closing = [limit + 30 / d + 0.05 * rng.standard_normal(200) for d in ds]
    (check,) = exponents.escape_verdict(ds, closing, limit, 1.0, level, rng)
    assert check.passed and check.decidable
    # another constant (a wrong C(c)) or n ~ d (n/d^2 -> 0): violated
    for other in ([1.2 + 30 / d + 0.05 * rng.standard_normal(200) for d in ds],
                  [200 / d * rng.exponential(1, 200) for d in ds]):  # fmt: skip
        (check,) = exponents.escape_verdict(ds, other, limit, 1.0, level, rng)
        assert check.decidable and not check.passed, check
    # replicas too few and too spread to tell C(c) from 0: undecided, with a size
    noisy = [limit * rng.exponential(1, 6) for d in ds]
    (check,) = exponents.escape_verdict(ds, noisy, limit, 1.0, level, rng)
    assert not check.decidable and check.inputs["deciding_size"] == 3200


def test_pre_asymptotic_sizes_are_those_below_the_optimum():
    optimum = 11.6
    points = [
        {"d": 1000, "eta": 0.15 * 1000**0.5 / 1000**1.5},  # held at the cap: flagged
        {"d": 40000, "eta": 11.0 / 40000**1.5},  # at the optimum: kept
        {"d": 2000, "eta": None},  # censored: nothing to say
    ]
    flagged = exponents.pre_asymptotic(points, 3, optimum)
    assert [f["d"] for f in flagged] == [1000]
    assert flagged[0]["tuned_constant_over_sqrt_d"] == pytest.approx(0.15)


def test_gain_window_reaches_the_normalized_step():
    ds, r2 = (100, 400, 1600), 0.5
    low, high = exponents.gain_window(ds, r2, "normalized")
    assert exponents.gain_window(ds, r2, "preconditioned") == (low, 6)
    # the top of the window (before extension) is above kappa times the reference step
    assert 2 ** (high / 2) >= 1 + max(ds) ** r2


def test_window_edges_flags_a_best_step_at_the_top():
    etas = [0.4, 0.2, 0.1]  # the order of a sweep measurement: largest step first
    fast = [[3, 4, 5, 6], [10, 11, 12, 13], [20, 21, 22, 23]]
    row = {"d": 100, "etas": etas, "cells": fast, "reached_bottom": True}
    edges = exponents.window_edges({"normalized": (None, [row])})
    assert [(e["learner"], e["d"], e["eta"]) for e in edges] == [("normalized", 100, 0.4)]
    inner = {**row, "cells": [fast[1], fast[0], fast[2]]}
    assert exponents.window_edges({"normalized": (None, [inner])}) == []


def test_rho0_claim_quick_smoke(tmp_path):
    evidence = run_claim(REGISTRY["exponents.rho0-regimes"], "quick", 0, tmp_path)
    assert evidence.status == Status.HOLDS, evidence.to_json()
    assert evidence.figures and all(path.stat().st_size > 0 for path in evidence.figures)


def _tuned_sweep(ds, constants):
    """A finished s = 3 sweep whose best step at each d is ``constant d^(-3/2)`` and whose
    count is ``0.07 d^2`` (plus a slower step on each side)."""
    from featcheck.numerics.exponents.sample_complexity import SweepResult, SweepSpec

    spec = SweepSpec(ds=tuple(ds), s_values=(3,), replicas=4, max_steps=10**9)
    rows = []
    for d, constant in zip(ds, constants, strict=True):
        best = constant * d**-1.5
        n = 0.07 * d**2
        cells = [[2 * n] * 4, [n, n + 1, n + 2, n + 3], [2 * n] * 4]
        rows.append({"s": 3, "r1": 0.0, "r2": 0.0, "d": d, "etas": [2 * best, best, best / 2],
                     "cells": cells, "reached_bottom": True})  # fmt: skip
    return SweepResult(spec, rows)


def test_pre_asymptotic_sizes_leave_the_tuned_fit():
    from featcheck.numerics.claims.base import Evidence
    from featcheck.numerics.exponents.sample_complexity import curves

    optimum = escape_limit.optimal_step_constant(3)
    level = rules.Level(0.05, 2)
    ds = (1000, 4000, 16000, 64000, 256000)
    # held at the cap below 16000 (0.1 sqrt(d)), at the optimum from there on: refit on three
    result = _tuned_sweep(ds, [0.1 * 1000**0.5, 0.1 * 4000**0.5, 12.0, 12.0, 12.0])
    fitted = curves(result, "online", confidence=level.confidence)[0]
    evidence = Evidence()
    refit = exponents._drop_pre_asymptotic(evidence, result, fitted, optimum, level)
    assert [p["d"] for p in refit["points"]] == [16000, 64000, 256000]
    assert refit["measured_exponent"] == pytest.approx(2.0, abs=1e-6)
    assert "pre-asymptotic" in evidence.note
    flagged = exponents.tuned_pre_asymptotic(result.measurements, 3)  # the gain claim's (a)
    assert [f["d"] for f in flagged] == [1000, 4000]
    # held at the cap everywhere: the tuned exponent is out of reach, with a deciding size
    result = _tuned_sweep(ds[:3], [0.15 * d**0.5 for d in ds[:3]])
    fitted = curves(result, "online", confidence=level.confidence)[0]
    evidence = Evidence()
    assert exponents._drop_pre_asymptotic(evidence, result, fitted, optimum, level) is None
    (check,) = evidence.checks
    assert not check.decidable
    assert check.inputs["deciding_size"] == pytest.approx(4 * (optimum.c / 0.15) ** 2)
