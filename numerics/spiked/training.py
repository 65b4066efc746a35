"""Training a neuron on finite samples under the spiked model: online SGD, GD, Algorithm 1.

Model (Mousavi-Hosseini, Wu, Suzuki, Erdogdu 2023; :mod:`featcheck.theory.models`):
``x ~ N(0, Sigma)``, ``Sigma = alpha (I + kappa theta theta^T)``,
``y = g(<u, x>/sigma_u) + eps``, ``c = <u, theta>``, student ``phi``.  One-sample losses:

* plain: ``l = 1/2 (phi(<w,x>) - y)^2`` on the sphere; step
  ``w <- normalize(w - eta (phi(p) - y) phi'(p) (x - p w))`` with ``p = <w, x>``;
* normalized: student ``phi(<w,x>/r)``, ``r = ||Sigma^(1/2) w||``; its gradient
  ``(phi(p/r) - y) phi'(p/r) (x/r - p Sigma w / r^3)`` is already tangent to the sphere;
* preconditioned: the same loss, direction ``Sigma^(-1) grad`` (``x``'s image
  ``Sigma^(-1) x / r - p w / r^3``), no projection, no renormalisation.  With ``n'``
  unlabeled samples, ``Sigma`` is replaced by the sample covariance in both places.

Functions:

* :func:`online_sgd`: one fresh sample per step, replicas vectorised, Gaussians drawn in
  blocks and the steps run in a numba kernel;
* :func:`empirical_gd`: gradient descent on ``n`` fixed samples (two mat-vecs per step);
* :func:`algorithm1`: the paper's Algorithm 1 (layer-wise training): normalized first
  layer, ``N`` random-bias ReLU features, ridge regression.

The time axis of every simulation is ``t = steps * eta``.  The population flows (no
sampling noise) are in :mod:`featcheck.numerics.spiked.population`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numba
import numpy as np

from featcheck.numerics.sampling import (
    SpikedOperator,
    spike_and_target,
    start_with_overlaps,
    unit_vector,
)
from featcheck.numerics.spiked.inputs import (
    check_count,
    check_model,
    check_positive,
    check_seed,
)
from featcheck.numerics.spiked.pointwise import compiled_scalar, vectorised
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import Function, FunctionLike, as_function

# ----------------------------------------------------------------------------
# Online SGD (numba kernel over blocks of pre-drawn Gaussians)

_FLOW_CODE = {"plain": 0, "normalized": 1, "preconditioned": 2}


@lru_cache(maxsize=32)
def _online_kernel(activation: Function, link: Function):
    phi = compiled_scalar(activation)
    dphi = compiled_scalar(activation, 1)
    g = compiled_scalar(link)

    @numba.njit(cache=False, fastmath=False)
    def kernel(W, Z, E, theta, u, params, flow, hit, step0, S, P):
        # params: alpha, kappa, eta, noise, sigma_u, c, level
        alpha, kap, eta, noise, sigma_u, c, level = params
        sa = np.sqrt(alpha)
        beta = np.sqrt(1.0 + kap) - 1.0
        inv_t = kap / (1.0 + kap)
        estimated = S.shape[0] > 0
        n_steps, n_rep, d = Z.shape
        x = np.empty(d)
        sw = np.empty(d)
        px = np.empty(d)
        for k in range(n_steps):
            for i in range(n_rep):
                w = W[i]
                tz = 0.0
                for j in range(d):
                    tz += theta[j] * Z[k, i, j]
                p = 0.0
                ux = 0.0
                tx = 0.0
                for j in range(d):
                    xj = sa * (Z[k, i, j] + beta * tz * theta[j])
                    x[j] = xj
                    p += w[j] * xj
                    ux += u[j] * xj
                tx = sa * (1.0 + beta) * tz
                y = g(ux / sigma_u) + noise * E[k, i]
                if flow == 0:
                    coef = (phi(p) - y) * dphi(p)
                    norm2 = 0.0
                    for j in range(d):
                        wj = w[j] - eta * coef * (x[j] - p * w[j])
                        w[j] = wj
                        norm2 += wj * wj
                    scale = 1.0 / np.sqrt(norm2)
                    for j in range(d):
                        w[j] *= scale
                else:
                    a = 0.0
                    ww = 0.0
                    for j in range(d):
                        a += theta[j] * w[j]
                        ww += w[j] * w[j]
                    if estimated:
                        r2 = 0.0
                        for j in range(d):
                            acc = 0.0
                            for k2 in range(d):
                                acc += S[j, k2] * w[k2]
                            sw[j] = acc
                            r2 += w[j] * acc
                    else:
                        r2 = alpha * (ww + kap * a * a)
                        for j in range(d):
                            sw[j] = alpha * (w[j] + kap * a * theta[j])
                    r = np.sqrt(r2)
                    pn = p / r
                    coef = (phi(pn) - y) * dphi(pn)
                    if flow == 1:
                        norm2 = 0.0
                        for j in range(d):
                            wj = w[j] - eta * coef * (x[j] / r - p * sw[j] / (r2 * r))
                            w[j] = wj
                            norm2 += wj * wj
                        scale = 1.0 / np.sqrt(norm2)
                        for j in range(d):
                            w[j] *= scale
                    else:
                        if estimated:
                            for j in range(d):
                                acc = 0.0
                                for k2 in range(d):
                                    acc += P[j, k2] * x[k2]
                                px[j] = acc
                        else:
                            for j in range(d):
                                px[j] = (x[j] - inv_t * tx * theta[j]) / alpha
                        for j in range(d):
                            w[j] -= eta * coef * (px[j] / r - p * w[j] / (r2 * r))
                if hit[i] < 0:
                    a = 0.0
                    b = 0.0
                    ww = 0.0
                    for j in range(d):
                        a += theta[j] * w[j]
                        b += u[j] * w[j]
                        ww += w[j] * w[j]
                    rr = np.sqrt(alpha * (ww + kap * a * a))
                    rho = alpha * (b + kap * c * a) / (rr * sigma_u)
                    if rho >= level:
                        hit[i] = step0 + k + 1

    return kernel


@dataclass
class OnlineResult:
    """Online SGD: overlaps at the recorded steps for every replica, and hitting times.

    ``overlap[i, j] = <w, u>``, ``a[i, j] = <w, theta>``, ``rho[i, j]`` the whitened overlap,
    ``norm_sigma[i, j] = ||Sigma^(1/2) w||``, ``norm[i, j] = ||w||`` (1 except for the
    preconditioned flow) at step ``steps[j]`` (time ``t[j] = steps[j] eta``).
    ``hitting_step[i]`` is the first step with ``rho >= level`` (-1 if never);
    ``hitting_time = hitting_step * eta`` (NaN if never).
    """

    t: np.ndarray
    steps: np.ndarray
    overlap: np.ndarray
    a: np.ndarray
    rho: np.ndarray
    norm_sigma: np.ndarray
    hitting_step: np.ndarray
    level: float
    norm: np.ndarray
    parameters: dict = field(default_factory=dict)

    @property
    def hitting_time(self) -> np.ndarray:
        eta = self.parameters["eta"]
        return np.where(self.hitting_step >= 0, self.hitting_step * eta, np.nan)


def _setup(d, kappa, c, convention, rng, replicas, init):
    theta, u = spike_and_target(d, c, rng)
    op = SpikedOperator(theta, kappa, convention)
    if init is None:
        W = unit_vector(d, rng, (replicas,))
    else:
        a0, b0 = init
        W = start_with_overlaps(theta, u, a0, b0, rng, (replicas,))
    return theta, u, op, np.ascontiguousarray(W)


def _covariance_estimate(op: SpikedOperator, n_prime: int | None, rng, d: int):
    if n_prime is None:
        return np.zeros((0, 0)), np.zeros((0, 0))
    if n_prime < d:
        raise DomainError(f"the sample covariance needs n' >= d unlabeled samples (d = {d})")
    X = op.sample(n_prime, rng)
    S = X.T @ X / n_prime
    return S, np.linalg.inv(S)


def _record(W, theta, u, op, c, sigma_u):
    a = W @ theta
    b = W @ u
    r = np.sqrt(op.quadratic(W))
    rho = op.alpha * (b + op.kappa * c * a) / (r * sigma_u)
    return a, b, rho, r, np.linalg.norm(W, axis=-1)


def online_sgd(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    d: int,
    kappa: float,
    c: float,
    eta: float,
    steps: int,
    replicas: int,
    seed: int,
    convention: str = "unit",
    noise: float = 0.0,
    record_every: int | None = None,
    init: tuple[float, float] | None = None,
    unlabeled: int | None = None,
    level: float = 0.5,
    block_floats: int = 1 << 20,
) -> OnlineResult:
    """Online SGD (one fresh sample per step) for ``replicas`` independent runs in ``R^d``.

    Inputs: ``flow`` in plain / normalized / preconditioned, activation ``phi``, link ``g``,
    dimension ``d``, spike ``kappa`` (convention ``unit`` or ``ba``), alignment
    ``c = <u, theta>``, step ``eta``, number of ``steps``, ``replicas``, ``seed``.  Options:
    label noise ``noise``, recording period ``record_every`` (default ``steps // 200``),
    a start ``init = (a0, b0)`` (else uniform on the sphere), ``unlabeled = n'`` to
    precondition with a sample covariance, ``level`` of the hitting time of ``rho``.
    All replicas share ``theta``, ``u`` (and the sample covariance); each has its own start
    and data.
    """
    check_model(d, kappa, c, flow)
    check_positive("the step size eta", eta)
    check_count("steps", steps)
    check_count("replicas", replicas)
    check_seed(seed)
    if unlabeled is not None and flow != "preconditioned":
        raise DomainError("unlabeled samples (n') are only used by the preconditioned flow")
    phi, g = as_function(activation), as_function(link)
    rng = np.random.default_rng(seed)
    theta, u, op, W = _setup(d, kappa, c, convention, rng, replicas, init)
    S, P = _covariance_estimate(op, unlabeled, rng, d)
    kernel = _online_kernel(phi, g)
    sigma_u = float(np.sqrt(op.quadratic(u)))
    params = np.array([op.alpha, kappa, eta, noise, sigma_u, c, level], dtype=float)
    record_every = max(1, steps // 200) if record_every is None else int(record_every)
    record_steps = np.unique(np.r_[np.arange(0, steps + 1, record_every), steps])
    block = max(1, min(record_every, block_floats // (replicas * d)))
    hit = np.full(replicas, -1, dtype=np.int64)
    out = {k: np.empty((replicas, len(record_steps))) for k in ("a", "b", "rho", "r", "norm")}

    def store(j):
        for key, value in zip(
            ["a", "b", "rho", "r", "norm"], _record(W, theta, u, op, c, sigma_u), strict=True
        ):
            out[key][:, j] = value

    store(0)
    done = 0
    for j, target in enumerate(record_steps[1:], start=1):
        while done < target:
            n = min(block, target - done)
            Z = rng.standard_normal((n, replicas, d))
            E = rng.standard_normal((n, replicas)) if noise else np.zeros((n, replicas))
            kernel(W, Z, E, theta, u, params, _FLOW_CODE[flow], hit, done, S, P)
            done += n
        if not np.all(np.isfinite(W)):
            raise DomainError("online SGD diverged (non-finite weights): lower the step size")
        store(j)
    hit[(hit < 0) & (out["rho"][:, 0] >= level)] = 0
    parameters = dict(d=d, kappa=kappa, c=c, flow=flow, eta=eta, steps=steps, seed=seed)
    parameters |= dict(convention=convention, noise=noise, unlabeled=unlabeled)
    return OnlineResult(
        record_steps * eta,
        record_steps,
        out["b"],
        out["a"],
        out["rho"],
        out["r"],
        hit,
        level,
        out["norm"],
        parameters,
    )


# ----------------------------------------------------------------------------
# Empirical gradient descent on n fixed samples


@dataclass
class GDResult:
    t: np.ndarray
    overlap: np.ndarray
    a: np.ndarray
    rho: np.ndarray
    w: np.ndarray
    parameters: dict = field(default_factory=dict)


def gd_direction(flow, W, X, y, phi, dphi, op, S=None, P=None):
    """Descent direction of the empirical risk for every replica (shape ``(R, d)``).

    ``X`` has shape ``(R, n, d)``: two batched mat-vecs (``X w`` and ``X^T coef``).
    """
    n = X.shape[1]
    p = np.matmul(X, W[..., None])[..., 0]
    if flow == "plain":
        coef = (phi(p) - y) * dphi(p)
        grad = np.einsum("rnd,rn->rd", X, coef) / n
        return -(grad - np.einsum("ij,ij->i", grad, W)[:, None] * W)
    sw = op.apply(W) if S is None else W @ S
    r2 = np.einsum("ij,ij->i", W, sw)
    r = np.sqrt(r2)
    pn = p / r[:, None]
    coef = (phi(pn) - y) * dphi(pn)
    gx = np.einsum("rnd,rn->rd", X, coef) / n
    gp = np.mean(coef * p, axis=1)
    grad = gx / r[:, None] - (gp / (r2 * r))[:, None] * sw
    if flow == "normalized":
        return -grad
    return -(op.inv(grad) if P is None else grad @ P)


def empirical_gd(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    d: int,
    kappa: float,
    c: float,
    eta: float,
    steps: int,
    n: int,
    replicas: int,
    seed: int,
    convention: str = "unit",
    noise: float = 0.0,
    record_every: int | None = None,
    init: tuple[float, float] | None = None,
    unlabeled: int | None = None,
) -> GDResult:
    """Gradient descent on ``n`` fixed samples (per replica) with step ``eta``."""
    check_model(d, kappa, c, flow)
    check_positive("the step size eta", eta)
    for name, value in (("steps", steps), ("n", n), ("replicas", replicas)):
        check_count(name, value)
    check_seed(seed)
    phi, g = as_function(activation), as_function(link)
    rng = np.random.default_rng(seed)
    theta, u, op, W = _setup(d, kappa, c, convention, rng, replicas, init)
    S, P = _covariance_estimate(op, unlabeled, rng, d)
    S, P = (None, None) if unlabeled is None else (S, P)
    X = op.sample(n, rng, size=(replicas,))
    sigma_u = float(np.sqrt(op.quadratic(u)))
    y = vectorised(g)((X @ u) / sigma_u) + noise * rng.standard_normal((replicas, n))
    fphi, fdphi = vectorised(phi), vectorised(phi, 1)
    record_every = max(1, steps // 200) if record_every is None else int(record_every)
    record_steps = np.unique(np.r_[np.arange(0, steps + 1, record_every), steps])
    rec = {k: np.empty((replicas, len(record_steps))) for k in ("a", "b", "rho")}
    j = 0
    for k in range(steps + 1):
        if k == record_steps[j]:
            a, b, rho, _, _ = _record(W, theta, u, op, c, sigma_u)
            rec["a"][:, j], rec["b"][:, j], rec["rho"][:, j] = a, b, rho
            j += 1
            if k == steps:
                break
        W = W + eta * gd_direction(flow, W, X, y, fphi, fdphi, op, S, P)
        if flow != "preconditioned":
            W /= np.linalg.norm(W, axis=1, keepdims=True)
        if not np.all(np.isfinite(W)):
            raise DomainError("gradient descent diverged (non-finite weights): lower the step")
    parameters = dict(d=d, kappa=kappa, c=c, flow=flow, eta=eta, steps=steps, n=n, seed=seed)
    return GDResult(record_steps * eta, rec["b"], rec["a"], rec["rho"], W, parameters)


# ----------------------------------------------------------------------------
# Algorithm 1: layer-wise training of a two-layer ReLU network


@dataclass
class Algorithm1Result:
    n: int
    rho: float
    test_error: float
    null_error: float


def algorithm1(
    activation: FunctionLike,
    link: FunctionLike,
    *,
    d: int,
    kappa: float,
    c: float,
    n: int,
    neurons: int = 64,
    eta: float = 0.5,
    steps: int = 400,
    ridge: float = 1e-3,
    n_test: int = 4000,
    convention: str = "unit",
    noise: float = 0.0,
    bias_range: float | None = None,
    seed: int = 0,
) -> Algorithm1Result:
    """Normalized first layer on half the data, ``N`` random-bias ReLU neurons, ridge fit.

    First layer: ``steps`` of the normalized spherical GD on ``n/2`` samples from a uniform
    start.  Features ``relu(eps_j <w, x>/||Sigma^(1/2) w|| + b_j)`` with random signs
    ``eps_j`` and biases ``b_j ~ Unif[-B, B]``, ``B = sqrt(2 log n)`` by default (the range
    of the data, so that the tails of a polynomial link are covered as ``n`` grows), plus a
    constant; ridge regression (penalty
    ``ridge`` times the mean feature energy) on the other half.  Test error: mean squared
    error on ``n_test`` fresh samples (``null_error``: predicting the mean of ``y``).
    """
    check_model(d, kappa, c, "normalized")
    if n < 4:
        raise DomainError(f"Algorithm 1 needs at least 4 samples, got {n}")
    check_seed(seed)
    phi, g = as_function(activation), as_function(link)
    rng = np.random.default_rng(seed)
    theta, u = spike_and_target(d, c, rng)
    op = SpikedOperator(theta, kappa, convention)
    sigma_u = float(np.sqrt(op.quadratic(u)))
    gfun = vectorised(g)

    def data(m):
        X = op.sample(m, rng)
        return X, gfun(X @ u / sigma_u) + noise * rng.standard_normal(m)

    X1, y1 = data(n // 2)
    X2, y2 = data(n - n // 2)
    W = unit_vector(d, rng, (1,))
    fphi, fdphi = vectorised(phi), vectorised(phi, 1)
    for _ in range(steps):
        W = W + eta * gd_direction("normalized", W, X1[None], y1[None], fphi, fdphi, op)
        W /= np.linalg.norm(W, axis=1, keepdims=True)
    w = W[0]
    r = float(np.sqrt(op.quadratic(w)))
    rho = float(op.alpha * (w @ u + kappa * c * (w @ theta)) / (r * sigma_u))
    signs = rng.choice([-1.0, 1.0], size=neurons)
    half_width = np.sqrt(2 * np.log(n)) if bias_range is None else bias_range
    biases = rng.uniform(-half_width, half_width, size=neurons)

    def features(X):
        h = np.maximum(signs * (X @ w / r)[:, None] + biases, 0.0)
        return np.column_stack([h, np.ones(len(X))])

    F2 = features(X2)
    penalty = ridge * np.mean(np.sum(F2**2, axis=1))
    coef = np.linalg.solve(F2.T @ F2 + penalty * np.eye(F2.shape[1]), F2.T @ y2)
    Xt, yt = data(n_test)
    error = float(np.mean((features(Xt) @ coef - yt) ** 2))
    return Algorithm1Result(n, rho, error, float(np.var(yt)))


__all__ = [
    "Algorithm1Result",
    "GDResult",
    "OnlineResult",
    "algorithm1",
    "empirical_gd",
    "online_sgd",
]
