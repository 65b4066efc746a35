"""Predicted exponents: values, regimes, symbolic consistency, bad input."""

import math
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from featcheck.theory.errors import DomainError
from featcheck.theory.exponents import (
    consistency_checks,
    predict,
    r1,
    r2,
    rho0_exponent,
    s,
    whitened_overlap_formula,
)


def test_isotropic_table():
    online = predict("online")
    assert [online.at(k).exact for k in (1, 2, 3, 4)] == [1, 1, 2, 3]
    assert online.at(2).log_factor == sp.log(sp.Symbol("d", positive=True))
    assert online.at(3).log_factor == 1
    assert predict("smoothed").at(4).exact == 2
    assert predict("csq").at(3).exact == sp.Rational(3, 2)
    assert predict("kernel").at(5).exact == 5
    with pytest.raises(DomainError, match="s >= 2"):
        predict("smoothed").at(1)


def test_rho0_regimes_and_factored_formula():
    rho = predict("rho0")
    assert rho.at(1, 0.25, 0.1).exact == -sp.Rational(1, 2)
    assert rho.at(1, 0.25, 0.375).exact == -sp.Rational(3, 8)
    assert rho.at(1, 0.25, 0.75).exact == -sp.Rational(1, 8)
    assert rho.at(1, 0.25, 1.5).exact == 0
    assert whitened_overlap_formula()[2] == 0  # the factored rho0 is re-derived


def test_spiked_values_match_closed_forms():
    a, b = predict("spiked-online"), predict("spiked-batch")
    # regime (iii): 1 + (s-2)(1-r2) and 1 + (s-1)(1-r2); regime (ii): 1 + (s-2)(1+2r1-2r2)
    assert a.at(3, 0.25, 0.7).exact == sp.Rational(13, 10)
    assert b.at(3, 0.25, 0.7).exact == sp.Rational(8, 5)
    assert a.at(4, 0.25, 0.375).exact == 1 + 2 * (1 + sp.Rational(1, 2) - sp.Rational(3, 4))
    assert a.at(5, 0.3, 0.1).exact == 4 and b.at(5, 0.3, 0.1).exact == 5  # no gain
    assert predict("spiked-online", effective_dimension=True).at(3, 0, 0.5).exact == 1


@pytest.mark.parametrize("learner", ["spiked-online", "spiked-batch"])
@pytest.mark.parametrize("effective", [False, True])
def test_consistency_checks_hold(learner, effective):
    checks = consistency_checks(predict(learner, effective))
    assert len(checks) == 4 and all(c.holds for c in checks), checks


def test_consistency_check_detects_a_discontinuity():
    broken = predict("spiked-online")
    regimes = list(broken.regimes)
    regimes[1] = type(regimes[1])(regimes[1].name, regimes[1].condition, regimes[1].exponent + r2)
    broken.regimes = tuple(regimes)
    assert not all(c.holds for c in consistency_checks(broken))


@given(
    k=st.integers(1, 8),
    a=st.fractions(0, sp.Rational(1, 2)),
    b=st.fractions(0, 1),
)
def test_piecewise_is_continuous_and_matches_table(k, a, b):
    """Random interior points: the Piecewise equals the regime table; tiny moves change little."""
    for learner in ("spiked-online", "spiked-batch"):
        p = predict(learner)
        value = p.at(k, a, b)
        assert value.exact == p.exponent.subs({s: k, r1: a, r2: b})
        nudged = p.at(k, a, min(b + sp.Rational(1, 10**6), 1)).value
        assert math.isclose(value.value, nudged, abs_tol=1e-4 * k)


def test_limits():
    e = rho0_exponent()
    assert e.subs({r1: sp.Rational(1, 3), r2: 0}) == -sp.Rational(1, 2)
    for k in range(1, 7):
        assert predict("spiked-online").at(k, 0.2, 1).exact == 1
        assert predict("spiked-batch").at(k, 0.2, 1).exact == 1


@pytest.mark.parametrize(
    ("learner", "args", "message"),
    [
        ("online", (0,), "whole number"),
        ("spiked-online", (3, 0.7, 0.5), "r1"),
        ("spiked-online", (3, 0.2, 1.2), "r2"),
        ("rho0", (1, 0.2, 2.5), "r2"),
    ],
)
def test_bad_input(learner, args, message):
    with pytest.raises(DomainError, match=message):
        predict(learner).at(*args)
    with pytest.raises(DomainError, match="unknown learner"):
        predict("sgd")


DOCS = Path(__file__).resolve().parents[2] / "docs" / "derivations"


@pytest.mark.parametrize(
    ("name", "learner", "effective"),
    [
        ("online", "online", False),
        ("rho0", "rho0", False),
        ("spiked-online", "spiked-online", False),
        ("spiked-batch", "spiked-batch", False),
        ("spiked-online-effective", "spiked-online", True),
    ],
)
def test_committed_exponent_derivations_are_current(name, learner, effective):
    expected = predict(learner, effective).derivation.to_markdown()
    assert (DOCS / f"exponent-{name}.md").read_text() == expected


# ---------------------------------------------------------------------------
# the gain of preconditioning


def test_gain_exponents_at_half():
    from featcheck.theory.exponents import preconditioning_gain

    isotropic = preconditioning_gain("isotropic")
    assert [isotropic.at(k) for k in (1, 2, 3, 4)] == [0, 0, sp.Rational(1, 2), 1]
    assert isotropic.log_ratio.subs(r2, sp.Rational(1, 2)) == 2  # log d / log(1/rho0) -> 2
    normalized = preconditioning_gain("normalized")
    assert [normalized.at(k) for k in (2, 3, 5)] == [-1, -sp.Rational(3, 2), -sp.Rational(5, 2)]
    assert normalized.log_ratio.subs(r2, sp.Rational(1, 4)) == sp.Rational(2, 3)
    plain = preconditioning_gain("normalized", effective_dimension=False)
    assert [plain.at(k) for k in (2, 3, 5)] == [0, 0, 0]


@given(st.integers(2, 12), st.fractions(0, 1))
def test_gain_exponents_are_differences_of_sample_exponents(s_value, r2_value):
    r2_normalized = min(r2_value, sp.Rational(1, 2))
    from featcheck.theory.exponents import preconditioning_gain, sample_exponents

    e = {k: v.subs({s: s_value, r2: sp.Rational(r2_value)}) for k, v in sample_exponents().items()}
    # no spike, no gain over either comparator: every learner is the isotropic one
    assert preconditioning_gain("isotropic").at(s_value, 0) == 0
    assert preconditioning_gain("normalized").at(s_value, 0) == 0
    # the normalized learner starts from the stationary overlap kappa/sqrt(d): g = -s r2
    e_n = {k: v.subs({s: s_value, r2: r2_normalized}) for k, v in sample_exponents().items()}
    assert (
        preconditioning_gain("normalized").at(s_value, r2_normalized)
        == (e_n["normalized"] - e_n["preconditioned"])
        == -s_value * r2_normalized
    )
    assert e_n["normalized-stationary"] == r2_normalized - sp.Rational(1, 2)
    # the preconditioned exponent is the spiked convention-A prediction at r1 = 0
    assert e["preconditioned"] == predict("spiked-online").at(s_value, 0, r2_value).exact


def test_gain_bad_input():
    from featcheck.theory.exponents import preconditioning_gain

    with pytest.raises(DomainError, match="unknown comparator"):
        preconditioning_gain("plain")
    with pytest.raises(DomainError, match="normalized comparator only"):
        preconditioning_gain("isotropic", effective_dimension=False)
    with pytest.raises(DomainError, match="needs"):
        preconditioning_gain("normalized").at(1)
    with pytest.raises(DomainError, match="needs"):  # kappa above sqrt(d): not derived
        preconditioning_gain("normalized").at(2, 0.75)
    with pytest.raises(DomainError, match="whole number"):
        preconditioning_gain("isotropic").at(0)


@pytest.mark.parametrize(
    ("name", "comparator", "effective"),
    [
        ("isotropic", "isotropic", True),
        ("normalized", "normalized", True),
        ("normalized-plain", "normalized", False),
    ],
)
def test_committed_gain_derivations_are_current(name, comparator, effective):
    from featcheck.theory.exponents import preconditioning_gain

    expected = preconditioning_gain(comparator, effective).derivation.to_markdown()
    assert (DOCS / f"exponent-gain-{name}.md").read_text() == expected


# ---------------------------------------------------------------------------
# the scaling limit at a fixed step constant


@pytest.mark.parametrize("s_value", [3, 4, 5])
def test_escape_moments_are_exact(s_value):
    from featcheck.theory.exponents.escape import escape_limit, m, one_step_moments

    moments = one_step_moments(s_value)
    # the spherical gradient of the population correlation m^s along u
    assert sp.expand(moments.drift - s_value * m ** (s_value - 1) * (1 - m**2)) == 0
    assert moments.spherical == s_value  # E[h_s'^2]
    assert moments.variance == s_value * (2 * s_value + 1)  # E[(z h_s)^2] E[h_s'^2]
    a, b, sigma2 = escape_limit(s_value).numeric(2.0)
    assert (a, b, sigma2) == (2.0 * s_value, 2.0 * s_value, 4.0 * s_value * (2 * s_value + 1))


def test_escape_limit_needs_s_at_least_3_and_threshold_correction_at_3():
    from featcheck.theory.exponents.escape import escape_limit, threshold_correction

    with pytest.raises(DomainError, match="s >= 3"):
        escape_limit(2)
    with pytest.raises(DomainError, match="s = 3 only"):
        threshold_correction(4, 1, sp.Rational(1, 2))
    value = threshold_correction(3, 1, sp.Rational(1, 2))
    assert value == (sp.atanh(sp.Rational(1, 2)) - 2) / 3


def test_committed_escape_derivation_is_current():
    from featcheck.theory.exponents.escape import escape_limit

    expected = escape_limit(3).derivation.to_markdown()
    assert (DOCS / "exponent-escape-limit.md").read_text() == expected
