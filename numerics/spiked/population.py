"""Population flows in ``R^d``: the exact gradient flows without sampling noise.

Both integrate a vector ODE for ``w`` in full dimension with ``O(d)`` covariance operators,
independently of the two-variable closure of :mod:`featcheck.theory.dynamics.spiked`:

* :func:`population_flow`: ``dw/dt = -(I - w w^T) grad R`` (plain, normalized) or
  ``-Sigma^(-1) grad L`` (preconditioned), with ``grad R = 2 R_{s1} Sigma w + R_{s2} Sigma u``
  from the partial derivatives of the exact risk in ``s1 = w^T Sigma w`` and
  ``s2 = w^T Sigma u``; it checks the two-variable reduction (claim ``spiked.reduction``).
* :func:`preconditioned_with_estimate`: ``dw/dt = -P grad L(w)``, ``L = -psi(rho(w))``, with
  the *population* gradient (true ``Sigma``) and a preconditioner ``P`` that is either
  ``Sigma^(-1)`` (the population flow of Mousavi-Hosseini, Wu, Suzuki, Erdogdu 2023) or
  ``hat Sigma^(-1)``, the inverse sample covariance of ``n'`` unlabeled samples.  This
  isolates the effect of ``n'``: no label noise and no SGD noise, only the error of the
  preconditioner.  With ``s = ||Sigma^(1/2) w||``,
  ``grad rho = Sigma u/(sigma_u s) - rho Sigma w / s^2`` (differentiating
  ``rho = w^T Sigma u / (sigma_u s)``).  Replicas (independent ``hat Sigma``) are integrated
  together as one vector ODE with a batched matrix-vector product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

from featcheck.numerics.sampling import (
    SpikedOperator,
    spike_and_target,
    start_with_overlaps,
    unit_vector,
)
from featcheck.numerics.spiked.gradient_oracles import frame
from featcheck.numerics.spiked.inputs import check_model, check_seed
from featcheck.numerics.spiked.scaled_integrals import numpy_namespace
from featcheck.theory.dynamics.spiked import s1, s2, spiked_flow
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import FunctionLike
from featcheck.theory.models import c as c_sym
from featcheck.theory.models import kappa as kappa_sym
from featcheck.theory.models import rho as rho_symbol


@dataclass
class PopulationRun:
    """``a = <w, theta>``, ``b = <w, u>``, ``rho``, ``q = ||w||^2``, ``r = ||Sigma^(1/2) w||``
    at the times ``t``."""

    t: np.ndarray
    a: np.ndarray
    b: np.ndarray
    rho: np.ndarray
    q: np.ndarray
    r: np.ndarray


def population_flow(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    d: int,
    kappa: float,
    c: float,
    t_eval: np.ndarray,
    convention: str = "unit",
    a0: float | None = None,
    b0: float | None = None,
    seed: int = 0,
    rtol: float = 1e-11,
    atol: float = 1e-13,
) -> PopulationRun:
    """Integrate ``dw/dt`` in ``R^d`` for the population risk (vector ODE).

    ``grad R = 2 R_{s1} Sigma w + R_{s2} Sigma u`` with the partial derivatives of the
    exact risk; ``Sigma`` and ``Sigma^(-1)`` act in ``O(d)``.  Starts at a random unit
    ``w0`` (or one with the given overlaps ``a0 = <w0, theta>``, ``b0 = <w0, u>``).
    """
    check_model(d, kappa, c, flow)
    check_seed(seed)
    derived = spiked_flow(flow, activation, link, convention=convention)
    args = (s1, s2, kappa_sym, c_sym)
    partials = [sp.diff(derived.risk.expr, s) for s in (s1, s2)]
    modules = [numpy_namespace(*partials), "numpy", "scipy"]
    r_s1, r_s2 = (sp.lambdify(args, p, modules=modules) for p in partials)
    rng = np.random.default_rng(seed)
    theta, u = spike_and_target(d, c, rng)
    op = SpikedOperator(theta, kappa, convention)
    w0 = unit_vector(d, rng) if a0 is None else start_with_overlaps(theta, u, a0, b0, rng)
    sigma_u = np.sqrt(op.quadratic(u))
    sigma_u_vec = op.apply(u)

    def rhs(_t, w):
        sw = op.apply(w)
        first, second = float(w @ sw), float(w @ sigma_u_vec)
        grad = 2 * r_s1(first, second, kappa, c) * sw + r_s2(first, second, kappa, c) * sigma_u_vec
        if flow == "preconditioned":
            return -op.inv(grad)
        return -(grad - (w @ grad) * w)

    solution = solve_ivp(
        rhs, (0.0, float(t_eval[-1])), w0, t_eval=t_eval, rtol=rtol, atol=atol, method="DOP853"
    )
    if solution.status != 0:
        raise DomainError(f"the population flow could not be integrated: {solution.message}")
    w = solution.y.T
    r = np.sqrt(op.quadratic(w))
    rho = (w @ sigma_u_vec) / (r * sigma_u)
    return PopulationRun(solution.t, w @ theta, w @ u, rho, np.einsum("ij,ij->i", w, w), r)


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
    activation: FunctionLike,
    link: FunctionLike,
    *,
    d: int,
    kappa: float,
    c: float,
    t_eval: np.ndarray,
    unlabeled: int | None,
    replicas: int,
    seed: int,
    convention: str = "unit",
    init: tuple[float, float] = (0.3, 0.3),
) -> PreconditionedRun:
    """Integrate the flow with ``P = hat Sigma^(-1)`` from ``n' = unlabeled`` samples
    (``None``: ``P = Sigma^(-1)``, one replica) for ``replicas`` independent estimates.

    The matrices are small: one BLAS thread (a threaded BLAS on a shared machine is many
    times slower here)."""
    check_model(d, kappa, c, "preconditioned")
    check_seed(seed)
    with threadpool_limits(limits=1, user_api="blas"):
        return _integrate(
            activation, link, d, kappa, c, t_eval, unlabeled, replicas, seed, convention, init
        )


def _integrate(activation, link, d, kappa, c, t_eval, unlabeled, replicas, seed, convention, init):
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
