"""Independent computations of the reduced right-hand sides of the spiked flows.

Neither uses the Hermite series nor the frame algebra of :mod:`featcheck.theory.dynamics.spiked`:

* :func:`quadrature_rates`: the population gradient ``E[d loss/dw]`` from a two-dimensional
  Gaussian quadrature over the joint law of the pre-activations ``p = <w, x>`` and
  ``q = <u, x>/sigma_u``.  By Gaussian regression ``E[x | p, q] = Sigma [w, u/sigma_u] G^(-1)
  (p, q)^T`` with ``G`` the covariance of ``(p, q)``, so
  ``E[h(p, q) x] = Sigma [w, u/sigma_u] G^(-1) E[h(p, q) (p, q)^T]``.  With
  ``p = sqrt(s1) Z1``, ``q = rho Z1 + sqrt(1 - rho^2) Z2``: Gauss-Legendre in ``Z1`` on
  ``[-L, L]`` split at the activation's kinks, probabilists' Gauss-Hermite in ``Z2``.
  The error estimate is the change when both node counts are doubled.  The link must be
  smooth (a polynomial is integrated exactly in ``Z2``).
* :func:`monte_carlo_rates`: the same gradient as a sample mean with its standard error.

The vectors live in ``R^3``: ``theta = e1``, ``u = c e1 + sqrt(1 - c^2) e2`` and ``w`` with
the requested ``a``, ``b`` (the law of ``(p, q, <theta, x>)`` does not depend on ``d``).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss

from featcheck.numerics.sampling import SpikedOperator
from featcheck.numerics.spiked.pointwise import vectorised
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import FunctionLike, as_function

TRUNCATION = 12.0  # Gaussian mass beyond |Z1| = 12 is below 4e-33


def frame(a: float, b: float, c: float, q: float = 1.0):
    """``theta, u, w`` in ``R^3`` with ``<w, theta> = a``, ``<w, u> = b``, ``|w|^2 = q``."""
    theta = np.array([1.0, 0.0, 0.0])
    s = np.sqrt(max(1.0 - c * c, 0.0))
    u = np.array([c, s, 0.0])
    if s < 1e-14:
        w2 = 0.0
        if abs(b - c * a) > 1e-12:
            raise DomainError("with c = +-1, b must equal c a")
    else:
        w2 = (b - c * a) / s
    rest = q - a * a - w2 * w2
    if rest < -1e-12:
        raise DomainError(f"no vector with a = {a}, b = {b}, |w|^2 = {q} when c = {c}")
    return theta, u, np.array([a, w2, np.sqrt(max(rest, 0.0))])


@lru_cache(maxsize=16)
def _legendre(n: int):
    return leggauss(n)


def _nodes(kinks: list[float], n1: int, n2: int):
    cuts = [-TRUNCATION, *[k for k in kinks if -TRUNCATION < k < TRUNCATION], TRUNCATION]
    xs, ws = _legendre(n1)
    z1, w1 = [], []
    for lo, hi in itertools.pairwise(cuts):
        z1.append((hi - lo) / 2 * xs + (hi + lo) / 2)
        w1.append((hi - lo) / 2 * ws)
    z1, w1 = np.concatenate(z1), np.concatenate(w1)
    w1 = w1 * np.exp(-(z1**2) / 2) / np.sqrt(2 * np.pi)
    z2, w2 = hermegauss(n2)
    return z1, w1, z2, w2 / np.sqrt(2 * np.pi)


def _rates(flow, phi, link, op, w, u, theta, c, z1, w1, z2, w2):
    f, df, g = vectorised(phi), vectorised(phi, 1), vectorised(link)
    sw, su = op.apply(w), op.apply(u)
    sigma_u = np.sqrt(u @ su)
    first = w @ sw
    cross = w @ su / sigma_u
    rho = cross / np.sqrt(first)
    Z1, Z2 = np.meshgrid(z1, z2, indexing="ij")
    weight = np.outer(w1, w2)
    p = np.sqrt(first) * Z1
    q = rho * Z1 + np.sqrt(max(1.0 - rho * rho, 0.0)) * Z2
    if flow == "plain":
        h = (f(p) - g(q)) * df(p)
        scale, extra = 1.0, 0.0
    else:
        r = np.sqrt(first)
        h = (f(p / r) - g(q)) * df(p / r)
        scale = 1.0 / r
        extra = -np.sum(weight * h * p) / r**3  # coefficient of Sigma w
    moments = np.array([np.sum(weight * h * p), np.sum(weight * h * q)])
    gram = np.array([[first, cross], [cross, 1.0]])
    coeffs = np.linalg.solve(gram, moments)
    grad = scale * (coeffs[0] * sw + coeffs[1] * su / sigma_u) + extra * sw
    if flow == "preconditioned":
        v = -op.inv(grad)
        return np.array([theta @ v, u @ v, 2 * (w @ v)])
    v = -(grad - (w @ grad) * w)
    return np.array([theta @ v, u @ v])


def quadrature_rates(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    kappa: float,
    c: float,
    a: float,
    b: float,
    q: float = 1.0,
    convention: str = "unit",
    nodes: tuple[int, int] = (80, 60),
) -> tuple[np.ndarray, float]:
    """``(da/dt, db/dt[, dq/dt])`` by quadrature, and the estimated quadrature error."""
    activation, link = as_function(activation), as_function(link)
    theta, u, w = frame(a, b, c, q)
    op = SpikedOperator(theta, kappa, convention)
    first = w @ op.apply(w)
    scale = 1.0 if flow == "plain" else np.sqrt(first)
    # kinks of phi(p) (plain) or phi(p/r): in Z1 = p / sqrt(s1)
    kinks = sorted(float(k) * scale / np.sqrt(first) for k in activation.breakpoints)
    results = []
    for factor in (1, 2):
        n1, n2 = nodes[0] * factor, nodes[1] * factor
        results.append(_rates(flow, activation, link, op, w, u, theta, c, *_nodes(kinks, n1, n2)))
    return results[1], float(np.abs(results[1] - results[0]).max())


def monte_carlo_samples(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    kappa: float,
    c: float,
    a: float,
    b: float,
    q: float = 1.0,
    convention: str = "unit",
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """The per-sample rates ``(n, 2)`` (``(n, 3)`` preconditioned): independent samples
    whose mean is the population right-hand side."""
    activation, link = as_function(activation), as_function(link)
    theta, u, w = frame(a, b, c, q)
    op = SpikedOperator(theta, kappa, convention)
    X = op.sample(n, rng)
    f, df, g = vectorised(activation), vectorised(activation, 1), vectorised(link)
    sigma_u = np.sqrt(op.quadratic(u))
    p, y = X @ w, g(X @ u / sigma_u)
    if flow == "plain":
        grads = ((f(p) - y) * df(p))[:, None] * X
    else:
        sw = op.apply(w)
        r = np.sqrt(w @ sw)
        coef = (f(p / r) - y) * df(p / r)
        grads = coef[:, None] * (X / r - np.outer(p, sw) / r**3)
    if flow == "preconditioned":
        v = -op.inv(grads)
        rates = np.column_stack([v @ theta, v @ u, 2 * v @ w])
    else:
        v = -(grads - np.outer(grads @ w, w))
        rates = np.column_stack([v @ theta, v @ u])
    return rates


def monte_carlo_rates(flow: str, activation: FunctionLike, link: FunctionLike, **kwargs):
    """Sample mean of the per-sample rates and its standard error (``n`` samples)."""
    rates = monte_carlo_samples(flow, activation, link, **kwargs)
    return rates.mean(axis=0), rates.std(axis=0, ddof=1) / np.sqrt(rates.shape[0])
