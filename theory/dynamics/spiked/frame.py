r"""Vectors of the spiked flows as coefficients on the frame ``(w, theta, u)``.

Every vector the flows produce (gradients, ``Sigma`` and ``Sigma^(-1)`` applied to them, the
projected velocity) lies in the span of the student ``w``, the spike ``theta`` and the target
direction ``u`` (Mousavi-Hosseini, Wu, Suzuki, Erdogdu 2023, ``||theta|| = ||u|| = 1``).  A
vector is kept as its three coefficients; inner products come from the Gram matrix

``G = [[q, a, b], [a, 1, c], [b, c, 1]]``,  ``q = ||w||^2``, ``a = <w, theta>``,
``b = <w, u>``, ``c = <u, theta>``,

and the covariance acts exactly: ``Sigma = alpha (I + kappa theta theta^T)`` gives
``Sigma^p v = alpha^p (v + ((1 + kappa)^p - 1) <theta, v> theta)`` for every real ``p``.
On the sphere ``q = 1``; the preconditioned flow leaves it, so ``q`` joins the state.
"""

from __future__ import annotations

import sympy as sp

from featcheck.theory.models import SpikedCovariance, a, b, c

q = sp.Symbol("q", positive=True)  # ||w||^2 (the preconditioned flow leaves the sphere)
r = sp.Symbol("r", positive=True)  # ||Sigma^(1/2) w||, conserved by the preconditioned flow

FRAME = ("w", "theta", "u")

Vector = dict[str, sp.Expr]


def gram(q_: sp.Expr) -> dict[tuple[str, str], sp.Expr]:
    """The Gram matrix of ``(w, theta, u)`` with ``||w||^2 = q_``."""
    g = {("w", "w"): q_, ("w", "theta"): a, ("w", "u"): b, ("theta", "theta"): 1}
    g |= {("theta", "u"): c, ("u", "u"): 1}
    return g | {(j, i): v for (i, j), v in g.items()}


def dot(x: Vector, y: Vector, q_: sp.Expr) -> sp.Expr:
    """``<x, y>`` of two frame vectors."""
    g = gram(q_)
    return sp.Add(*[x[i] * y[j] * g[(i, j)] for i in x for j in y])


def vector(**coefficients: sp.Expr) -> Vector:
    """The frame vector with the given coefficients on ``w``, ``theta``, ``u`` (others 0)."""
    return {k: sp.sympify(coefficients.get(k, 0)) for k in FRAME}


def combine(*terms: tuple[sp.Expr, Vector]) -> Vector:
    """``sum_i s_i v_i`` for pairs ``(s_i, v_i)``."""
    return {k: sp.Add(*[s * v[k] for s, v in terms]) for k in FRAME}


def apply_power(cov: SpikedCovariance, p: int, v: Vector, q_: sp.Expr) -> Vector:
    """``Sigma^p v = alpha^p (v + ((1+kappa)^p - 1) <theta, v> theta)``."""
    scale, spike = cov.power(p)
    along = dot(vector(theta=1), v, q_)
    return combine((scale, v), (scale * spike * along, vector(theta=1)))
