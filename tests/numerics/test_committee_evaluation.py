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

from featcheck.numerics.committee.certified import certified_trapezoid
from featcheck.numerics.committee.evaluation import (
    gaussian_integral,
    hermite_allocation,
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


@settings(max_examples=30)
@given(
    deviations=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=4),
    base=st.sampled_from([8, 20, 36, 80]),
)
def test_hermite_allocation_keeps_the_budget_and_follows_the_variances(deviations, base):
    nodes = hermite_allocation(np.array(deviations), base)
    assert len(nodes) == len(deviations)
    assert np.prod(nodes) <= base ** len(deviations)
    top = max(deviations)
    for n, s in zip(nodes, deviations, strict=True):
        assert n >= 1 and (n == 1) == (top == 0 or (s / top) ** 2 < 1e-32)
    order = np.argsort(deviations)
    assert all(np.diff(np.array(nodes)[order]) >= 0)  # more variance, no fewer nodes
    if top > 0 and min(deviations) == top:
        assert nodes == (base,) * len(deviations)  # isotropic: the usual rule


def test_nearly_singular_covariance_against_the_certified_trapezoid():
    """Four ``tanh`` fields of a student near its teacher (``lambda_k`` close to ``nu_k``):
    the spread rule against the certified trapezoidal rule (bound about ``2e-11``); the
    same number of points in every direction misses by ``8e-6`` here."""
    y = slot_symbols(4)
    dt = [1 - sp.tanh(v) ** 2 for v in y]
    cls = gaussian_integral_class(dt[0] * dt[1] * sp.tanh(y[2]) * sp.tanh(y[3]), 4)
    Q = np.array([[1.0, 0.001], [0.001, 0.999]])
    M = np.array([[0.998, 0.001], [0.0005, 0.997]])
    C = np.block([[Q, M], [M.T, np.eye(2)]])
    entries = [C[i, j] for i in range(4) for j in range(i, 4)]
    reference = certified_trapezoid(cls, *entries, tolerance=1e-11)
    value = float(gaussian_integral(cls, *entries))
    assert abs(value - reference.value) <= 1e-7 + reference.bound


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
