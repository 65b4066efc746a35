"""Exact forms print correct digits; a certified error bound is a bound."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.theory.hermite import hermite_coefficients, information_exponent, second_moment

DIGITS = 30


@pytest.mark.parametrize("b", [5, 12, 30, 40])
def test_far_shifted_relu_is_correctly_rounded(b):
    """c_1(relu(z - b)) = Q(b) = erfc(b/sqrt 2)/2: no digit lost to cancellation."""
    c1 = hermite_coefficients(f"relu(z-{b})", 1, digits=DIGITS).coefficients[1]
    with mpmath.workdps(DIGITS + 250):
        truth = mpmath.erfc(b / mpmath.sqrt(2)) / 2
        c0_truth = mpmath.npdf(b) - b * truth  # E[(Z - b)_+] = phi(b) - b Q(b)
        c0 = hermite_coefficients(f"relu(z-{b})", 0, digits=DIGITS).coefficients[0]
        assert abs(c1.value - truth) <= truth * mpmath.mpf(10) ** (-DIGITS + 1)
        assert abs(c0.value - c0_truth) <= c0_truth * mpmath.mpf(10) ** (-DIGITS + 1)


@given(
    omega=st.fractions(min_value=1, max_value=3000, max_denominator=7),
    phase=st.sampled_from([0, 1, -2]),
    k=st.integers(0, 6),
)
@settings(max_examples=15)
def test_trigonometric_links_are_exact(omega, phase, k):
    """cos(w z + p): mu_k = Re(i^k e^(i p)) w^k exp(-w^2/2), the Hermite generating function
    E[He_k(Z) exp(i w Z)] = (i w)^k exp(-w^2/2), evaluated directly in mpmath."""
    w = sp.Rational(omega.numerator, omega.denominator)
    expansion = hermite_coefficients(f"cos({w}*z + {phase})", k, basis="monic", digits=DIGITS)
    assert expansion.method == "exact"
    with mpmath.workdps(DIGITS + 20):
        wm = mpmath.mpf(w.p) / w.q
        truth = mpmath.re((1j) ** k * mpmath.expj(phase)) * wm**k * mpmath.exp(-(wm**2) / 2)
        value = expansion.coefficients[k].value
        assert abs(value - truth) <= abs(truth) * mpmath.mpf(10) ** (-DIGITS + 1)


def test_trigonometric_coefficients_agree_with_quadrature():
    """An independent route for moderate frequencies: mpmath.quad of f He_k phi."""
    expansion = hermite_coefficients("z*sin(2*z) + cos(z/2)^2", 5, basis="monic", digits=20)
    assert expansion.method == "exact"
    with mpmath.workdps(30):
        for k, c in enumerate(expansion.coefficients):
            truth = mpmath.quad(
                lambda x, k=k: (
                    (x * mpmath.sin(2 * x) + mpmath.cos(x / 2) ** 2)
                    * mpmath.hermite(k, x / mpmath.sqrt(2))
                    * 2 ** (-mpmath.mpf(k) / 2)
                    * mpmath.npdf(x)
                ),
                [-mpmath.inf, 0, mpmath.inf],
            )
            assert abs(c.value - truth) < mpmath.mpf(10) ** -18


@given(omega=st.integers(60, 5000))
@settings(max_examples=4)
def test_unresolved_oscillation_reports_an_honest_error(omega):
    """sin(w Z)^2 tanh(Z)^2 averages to E[tanh^2]/2 up to a term below 1e-30 for w >= 60;
    the numeric path may not resolve the oscillation, but its error bound must hold,
    and it must not certify an information exponent from noise."""
    expansion = hermite_coefficients(f"sin({omega}*z)*tanh(z)", 2, digits=20)
    truth = second_moment("tanh(z)", digits=20).value / 2
    moment = expansion.second_moment
    assert abs(moment.value - truth) <= moment.error + mpmath.mpf(10) ** -18
    for c in expansion.coefficients:
        if c.error > 0:
            assert c.error >= abs(c.value) or c.error < mpmath.mpf(10) ** -15
    if all(c.error > abs(c.value) or c.value == 0 for c in expansion.coefficients):
        assert information_exponent(expansion).value is None
