"""Full-dimensional simulations and the independent oracles for the reduced flows."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from featcheck.numerics.ode import integrate
from featcheck.numerics.spiked.gradient_oracles import monte_carlo_rates, quadrature_rates
from featcheck.numerics.spiked.population import population_flow
from featcheck.numerics.spiked.scaled_integrals import compile_flow
from featcheck.numerics.spiked.training import empirical_gd, online_sgd
from featcheck.theory.dynamics.spiked import spiked_flow
from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.functions import parse_function

LINKS = (
    st.lists(st.integers(-3, 3), min_size=2, max_size=4)
    .filter(any)
    .map(lambda cs: " + ".join(f"({k})*h({j + 1})" for j, k in enumerate(cs) if k))
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    link=LINKS,
    flow=st.sampled_from(["plain", "normalized", "preconditioned"]),
    kappa=st.floats(0.0, 50.0),
    c=st.floats(-0.95, 0.95),
    a=st.floats(-0.9, 0.9),
    t=st.floats(-0.95, 0.95),
    q=st.floats(0.5, 2.0),
)
def test_reduced_rhs_equals_quadrature_of_the_population_gradient(link, flow, kappa, c, a, t, q):
    phi, g = parse_function("relu"), parse_function(link)
    b = c * a + t * np.sqrt((1 - a * a) * (1 - c * c))
    q = q if flow == "preconditioned" else 1.0
    a, b = a * np.sqrt(q), b * np.sqrt(q)  # w = sqrt(q) times a unit vector
    compiled = compile_flow(spiked_flow(flow, phi, g).general)
    y = [a, b, q] if flow == "preconditioned" else [a, b]
    reduced = compiled.rhs(np.array(y), (kappa, c))
    quad, err = quadrature_rates(flow, phi, g, kappa=kappa, c=c, a=a, b=b, q=q)
    assert err < 1e-10
    np.testing.assert_allclose(reduced, quad, rtol=0, atol=1e-8)


def test_monte_carlo_gradient_within_bonferroni_interval():
    rng = np.random.default_rng(11)
    phi, g = parse_function("relu"), parse_function("he(2) + h(3)")
    compiled = compile_flow(spiked_flow("normalized", phi, g).general)
    reduced = compiled.rhs(np.array([0.3, 0.4]), (5.0, 0.6))
    mean, se = monte_carlo_rates(
        "normalized", phi, g, kappa=5.0, c=0.6, a=0.3, b=0.4, n=100_000, rng=rng
    )
    z = stats.norm.ppf(1 - 0.001 / 4)
    assert np.all(np.abs(mean - reduced) <= z * se)


@settings(max_examples=6, deadline=None)
@given(d=st.integers(3, 60), kappa=st.floats(0.0, 20.0), c=st.floats(-0.9, 0.9))
def test_full_population_flow_follows_the_reduction(d, kappa, c):
    t_eval = np.linspace(0, 4, 9)
    run = population_flow(
        "normalized", "relu", "he(2)", d=d, kappa=kappa, c=c, t_eval=t_eval, seed=d
    )
    compiled = compile_flow(spiked_flow("normalized", "relu", "he(2)").general)
    red = integrate(
        compiled,
        [run.a[0], run.b[0]],
        {"kappa": kappa, "c": c},
        4.0,
        t_eval=t_eval,
        escape_observable=None,
        convergence_tol=None,
    )
    np.testing.assert_allclose(red.y[1], run.b, atol=1e-7)


def test_online_sgd_api_and_determinism():
    kwargs = dict(
        d=40,
        kappa=2.0,
        c=0.8,
        activation="relu",
        link="he(2)",
        flow="normalized",
        eta=0.002,
        steps=3000,
        replicas=5,
        seed=4,
        init=(0.3, 0.25),
    )
    r1, r2 = online_sgd(**kwargs), online_sgd(**kwargs)
    np.testing.assert_array_equal(r1.overlap, r2.overlap)
    assert r1.overlap.shape == (5, len(r1.t))
    np.testing.assert_allclose(r1.t, r1.steps * 0.002)
    np.testing.assert_allclose(r1.overlap[:, 0], 0.25, atol=1e-12)
    hit = r1.hitting_step
    assert hit.shape == (5,)
    for i in np.flatnonzero(hit > 0):  # the recorded rho crosses 1/2 only after the hit
        assert np.all(r1.rho[i, r1.steps < hit[i]] < 0.5)
    assert np.all(np.isnan(r1.hitting_time[hit < 0]))


@pytest.mark.parametrize("flow", ["plain", "normalized", "preconditioned"])
def test_online_sgd_tracks_the_ode(flow):
    d, kappa, c, init = 64, 3.0, 0.6, (0.3, 0.2)
    # Sigma^(-1) amplifies the bulk noise by 1 + kappa: the preconditioned step is scaled down
    eta = 0.25 / d**1.5 / (1 + kappa if flow == "preconditioned" else 1)
    res = online_sgd(
        flow,
        "relu",
        "he(2)",
        d=d,
        kappa=kappa,
        c=c,
        eta=eta,
        steps=round(2.0 / eta),
        replicas=16,
        seed=5,
        init=init,
    )
    compiled = compile_flow(spiked_flow(flow, "relu", "he(2)").general)
    y0 = [*init, 1.0] if flow == "preconditioned" else list(init)
    ode = integrate(
        compiled,
        y0,
        {"kappa": kappa, "c": c},
        res.t[-1],
        t_eval=res.t,
        escape_observable=None,
        convergence_tol=None,
    )
    # CLT scale: replica spread is O(d^(-1/2)); the mean must be within 4 standard errors
    # plus the O(eta d) discretisation bias (0.25 d^(-1/2) t)
    se = res.overlap.std(0, ddof=1) / np.sqrt(16)
    assert np.all(np.abs(res.overlap.mean(0) - ode.y[1]) <= 4 * se + 0.25 * 2.0 / np.sqrt(d))
    assert ode.y[1][-1] - ode.y[1][0] > 0.2  # the flow moved: the comparison is not vacuous


def test_preconditioned_gd_with_a_sample_covariance():
    model = dict(d=30, kappa=4.0, c=0.5, init=(0.3, 0.3), unlabeled=300)
    gd = empirical_gd(
        "preconditioned", "relu", "he(2)", eta=0.05, steps=40, n=2000, replicas=2, seed=1, **model
    )
    assert gd.rho.shape[0] == 2 and gd.rho[:, -1].min() > gd.rho[:, 0].min()


def _online(flow="plain", **changes):
    arguments = dict(d=10, kappa=1.0, c=0.5, eta=0.1, steps=10, replicas=1, seed=0)
    return online_sgd(flow, "relu", "he(2)", **(arguments | changes))


def test_simulation_input_errors():
    with pytest.raises(DomainError, match="dimension"):
        _online(d=2)
    with pytest.raises(DomainError, match="step size"):
        _online(eta=-0.1)
    with pytest.raises(DomainError, match="steps"):
        _online(steps=0)
    with pytest.raises(DomainError, match="n' >= d"):
        empirical_gd(
            "preconditioned",
            "relu",
            "he(2)",
            d=10,
            kappa=1.0,
            c=0.5,
            eta=0.1,
            steps=2,
            n=50,
            replicas=1,
            seed=0,
            unlabeled=5,
        )
    with pytest.raises(InputError, match="seed"):
        _online(seed=-1)
