"""The independent oracles themselves, on integrals with known values."""

import math

import numpy as np
import pytest

from featcheck.numerics.quadrature import (
    correlated_gaussians,
    gauss_hermite_coefficients,
    gaussian_expectation_2d,
    monte_carlo_mean,
    mpmath_coefficient,
    orthonormal_hermite,
    quadpack_coefficients,
)
from featcheck.theory.functions import parse_function


def test_orthonormal_hermite_matches_numpy():
    from numpy.polynomial.hermite_e import hermeval

    x = np.linspace(-3, 3, 7)
    values = orthonormal_hermite(6, x)
    for k in range(7):
        unit = np.zeros(k + 1)
        unit[k] = 1
        np.testing.assert_allclose(values[k], hermeval(x, unit) / math.sqrt(math.factorial(k)))


def test_gauss_hermite_is_exact_for_polynomials():
    values, errors = gauss_hermite_coefficients(parse_function("z^4"), 5)
    np.testing.assert_allclose(values, [3, 0, 6 * math.sqrt(2), 0, math.sqrt(24), 0], atol=1e-12)
    assert errors.max() < 1e-12


def test_quadpack_handles_a_kink():
    values, errors = quadpack_coefficients(parse_function("relu(z - 1)"), 3)
    phi, cdf = math.exp(-0.5) / math.sqrt(2 * math.pi), 0.5 * math.erfc(1 / math.sqrt(2))
    assert values[0] == pytest.approx(phi - cdf, abs=1e-12)  # E[(Z-1)_+] = phi(1) - (1 - Phi(1))
    assert values[1] == pytest.approx(cdf, abs=1e-12)
    assert errors.max() < 1e-10


def test_mpmath_oracle_on_sign():
    value, error = mpmath_coefficient(parse_function("sign"), 1, 30)
    assert abs(value - math.sqrt(2 / math.pi)) < 1e-15
    assert error < 1e-25


@pytest.mark.parametrize("r", [-0.8, 0.0, 0.5, 1.0])
def test_two_dimensional_expectation_of_a_product(r):
    value, error = gaussian_expectation_2d(parse_function("z"), parse_function("z^3"), r)
    assert value == pytest.approx(3 * r, abs=1e-9) and error < 1e-8


def test_monte_carlo_interval_covers_at_its_level():
    rng = np.random.default_rng(7)
    covered = 0
    trials = 400
    for _ in range(trials):
        estimate = monte_carlo_mean(rng.standard_normal(200), level=0.9)
        covered += estimate.interval[0] <= 0 <= estimate.interval[1]
    # Coverage is Binomial(400, 0.9): mean 360, standard deviation 6; +- 4 sd.
    assert 336 <= covered <= 384


def test_correlated_gaussians_have_the_requested_correlation():
    z1, z2 = correlated_gaussians(np.random.default_rng(1), 0.3, 200_000)
    # The sample correlation has standard error about (1 - 0.09)/sqrt(n) = 0.002.
    assert np.corrcoef(z1, z2)[0, 1] == pytest.approx(0.3, abs=0.01)
