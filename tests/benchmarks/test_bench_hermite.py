"""Speed of the Hermite engine beside the naive baselines, measured in the same run.

Targets: ReLU coefficients to degree 200 in under 0.5 s; tanh to degree 40 at
30 digits in under 5 s.  The naive baselines (sympy integration, one mpmath.quad
per coefficient) run at degree 16, where they finish in seconds.  Run
``pytest tests/benchmarks -p no:xdist`` to see the table; under xdist each
function runs once as a plain test.
"""

import mpmath
import pytest
import sympy as sp

from featcheck.numerics.quadrature import mpmath_coefficient
from featcheck.theory.functions import hermite_he, parse_function, z
from featcheck.theory.hermite import _monic_expansion

RELU = parse_function("relu")
TANH = parse_function("tanh")


def featcheck_coefficients(function, degree, digits=30):
    # Bypass the cache so every round does the whole computation.
    return _monic_expansion.__wrapped__(function, degree, digits)


def sympy_integration_relu(degree):
    """The naive exact route: sympy integrates z He_k(z) phi(z) over (0, oo) for each k."""
    return [
        sp.integrate(z * hermite_he(k) * sp.exp(-(z**2) / 2), (z, 0, sp.oo)) / sp.sqrt(2 * sp.pi)
        for k in range(degree + 1)
    ]


def naive_quadrature(function, degree, digits=30):
    """The naive numeric route: one mpmath.quad per coefficient at the same accuracy."""
    return [mpmath_coefficient(function, k, digits) for k in range(degree + 1)]


@pytest.mark.benchmark(group="relu degree 200")
def test_relu_degree_200(benchmark):
    expansion = benchmark.pedantic(featcheck_coefficients, args=(RELU, 200), rounds=3)
    assert expansion[200].exact != 0


@pytest.mark.benchmark(group="relu degree 16, exact")
def test_relu_degree_16_featcheck(benchmark):
    expansion = benchmark.pedantic(featcheck_coefficients, args=(RELU, 16), rounds=3)
    assert expansion[16].exact != 0


@pytest.mark.benchmark(group="relu degree 16, exact")
def test_relu_degree_16_sympy_integrate_baseline(benchmark):
    values = benchmark.pedantic(sympy_integration_relu, args=(16,), rounds=1)
    expected = featcheck_coefficients(RELU, 16)
    assert all(
        sp.simplify(v - c.exact) == 0 for v, c in zip(values, expected.coefficients, strict=True)
    )


@pytest.mark.benchmark(group="tanh degree 40, 30 digits")
def test_tanh_degree_40(benchmark):
    expansion = benchmark.pedantic(featcheck_coefficients, args=(TANH, 40), rounds=2)
    assert max(c.error for c in expansion.coefficients) < mpmath.mpf(10) ** -30


@pytest.mark.benchmark(group="tanh degree 16, 30 digits")
def test_tanh_degree_16_featcheck(benchmark):
    expansion = benchmark.pedantic(featcheck_coefficients, args=(TANH, 16), rounds=2)
    assert max(c.error for c in expansion.coefficients) < mpmath.mpf(10) ** -30


@pytest.mark.benchmark(group="tanh degree 16, 30 digits")
def test_tanh_degree_16_mpmath_quad_baseline(benchmark):
    values = benchmark.pedantic(naive_quadrature, args=(TANH, 16), rounds=1)
    normalized = featcheck_coefficients(TANH, 16).in_basis("normalized")
    with mpmath.workdps(40):
        for (value, error), c in zip(values, normalized.coefficients, strict=True):
            assert abs(value - c.value) <= error + c.error + mpmath.mpf(10) ** -30
