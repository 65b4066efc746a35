"""The Hermite engine beside naive routes to the same coefficients, timed in the same run.

Each benchmark times featcheck with pytest-benchmark, then the baseline once, and records
``baseline_seconds`` and ``speedup`` (baseline time over featcheck's fastest round) in
``extra_info``; the assertions are on the numbers only, never on time.

- ReLU, degree 16: the exact piecewise engine vs ``sympy.integrate`` per coefficient.
- ReLU, degree 200: all 201 exact coefficients vs one ``mpmath.quad`` of the top
  coefficient alone, at 60 digits: the power series of ``He_200`` cancels about 20
  digits, and at 30 digits that route gets ``c_200`` right to only about 16.
- ReLU, degree 200, normalized basis: the coefficients (values only; exact forms are
  built when read) and the same with every exact form read, as ``featcheck hermite``
  prints them, beside the monic coefficients of the exact engine (``ratio to monic``):
  the price of the conversion ``c_k = mu_k / sqrt(k!)``.
- tanh, degree 16, 30 digits: one tanh-sinh pass for all degrees vs one ``mpmath.quad``
  per coefficient.
- tanh, degree 40, 30 digits: all 41 coefficients vs one ``mpmath.quad`` of the top one.

Run ``python -m pytest tests/benchmarks/test_bench_hermite.py -p no:xdist`` (see
docs/benchmarks.md).
"""

import time

import mpmath
import pytest
import sympy as sp

from featcheck.numerics.quadrature import mpmath_coefficient
from featcheck.theory.functions import hermite_he, parse_function, z
from featcheck.theory.hermite import _monic_expansion, inverse_sqrt_factorial

RELU = parse_function("relu")
TANH = parse_function("tanh")
DIGITS = 30


def featcheck_coefficients(function, degree, digits=DIGITS):
    # Bypass the cache so every round does the whole computation.
    return _monic_expansion.__wrapped__(function, degree, digits).in_basis("normalized")


def sympy_integration_relu(degree):
    """The naive exact route: sympy integrates z He_k(z) phi(z) over (0, oo) for each k."""
    return [
        sp.integrate(z * hermite_he(k) * sp.exp(-(z**2) / 2), (z, 0, sp.oo)) / sp.sqrt(2 * sp.pi)
        for k in range(degree + 1)
    ]


def naive_quadrature(function, degrees, digits=DIGITS):
    """The naive numeric route: one mpmath.quad per coefficient at the same accuracy."""
    return [mpmath_coefficient(function, k, digits) for k in degrees]


def against_baseline(benchmark, rounds, run, baseline, name):
    """Time ``run`` with the benchmark fixture and ``baseline`` once; record the ratio."""
    seconds: list[float] = []

    def timed():
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
        return result

    result = benchmark.pedantic(timed, rounds=rounds)
    start = time.perf_counter()
    reference = baseline()
    baseline_seconds = time.perf_counter() - start
    benchmark.extra_info.update(
        baseline=name,
        baseline_seconds=round(baseline_seconds, 4),
        speedup=round(baseline_seconds / min(seconds), 1),
    )
    return result, reference


def agree(numeric, coefficients):
    """Each ``(value, error)`` of mpmath.quad agrees with featcheck's coefficient."""
    with mpmath.workdps(DIGITS + 10):
        return all(
            abs(value - c.value) <= error + c.error + mpmath.mpf(10) ** -DIGITS
            for (value, error), c in zip(numeric, coefficients, strict=True)
        )


@pytest.mark.benchmark(group="relu degree 16, exact")
def test_relu_degree_16_beside_sympy_integrate(benchmark):
    expansion, values = against_baseline(
        benchmark,
        3,
        lambda: featcheck_coefficients(RELU, 16),
        lambda: sympy_integration_relu(16),
        "sympy.integrate per coefficient",
    )
    normalized = [v / sp.sqrt(sp.factorial(k)) for k, v in enumerate(values)]
    assert all(
        sp.simplify(v - c.exact) == 0
        for v, c in zip(normalized, expansion.coefficients, strict=True)
    )


@pytest.mark.benchmark(group="relu degree 200, exact")
def test_relu_degree_200_beside_one_mpmath_quad(benchmark):
    expansion, numeric = against_baseline(
        benchmark,
        3,
        lambda: featcheck_coefficients(RELU, 200),
        lambda: naive_quadrature(RELU, [200], digits=60),
        "mpmath.quad of c_200 alone, 60 digits",
    )
    assert all(c.is_exact for c in expansion.coefficients)
    assert agree(numeric, expansion.coefficients[200:])


def against_monic(benchmark, run, name):
    """Time ``run`` with the benchmark fixture and the monic exact engine as often;
    record the ratio of the fastest rounds.  Each round starts from an empty sympy
    cache: a later round would otherwise find every product already built."""
    seconds: list[float] = []

    def timed(work):
        sp.core.cache.clear_cache()
        start = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - start)
        return result

    result = benchmark.pedantic(lambda: timed(run), rounds=3)
    ours, seconds[:] = min(seconds), []
    for _ in range(3):
        monic = timed(lambda: _monic_expansion.__wrapped__(RELU, 200, DIGITS))
    benchmark.extra_info.update(
        baseline=name,
        baseline_seconds=round(min(seconds), 4),
        ratio_to_monic=round(ours / min(seconds), 2),
    )
    return result, monic


def same_as_monic(expansion, monic, exact_forms):
    """``c_k = mu_k / sqrt(k!)`` to the working digits, and as exact forms if asked."""
    with mpmath.workdps(DIGITS + 10):
        tolerance = mpmath.mpf(10) ** -DIGITS
        for c, mu in zip(expansion.coefficients, monic.coefficients, strict=True):
            root = mpmath.sqrt(mpmath.factorial(c.degree))
            assert abs(c.value * root - mu.value) <= tolerance * max(1, abs(mu.value))
            if exact_forms:
                assert c.exact == mu.exact * inverse_sqrt_factorial(c.degree)


@pytest.mark.benchmark(group="relu degree 200, normalized basis")
def test_relu_degree_200_normalized_beside_the_monic_engine(benchmark):
    expansion, monic = against_monic(
        benchmark, lambda: featcheck_coefficients(RELU, 200), "monic exact engine, degree 200"
    )
    same_as_monic(expansion, monic, exact_forms=False)


@pytest.mark.benchmark(group="relu degree 200, normalized basis")
def test_relu_degree_200_normalized_exact_forms_beside_the_monic_engine(benchmark):
    def with_exact_forms():
        expansion = featcheck_coefficients(RELU, 200)
        for c in expansion.coefficients:
            c.exact  # noqa: B018 - reading builds the form
        return expansion

    expansion, monic = against_monic(benchmark, with_exact_forms, "monic exact engine, degree 200")
    same_as_monic(expansion, monic, exact_forms=True)


@pytest.mark.benchmark(group="tanh degree 16, 30 digits")
def test_tanh_degree_16_beside_mpmath_quad(benchmark):
    expansion, numeric = against_baseline(
        benchmark,
        2,
        lambda: featcheck_coefficients(TANH, 16),
        lambda: naive_quadrature(TANH, range(17)),
        "mpmath.quad per coefficient",
    )
    assert max(c.error for c in expansion.coefficients) < mpmath.mpf(10) ** -DIGITS
    assert agree(numeric, expansion.coefficients)


@pytest.mark.benchmark(group="tanh degree 40, 30 digits")
def test_tanh_degree_40_beside_one_mpmath_quad(benchmark):
    expansion, numeric = against_baseline(
        benchmark,
        2,
        lambda: featcheck_coefficients(TANH, 40),
        lambda: naive_quadrature(TANH, [39]),
        "mpmath.quad of c_39 alone",
    )
    assert max(c.error for c in expansion.coefficients) < mpmath.mpf(10) ** -DIGITS
    assert agree(numeric, expansion.coefficients[39:40])
