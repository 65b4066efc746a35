"""The preconditioned population flow with an estimated covariance.

``dw/dt = -P grad L(w)``, ``L = -psi(rho(w))``, with the *population* gradient (true
``Sigma``) and a preconditioner ``P`` that is either ``Sigma^(-1)`` (the population flow of
the reference) or ``hat Sigma^(-1)``, the inverse sample covariance of ``n'`` unlabeled
samples.  This isolates the effect of ``n'``: no label noise and no SGD noise, only the
error of the preconditioner.  With ``s = ||Sigma^(1/2) w||``,
``grad rho = Sigma u/(sigma_u s) - rho Sigma w / s^2`` (reference, [derived]).

Replicas (independent ``hat Sigma``) are integrated together as one vector ODE with a
batched matrix-vector product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

from featcheck.numerics.sampling import SpikedOperator
from featcheck.numerics.simulate.spiked_oracles import frame
from featcheck.theory.dynamics.spiked import spiked_flow
from featcheck.theory.errors import DomainError
from featcheck.theory.models import rho as rho_symbol


@dataclass
class PreconditionedRun:
    """``rho`` (with the true ``Sigma``) and ``r = ||Sigma^(1/2) w||`` per replica and time."""

    t: np.ndarray
    rho: np.ndarray  # (replicas, times)
    r: np.ndarray  # (replicas, times)


def _embed(d: int, c: float, init: tuple[float, float]):
    theta3, u3, w3 = frame(init[0], init[1], c)
    pad = np.zeros(d - 3)
    return (np.concatenate([v, pad]) for v in (theta3, u3, w3))


def preconditioned_with_estimate(
    d: int,
    kappa: float,
    c: float,
    link: str,
    activation: str,
    t_eval: np.ndarray,
    unlabeled: int | None,
    replicas: int,
    seed: int,
    *,
    convention: str = "unit",
    init: tuple[float, float] = (0.3, 0.3),
) -> PreconditionedRun:
    """Integrate the flow with ``P = hat Sigma^(-1)`` from ``n' = unlabeled`` samples
    (``None``: ``P = Sigma^(-1)``, one replica) for ``replicas`` independent estimates.

    The matrices are small: one BLAS thread (a threaded BLAS on a shared machine is many
    times slower here)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _integrate(
            d, kappa, c, link, activation, t_eval, unlabeled, replicas, seed, convention, init
        )


def _integrate(d, kappa, c, link, activation, t_eval, unlabeled, replicas, seed, convention, init):
    if d < 3:
        raise DomainError(f"the dimension must be at least 3, got {d}")
    if unlabeled is not None and unlabeled <= d:
        raise DomainError(f"the sample covariance needs n' > d = {d} samples, got {unlabeled}")
    theta, u, w0 = _embed(d, c, init)
    op = SpikedOperator(theta, kappa, convention)
    sigma = op.apply(np.eye(d))
    series = spiked_flow("preconditioned", activation, link, convention=convention).risk.series
    dpsi = sp.lambdify(rho_symbol, sp.diff(series.psi(rho_symbol), rho_symbol), "numpy")
    rng = np.random.default_rng(seed)
    if unlabeled is None:
        replicas = 1
        precond = np.linalg.inv(sigma)[None]
    else:
        root = np.linalg.cholesky(sigma)
        precond = np.empty((replicas, d, d))
        for i in range(replicas):
            x = rng.standard_normal((unlabeled, d)) @ root.T
            precond[i] = np.linalg.inv(x.T @ x / unlabeled)
    su = sigma @ u
    sigma_u = np.sqrt(u @ su)

    def rhs(_t, y):
        w = y.reshape(replicas, d)
        sw = w @ sigma
        s2 = np.einsum("ij,ij->i", w, sw)
        rho = (w @ su) / (sigma_u * np.sqrt(s2))
        grad_rho = su[None] / (sigma_u * np.sqrt(s2))[:, None] - (rho / s2)[:, None] * sw
        force = np.asarray(dpsi(rho), dtype=float)[:, None] * grad_rho  # -grad L
        return np.einsum("rij,rj->ri", precond, force).ravel()

    y0 = np.tile(w0, replicas)
    solution = solve_ivp(rhs, (0.0, float(t_eval[-1])), y0, t_eval=t_eval, rtol=1e-9, atol=1e-11)
    if solution.status < 0:
        raise DomainError(f"the flow could not be integrated: {solution.message}")
    w = solution.y.reshape(replicas, d, -1)
    sw = np.einsum("ij,rjt->rit", sigma, w)
    s2 = np.einsum("rit,rit->rt", w, sw)
    rho = np.einsum("i,rit->rt", su, w) / (sigma_u * np.sqrt(s2))
    return PreconditionedRun(solution.t, rho, np.sqrt(s2))
