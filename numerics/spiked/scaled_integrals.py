"""Numpy evaluation of the Gaussian integrals of a rescaled smooth activation.

``featcheck.theory.dynamics.spiked.scaled.ScaledIntegral`` symbols stand for
``I_j(sigma) = E[d^j F/dsigma^j (sigma, Z)]`` with ``F(sigma, z) = phi(sigma z)^2`` or
``phi(sigma z) He_k(z)/sqrt(k!)`` and ``Z ~ N(0, 1)``; they have no closed form when ``phi``
is not piecewise polynomial.  Here they are integrated by a composite Gauss-Legendre rule in
``z`` on ``[-L, L]`` (``L = 12``: the Gaussian mass outside is below ``4e-33``), with
``NODES`` nodes per panel and panels of width ``min(1/2, 1/(2 sigma))``, so that every panel
spans at most ``1/2`` in ``x = sigma z`` as well as in ``z``.  For an integrand analytic in a
strip around the real axis (``tanh``: poles at ``Im x = pi/2``) the error of such a rule
decays geometrically in ``NODES``; :func:`quadrature_error` estimates it by halving the
panels, and the tests compare the values with the certified Hermite engine.

:func:`compile_flow` compiles a flow of :func:`featcheck.theory.dynamics.spiked.spiked_flow`
with :func:`featcheck.numerics.ode.compile_system`, supplying these evaluators as its
``namespace`` (a flow without such symbols compiles with an empty one).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from numpy.polynomial.legendre import leggauss

from featcheck.numerics.ode import CompiledSystem, compile_system
from featcheck.theory.dynamics import OdeSystem
from featcheck.theory.dynamics.spiked.scaled import SCALE, ScaledIntegral
from featcheck.theory.functions import z

HALF_WIDTH = 12.0
NODES = 16
_DENSITY = 1 / np.sqrt(2 * np.pi)


@lru_cache(maxsize=64)
def _rule(panels: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and Gaussian-weighted weights on ``[-L, L]``."""
    x, w = leggauss(NODES)
    edges = np.linspace(-HALF_WIDTH, HALF_WIDTH, panels + 1)
    half = np.diff(edges) / 2
    mid = (edges[1:] + edges[:-1]) / 2
    nodes = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    weights = (half[:, None] * w[None, :]).ravel() * np.exp(-(nodes**2) / 2) * _DENSITY
    return nodes, weights


def _panels(sigma_max: float, refine: int = 1) -> int:
    per_unit = 2 * max(1.0, sigma_max)
    return int(np.ceil(2 * HALF_WIDTH * per_unit)) * refine


@lru_cache(maxsize=512)
def _integrand(cls: type):
    f = sp.lambdify((SCALE, z), cls.integrand, modules=["numpy", "scipy"])

    def call(s: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(f(s, x), dtype=float), np.broadcast(s, x).shape)

    return call


def evaluate(cls: type, sigma: np.ndarray | float, refine: int = 1) -> np.ndarray:
    """``I_j(sigma)`` for an array of ``sigma > 0`` (same shape as ``sigma``)."""
    s = np.asarray(sigma, dtype=float)
    if s.size == 0:
        return s.copy()
    nodes, weights = _rule(_panels(float(np.max(s)), refine))
    f = _integrand(cls)
    flat = s.reshape(-1)
    out = np.empty_like(flat)
    chunk = max(1, 2_000_000 // len(nodes))  # bound the temporary (chunk x nodes) array
    with np.errstate(over="ignore"):
        for i in range(0, len(flat), chunk):
            part = flat[i : i + chunk]
            # an explicit sum, not a BLAS matrix-vector product: BLAS threads would
            # contend with the callers' own parallelism for these small products
            out[i : i + chunk] = (f(part[:, None], nodes[None, :]) * weights).sum(axis=1)
    return out.reshape(s.shape) if s.shape else out[0]


def numpy_namespace(*exprs: sp.Expr) -> dict[str, object]:
    """Names of the :class:`ScaledIntegral` symbols in ``exprs`` -> numpy evaluators."""
    out = {}
    for expr in exprs:
        for atom in sp.sympify(expr).atoms(ScaledIntegral):
            cls = type(atom)
            out[cls.__name__] = _evaluator(cls)
    return out


@lru_cache(maxsize=512)
def _evaluator(cls: type):
    def call(sigma):
        return evaluate(cls, sigma)

    return call


def quadrature_error(cls: type, sigma: np.ndarray | float) -> np.ndarray:
    """``|I(rule) - I(rule with halved panels)|``: an estimate of the rule's error."""
    return np.abs(evaluate(cls, sigma) - evaluate(cls, sigma, refine=2))


def system_namespace(system: OdeSystem) -> dict[str, object]:
    """Numpy evaluators of every :class:`ScaledIntegral` a compiled ``system`` needs: those
    in its right-hand side, Jacobian, observables and invariants."""
    exprs = (*system.rhs, *system.jacobian(), *system.observables.values())
    return numpy_namespace(*exprs, *system.invariants.values())


def compile_flow(system: OdeSystem) -> CompiledSystem:
    """``compile_system(system)`` with the numpy evaluators of its scaled integrals."""
    return compile_system(system, namespace=system_namespace(system))
