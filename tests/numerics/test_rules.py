"""The agreement rules: coverage of the intervals, and the verdicts of the convergence,
limit and bound rules on synthetic measurements whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from featcheck.numerics.claims import rules
from featcheck.numerics.claims.base import Evidence, Status
from featcheck.theory.errors import DomainError


def _status(checks) -> Status:
    evidence = Evidence(checks=list(checks))
    return evidence.decide()


def test_level_splits_alpha():
    level = rules.Level(0.05, 10)
    assert level.confidence == pytest.approx(0.995)
    assert "family-wise 95%" in level.describe()
    with pytest.raises(DomainError):
        rules.Level(0.0, 1)


@pytest.mark.parametrize("method", ["t", "z"])
def test_mean_interval_covers_at_its_level(method):
    # 2000 intervals of the mean of 30 standard normals at 90%: the number that cover
    # 0 is Binomial(2000, 0.9) (the z interval slightly less); accept within 4 sd.
    rng = np.random.default_rng(1)
    covered = sum(
        rules.mean_interval(rng.standard_normal(30), 0.9, method=method).contains(0.0)
        for _ in range(2000)
    )
    nominal = 0.9 if method == "t" else 2 * stats.t.cdf(stats.norm.ppf(0.95), 29) - 1
    sd = np.sqrt(2000 * nominal * (1 - nominal))
    assert abs(covered - 2000 * nominal) < 4 * sd


def test_difference_interval_matches_welch():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 40), rng.normal(0.5, 2, 25)
    interval = rules.difference_interval(a, b, 0.95)
    welch = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert interval.low == pytest.approx(welch.low)
    assert interval.high == pytest.approx(welch.high)


def test_intervals_refuse_non_finite_or_single_values():
    with pytest.raises(DomainError):
        rules.mean_interval([1.0], 0.95)
    with pytest.raises(DomainError):
        rules.mean_interval([1.0, np.nan, 2.0], 0.95)


@settings(max_examples=20, deadline=None)
@given(exponent=st.floats(-2.0, 2.0), seed=st.integers(0, 2**32 - 1))
def test_loglog_slope_recovers_a_power_law(exponent, seed):
    rng = np.random.default_rng(seed)
    x = np.array([10.0, 30.0, 100.0, 300.0, 1000.0])
    replicas = [x_**exponent * rng.lognormal(0.0, 0.05, 200) for x_ in x]
    slope = rules.loglog_slope(x, confidence=0.99, replicas=replicas, rng=rng, resamples=400)
    # Within one whole width (about five standard errors) of the truth; the width is that
    # of the replicas' noise, 0.05 / sqrt(200) in log y per size.
    assert abs(slope.slope - exponent) <= slope.high - slope.low
    assert slope.high - slope.low < 0.02
    regression = rules.loglog_slope(x, [r.mean() for r in replicas], confidence=0.99)
    assert abs(regression.slope - exponent) <= max(regression.high - regression.low, 0.01)


def _replicas(rng, sizes, mean_of_n, noise, count=200):
    return [mean_of_n(n) + noise * rng.standard_normal(count) for n in sizes]


def test_convergence_holds_for_a_shrinking_gap_and_checks_its_rate():
    rng = np.random.default_rng(3)
    sizes = [100, 400, 1600, 6400]
    replicas = _replicas(rng, sizes, lambda n: n**-0.5, 0.002)
    checks = rules.convergence(
        "gap", sizes, replicas, gap=lambda r: abs(r.mean()), level=rules.Level(0.05, 6),
        rng=rng, rate=-0.5,
    )  # fmt: skip
    assert _status(checks) is Status.HOLDS
    assert checks[0].inputs["rate_interval"][1] < 0
    wrong_rate = rules.convergence(
        "gap", sizes, replicas, gap=lambda r: abs(r.mean()), level=rules.Level(0.05, 6),
        rng=rng, rate=-1.0,
    )  # fmt: skip
    assert _status(wrong_rate) is Status.VIOLATED


def test_convergence_is_violated_by_a_gap_that_stays():
    rng = np.random.default_rng(4)
    sizes = [100, 400, 1600]
    replicas = _replicas(rng, sizes, lambda n: 0.3, 0.05)
    checks = rules.convergence(
        "gap", sizes, replicas, gap=lambda r: abs(r.mean()), level=rules.Level(), rng=rng,
        margin=0.01,
    )  # fmt: skip
    assert _status(checks) is Status.VIOLATED


def test_a_gap_settling_at_a_non_zero_limit_is_not_convergence():
    # G(n) = 0.3 + 0.01 n^(-1/2): it shrinks, but towards 0.3; its local rate is near 0.
    rng = np.random.default_rng(8)
    sizes = [100, 400, 1600, 6400]
    replicas = _replicas(rng, sizes, lambda n: 0.3 + 0.01 / np.sqrt(n), 1e-4)
    checks = rules.convergence(
        "gap", sizes, replicas, gap=lambda r: abs(r.mean()), level=rules.Level(), rng=rng
    )
    assert _status(checks) is Status.VIOLATED
    assert -0.1 < checks[0].inputs["rate_interval"][0] < checks[0].inputs["rate_interval"][1] < 0


def test_convergence_within_its_margin_holds_and_noise_is_inconclusive():
    rng = np.random.default_rng(5)
    sizes = [100, 200, 400]
    small = _replicas(rng, sizes, lambda n: 1e-4, 1e-4)
    checks = rules.convergence(
        "gap", sizes, small, gap=lambda r: abs(r.mean()), level=rules.Level(), rng=rng,
        margin=1e-2,
    )  # fmt: skip
    assert _status(checks) is Status.HOLDS
    # A gap of 0.1 n^(-0.2) measured with noise 1 over a factor 1.2 in size: undecided.
    noisy = _replicas(rng, [100, 110, 120], lambda n: 0.1 * n**-0.2, 1.0, count=20)
    checks = rules.convergence(
        "gap", [100, 110, 120], noisy, gap=lambda r: abs(r.mean()), level=rules.Level(),
        rng=rng,
    )  # fmt: skip
    assert _status(checks) is Status.INCONCLUSIVE
    assert "reason" in checks[0].inputs


def test_convergence_needs_three_sizes():
    rng = np.random.default_rng(6)
    with pytest.raises(DomainError):
        rules.convergence(
            "gap", [1, 2], [np.ones(3), np.ones(3)], gap=np.mean, level=rules.Level(), rng=rng
        )


def test_limit_extrapolates_past_a_finite_size_bias():
    rng = np.random.default_rng(7)
    sizes = [100, 400, 1600, 6400]
    replicas = _replicas(rng, sizes, lambda n: 1.0 + 3.0 / np.sqrt(n), 0.05)
    good = rules.limit("X", sizes, replicas, 1.0, order=0.5, level=rules.Level(), rng=rng)
    bad = rules.limit("X", sizes, replicas, 1.05, order=0.5, level=rules.Level(), rng=rng)
    assert good.passed and not bad.passed
    # An interval at the largest size alone excludes the true limit: the bias 3/80 is
    # many standard errors (0.05/sqrt(200)).
    assert not rules.mean_interval(replicas[-1], 0.95).contains(1.0)


def test_limit_that_cannot_tell_the_prediction_from_the_null_is_undecided():
    rng = np.random.default_rng(9)
    sizes = [100, 200, 400]
    noisy = [0.75 * rng.exponential(1, 6) for _ in sizes]
    check = rules.limit(
        "X", sizes, noisy, 0.75, order=1.0, level=rules.Level(), rng=rng, null=0.0,
        deciding_size=1600,
    )  # fmt: skip
    assert check.passed and not check.decidable
    assert check.inputs["deciding_size"] == 1600 and "null value" in check.inputs["reason"]
    tight = [0.75 + 0.01 * rng.standard_normal(400) for _ in sizes]
    check = rules.limit("X", sizes, tight, 0.75, order=1.0, level=rules.Level(), rng=rng, null=0.0)
    assert check.passed and check.decidable


def test_bound_reports_slack_and_tightest_constant():
    t = np.linspace(1, 10, 50)
    measured = 0.5 * np.sqrt(t)
    holds = rules.bound("upper", measured, np.sqrt(t), constant=2.0)
    assert holds.passed
    assert holds.inputs["tightest_constant"] == pytest.approx(0.5)
    assert holds.inputs["relative_slack"] == pytest.approx(0.75)
    fails = rules.bound("upper", measured, np.sqrt(t), constant=0.4)
    assert not fails.passed
    lower = rules.bound("lower", measured, np.sqrt(t), constant=0.25, upper=False)
    assert lower.passed and lower.inputs["relative_slack"] == pytest.approx(1.0)
    with pytest.raises(DomainError):
        rules.bound("upper", measured, -np.sqrt(t), constant=1.0)


def test_out_of_reach_is_inconclusive_never_violated():
    check = rules.out_of_reach("spike", "separates only at n ~ 1e13", 1e13)
    assert _status([check]) is Status.INCONCLUSIVE
    assert check.inputs["deciding_size"] == 1e13
