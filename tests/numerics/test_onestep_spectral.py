"""Gram-matrix linear algebra, model B's learned direction and spectral analysis."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from threadpoolctl import threadpool_limits

from featcheck.numerics.cli import main
from featcheck.numerics.onestep.gram import Gram
from featcheck.numerics.onestep.mixture import gaussian_mixture
from featcheck.numerics.onestep.simulate import ConfigB, simulate_b
from featcheck.numerics.onestep.spectrum_b import population_gradient


@settings(max_examples=20, deadline=None)
@given(st.integers(20, 70), st.integers(20, 70), st.integers(0, 4), st.integers(0, 2**31))
def test_gram_spectra_match_svd_of_the_projected_matrix(n, p, q, seed):
    rng = np.random.default_rng(seed)
    f = np.tanh(rng.standard_normal((n, p)) + 0.5)
    basis = np.linalg.qr(rng.standard_normal((n, q + 1)))[0] if q else None
    projected = f if basis is None else f - basis @ (basis.T @ f)
    u, s, _ = np.linalg.svd(projected)
    count = 3
    values, vectors = Gram(f).top(count, rng, basis=basis, vectors=True)
    assert np.allclose(values, s[:count], rtol=1e-9, atol=1e-9)
    gaps = np.abs(np.diff(s[: count + 1])) > 1e-6 * s[0]
    for i in range(count):
        if gaps[i] and (i == 0 or gaps[i - 1]):  # a simple singular value: same vector
            assert abs(vectors[:, i] @ u[:, i]) == pytest.approx(1, abs=1e-7)


def test_gram_lanczos_path_matches_svd():
    rng = np.random.default_rng(3)
    f = np.maximum(rng.standard_normal((900, 850)), 0)
    mean = np.full((900, 1), 900**-0.5)
    with threadpool_limits(limits=1, user_api="blas"):  # threads oversubscribe a shared machine
        s = np.linalg.svd(f - f.mean(axis=0), compute_uv=False)
        values, _ = Gram(f).top(4, rng, basis=mean)
    assert np.allclose(values, s[:4], rtol=1e-8)


@settings(max_examples=20, deadline=None)
@given(st.integers(10, 60), st.integers(10, 60), st.floats(1e-3, 10), st.integers(0, 2**31))
def test_gram_ridge_and_resolvent(n, p, penalty, seed):
    rng = np.random.default_rng(seed)
    f, y = rng.standard_normal((n, p)), rng.standard_normal(n)
    gram = Gram(f)
    gram.factor(penalty)
    direct = np.linalg.solve(f.T @ f + penalty * np.eye(p), f.T @ y)
    assert np.allclose(gram.coefficients(y), direct, rtol=1e-7, atol=1e-9)
    resolvent = penalty * np.linalg.solve(f @ f.T + penalty * np.eye(n), y)
    assert np.allclose(gram.resolvent(y), resolvent, rtol=1e-7, atol=1e-9)
    with pytest.raises(RuntimeError):
        gram.top(1, rng)  # overwritten by its factor


@pytest.mark.parametrize("target, noise", [("relu", 0.0), ("tanh", 0.5)])
def test_population_gradient_against_monte_carlo(target, noise):
    rng = np.random.default_rng(11)
    d, samples = 12, 400_000
    mix = gaussian_mixture(d, rng, weights=(0.3, 0.7), spikes=((6.0,), (6.0,)), alignment=0.4)
    xi = rng.standard_normal(d)
    xi /= np.linalg.norm(xi) * np.sqrt(mix.average_covariance_norm())
    pop = population_gradient(mix, xi, target, noise)
    x, _ = mix.sample(samples, rng)
    u = x @ xi
    y = (np.maximum(u, 0) if target == "relu" else np.tanh(u)) + noise * rng.standard_normal(
        samples
    )
    z = stats.norm.ppf(1 - 0.001 / (2 * (d + 1)))  # Bonferroni over d + 1 means
    xy = x * y[:, None]
    se = xy.std(axis=0) / np.sqrt(samples)
    assert np.all(np.abs(xy.mean(axis=0) - pop.direction) <= z * se)
    norm = y**2 * np.sum(x**2, axis=1)
    assert abs(norm.mean() - pop.y2_x2) <= z * norm.std() / np.sqrt(samples)


def test_spectrum_does_not_change_the_errors_and_gradient_is_rank_one():
    config = ConfigB("relu", 200, 200, 200, alpha=0.5, beta=0.74)
    plain = simulate_b(config, np.random.default_rng(5))
    full = simulate_b(config, np.random.default_rng(5), spectrum=True)
    assert plain.network == full.network and plain.models == full.models
    g = full.spectrum.gradient
    assert g["c_hat_vs_gradient"] > 0.99
    assert g["top_singular_values"][1] < 0.5 * g["top_singular_values"][0]
    assert full.spectrum.outliers is not None and len(full.spectrum.singular_values) == 10


def test_command_model_b_spectral_keys_and_model_a_hermite_reason(capsys):
    size = ["--dim", "120", "--samples", "120", "--width", "120", "--json"]
    assert main(["onestep", "--activation", "relu", "--beta", "0.6", "--weight", "0.9", *size]) == 0
    payload = json.loads(capsys.readouterr().out)
    for key in (
        "predicted_spikes",
        "measured_spikes",
        "singular_values",
        "bulk_edge",
        "alignments",
        "gradient_overlap",
    ):
        assert payload[key] is not None, key
    assert payload["predicted_spikes"]["count"] == 3  # step degree 1, two spread degree 1
    assert main(["onestep", "--activation", "tanh", "--alpha", "0.3", *size]) == 0
    hermite = json.loads(capsys.readouterr().out)["hermite_model"]
    assert hermite["defined"] is False and "Demir and Dogan" in hermite["reason"]
    small = ["--dim", "30", "--samples", "30", "--width", "30"]
    assert (
        main(["onestep", "--activation", "relu", "--beta", "0.6", "--weight", "0.5", *small]) == 2
    )
    assert capsys.readouterr().err.count("\n") == 1
