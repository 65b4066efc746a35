"""Numeric symbols of the committee theory: Plackett's integral, Gaussian quadrature, and the
central-difference Jacobian, against independent evaluations."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from featcheck.numerics.committee.evaluation import (
    gaussian_integral,
    quadrature_error,
    sign_moment4,
)
from featcheck.numerics.ode import compile_system
from featcheck.theory.committee.expectations import (
    GaussianIntegral,
    gaussian_expectation,
    gaussian_integral_class,
    sign_moment4_mp,
    slot_symbols,
)
from featcheck.theory.committee.model import committee_model
from featcheck.theory.committee.overlap_ode import derive_ode

Y = slot_symbols(2)


@st.composite
def correlation_matrices(draw, n=4):
    entries = draw(st.lists(st.floats(-1, 1), min_size=n * n, max_size=n * n))
    B = np.array(entries).reshape(n, n)
    C = B @ B.T + 0.2 * np.eye(n)
    s = np.sqrt(np.diag(C))
    return C / np.outer(s, s)


@settings(max_examples=15)
@given(correlation_matrices())
def test_plackett_rule_matches_mpmath(R):
    r = [R[i, j] for i in range(4) for j in range(i + 1, 4)]
    with mpmath.workdps(25):
        reference = float(sign_moment4_mp([mpmath.mpf(v) for v in r]))
    assert abs(sign_moment4(*r) - reference) < 1e-10
    # vectorised over states
    values = sign_moment4(*[np.full(3, v) for v in r])
    assert values.shape == (3,) and np.allclose(values, reference, atol=1e-10)


def test_plackett_rule_at_independence_and_in_the_symbolic_derivative():
    assert sign_moment4(0, 0, 0, 0, 0, 0) == pytest.approx(0.0, abs=1e-15)
    # E[s1 s2 s3 s4] with s3 = s1, s4 = s2 (r13 = r24 = 1): E[s1^2 s2^2] = 1
    assert sign_moment4(0.3, 0.999999, 0.3, 0.3, 0.999999, 0.3) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("variance", [0.3, 1.0, 4.0])
def test_gaussian_quadrature_of_a_smooth_integrand_matches_mpmath(variance):
    cls = gaussian_integral_class(sp.tanh(Y[0]) ** 2 * Y[0] ** 2, 1)
    value = gaussian_integral(cls, variance)
    with mpmath.workdps(30):
        s = mpmath.sqrt(variance)
        reference = mpmath.quad(
            lambda x: mpmath.tanh(s * x) ** 2 * s**2 * x**2 * mpmath.npdf(x),
            [-mpmath.inf, 0, mpmath.inf],
        )
    error = abs(value - float(reference))
    assert error <= quadrature_error(cls, variance)  # the estimate is conservative here
    if variance <= 1:
        assert error < 1e-12


def test_two_field_quadrature_matches_adaptive_integration():
    cls = gaussian_integral_class((1 - sp.tanh(Y[0]) ** 2) * Y[1] * sp.tanh(Y[1]), 2)
    C = np.array([[1.3, 0.4], [0.4, 0.8]])
    value = gaussian_integral(cls, C[0, 0], C[0, 1], C[1, 1])
    inverse = np.linalg.inv(C)
    norm = 1 / (2 * np.pi * np.sqrt(np.linalg.det(C)))

    def density(y, x):
        v = np.array([x, y])
        return (1 - np.tanh(x) ** 2) * y * np.tanh(y) * norm * np.exp(-v @ inverse @ v / 2)

    reference, error = integrate.dblquad(density, -12, 12, -12, 12, epsabs=1e-12)
    assert abs(value - reference) < 1e-8 + error


def test_fallback_symbols_appear_only_where_no_rule_applies():
    result = gaussian_expectation(sp.tanh(Y[0]) * Y[1], Y, sp.Matrix([[1, 0.5], [0.5, 1]]))
    assert result.value.atoms(GaussianIntegral)


def test_central_difference_jacobian_matches_the_exact_one():
    model = committee_model(
        student_activation="erf(z/sqrt(2))",
        student_width=1,
        teacher_activation="erf(z/sqrt(2))",
        teacher_width=1,
        Q0=[[1]],
        M0=[[0.2]],
        learning_rate="1/2",
        train_second_layer=True,
    )
    ode = derive_ode(model)
    compiled = compile_system(ode.system)
    arguments = (*ode.system.state, *ode.system.parameters)
    exact = sp.lambdify(arguments, ode.exact_jacobian(), "numpy")
    rng = np.random.default_rng(0)
    for _ in range(3):
        y = np.array([1.0, 0.3, 0.8]) + 0.05 * rng.standard_normal(3)
        numeric = compiled.jacobian(y, (0.5, 0.5))
        reference = np.array(exact(*y, 0.5, 0.5), dtype=float)
        assert np.allclose(numeric, reference, rtol=1e-6, atol=1e-8)
