"""Samplers and one-step simulations (the mixture sampler and the one-step simulators)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.numerics.onestep.mixture import gaussian_mixture, isotropic, spiked
from featcheck.numerics.onestep.simulate import (
    ConfigA,
    ConfigB,
    hermite_readout,
    ridge_fit,
    simulate_a,
    simulate_b,
    surrogate_training_error,
)
from featcheck.theory.errors import DomainError
from featcheck.theory.onestep import hermite_model


@settings(max_examples=10, deadline=None)
@given(st.integers(20, 60), st.floats(0.5, 20), st.floats(-1, 1), st.integers(0, 2**31))
def test_mixture_covariances_match_the_model(d, theta, alignment, seed):
    rng = np.random.default_rng(seed)
    mix = gaussian_mixture(d, rng, spikes=((theta,), (theta / 2,)), alignment=alignment)
    g1, g2 = (c.directions[:, 0] for c in mix.components)
    assert abs(g1 @ g2 - alignment) < 1e-10
    assert np.allclose(mix.traces(), mix.traces()[0])  # trace matching
    x, labels = mix.sample(20000, rng)
    for index, c in enumerate(mix.components):
        rows = x[labels == index]
        g = c.directions[:, 0]
        variance = np.mean((rows @ g) ** 2)
        predicted = c.scale * (1 + theta / (1 + index))
        # chi-square: sd of a variance estimate is sqrt(2/m) times the variance; 5 sd
        assert abs(variance - predicted) < 5 * predicted * np.sqrt(2 / len(rows))
        assert (
            abs(np.mean(np.sum(rows**2, axis=1)) - c.trace)
            < 5 * np.sqrt(2 * (d + theta**2) / len(rows)) * c.scale * 2
        )


def test_isotropic_spiked_and_mean_removal():
    rng = np.random.default_rng(1)
    x, _ = isotropic(30).sample(500, rng, remove_mean=True)
    assert np.allclose(x.mean(axis=0), 0)
    mix = spiked(30, 4.0, rng)
    assert mix.average_covariance_norm() == pytest.approx(5.0)
    with pytest.raises(DomainError):
        gaussian_mixture(10, rng, weights=(0.7, 0.7))


def test_surrogate_equals_direct_minimisation():
    rng = np.random.default_rng(2)
    n, p, q, lam = 60, 40, 2, 0.1
    f = rng.standard_normal((n, p))
    spikes = rng.standard_normal((n, q))
    y = rng.standard_normal(n)
    # direct: minimise jointly over (b, w) with b unpenalised
    design = np.hstack([spikes, f])
    penalty = np.diag([0.0] * q + [n * lam] * p)
    coef = np.linalg.solve(design.T @ design + penalty, design.T @ y)
    direct = np.mean((y - design @ coef) ** 2) + lam * coef[q:] @ coef[q:]
    assert surrogate_training_error(y, f, spikes, lam) == pytest.approx(direct, rel=1e-9)
    w = ridge_fit(f, y, n * lam)
    plain = np.mean((y - f @ w) ** 2) + lam * w @ w
    assert surrogate_training_error(y, f, np.zeros((n, 0)), lam) == pytest.approx(plain, rel=1e-9)


def test_hermite_readout_reproduces_polynomial_activation():
    model = hermite_model("z^2 + z", 1.0, 2)
    assert model.residual_std == 0.0
    u = np.linspace(-2, 2, 9)
    assert np.allclose(hermite_readout(model, u, np.random.default_rng(0)), u**2 + u)


def test_simulate_a_is_deterministic_and_sane():
    config = ConfigA("tanh", "tanh", 0.355, 150, 150, 150, spike_degrees=(1,))
    first = simulate_a(config, np.random.default_rng(3))
    second = simulate_a(config, np.random.default_rng(3))
    assert first.train_error == second.train_error
    assert first.outliers >= 1 and first.singular_values[0] > first.bulk_edge_updated
    assert first.train_error < first.train_error_initial
    assert 0 < first.overlap_beta_hat < 1


def test_simulate_b_runs_network_and_models():
    config = ConfigB("relu", 60, 60, 60, alpha=0.5, beta=0.6, task="classification")
    result = simulate_b(config, np.random.default_rng(4), degrees=(2, 1))
    assert set(result.models) == {1, 2}
    assert all(
        np.isfinite([e.train, e.test]).all() for e in [result.network, *result.models.values()]
    )
    with pytest.raises(DomainError):
        ConfigB("relu", 60, 60, 60, alpha=0.5, beta=1.5).check()
    with pytest.raises(DomainError):
        ConfigA("relu", "tanh", 0.3, 20, 20, 20).check()
