"""Mehler kernels and variance scaling."""

import mpmath
import pytest
import sympy as sp
from hypothesis import given

from featcheck.numerics import strategies as fs
from featcheck.theory.errors import DomainError
from featcheck.theory.gaussian import mehler, rho, scaled_monic_coefficient
from featcheck.theory.hermite import hermite_coefficients


def test_arc_cosine_kernel_is_recognised():
    kernel = mehler("relu", "relu")
    assert kernel.method == "arc-cosine"
    assert sp.simplify(kernel.closed_form.subs(rho, 0) - 1 / (2 * sp.pi)) == 0


def test_arcsine_kernel_for_erf():
    kernel = mehler("erf", "3*erf(2*z)")
    assert kernel.method == "arcsine"
    with mpmath.workdps(30):
        value, bound = kernel.evaluate(0.5)
        expected = 3 * 2 / mpmath.pi * mpmath.asin(2 * 2 * 0.5 / mpmath.sqrt(3 * 9))
        assert abs(value - expected) < mpmath.mpf(10) ** -28
    assert bound == 0


@given(fs.hermite_links(max_degree=5), fs.hermite_links(max_degree=5), fs.correlations())
def test_polynomial_kernel_is_the_finite_sum(f, g, r):
    kernel = mehler(f.function, g.function)
    assert kernel.method == "polynomial"
    top = min(f.degree, g.degree)
    expected = sum(f.monic(k) * g.monic(k) / sp.factorial(k) * rho**k for k in range(top + 1))
    assert sp.expand(kernel.closed_form - expected) == 0


@given(fs.correlations())
def test_series_bound_contains_the_closed_form(r):
    # relu(z + 0) written differently is still ReLU: the series path must bracket it.
    series = mehler("relu", "relu(z+0) + 0*tanh(z)", 30)
    exact = mehler("relu", "relu")
    with mpmath.workdps(30):
        value, bound = series.evaluate(r)
        truth, _ = exact.evaluate(r)
    assert abs(value - truth) <= bound + mpmath.mpf(10) ** -25


@given(fs.hermite_links(max_degree=5), fs.scales())
def test_scaling_identity_for_polynomials(link, sigma):
    base = hermite_coefficients(link.function, link.degree, basis="monic")
    scaled = hermite_coefficients(link.function.scaled(sigma), link.degree, basis="monic")
    for c in scaled.coefficients:
        assert sp.expand(scaled_monic_coefficient(base, c.degree, sigma) - c.exact) == 0


@given(fs.scales())
def test_relu_is_positively_homogeneous(sigma):
    from featcheck.theory.functions import parse_function

    base = hermite_coefficients("relu", 6)
    scaled = hermite_coefficients(parse_function("relu").scaled(sigma), 6)
    for a, b in zip(base.coefficients, scaled.coefficients, strict=True):
        assert sp.simplify(b.exact - sigma * a.exact) == 0


def test_correlation_outside_the_interval_is_rejected():
    with pytest.raises(DomainError):
        mehler("relu", "tanh", 5).evaluate(1.5)
