"""Samplers, O(d) covariance operators and the ODE integrator."""

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from featcheck.numerics.ode import compile_system, fixed_points_1d, integrate
from featcheck.numerics.sampling import (
    SpikedOperator,
    spike_and_target,
    start_with_overlaps,
    unit_vector,
)
from featcheck.numerics.spiked.scaled_integrals import compile_flow
from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics import OdeSystem
from featcheck.theory.dynamics.spiked import spiked_flow
from featcheck.theory.errors import DomainError


@pytest.mark.parametrize("convention", ["unit", "ba"])
def test_operator_matches_dense_powers(convention):
    rng = np.random.default_rng(1)
    d, k = 7, 5.5
    theta = unit_vector(d, rng)
    op = SpikedOperator(theta, k, convention)
    sigma = op.alpha * (np.eye(d) + k * np.outer(theta, theta))
    vals, vecs = np.linalg.eigh(sigma)
    v = rng.standard_normal((3, d))
    for p in (1.0, 0.5, -0.5, -1.0):
        dense = vecs @ np.diag(vals**p) @ vecs.T
        np.testing.assert_allclose(op.apply(v, p), v @ dense, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.quadratic(v), np.einsum("ij,jk,ik->i", v, sigma, v), rtol=1e-12)


def test_sample_covariance_within_confidence():
    rng = np.random.default_rng(2)
    d, n, k = 5, 40000, 3.0
    theta = unit_vector(d, rng)
    op = SpikedOperator(theta, k)
    x = op.sample(n, rng)
    along = x @ theta
    # Var(<theta, x>) = 1 (unit convention): chi-square interval, 99.9%
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], n) / n
    assert lo <= np.mean(along**2) <= hi
    bulk = x - np.outer(along, theta)
    per_dim = np.sum(bulk**2) / (n * (d - 1))
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], n * (d - 1)) / (n * (d - 1)) / (1 + k)
    assert lo <= per_dim <= hi


def test_spike_target_and_start_overlaps():
    rng = np.random.default_rng(3)
    theta, u = spike_and_target(50, 0.3, rng)
    assert theta @ u == pytest.approx(0.3, abs=1e-12)
    w = start_with_overlaps(theta, u, 0.2, -0.1, rng, (4,))
    np.testing.assert_allclose(w @ theta, 0.2, atol=1e-12)
    np.testing.assert_allclose(w @ u, -0.1, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1.0, atol=1e-12)
    with pytest.raises(DomainError):
        start_with_overlaps(theta, u, 0.9, -0.9, rng)
    with pytest.raises(DomainError, match="kappa"):
        SpikedOperator(theta, -1.0)


def test_isotropic_plain_flow_escape_time_matches_closed_form():
    # kappa = 0, s = 2 link he(2) with ReLU: dm/dt = (1 - m^2) * 2 p m, p = c_2 c_2(he2)
    aligned = spiked_flow("plain", "relu", "he(2)").aligned
    compiled = compile_system(aligned)
    p = 0.28209479177387814 * np.sqrt(2)
    m0 = 0.01
    tr = integrate(compiled, [m0], {"kappa": 0.0}, 1e4)
    # m^2/(1 - m^2) grows like exp(4 p t): time to reach 1/2
    expected = np.log((0.25 / 0.75) / (m0**2 / (1 - m0**2))) / (4 * p)
    assert tr.escape_time == pytest.approx(expected, rel=1e-7)
    assert tr.converged_time is not None and tr.final_observable("overlap") == pytest.approx(
        1, abs=1e-6
    )


def test_fixed_points_and_integration_errors():
    compiled = compile_flow(spiked_flow("plain", "relu", "-h(4)").aligned)
    points = fixed_points_1d(compiled, {"kappa": 1000.0})
    inner = [p for p in points if 0.05 < p.location < 0.99]
    assert len(inner) == 1 and inner[0].stable
    assert inner[0].location == pytest.approx(0.1707, abs=1e-3)
    with pytest.raises(DomainError, match="integration time"):
        integrate(compiled, [0.1], {"kappa": 1.0}, -1.0)
    with pytest.raises(DomainError, match="missing parameter"):
        integrate(compiled, [0.1], {}, 1.0)


def test_blow_up_is_a_domain_error():
    y = sp.Symbol("y")
    system = OdeSystem("riccati", (y,), (), (y**2,), Derivation("dy/dt = y^2"), {"rho": y})
    with pytest.raises(DomainError, match="blows up"):
        integrate(compile_system(system), [1.0], {}, 5.0)


def test_non_finite_start_is_a_domain_error():
    # preconditioned flow at w = 0: r = 0 and the right-hand side is undefined
    compiled = compile_flow(spiked_flow("preconditioned", "relu", "he(2)").general)
    with pytest.raises(DomainError):
        integrate(compiled, [0.0, 0.0, 0.0], {"kappa": 1.0, "c": 0.5}, 10.0)
