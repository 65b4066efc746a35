"""Independent numerical oracles for the exact layer.

* :func:`gauss_hermite_coefficients`: probabilists' Gauss-Hermite quadrature
  (``numpy.polynomial.hermite_e.hermegauss``, weight ``exp(-z^2/2)``, normalised
  by ``sqrt(2 pi)``) in double precision.  Its error is estimated as
  ``|Q_n - Q_{2n}|``: exponentially small for smooth ``f``, only algebraic at a
  kink, which is why the second oracle exists.
* :func:`mpmath_coefficient`: ``mpmath.quad`` (tanh-sinh) with the switching
  points of ``f`` as breakpoints and its own error estimate; ``He_k`` from
  mpmath's physicists' Hermite polynomials, ``He_k(x) = 2^(-k/2) H_k(x/sqrt 2)``.
* :func:`gaussian_expectation_2d`: ``E[f(Z1) g(Z2)]`` for correlated standard
  Gaussians by nested adaptive quadrature (scipy), split at the kinks of both.
* :func:`monte_carlo_mean`: a sample mean with a central-limit confidence interval.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import mpmath
import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import integrate, stats

from featcheck.theory.functions import Function

SQRT_2PI = math.sqrt(2 * math.pi)


def orthonormal_hermite(max_degree: int, x: np.ndarray) -> np.ndarray:
    """``h_k(x)`` for ``k = 0..K`` by ``h_{k+1} = (x h_k - sqrt(k) h_{k-1}) / sqrt(k+1)``."""
    x = np.asarray(x, dtype=float)
    out = np.empty((max_degree + 1, *x.shape))
    out[0] = 1.0
    if max_degree >= 1:
        out[1] = x
    for k in range(1, max_degree):
        out[k + 1] = (x * out[k] - math.sqrt(k) * out[k - 1]) / math.sqrt(k + 1)
    return out


def evaluate(function: Function, x: np.ndarray | float) -> np.ndarray:
    """``f(x)`` in double precision; overflow in a saturating term (exp) is harmless."""
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(function.np(x), dtype=float) * np.ones_like(x, dtype=float)


@functools.lru_cache(maxsize=8)
def gauss_hermite_rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite nodes and weights (cached: the eigenproblem is costly)."""
    x, w = hermegauss(nodes)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def _gh_rule(nodes: int, function: Function, max_degree: int) -> np.ndarray:
    x, w = gauss_hermite_rule(nodes)
    values = evaluate(function, x)
    return orthonormal_hermite(max_degree, x) @ (w * values) / SQRT_2PI


def gauss_hermite_coefficients(
    function: Function, max_degree: int, nodes: int = 150
) -> tuple[np.ndarray, np.ndarray]:
    """Normalized coefficients ``c_k`` by Gauss-Hermite with ``2 n`` nodes, and ``|Q_n - Q_2n|``."""
    coarse = _gh_rule(nodes, function, max_degree)
    fine = _gh_rule(2 * nodes, function, max_degree)
    return fine, np.abs(fine - coarse)


def quadpack_coefficients(function: Function, max_degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalized coefficients by QUADPACK (``scipy.integrate.quad``) split at the kinks.

    The double-precision oracle for functions with switching points, where
    Gauss-Hermite converges only algebraically and its error estimate is unreliable.
    """
    values = np.zeros(max_degree + 1)
    errors = np.zeros(max_degree + 1)
    f_np = function.np
    points = [float(p) for p in function.breakpoints]
    for k in range(max_degree + 1):
        for a, b in _intervals(points):
            value, err = integrate.quad(
                lambda x, k=k: (
                    float(f_np(x))
                    * orthonormal_hermite(k, np.array(x))[k]
                    * math.exp(-x * x / 2)
                    / SQRT_2PI
                ),
                a,
                b,
                epsabs=1e-13,
                epsrel=1e-12,
                limit=200,
            )
            values[k] += value
            errors[k] += err
    return values, errors


def double_precision_coefficients(
    function: Function, max_degree: int
) -> tuple[np.ndarray, np.ndarray, str]:
    """The double-precision oracle: Gauss-Hermite for smooth ``f``, QUADPACK at kinks."""
    if function.breakpoints:
        values, errors = quadpack_coefficients(function, max_degree)
        return values, errors, "quadpack"
    values, errors = gauss_hermite_coefficients(function, max_degree)
    return values, errors, "gauss-hermite"


def mpmath_expectation(integrand, breakpoints, digits: int = 30) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``E[g(Z)]`` by ``mpmath.quad`` (tanh-sinh) split at ``breakpoints``; value and error."""
    with mpmath.workdps(digits + 10):
        points = [mpmath.ninf, *[mpmath.mpf(float(p)) for p in breakpoints], mpmath.inf]
        if len(points) == 2:
            points.insert(1, mpmath.mpf(0))
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        value, error = mpmath.quad(
            lambda x: integrand(x) * mpmath.exp(-x * x / 2), points, error=True
        )
        return value * norm, abs(error) * norm


def mpmath_coefficient(
    function: Function, k: int, digits: int = 30
) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``c_k(f)`` by ``mpmath.quad`` with breakpoints, and the quadrature's error estimate.

    ``He_k`` is evaluated from its power-series coefficients (``mpmath.polyval``), a
    route independent of the three-term recurrence used by the exact layer.
    """
    coefficients = [int(c) for c in reversed(hermite_prob_coefficients(k))]
    with mpmath.workdps(digits + 10):
        scale = 1 / mpmath.sqrt(mpmath.factorial(k))
        value, error = mpmath_expectation(
            lambda x: function.mp(x) * mpmath.polyval(coefficients, x),
            function.breakpoints,
            digits,
        )
        return value * scale, error * scale


def hermite_prob_coefficients(k: int) -> list[int]:
    """Power-series coefficients of ``He_k``, lowest degree first (explicit formula)."""
    out = [0] * (k + 1)
    for m in range(k // 2 + 1):
        out[k - 2 * m] = (
            (-1) ** m * math.factorial(k) // (math.factorial(m) * math.factorial(k - 2 * m) * 2**m)
        )
    return out


def _intervals(points: list[float]) -> list[tuple[float, float]]:
    cuts = [-math.inf, *sorted(points), math.inf]
    return [(a, b) for a, b in itertools.pairwise(cuts) if a < b]


def gaussian_expectation_2d(
    f: Function, g: Function, rho: float, tol: float = 1e-11
) -> tuple[float, float]:
    """``E[f(Z1) g(Z2)]`` with ``corr(Z1, Z2) = rho``, by nested quadrature; value and error.

    ``Z2 = rho Z1 + s W`` with ``s = sqrt(1 - rho^2)``; the inner integral over ``W`` is
    split where ``rho z1 + s w`` meets a switching point of ``g``, the outer one at
    the switching points of ``f``.  The error is the outer estimate plus the inner
    estimates integrated against ``|f(z1)| phi(z1)`` (a second, coarse outer pass).
    """
    with np.errstate(over="ignore", under="ignore"):
        return _expectation_2d(f.np, g.np, f.breakpoints, g.breakpoints, rho, tol)


def _expectation_2d(f_np, g_np, f_breaks, g_breaks, rho: float, tol: float) -> tuple[float, float]:
    s = math.sqrt(max(1 - rho * rho, 0.0))
    f_points = [float(p) for p in f_breaks]
    g_points = [float(p) for p in g_breaks]

    def density(t: float) -> float:
        return math.exp(-t * t / 2) / SQRT_2PI

    def inner(z1: float) -> tuple[float, float]:
        if s == 0:
            return float(g_np(rho * z1)), 0.0
        cuts = [(p - rho * z1) / s for p in g_points]
        total, error = 0.0, 0.0
        for a, b in _intervals(cuts):
            value, err = integrate.quad(
                lambda w: float(g_np(rho * z1 + s * w)) * density(w),
                a,
                b,
                epsabs=tol,
                epsrel=tol,
                limit=200,
            )
            total += value
            error += err
        return total, error

    total = 0.0
    error = 0.0
    for a, b in _intervals(f_points):
        value, err = integrate.quad(
            lambda x: float(f_np(x)) * inner(x)[0] * density(x),
            a,
            b,
            epsabs=tol,
            epsrel=tol,
            limit=200,
        )
        inner_error, _ = integrate.quad(
            lambda x: abs(float(f_np(x))) * inner(x)[1] * density(x),
            a,
            b,
            epsrel=1e-2,
            limit=50,
        )
        total += value
        error += err + 2 * inner_error
    return total, error


@dataclass(frozen=True)
class MonteCarloEstimate:
    mean: float
    half_width: float
    level: float
    samples: int

    @property
    def interval(self) -> tuple[float, float]:
        return self.mean - self.half_width, self.mean + self.half_width


def monte_carlo_mean(values: np.ndarray, level: float = 0.999) -> MonteCarloEstimate:
    """Sample mean with a two-sided central-limit interval at confidence ``level``."""
    values = np.asarray(values, dtype=float)
    n = values.size
    quantile = stats.norm.ppf(0.5 + level / 2)
    half = quantile * values.std(ddof=1) / math.sqrt(n)
    return MonteCarloEstimate(float(values.mean()), float(half), level, n)


def correlated_gaussians(
    rng: np.random.Generator, rho: float, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of standard Gaussians with correlation ``rho``."""
    z1 = rng.standard_normal(size)
    z2 = rho * z1 + math.sqrt(1 - rho * rho) * rng.standard_normal(size)
    return z1, z2
