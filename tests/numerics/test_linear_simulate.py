"""Flows, gradient descent and SGD of linear networks against independent computations."""

import itertools
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad, solve_ivp
from scipy.special import expit
from scipy.stats import t as student

from featcheck.numerics.linear.simulate import (
    DataLaw,
    balanced_layers,
    compiled_flow,
    end_to_end,
    gradient_by_quadrature,
    gradient_descent,
    integrate_flow,
    layer_gradient_descent,
    polar_state,
    population_gradient,
    sgd,
    step_sizes,
)
from featcheck.theory import linear as th
from featcheck.theory.errors import DomainError, InputError


def _reference_K(law: DataLaw, radius: float) -> float:
    if law.kind == "gaussian":
        f = lambda x: 2 * x * expit(-radius * x) * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        return quad(f, 0, math.inf, epsabs=0, epsrel=1e-12, limit=400)[0]
    cd = math.exp(law._log_cd)
    g = lambda p: 2 * cd * math.sin(p) * expit(-radius * math.sin(p)) * math.cos(p) ** (law.dim - 2)  # noqa: E731
    return quad(
        g,
        0,
        math.pi / 2,
        epsabs=0,
        epsrel=1e-12,
        limit=400,
        points=[min(math.pi / 2, 10 / max(radius, 1e-9))],
    )[0]


@settings(max_examples=20, deadline=None)
@given(
    log_rho=st.floats(-4, 8),
    kind=st.sampled_from(["sphere", "gaussian"]),
    dim=st.integers(2, 60),
)
def test_K_matches_adaptive_quadrature(log_rho, kind, dim):
    law = DataLaw(kind, dim)
    radius = math.exp(log_rho)
    reference = _reference_K(law, radius)
    assert law.K(radius)[0] == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize(
    "law", [DataLaw("sphere", 2), DataLaw("sphere", 4), DataLaw("gaussian", 3)]
)
def test_K_at_zero_is_c0_over_pi_and_loss_derivative_is_G(law):
    assert law.K(0.0)[0] == pytest.approx(law.c0 / math.pi, rel=1e-13)
    # d/d rho of L at theta = 0 is G(rho) - c0/pi = -K(rho)
    for radius in (0.3, 2.0, 9.0):
        h = 1e-5 * radius
        derivative = (law.loss(radius + h, 0.0) - law.loss(radius - h, 0.0)) / (2 * h)
        assert derivative == pytest.approx(-law.K(radius)[0], rel=1e-6, abs=1e-10)


@settings(max_examples=10, deadline=None)
@given(
    log_rho=st.floats(-2, 2.5),
    angle=st.floats(0.05, math.pi - 0.05),
    kind=st.sampled_from(["sphere", "gaussian"]),
)
def test_reduced_gradient_matches_quadrature_on_the_plane(log_rho, angle, kind):
    law = DataLaw(kind, 2)
    w = math.exp(log_rho) * np.array([math.sin(angle), math.cos(angle)])
    direct, error = gradient_by_quadrature(law, w)
    assert np.allclose(population_gradient(law, w), direct, atol=10 * error + 1e-11, rtol=0)


@settings(max_examples=25, deadline=None)
@given(x=st.floats(-50, 50).filter(lambda v: abs(v) > 1e-6), y=st.floats(-50, 50))
def test_polar_state_inverts(x, y):
    radius, zeta = polar_state((x, y))
    assert radius == pytest.approx(math.hypot(x, y))
    assert math.tanh(zeta / 2) == pytest.approx(y / math.hypot(x, y), abs=1e-12)


@pytest.mark.parametrize("w0", [(0.0, 0.0), (0.0, 1.0), (float("nan"), 1.0)])
def test_bad_initial_weights(w0):
    with pytest.raises(InputError):
        polar_state(w0)


def test_flow_turning_time_and_monotone_angle():
    law = DataLaw()
    flow = integrate_flow(law, 1, (0.6, -0.8), t_max=20)
    assert 0 < flow.T < 20
    times = np.linspace(0, 20, 401)
    s = flow.series(times)
    assert np.all(np.diff(s["zeta"]) > 0)
    drho = np.diff(s["rho"])
    assert np.all(drho[times[1:] < flow.T - 0.05] < 0)
    assert np.all(drho[times[:-1] > flow.T + 0.05] > 0)
    # N(w) = 0 at T
    k = law.K(flow.rho_T)[0] - 2 * law.c0 / math.pi * expit(-flow.zeta_T)
    assert abs(k) < 1e-8


def test_flow_that_grows_from_the_start_has_T_zero():
    flow = integrate_flow(DataLaw(), 4, (0.6, 0.8), t_max=5)
    assert flow.T == 0.0
    assert (flow.rho_T, flow.zeta_T) == polar_state((0.6, 0.8))


def test_flow_that_has_not_turned_by_t_max_has_T_infinite():
    law = DataLaw()
    flow = integrate_flow(law, 1, (0.6, -0.8), t_max=1.0)  # it turns at T = 2.45
    assert math.isinf(flow.T) and math.isnan(flow.rho_T) and math.isnan(flow.zeta_T)
    rho, zeta = flow.state(np.linspace(0, 1, 11))
    assert np.all(np.diff(rho) < 0) and np.all(np.diff(zeta) > 0)


@settings(max_examples=15, deadline=None)
@given(
    depth=st.integers(1, 5),
    log_rho=st.floats(-3, 3),
    zeta=st.floats(-20, 20),
    kind=st.sampled_from(["sphere", "gaussian"]),
    dim=st.integers(2, 9),
)
def test_compiled_flow_is_the_theory_odes_with_K_by_quadrature(depth, log_rho, zeta, kind, dim):
    # The integrated right-hand side against reduced_odes in (rho, theta), with G from
    # adaptive quadrature and d zeta/dt = -2/sin(theta) d theta/dt.
    law = DataLaw(kind, dim)
    radius, theta = math.exp(log_rho), 2 * math.atan(math.exp(-zeta / 2))
    odes = th.reduced_odes(depth)
    args = (th.rho, th.theta, th.c0, th.G(th.rho))
    g_value = law.c0 / math.pi - _reference_K(law, radius)
    drho = sp.lambdify(args, odes["rho"])(radius, theta, law.c0, g_value)
    dtheta = sp.lambdify(args, odes["theta"])(radius, theta, law.c0, g_value)
    compiled = compiled_flow(law, depth)
    value = compiled.rhs(np.array([radius, zeta]), (law.c0,))
    assert value[0] == pytest.approx(drho, rel=1e-8, abs=1e-10 * radius ** (2 - 2 / depth))
    assert value[1] == pytest.approx(-2 / math.sin(theta) * dtheta, rel=1e-12)


@pytest.mark.parametrize("law", [DataLaw("sphere", 2), DataLaw("gaussian", 4)])
def test_K_derivative_and_the_compiled_jacobian(law):
    for radius in (0.05, 0.7, 4.0, 30.0):
        h = 1e-4 * radius
        slope = (_reference_K(law, radius + h) - _reference_K(law, radius - h)) / (2 * h)
        assert law.K_derivative(radius)[0] == pytest.approx(slope, rel=1e-6)
    compiled = compiled_flow(law, 3)
    y, p = np.array([1.3, -0.4]), (law.c0,)
    jacobian = compiled.jacobian(y, p)
    for j in range(2):
        step = np.zeros(2)
        step[j] = 1e-6
        column = (compiled.rhs(y + step, p) - compiled.rhs(y - step, p)) / 2e-6
        np.testing.assert_allclose(jacobian[:, j], column, rtol=1e-6, atol=1e-9)


def test_the_flow_is_compiled_once_per_law_and_depth():
    assert compiled_flow(DataLaw("sphere", 3), 2) is compiled_flow(DataLaw("sphere", 3), 2)
    assert compiled_flow(DataLaw("sphere", 3), 2) is not compiled_flow(DataLaw("sphere", 4), 2)


def _hand_written_flow(law, depth, rho0, zeta0, t_max):
    """The (rho, zeta) system written out by hand, with its turning event, by solve_ivp."""
    k = 2 * law.c0 / math.pi

    def drive(y):
        return law.K(y[0])[0] - k * expit(-y[1])

    def rhs(_t, y):
        return [depth * y[0] ** (2 - 2 / depth) * drive(y), k * y[0] ** (1 - 2 / depth)]

    def turning(_t, y):
        return drive(y)

    turning.direction = 1.0
    solution = solve_ivp(
        rhs,
        (0, t_max),
        [rho0, zeta0],
        method="DOP853",
        rtol=1e-12,
        atol=1e-14,
        dense_output=True,
        events=turning,
    )
    return solution, turning(0, [rho0, zeta0]) >= 0


@pytest.mark.parametrize(
    ("law", "depth", "rho0", "zeta0"),
    [
        (DataLaw("sphere", 2), 1, 1.0, -1.4),
        (DataLaw("sphere", 5), 3, 0.2, -4.0),  # has not turned by t = 12
        (DataLaw("gaussian", 3), 4, 2.0, -2.5),
        (DataLaw("sphere", 2), 2, 0.5, 1.0),
    ],
)
def test_integrated_flow_matches_a_hand_written_integration(law, depth, rho0, zeta0):
    flow = integrate_flow(law, depth, rho0=rho0, zeta0=zeta0, t_max=12.0)
    reference, grows = _hand_written_flow(law, depth, rho0, zeta0, 12.0)
    times = np.linspace(0, 12, 49)
    rho, zeta = flow.state(times)
    np.testing.assert_allclose(rho, reference.sol(times)[0], rtol=1e-8)
    np.testing.assert_allclose(zeta, reference.sol(times)[1], rtol=1e-8, atol=1e-9)
    if grows:
        assert flow.T == 0.0
    elif reference.t_events[0].size == 0:
        assert math.isinf(flow.T)
    else:
        turn = flow.T
        assert turn == pytest.approx(reference.t_events[0][0], rel=1e-8)
        assert (flow.rho_T, flow.zeta_T) == pytest.approx(reference.y_events[0][0], rel=1e-8)


def test_small_step_gradient_descent_follows_the_flow():
    law = DataLaw("gaussian", 2)
    flow = integrate_flow(law, 1, (0.6, -0.8), t_max=4)
    gaps = []
    for eta in (0.02, 0.01):
        steps = round(4 / eta)
        path = gradient_descent(law, np.array([[0.6, -0.8]]), np.full(steps, eta))
        gaps.append(abs(path.cos_theta[-1, 0] - flow.series([4.0])["cos_theta"][0]))
    # first-order method: halving the step roughly halves the gap
    assert gaps[1] < 0.6 * gaps[0]
    assert gaps[1] < 5e-3


def test_step_schedules():
    assert np.allclose(step_sizes("harmonic", 2.0, 4), [2, 1, 2 / 3, 0.5])
    assert np.allclose(step_sizes("geometric", 1.0, 3, 2.0), [1, 2, 4])
    assert np.allclose(step_sizes("power", 1.0, 3, -1.0), [1, 0.5, 1 / 3])
    with pytest.raises(DomainError):
        step_sizes("constant", -0.1, 3)
    with pytest.raises(DomainError):
        step_sizes("cosine", 0.1, 3)


@settings(max_examples=10, deadline=None)
@given(depth=st.integers(2, 6), width=st.integers(1, 4), seed=st.integers(0, 2**31))
def test_balanced_initialisation(depth, width, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(2) * 2
    layers = balanced_layers(w, depth, width, rng)
    assert np.allclose(end_to_end(layers), w)
    for lower, upper in itertools.pairwise(layers):
        assert np.allclose(upper.T @ upper, lower @ lower.T)


def test_deep_gradient_descent_follows_the_induced_flow():
    law = DataLaw()
    layers = balanced_layers(np.array([0.6, 0.8]), 3, 3, np.random.default_rng(1))
    _, weights = layer_gradient_descent(law, layers, 1e-3, 1000, 1000)
    flow = integrate_flow(law, 3, (0.6, 0.8), t_max=1.0)
    rho, zeta = flow.state(1.0)
    assert np.linalg.norm(weights[-1]) == pytest.approx(rho, rel=5e-3)
    assert weights[-1][1] / np.linalg.norm(weights[-1]) == pytest.approx(
        math.tanh(zeta / 2), abs=5e-3
    )


def test_sgd_is_reproducible_and_close_to_gradient_descent():
    law = DataLaw()
    runs = [
        sgd(
            law,
            (0.6, -0.8),
            lr=1e-2,
            batch=500,
            steps=100,
            replicas=4,
            record_every=50,
            rng=np.random.default_rng(3),
        )
        for _ in range(2)
    ]
    assert np.array_equal(runs[0].w_e, runs[1].w_e)
    path = gradient_descent(law, np.array([[0.6, -0.8]]), np.full(100, 1e-2))
    mean = runs[0].w_e[-1].mean(axis=0)
    se = runs[0].w_e[-1].std(axis=0, ddof=1) / 2  # standard error of 4 replicas
    q = student.ppf(1 - 0.001 / 4, 3)  # two-sided 99.9%, Bonferroni over 2 coordinates
    assert np.all(np.abs(mean - path.w[-1, 0]) < q * se)


def test_sgd_rejects_bad_learning_rate():
    with pytest.raises(DomainError):
        sgd(DataLaw(), (0.6, -0.8), lr=0.0, rng=np.random.default_rng(0))
