"""Steps of single fields (a ReLU with a bias): the split Gauss-Legendre rule against closed
forms (the arc-cosine kernel, the arcsine law, Plackett's four-sign integral, truncated
Gaussian moments) and adaptive quadrature split at the kinks; the exact rule for a polynomial
coordinate against mpmath and against Gauss-Legendre in that coordinate; and the biased-ReLU
teacher is an exact zero of its ODE."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import featcheck.numerics.committee  # noqa: F401  (registers the evaluators)
from featcheck.numerics.claims.committee import biased_relu
from featcheck.numerics.committee.evaluation import (
    covariance_stack,
    echelon_root,
    gaussian_integral,
    integrand_function,
    quadrature_error,
    split_rule,
    truncated_rule,
)
from featcheck.theory.committee.expectations import (
    field_degrees,
    field_kinks,
    gaussian_expectation,
    gaussian_integral_class,
    slot_symbols,
    split_kinks,
)

Y = slot_symbols(4)
H = sp.Heaviside


def _matrix(cov) -> sp.Matrix:
    n = len(cov)
    return sp.Matrix(n, n, lambda i, j: sp.Float(cov[i][j], 30))


def _entries(cov) -> list[float]:
    n = len(cov)
    return [float(cov[i][j]) for i in range(n) for j in range(i, n)]


@st.composite
def covariances(draw, n: int):
    entries = draw(st.lists(st.integers(-10, 10), min_size=n * n, max_size=n * n))
    L = np.array(entries, dtype=float).reshape(n, n) / 10
    return (L @ L.T + 0.3 * np.eye(n)).tolist()


CENTRED = [
    (Y[0] * Y[1] * H(Y[0]) * H(Y[1]), 2),  # the arc-cosine kernel of ReLU
    (H(Y[0]) * H(-Y[1]) * Y[0] ** 2, 2),
    (Y[0] * H(Y[0]) * H(Y[1]) * H(Y[2]), 3),
    (Y[0] * Y[1] * Y[2] * H(Y[0]) * H(Y[1]) * H(-Y[2]), 3),
]
#: Four fields: the reduction ends in Plackett's integral (``SignMoment4``, numeric; sympy
#: evaluates it by mpmath at 20 digits here).
CENTRED_FOUR = [
    H(Y[0]) * H(Y[1]) * H(Y[2]) * H(Y[3]),
    Y[2] * Y[3] * H(Y[0]) * H(Y[1]) * H(Y[2]) * H(-Y[3]),
]


@settings(max_examples=8)
@given(cov=covariances(3))
def test_centred_steps_against_the_exact_reduction(cov):
    for integrand, n in CENTRED:
        sub = [row[:n] for row in cov[:n]]
        exact = gaussian_expectation(integrand, list(Y[:n]), _matrix(sub))
        assert exact.exact
        cls = gaussian_integral_class(integrand, n)
        assert field_kinks(cls.integrand, n) is not None
        value = float(gaussian_integral(cls, *_entries(sub)))
        assert value == pytest.approx(float(sp.N(exact.value, 20)), abs=1e-10)


@settings(max_examples=4, deadline=None)
@given(cov=covariances(4))
def test_centred_steps_over_four_fields_against_plackett(cov):
    for integrand in CENTRED_FOUR:
        reduced = gaussian_expectation(integrand, list(Y), _matrix(cov))
        cls = gaussian_integral_class(integrand, 4)
        assert split_kinks(cls.integrand, 4) is not None
        value = float(gaussian_integral(cls, *_entries(cov)))
        assert value == pytest.approx(float(sp.N(reduced.value, 20)), abs=1e-10)


@settings(max_examples=20)
@given(
    k=st.integers(0, 4),
    b=st.floats(-2.5, 2.5),
    sign=st.sampled_from([1, -1]),
    variance=st.floats(0.05, 9.0),
)
def test_one_field_truncated_moments(k, b, sign, variance):
    """``E[y^k H(sign y + b)]`` against adaptive quadrature on the half-line."""
    cls = gaussian_integral_class(Y[0] ** k * H(sign * Y[0] + sp.Float(b, 20)), 1)
    sd = math.sqrt(variance)
    kink = -sign * b

    def density(y):
        return y**k * stats.norm.pdf(y, scale=sd)

    lo, hi = (kink, np.inf) if sign > 0 else (-np.inf, kink)
    reference = integrate.quad(density, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
    assert float(gaussian_integral(cls, variance)) == pytest.approx(reference, abs=1e-10)


@pytest.mark.parametrize("b", [-0.5, 0.3, 1.2])
@pytest.mark.parametrize("cov", [[[1.0, 0.6], [0.6, 2.0]], [[3.0, -1.5], [-1.5, 1.0]]])
def test_two_fields_with_biases_against_adaptive_quadrature(b, cov):
    integrand = (Y[0] + b) * (Y[1] + b) * H(Y[0] + b) * H(Y[1] + b) + Y[0] ** 2 * H(-Y[1] - b)
    cls = gaussian_integral_class(integrand, 2)
    f = sp.lambdify(
        Y[:2], integrand, modules=[{"Heaviside": lambda x, h0=0.5: np.heaviside(x, 0.5)}]
    )
    rv = stats.multivariate_normal(np.zeros(2), np.array(cov))
    # four rectangles cut at the kinks: smooth pieces for scipy
    pieces = ((-14, -b), (-b, 14))
    reference = sum(
        integrate.dblquad(
            lambda y2, y1: f(y1, y2) * rv.pdf([y1, y2]), lo, hi, l2, h2, epsabs=1e-13, epsrel=0
        )[0]
        for lo, hi in pieces
        for l2, h2 in pieces
    )
    value = float(gaussian_integral(cls, cov[0][0], cov[0][1], cov[1][1]))
    assert value == pytest.approx(reference, abs=1e-9)
    estimate = float(quadrature_error(cls, cov[0][0], cov[0][1], cov[1][1]))
    assert abs(value - reference) <= estimate + 1e-12  # the estimate is conservative here


def test_singular_covariance_and_the_biased_relu_teacher():
    """With ``y_2 = y_1`` the kinks share a coordinate; at the teacher of a biased-ReLU
    single-index model the right-hand side vanishes (Gauss-Hermite across the kinks left
    about 8e-3 there)."""
    from featcheck.numerics.ode import compile_system
    from featcheck.theory.committee.overlap_ode import derive_ode

    cls = gaussian_integral_class(Y[0] * Y[1] * H(Y[0] + 0.5) * H(Y[1] + 0.5), 2)
    one = gaussian_integral_class(Y[0] ** 2 * H(Y[0] + 0.5), 1)
    for variance in (0.3, 1.0, 4.0):
        assert float(gaussian_integral(cls, variance, variance, variance)) == pytest.approx(
            float(gaussian_integral(one, variance)), abs=1e-12
        )
    ode = derive_ode(biased_relu(width=1))
    compiled = compile_system(ode.system)
    p = compiled.parameters(ode.parameter_values)
    assert np.abs(compiled.rhs(np.array([1.0, 1.0]), p)).max() < 1e-12
    assert abs(compiled.observable("generalization_error", np.array([1.0, 1.0]), p)) < 1e-12


@st.composite
def pieces(draw):
    kind = draw(st.sampled_from(["left", "right", "bounded", "narrow", "line", "far"]))
    a = draw(st.floats(-6.0, 6.0))
    width = draw(st.floats(1e-12, 0.2)) if kind == "narrow" else draw(st.floats(0.3, 8.0))
    return {
        "left": (-math.inf, a),
        "right": (a, math.inf),
        "bounded": (a, a + width),
        "narrow": (a, a + width),
        "line": (-math.inf, math.inf),
        "far": (8.5 + abs(a), math.inf),
    }[kind]


@settings(max_examples=20, deadline=None)
@given(cov=covariances(2), kink=st.floats(9.5, 40.0))
def test_kinks_beyond_the_range_leave_one_long_piece_cut_at_the_mode(cov, kink):
    """``E[y_1 y_2 H(y_1 + kink)] = C_12`` (the mass beyond the kink is below 1e-19) with
    ``kink > 9 sqrt(C_11)``: the kink lies beyond the range of the rule, so ``y_1``'s
    coordinate is one piece ``[-9, 9]``, over which 32 nodes miss the Gaussian mass by
    2.6e-10; cut at the mode the rule is exact to rounding."""
    kink = kink * math.sqrt(cov[0][0])
    cls = gaussian_integral_class(Y[0] * Y[1] * H(Y[0] + kink), 2)
    scale = math.sqrt(cov[0][0] * cov[1][1])
    assert abs(float(gaussian_integral(cls, *_entries(cov))) - cov[0][1]) <= 1e-14 * scale


@settings(max_examples=60, deadline=None)
@given(
    piece=pieces(),
    coefficients=st.lists(st.integers(-5, 5), min_size=1, max_size=5),
)
def test_truncated_rule_is_exact_for_polynomials(piece, coefficients):
    """``int_lo^hi p(z) phi(z) dz`` for ``deg p <= 4`` against mpmath at 30 digits."""
    lo, hi = piece
    degree = len(coefficients) - 1
    z, w = truncated_rule(np.array([lo]), np.array([hi]), degree)
    value = float(np.polynomial.polynomial.polyval(z[0], coefficients) @ w[0])
    with mpmath.workdps(30):
        reference = mpmath.quad(
            lambda u: mpmath.polyval(coefficients[::-1], u) * mpmath.npdf(u),
            [mpmath.mpf(lo), mpmath.mpf(hi)],
        )
    scale = 1 + sum(abs(c) for c in coefficients)
    assert value == pytest.approx(float(reference), abs=1e-13 * scale)


def test_field_degrees():
    relu = (Y[0] + 0.5) * H(Y[0] + 0.5)
    assert field_degrees(relu * relu * (Y[1] + 1) * H(Y[1]), 3) == (2, 1, 0)
    assert field_degrees(sp.tanh(Y[0]) * Y[1] ** 3 * H(Y[1] - 1), 2) == (None, 3)
    # four fields are split only when one of them is polynomial
    assert split_kinks(relu * H(Y[1]) * H(Y[2]) * Y[3] * H(Y[3] + 1), 4) == (
        (-0.5,),
        (0.0,),
        (0.0,),
        (-1.0,),
    )
    tanhs = sp.Mul(*[sp.tanh(y) for y in Y]) * H(Y[0])
    assert split_kinks(tanhs, 4) is None


FOUR_BIASED = (Y[2] + 0.5) * (Y[3] + 0.5) * H(Y[0] + 0.5) * H(Y[1] + 0.5) * H(Y[2] + 0.5) * H(
    Y[3] + 0.5
) + sp.tanh(Y[0]) * Y[3] ** 2 * H(-Y[3] - 0.3) * H(Y[1] - 0.2)


@pytest.mark.parametrize(
    "cov",
    [
        [
            [0.5, 0.01, 0.01, 0.0],
            [0.01, 0.4, 0.0, 0.01],
            [0.01, 0.0, 1.0, 0.0],
            [0.0, 0.01, 0.0, 1.0],
        ],
        [
            [1.0, 0.5, 0.3, -0.2],
            [0.5, 1.2, 0.1, 0.4],
            [0.3, 0.1, 0.8, 0.25],
            [-0.2, 0.4, 0.25, 1.5],
        ],
    ],
)
def test_four_biased_fields_against_gauss_legendre_in_every_coordinate(cov):
    """The exact polynomial coordinate against the nested rule with Gauss-Legendre in all four
    coordinates (a rule that does not use the polynomial structure; 24 nodes per piece).  The
    tensor Gauss-Hermite rule these integrals used before misses the first case by 2.8e-3."""
    cls = gaussian_integral_class(FOUR_BIASED, 4)
    entries = _entries(cov)
    C, _ = covariance_stack(cls, entries)
    L = echelon_root(C[0])
    points, weights = split_rule(L, field_kinks(cls.integrand, 4), 24)
    y = points @ L.T
    reference = float(integrand_function(cls)(*y.T) @ weights)
    assert float(gaussian_integral(cls, *entries)) == pytest.approx(reference, abs=1e-10)


def test_the_biased_relu_committee_teacher_with_four_fields():
    """``K = M = 2``, ``relu(z + 1/2)``, online SGD: the ``eta^2`` terms integrate over four
    fields; at the teacher the right-hand side vanishes (tensor Gauss-Hermite left 1.2e-2)."""
    from featcheck.numerics.ode import compile_system
    from featcheck.theory.committee.overlap_ode import derive_ode

    ode = derive_ode(biased_relu(width=2))
    compiled = compile_system(ode.system)
    p = compiled.parameters(ode.parameter_values)
    teacher = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    assert np.abs(compiled.rhs(teacher, p)).max() < 1e-12


def test_steps_of_combined_fields_keep_gauss_hermite():
    assert field_kinks(H(Y[0] - Y[1]) * Y[0], 2) is None
    assert field_kinks(sp.tanh(Y[0]), 1) is None
    assert field_kinks(sp.Abs(Y[0]) * H(Y[0] + 1), 1) is None
