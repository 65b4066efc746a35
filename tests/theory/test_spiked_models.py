"""Data models and the rescaled activation of the spiked single-index model."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from featcheck.theory.dynamics.spiked import ScaledActivation, correlation_series
from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.functions import parse_function
from featcheck.theory.hermite import hermite_coefficients
from featcheck.theory.models import SpikedCovariance, a, b, c, kappa, scalings, spiked_model


def test_correlation_matches_dense_covariance():
    rng = np.random.default_rng(0)
    d, k, cc = 6, 3.7, 0.4
    theta = np.eye(d)[0]
    u = cc * theta + np.sqrt(1 - cc**2) * np.eye(d)[1]
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    for convention, alpha in (("unit", 1 / (1 + k)), ("ba", 1.0)):
        sigma = alpha * (np.eye(d) + k * np.outer(theta, theta))
        expected = w @ sigma @ u / np.sqrt((w @ sigma @ w) * (u @ sigma @ u))
        cov = SpikedCovariance(sp.nsimplify(k), convention)
        values = {a: sp.nsimplify(w @ theta), b: sp.nsimplify(w @ u), c: sp.nsimplify(cc)}
        assert float(cov.correlation().subs(values)) == pytest.approx(expected, rel=1e-12)
        assert float(cov.sigma_w2().subs(values)) == pytest.approx(w @ sigma @ w, rel=1e-12)


def test_bad_model_inputs_raise_input_errors():
    with pytest.raises(DomainError, match="kappa"):
        spiked_model("relu", -1.0, 0.5)
    with pytest.raises(DomainError, match="alignment"):
        spiked_model("relu", 1.0, 1.5)
    with pytest.raises(InputError, match="convention"):
        SpikedCovariance(kappa, "other")
    with pytest.raises(DomainError, match="dimension"):
        scalings(2, 0.1, 0.5)
    assert scalings(100, 0.5, 0.5) == pytest.approx((10.0, 0.1))


@pytest.mark.parametrize("name", ["relu", "relu(z-1)", "abs", "z*abs(z)", "he(3)"])
def test_scaled_coefficients_at_scale_one_equal_hermite_coefficients(name):
    f = parse_function(name)
    sigma = sp.Symbol("sigma", positive=True)
    scaled = ScaledActivation(f, sigma)
    exact = hermite_coefficients(f, 5)
    for k in range(6):
        got = float(sp.N(scaled.coefficient(k).subs(sigma, 1), 30))
        assert got == pytest.approx(float(exact[k].value), abs=1e-25)


@pytest.mark.parametrize("name", ["relu(z-1)", "z*abs(z)", "max(z, 0) - max(z - 1, 0)"])
def test_scaled_second_moment_against_quadrature(name):
    f = parse_function(name)
    sigma = sp.Symbol("sigma", positive=True)
    v = ScaledActivation(f, sigma).second_moment
    for s in (sp.Rational(1, 3), sp.Rational(7, 4)):
        with mpmath.workdps(30):
            expected = mpmath.quad(
                lambda x, s=s: f.mp(s * x) ** 2 * mpmath.npdf(x),
                [-mpmath.inf, 0, 1 / s, mpmath.inf],
            )
        assert float(sp.N(v.subs(sigma, s), 30)) == pytest.approx(float(expected), rel=1e-14)


def test_homogeneity_detection():
    sigma = sp.Symbol("sigma", positive=True)
    assert ScaledActivation(parse_function("relu"), sigma).homogeneity == 1
    assert ScaledActivation(parse_function("z*abs(z)"), sigma).homogeneity == 2
    assert ScaledActivation(parse_function("relu(z-1)"), sigma).homogeneity is None


def test_smooth_activation_gives_symbols_and_kinked_non_polynomial_is_refused():
    sigma = sp.Symbol("sigma", positive=True)
    scaled = ScaledActivation(parse_function("tanh"), sigma)
    assert not scaled.closed_form and scaled.homogeneity is None
    assert scaled.coefficient(2) == 0  # tanh is odd, so is tanh(sigma .)
    value = float(sp.N(scaled.second_moment.subs(sigma, 1), 30))
    expected = hermite_coefficients(parse_function("tanh"), 0).second_moment.value
    assert value == pytest.approx(float(expected), rel=1e-25)
    with pytest.raises(DomainError, match="normalized or preconditioned"):
        ScaledActivation(parse_function("max(z, 0)*tanh(z)"), sigma).second_moment  # noqa: B018


def test_correlation_series_exact_and_truncated():
    exact = correlation_series(parse_function("relu"), parse_function("-h(4)"))
    assert exact.exact and exact.leading_degree == 4
    assert float(exact.products[4]) == pytest.approx(0.08143375198, rel=1e-9)
    truncated = correlation_series(parse_function("relu"), parse_function("tanh"), 9)
    assert not truncated.exact
    # the remainder bound really bounds the tail: compare with a longer truncation at rho = 1
    longer = correlation_series(parse_function("relu"), parse_function("tanh"), 25)
    tail = abs(float(sum(longer.products[10:])))
    assert tail <= truncated.tail_bound
    assert truncated.tail_bound < 0.05
