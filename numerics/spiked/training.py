"""Training a neuron on finite samples under the spiked model: online SGD, GD, Algorithm 1.

Model (Mousavi-Hosseini, Wu, Suzuki, Erdogdu 2023; :mod:`featcheck.theory.models`):
``x ~ N(0, Sigma)``, ``Sigma = alpha (I + kappa theta theta^T)``,
``y = g(<u, x>/sigma_u) + eps``, ``c = <u, theta>``, student ``phi``.  One-sample loss
``l = 1/2 (phi(p) - y)^2`` at the student's pre-activation ``p``:

* plain: ``p = <w, x>`` on the sphere; step
  ``w <- normalize(w - eta (phi(p) - y) phi'(p) (x - <w, x> w))``;
* normalized: ``p = <w, x>/r``, ``r = ||Sigma^(1/2) w||``; its gradient
  ``(phi(p) - y) phi'(p) (x/r - <w, x> Sigma w / r^3)`` is already tangent to the sphere;
  then renormalised;
* preconditioned: the same loss, direction ``Sigma^(-1) grad`` (``x``'s image
  ``Sigma^(-1) x / r - <w, x> w / r^3``).  Online SGD then rescales ``w`` to keep ``r`` (the
  gradient flow keeps it by itself); gradient descent with ``n'`` unlabeled samples replaces
  ``Sigma`` by the sample covariance in both places.

Functions:

* :func:`online_sgd`: one fresh sample per step: the committee model of the flow
  (:func:`online_model`) run by the committee simulators, exactly in the overlaps
  (:mod:`featcheck.numerics.committee.simulators`);
* :func:`empirical_gd`: gradient descent on ``n`` fixed samples (two mat-vecs per step);
* :func:`algorithm1`: the paper's Algorithm 1 (layer-wise training): normalized first
  layer, ``N`` random-bias ReLU features, ridge regression.

The time axis of every simulation is ``t = steps * eta``.  The population flows (no
sampling noise) are in :mod:`featcheck.numerics.spiked.population`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
from featcheck.numerics.spiked.pointwise import vectorised
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import FunctionLike, as_function

# ----------------------------------------------------------------------------
# Online SGD (the committee simulators)


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


def online_model(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    d: int,
    kappa: float,
    c: float,
    eta: float,
    convention: str = "unit",
    noise: float = 0.0,
    init: tuple[float, float] = (0.0, 0.0),
):
    """The committee model of online SGD on ``flow`` (one student, one teacher direction, one
    spike): the teacher ``g(z/sigma_u)``, the committee learning rate ``eta d`` (the committee
    step is ``eta/d``), the start ``(<w, theta>, <w, u>) = init`` with ``||w|| = 1``."""
    import sympy as sp

    from featcheck.theory.committee.spiked_flows import single_index_model
    from featcheck.theory.models import SpikedCovariance

    sigma_u = sp.sqrt(SpikedCovariance(sp.nsimplify(kappa), convention).sigma_u2(sp.nsimplify(c)))
    a0, b0 = init
    return single_index_model(
        flow,
        activation,
        link,
        sigma_u=sigma_u,
        convention=convention,
        kappa=float(kappa),
        c=float(c),
        a=float(a0),
        b=float(b0),
        algorithm="online-sgd",
        learning_rate=float(eta) * int(d),
        noise=float(noise),
    )


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
    level: float = 0.5,
    full: bool = False,
) -> OnlineResult:
    """Online SGD (one fresh sample per step, square loss) for ``replicas`` independent runs
    in ``R^d``, simulated exactly in the overlaps by the committee simulator
    (:func:`featcheck.numerics.committee.simulators.simulate_reduced`; ``full=True``: the
    full-dimensional one, :func:`~featcheck.numerics.committee.simulators.simulate_full`).

    Inputs: ``flow`` in plain / normalized / preconditioned (the committee learners
    spherical / normalized / preconditioned: the plain step is the gradient projected on the
    sphere's tangent space, then renormalised; the preconditioned ``w`` keeps its
    ``||Sigma^(1/2) w||``), activation ``phi``, link ``g``, dimension ``d``, spike ``kappa``
    (convention ``unit`` or ``ba``), alignment ``c = <u, theta>``, step ``eta``, number of
    ``steps``, ``replicas``, ``seed``.  Options: label noise ``noise``, recording period
    ``record_every`` (default ``steps // 200``), a start ``init = (a0, b0)`` with
    ``||w|| = 1`` (else uniform on the sphere, drawn for each replica), ``level`` of the
    hitting time of the whitened overlap ``rho``.
    """
    from featcheck.numerics.committee.simulators import Hitting, simulate_full, simulate_reduced

    check_model(d, kappa, c, flow)
    check_positive("the step size eta", eta)
    check_count("steps", steps)
    check_count("replicas", replicas)
    check_seed(seed)
    if not (0 < level <= 1):
        raise DomainError(f"the hitting level must lie in (0, 1], got {level}")
    model = online_model(
        flow,
        activation,
        link,
        d=d,
        kappa=kappa,
        c=c,
        eta=eta,
        convention=convention,
        noise=noise,
        init=(0.0, 0.0) if init is None else init,
    )
    record_every = max(1, steps // 200) if record_every is None else int(record_every)
    record_steps = np.unique(np.r_[np.arange(0, steps + 1, record_every), steps])
    simulate = simulate_full if full else simulate_reduced
    run = simulate(
        model,
        dim=int(d),
        replicas=int(replicas),
        times=record_steps / d,
        seed=int(seed),
        start="model" if init is not None else "uniform",
        hitting=Hitting(float(level), "whitened", absolute=False, stop=False),
    )
    q = run.Q[:, :, 0, 0]
    a = run.S[:, :, 0, 0]
    b = run.M[:, :, 0, 0]
    alpha = float(model.data.alpha)
    s = alpha * (q + kappa * a * a)  # ||Sigma^(1/2) w||^2
    sigma_u = float(np.sqrt(alpha * (1 + kappa * c * c)))
    rho = alpha * (b + kappa * c * a) / (np.sqrt(s) * sigma_u)
    parameters = dict(d=d, kappa=kappa, c=c, flow=flow, eta=eta, steps=steps, seed=seed)
    parameters |= dict(convention=convention, noise=noise, simulator=run.simulator)
    return OnlineResult(
        record_steps * eta,
        record_steps,
        b,
        a,
        rho,
        np.sqrt(s),
        run.hits,
        level,
        np.sqrt(q),
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
