"""Spike count, overlap limit, Hermite degree and Hermite model (featcheck.theory.onestep)."""

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.theory.errors import DomainError
from featcheck.theory.onestep import (
    BOUNDARY_TOLERANCE,
    degree_interval,
    gradient_overlap,
    hermite_degree,
    hermite_model,
    onestep_derivation,
    overlap_symbolic,
    predict_spikes,
    spike_count,
    spike_threshold,
)


def test_thresholds_are_k_minus_one_over_two_k():
    assert [spike_threshold(k) for k in range(1, 6)] == [
        0,
        sp.Rational(1, 4),
        sp.Rational(1, 3),
        sp.Rational(3, 8),
        sp.Rational(2, 5),
    ]


@settings(max_examples=25, deadline=None)
@given(st.fractions(min_value=0, max_value=sp.Rational(49, 100)).filter(lambda a: a > 0))
def test_spike_count_is_number_of_thresholds_below_alpha(alpha):
    a = sp.Rational(alpha.numerator, alpha.denominator)
    bound = float(1 / (1 - 2 * a))
    if abs(bound - round(bound)) <= BOUNDARY_TOLERANCE * bound:  # at a threshold
        with pytest.raises(DomainError):
            spike_count(a)
        return
    expected = sum(1 for k in range(1, 200) if spike_threshold(k) < a)
    assert spike_count(a) == expected
    # the interval (l-1)/(2l) < alpha < l/(2l+2) on which l(alpha) = l
    l_alpha = spike_count(a)
    assert spike_threshold(l_alpha) < a < spike_threshold(l_alpha + 1)


@pytest.mark.parametrize("alpha", [0.0, 0.5, -0.1, 0.7, 0.25, 1 / 3])
def test_spike_count_rejects_outside_and_thresholds(alpha):
    with pytest.raises(DomainError):
        spike_count(alpha)


def test_restriction_to_nonzero_coefficients():
    # tanh: odd only; relu: mu_3 = 0 exactly; he(2) target: uninformative
    assert predict_spikes("tanh", "tanh", 0.39).spike_degrees == (1, 3)
    relu = predict_spikes("relu", "tanh", 0.39)
    assert relu.unrestricted == 4 and relu.spike_degrees == (1, 2, 4)
    assert not predict_spikes("relu", "he(2)", 0.3).informative
    assert predict_spikes("he(2)", "tanh", 0.3).count == 0  # mu_1(sigma) = 0: no rank-one part


def test_overlap_limit_rederived_and_matches_closed_form():
    _, limit, s = overlap_symbolic()
    mu1, m2, s2, psi = s["mu1"], s["m2"], s["s2"], s["psi"]
    assert sp.simplify(limit - (mu1**2 + (m2 + s2) / psi)) == 0
    # relu target: mu_1 = 1/2, E[relu^2] = 1/2
    o = gradient_overlap("relu", 2, 0.25)
    assert (
        sp.simplify(o.overlap - sp.Rational(1, 2) / sp.sqrt(sp.Rational(1, 4) + sp.Rational(3, 8)))
        == 0
    )
    assert gradient_overlap("he(2)", 1).value == 0.0


@settings(max_examples=15, deadline=None)
@given(st.floats(0.1, 10), st.floats(0, 2))
def test_overlap_in_unit_interval_and_increasing_in_psi(psi, noise):
    low = gradient_overlap("tanh", psi, noise).value
    high = gradient_overlap("tanh", psi * 2, noise).value
    assert 0 < low < high < 1


@settings(max_examples=25, deadline=None)
@given(st.floats(0.01, 0.99))
def test_hermite_degree_intervals(beta):
    b = sp.Rational(repr(beta))
    inverse = float(1 / (1 - b))
    if abs(inverse - round(inverse)) <= BOUNDARY_TOLERANCE * inverse:
        with pytest.raises(DomainError):
            hermite_degree(beta)
        return
    L = hermite_degree(beta)
    low, high = degree_interval(L)
    assert low < b < high


@pytest.mark.parametrize("beta", [0.5, 2 / 3, 0.75, 0.0, 1.0, 1.2])
def test_hermite_degree_undefined(beta):
    with pytest.raises(DomainError):
        hermite_degree(beta)


def test_relu_hermite_model_exact_by_homogeneity():
    model = hermite_model("relu", 0.8, 3)
    assert model.method == "exact"
    b = sp.Rational(4, 5)
    # relu(b z) = b relu(z): residual s_L^2 = b^2 (1/2 - 1/(2 pi) - 1/4 - 1/(4 pi))
    expected = b**2 * (sp.Rational(1, 2) - 1 / (2 * sp.pi) - sp.Rational(1, 4) - 1 / (4 * sp.pi))
    assert sp.simplify(model.residual_variance.exact - expected) == 0
    assert model.h[1] == pytest.approx(0.4)


@settings(max_examples=10, deadline=None)
@given(st.floats(0.3, 1.5), st.integers(1, 5))
def test_residual_variance_decreases_with_degree(scale, degree):
    low = hermite_model("tanh", scale, degree)
    high = hermite_model("tanh", scale, degree + 1)
    assert float(high.residual_variance.value) <= float(low.residual_variance.value) + float(
        low.residual_variance.error + high.residual_variance.error
    )
    assert float(low.residual_variance.value) >= -float(low.residual_variance.error)
    # Parseval: E[tanh(bZ)^2] = sum mu_k^2/k! + s_L^2
    total = sum(c.value**2 / mpmath.factorial(c.degree) for c in low.mu)
    assert math.isclose(float(total + low.residual_variance.value), float(low.second_moment.value))


def test_derivation_of_the_null_target_keeps_the_spikes():
    text = onestep_derivation("relu", "he(2)", alpha=0.3, psi=2).to_markdown()
    assert "a target with mu_1(sigma*) = 0 keeps the spikes" in text
    # lim ||beta_hat||^2 = E[He_2(Z)^2]/psi = 2/2 at psi = 2
    assert "\\psi = 2 = 1" in text
    assert "L(\\beta)" in text
    informative = onestep_derivation("relu", "tanh", alpha=0.3).to_markdown()
    assert "keeps the spikes" not in informative
