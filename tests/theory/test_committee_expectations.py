"""Gaussian expectations of the local fields: closed forms against independent evaluations.

Independent references: the printed erf integrals of Saad and Solla (1995); Mehler's
series with its Parseval tail bound (certified); Gauss-Hermite quadrature, exact for
polynomials of degree below twice its number of nodes; Monte Carlo with a fixed seed and a
Bonferroni-corrected normal interval.
"""

from __future__ import annotations

import itertools

import mpmath
import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial.hermite_e import hermegauss
from scipy import stats

from featcheck.theory.committee.expectations import (
    GaussianIntegral,
    SignMoment4,
    closed_form_patterns,
    erf_i2,
    erf_i3,
    erf_i4,
    erf_j2,
    gaussian_expectation,
    relu_pair,
    sign_moment4_mp,
    slot_symbols,
)
from featcheck.theory.functions import as_function, z
from featcheck.theory.hermite import hermite_coefficients

Y = slot_symbols(4)
C4 = sp.Matrix(4, 4, lambda i, j: sp.Symbol(f"C{min(i, j)}{max(i, j)}", real=True))


def g(x):
    return sp.erf(x / sp.sqrt(2))


def dg(x):
    return sp.sqrt(2) * sp.exp(-(x**2) / 2) / sp.sqrt(sp.pi)


def relu(x):
    return sp.Max(x, 0)


@st.composite
def covariances(draw, n: int, ridge: float = 0.5):
    """``L L^T + ridge I`` with rational ``L``: positive definite, correlations below one."""
    entries = draw(st.lists(st.integers(-10, 10), min_size=n * n, max_size=n * n))
    L = sp.Matrix(n, n, [sp.Rational(v, 10) for v in entries])
    return L * L.T + sp.Rational(ridge).limit_denominator(100) * sp.eye(n)


def _at(expr: sp.Expr, C: sp.Matrix, n: int, digits: int = 40) -> mpmath.mpf:
    values = {C4[i, j]: C[i, j] for i in range(n) for j in range(i, n)}
    return mpmath.mpf(sp.N(expr.xreplace(values), digits))


def _numeric(C: sp.Matrix) -> np.ndarray:
    return np.array(C.tolist(), dtype=float)


# ----------------------------------------------------------------------------
# The printed erf integrals


def test_pairwise_erf_integrals_are_the_printed_ones_symbolically():
    i2 = gaussian_expectation(g(Y[0]) * g(Y[1]), Y[:2], C4[:2, :2])
    j2 = gaussian_expectation(dg(Y[0]) * dg(Y[1]), Y[:2], C4[:2, :2])
    assert sp.simplify(i2.value - erf_i2(C4[:2, :2])) == 0
    assert sp.simplify(j2.value - erf_j2(C4[:2, :2])) == 0
    assert i2.exact and j2.exact and "arcsine" in i2.method and "tilting" in j2.method


@settings(max_examples=10)
@given(covariances(4))
def test_three_and_four_point_erf_integrals_are_the_printed_ones(C):
    i3 = gaussian_expectation(dg(Y[0]) * Y[1] * g(Y[2]), Y[:3], C4[:3, :3])
    i4 = gaussian_expectation(dg(Y[0]) * dg(Y[1]) * g(Y[2]) * g(Y[3]), Y, C4)
    with mpmath.workdps(40):
        assert abs(_at(i3.value - erf_i3(C4[:3, :3]), C, 3)) < mpmath.mpf(10) ** -30
        assert abs(_at(i4.value - erf_i4(C4), C, 4)) < mpmath.mpf(10) ** -30
    assert i3.exact and i4.exact


# ----------------------------------------------------------------------------
# Mehler's series with a certified tail

DEGREE = 30


def _normalized(function, degree: int, times_z: bool, scale) -> list[mpmath.mpf]:
    """Normalized Hermite coefficients ``c_0..c_degree`` of ``f(sigma z)`` or of
    ``sigma z f(sigma z)`` (from the exact monic coefficients of ``f(sigma .)`` and
    ``z He_k = He_(k+1) + k He_(k-1)``)."""
    base = hermite_coefficients(
        as_function(function(scale * z)), degree + 1, basis="monic", digits=30
    )
    with mpmath.workdps(30):
        mu = [c.value for c in base.coefficients]
        if times_z:
            s = mpmath.mpf(sp.N(scale, 40))
            mu = [s * (mu[k + 1] + (k * mu[k - 1] if k else 0)) for k in range(degree + 1)]
        return [mu[k] / mpmath.sqrt(mpmath.factorial(k)) for k in range(degree + 1)]


def _series(f, h, rho, bound_f2, bound_h2):
    """``sum_k c_k(f) c_k(h) rho^k`` and its certified remainder bound
    ``|rho|^(K+1) sqrt(E[f^2] E[h^2])`` (Cauchy-Schwarz and Parseval), at 30 digits."""
    with mpmath.workdps(30):
        value = sum(a * b * rho**k for k, (a, b) in enumerate(zip(f, h, strict=True)))
        bound = abs(rho) ** len(f) * mpmath.sqrt(mpmath.mpf(bound_f2) * mpmath.mpf(bound_h2))
        return value, bound


def _scales(C, i, j):
    """Standard deviations (as 40-digit floats, which keep the Hermite engine fast) and the
    correlation of fields ``i`` and ``j``."""
    sigma_i, sigma_j = sp.sqrt(C[i, i]), sp.sqrt(C[j, j])
    with mpmath.workdps(40):
        rho = mpmath.mpf(sp.N(C[i, j] / (sigma_i * sigma_j), 40))
    return sp.N(sigma_i, 40), sp.N(sigma_j, 40), rho


def _mp(expr) -> mpmath.mpf:
    with mpmath.workdps(30):
        return mpmath.mpf(sp.N(expr, 30))


@settings(max_examples=3)
@given(covariances(3), st.sampled_from([sp.sqrt(2) / 2, sp.Rational(3, 2)]))
def test_erf_pair_and_stein_terms_match_the_hermite_series(C, b):
    """``E[f(a) f(c)]``, ``E[f'(a) f'(c)]`` and ``E[f'(a) b f(c)]`` for ``f = erf(b z)``: the
    three-point term reduces to pairs by regressing ``b`` on ``(a, c)``.  Bounds on second
    moments: ``|f| <= 1``, ``|f'| <= 2b/sqrt(pi)``."""
    f = sp.Lambda(z, sp.erf(b * z))
    df = sp.Lambda(z, sp.diff(sp.erf(b * z), z))
    top = float(2 * b / sp.sqrt(sp.pi)) ** 2
    a_, b_, c_ = Y[:3]
    sa, sc, rho = _scales(C, 0, 2)
    sub = C.extract([0, 2], [0, 2])
    fa, fc = _normalized(f, DEGREE, False, sa), _normalized(f, DEGREE, False, sc)
    da, dc = _normalized(df, DEGREE, False, sa), _normalized(df, DEGREE, False, sc)
    pair = gaussian_expectation(f(a_) * f(c_), [a_, c_], sub)
    value, bound = _series(fa, fc, rho, 1, 1)
    assert abs(_mp(pair.value) - value) <= bound + mpmath.mpf(10) ** -20
    slopes = gaussian_expectation(df(a_) * df(c_), [a_, c_], sub)
    value, bound = _series(da, dc, rho, top, top)
    assert abs(_mp(slopes.value) - value) <= bound + mpmath.mpf(10) ** -20
    # E[b | a, c] = beta_a a + beta_c c
    beta = C.extract([1], [0, 2]) * sub.inv()
    za = _normalized(df, DEGREE, True, sa)  # a f'(a)
    zc = _normalized(f, DEGREE, True, sc)  # c f(c)
    term_a = _series(za, fc, rho, top * float(C[0, 0]), 1)
    term_c = _series(da, zc, rho, top, float(C[2, 2]))
    with mpmath.workdps(30):
        reference = _mp(beta[0]) * term_a[0] + _mp(beta[1]) * term_c[0]
        bound = abs(_mp(beta[0])) * term_a[1] + abs(_mp(beta[1])) * term_c[1]
    i3 = gaussian_expectation(df(a_) * b_ * f(c_), [a_, b_, c_], C)
    assert abs(_mp(i3.value) - reference) <= bound + mpmath.mpf(10) ** -20
    assert bound < 1e-4  # the comparison can fail


@settings(max_examples=8)
@given(covariances(2))
def test_relu_pair_is_the_arc_cosine_kernel_and_matches_the_series(C):
    a_, b_ = Y[:2]
    pair = gaussian_expectation(relu(a_) * relu(b_), [a_, b_], C)
    assert pair.exact
    assert abs(sp.N(pair.value - relu_pair(C), 30)) < 1e-25
    sa, sb, rho = _scales(C, 0, 1)
    expansion = hermite_coefficients("relu", 40, digits=30)
    c = [k.value for k in expansion.coefficients]
    _, tail = expansion.parseval_tail()  # sum_{k > 40} c_k^2 <= tail (certified)
    with mpmath.workdps(30):
        s = _mp(sa * sb)
        value = s * sum(ck * ck * rho**k for k, ck in enumerate(c))
        bound = s * abs(rho) ** 41 * tail
    assert abs(_mp(pair.value) - value) <= bound + mpmath.mpf(10) ** -20


# ----------------------------------------------------------------------------
# Polynomials: Gauss-Hermite quadrature is exact


def _gauss_hermite(expr, fields, C, nodes=8):
    x, w = hermegauss(nodes)
    w = w / np.sqrt(2 * np.pi)
    n = len(fields)
    L = np.linalg.cholesky(_numeric(C))
    points = np.array(list(itertools.product(x, repeat=n))) @ L.T
    weights = np.prod(np.array(list(itertools.product(w, repeat=n))), axis=1)
    f = sp.lambdify(fields, expr, "numpy")
    return float(np.broadcast_to(f(*points.T), weights.shape) @ weights)


@given(
    covariances(3),
    st.lists(st.integers(0, 4), min_size=3, max_size=3),
    st.integers(-3, 3),
)
def test_wick_moments_equal_exact_quadrature(C, powers, c):
    a_, b_, c_ = Y[:3]
    integrand = a_ ** powers[0] * b_ ** powers[1] * c_ ** powers[2] + c * a_**2
    result = gaussian_expectation(integrand, [a_, b_, c_], C)
    assert result.exact and "Stein" not in result.method and "tilting" not in result.method
    reference = _gauss_hermite(integrand, [a_, b_, c_], C)  # degree <= 12 < 2 * 8
    assert abs(float(result.value) - reference) <= 1e-9 * max(1.0, abs(reference))


def test_odd_moments_vanish_and_fourth_moment_is_three_sigma_to_the_fourth():
    s = sp.Symbol("s", positive=True)
    C = sp.Matrix([[s]])
    assert gaussian_expectation(Y[0] ** 3, Y[:1], C).value == 0
    assert sp.simplify(gaussian_expectation(Y[0] ** 4, Y[:1], C).value - 3 * s**2) == 0


# ----------------------------------------------------------------------------
# Steps and signs


def _monte_carlo(expr, fields, C, n, seed):
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(_numeric(C))
    f = sp.lambdify(fields, expr, "numpy")
    samples = np.asarray(f(*(L @ rng.standard_normal((len(fields), n)))), dtype=float)
    return samples.mean(), samples.std(ddof=1) / np.sqrt(n)


@settings(max_examples=2)
@given(covariances(4), st.integers(0, 2**31))
def test_relu_three_and_four_point_terms_match_monte_carlo(C, seed):
    a_, b_, c_, d_ = Y
    step = sp.Heaviside
    cases = [
        (step(a_) * b_ * relu(c_), Y[:3]),
        (step(a_) * step(b_) * relu(c_) * relu(d_), Y),
        (step(a_) * step(b_) * relu(c_) * d_**2, Y),
    ]
    z_value = stats.norm.ppf(1 - 1e-4 / (2 * len(cases)))
    for expr, fields in cases:
        n = len(fields)
        result = gaussian_expectation(expr, fields, C[:n, :n])
        mean, se = _monte_carlo(expr, fields, C[:n, :n], 400_000, seed)
        assert abs(float(sp.N(result.value)) - mean) <= z_value * se, expr


@settings(max_examples=5)
@given(covariances(4, ridge=0.3))
def test_plackett_sign_moment_matches_the_orthant_probability(C):
    """``P(u > 0) = (1 + sum_pairs (2/pi) arcsin r_ij + S4)/16`` against scipy's
    Genz-Bretz integration (error estimate ``abseps``)."""
    cov = _numeric(C)
    sd = np.sqrt(np.diag(cov))
    R = cov / np.outer(sd, sd)
    r = [R[i, j] for i in range(4) for j in range(i + 1, 4)]
    with mpmath.workdps(20):
        s4 = float(sign_moment4_mp([mpmath.mpf(v) for v in r]))
    orthant = (1 + sum(2 / np.pi * np.arcsin(v) for v in r) + s4) / 16
    reference = stats.multivariate_normal.cdf(
        np.zeros(4), mean=np.zeros(4), cov=R, maxpts=4_000_000, abseps=1e-8, releps=1e-8, rng=0
    )
    assert abs(orthant - reference) < 5e-6


def test_four_steps_use_plackett_and_say_they_are_numeric():
    result = gaussian_expectation(
        sp.Heaviside(Y[0]) * sp.Heaviside(Y[1]) * sp.Heaviside(Y[2]) * sp.Heaviside(Y[3]), Y, C4
    )
    assert result.value.has(SignMoment4) and result.error_bound is None
    assert "Plackett" in result.method and result.method.startswith("numeric")


def test_other_activations_fall_back_to_gaussian_integrals():
    result = gaussian_expectation(sp.tanh(Y[0]) * Y[1] * sp.tanh(Y[1]), Y[:2], C4[:2, :2])
    assert result.value.atoms(GaussianIntegral) and result.error_bound is None
    assert "quadrature" in result.method
    mixed = gaussian_expectation(Y[0] ** 2 + sp.tanh(Y[1]) * Y[1], Y[:2], C4[:2, :2])
    assert mixed.value.has(C4[0, 0])  # the polynomial part stays exact


def test_patterns_are_listed_once_in_generic_form():
    a_ = gaussian_expectation(dg(Y[0]) * Y[1] * g(Y[2]), Y[:3], C4[:3, :3])
    b_ = gaussian_expectation(dg(Y[1]) * Y[2] * g(Y[3]), Y[1:], C4[1:, 1:])
    patterns = closed_form_patterns([a_, b_])
    assert len(patterns) == 1


def test_derivative_by_the_chain_rule_equals_sympy_diff():
    C = sp.Matrix(3, 3, lambda i, j: C4[i, j])
    result = gaussian_expectation(dg(Y[0]) * Y[1] * g(Y[2]), Y[:3], C)
    point = {C4[0, 0]: sp.Rational(3, 2), C4[1, 1]: 1, C4[2, 2]: 2}
    point |= {
        C4[0, 1]: sp.Rational(1, 5),
        C4[0, 2]: sp.Rational(-1, 3),
        C4[1, 2]: sp.Rational(1, 4),
    }
    for symbol in (C4[0, 0], C4[0, 2], C4[1, 2]):
        chain = result.diff(symbol)
        direct = sp.diff(result.value, symbol)
        assert abs(sp.N((chain - direct).xreplace(point), 30)) < 1e-25
