"""A plain full-dimensional online SGD simulator: the oracle for the reduced one.

Deliberately independent of :mod:`featcheck.numerics.exponents.overlap_chain`: it draws
``x ~ N(0, Sigma)`` in ``R^d`` (``O(d)`` per step, no ``d x d`` matrix) for random
orthonormal ``theta`` and ``u = c theta + sqrt(1 - c^2) theta_perp``, and applies
the update of :mod:`featcheck.numerics.exponents.spherical_sgd` to the vector ``w`` itself.
Replicas are vectorised (one ``(replicas, d)`` array per step).
"""

from __future__ import annotations

import math

import numpy as np

from featcheck.numerics.exponents.overlap_chain import RunResult
from featcheck.numerics.exponents.spherical_sgd import OnlineSGD


def spiked_sample(rng, theta: np.ndarray, kappa: float, shape: tuple[int, ...]) -> np.ndarray:
    """``x ~ N(0, (I + kappa theta theta^T)/(1 + kappa))`` without forming ``Sigma``."""
    z = rng.standard_normal((*shape, theta.size))
    along = z @ theta
    return (z + (math.sqrt(1 + kappa) - 1) * along[..., None] * theta) / math.sqrt(1 + kappa)


def simulate_full(
    config: OnlineSGD,
    replicas: int,
    max_steps: int,
    seed: int | np.random.SeedSequence,
    snapshot_steps=(),
    stop_at_hit: bool = True,
) -> RunResult:
    """Same interface and output as :func:`featcheck.numerics.exponents.overlap_chain.simulate`."""
    rng = np.random.default_rng(seed)
    d, kappa, c, eta = config.d, config.kappa, config.c, config.eta
    frame = np.linalg.qr(rng.standard_normal((d, 2)))[0]
    theta, theta_perp = frame[:, 0], frame[:, 1]
    u = c * theta + math.sqrt(max(1 - c * c, 0.0)) * theta_perp
    sigma_u = math.sqrt(u @ u + kappa * (u @ theta) ** 2) / math.sqrt(1 + kappa)

    def sigma_times(v):  # Sigma v, row-wise
        return (v + kappa * (v @ theta)[:, None] * theta) / (1 + kappa)

    def sigma_inverse_times(v):
        return (1 + kappa) * v - kappa * (v @ theta)[:, None] * theta

    w = rng.standard_normal((replicas, d))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    if config.variant == "preconditioned":
        w /= np.sqrt(np.einsum("ij,ij->i", w, sigma_times(w)))[:, None]

    def overlap(w):
        if config.overlap == "u":
            return (w @ u) / np.linalg.norm(w, axis=1)
        sw = np.sqrt(np.einsum("ij,ij->i", w, sigma_times(w)))
        return (sigma_times(w) @ u) / (sw * sigma_u)

    def reached(o):
        return (np.abs(o) if config.absolute else o) >= config.threshold

    steps = np.asarray(sorted(int(t) for t in snapshot_steps), dtype=np.int64)
    snaps = np.full((replicas, steps.size, 3), np.nan)
    hits = np.full(replicas, -1, dtype=np.int64)
    active = np.ones(replicas, dtype=bool)

    def record(t, w, o):
        for j in np.flatnonzero(steps == t):
            keep = active if stop_at_hit else np.ones(replicas, dtype=bool)
            snaps[keep, j, 0] = (w @ theta)[keep]
            snaps[keep, j, 1] = (w @ u)[keep]
            snaps[keep, j, 2] = o[keep]

    o = overlap(w)
    record(0, w, o)
    hits[reached(o)] = 0
    if stop_at_hit:
        active &= hits < 0
    last = steps[-1] if steps.size else 0
    for t in range(1, max_steps + 1):
        if stop_at_hit and not active.any():
            break
        if not stop_at_hit and t > last and (hits >= 0).all():
            break
        x = spiked_sample(rng, theta, kappa, (replicas,))
        zw = np.einsum("ij,ij->i", w, x)
        y, _ = config.link((x @ u) / sigma_u)
        if config.noise > 0:
            y = y + config.noise * rng.standard_normal(replicas)
        if config.variant == "plain":
            sig = np.ones(replicas)
        else:
            sig = np.sqrt(np.einsum("ij,ij->i", w, sigma_times(w)))
        phi, dphi = config.student(zw / sig)
        slope = -y * dphi if config.loss == "correlation" else (phi - y) * dphi
        if config.variant == "plain":
            grad = slope[:, None] * (x - zw[:, None] * w)
        elif config.variant == "normalized":
            grad = slope[:, None] * (x / sig[:, None] - (zw / sig**3)[:, None] * sigma_times(w))
        else:
            grad = slope[:, None] * (
                sigma_inverse_times(x) / sig[:, None] - (zw / sig**3)[:, None] * w
            )
        new = w - eta * grad
        if config.variant == "preconditioned":
            new /= np.sqrt(np.einsum("ij,ij->i", new, sigma_times(new)))[:, None]
        else:
            new /= np.linalg.norm(new, axis=1, keepdims=True)
        if stop_at_hit:
            w[active] = new[active]
        else:
            w = new
        o = overlap(w)
        record(t, w, o)
        newly = reached(o) & (hits < 0) & (active if stop_at_hit else True)
        hits[newly] = t
        if stop_at_hit:
            active &= hits < 0
    return RunResult(hits, snaps, steps, int(max_steps))
