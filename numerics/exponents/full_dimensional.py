"""A plain full-dimensional online SGD simulator: the oracle for the reduced one.

Deliberately independent of :mod:`featcheck.numerics.exponents.overlap_chain`: it draws
``x ~ N(0, Sigma)`` in ``R^d`` (``O(d)`` per step, no ``d x d`` matrix) for random
orthonormal ``theta`` and ``u = c theta + sqrt(1 - c^2) theta_perp``, and applies
the update of :mod:`featcheck.numerics.exponents.spherical_sgd` to the vector ``w`` itself.

The Gaussians come from one ``numpy.random.Generator``, drawn in blocks of steps into one
buffer (``standard_normal(out=...)``), in the order of a step-by-step run: for each step
the ``(replicas, d)`` standard normals ``z`` and then, with label noise, one normal per
replica.  A numba kernel runs the steps of a block: ``x = (z + (sqrt(1 + kappa) - 1)
<z, theta> theta)/sqrt(1 + kappa)`` is never formed, since the update is a combination of
``w``, ``z`` and ``theta`` whose coefficients need only ``<z, theta>``, ``<z, w>`` and
``<z, u>``: the update of a step, the norms of the new ``w`` and the dot products of the
next step's ``z`` are one pass over ``d`` per replica, and the renormalisation is a scale
factor carried to the next step.  Activations and links are evaluated as power series
(Horner), not by the Hermite recurrence of the reduced simulator.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from featcheck.numerics.exponents.overlap_chain import LOSS_CODES, VARIANT_CODES, RunResult
from featcheck.numerics.exponents.spherical_sgd import RELU, Link, OnlineSGD
from featcheck.numerics.numba_cache import use_user_cache

use_user_cache()  # before any cache=True kernel is defined

#: Standard normals drawn per block (a block holds at least one step).
BLOCK_NORMALS = 1 << 18


def spiked_sample(rng, theta: np.ndarray, kappa: float, shape: tuple[int, ...]) -> np.ndarray:
    """``x ~ N(0, (I + kappa theta theta^T)/(1 + kappa))`` without forming ``Sigma``."""
    z = rng.standard_normal((*shape, theta.size))
    along = z @ theta
    return (z + (math.sqrt(1 + kappa) - 1) * along[..., None] * theta) / math.sqrt(1 + kappa)


def _power_series(link: Link) -> tuple[int, np.ndarray, np.ndarray]:
    """``(kind, f, f')`` with ``f`` and ``f'`` as power-series coefficients (lowest first)."""
    if link.kind == RELU:
        return RELU, np.zeros(1), np.zeros(1)
    power = np.polynomial.hermite_e.herme2poly(np.asarray(link.coefficients, dtype=np.float64))
    slope = np.polynomial.polynomial.polyder(power) if power.size > 1 else np.zeros(1)
    return link.kind, np.asarray(power, dtype=np.float64), np.asarray(slope, dtype=np.float64)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _horner(coefficients, z):
    value = 0.0
    for k in range(coefficients.size - 1, -1, -1):
        value = value * z + coefficients[k]
    return value


@numba.njit(cache=True, inline="always", error_model="numpy")
def _link(kind, power, slope, z):
    if kind == RELU:
        if z > 0.0:
            return z, 1.0
        return 0.0, 0.0
    return _horner(power, z), _horner(slope, z)


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _advance(
    block,
    t,
    max_steps,
    v,
    scale,
    v_theta,
    v_u,
    v_v,
    theta,
    u,
    u_theta,
    sigma_u,
    kappa,
    eta,
    variant,
    loss,
    noise,
    gkind,
    gpower,
    gslope,
    pkind,
    ppower,
    pslope,
    threshold,
    overlap_u,
    absolute,
    stop_at_hit,
    steps,
    active,
    hits,
    snaps,
):
    """Run the steps of ``block`` from step ``t`` (at most to ``max_steps``), replica by
    replica; return the next step to run.

    The update of step ``t`` and the dot products of step ``t + 1`` share one pass over ``d``
    when both steps are in the block.  A chain that is done (hit, with ``stop_at_hit``) stops;
    otherwise chains may run past the end of the run inside the block, which changes nothing
    recorded.
    """
    replicas, d = v.shape
    k1 = 1.0 + kappa
    root = math.sqrt(k1)
    rows = min(block.shape[0], max_steps - t + 1)
    for r in range(replicas):
        w_r = v[r]
        ready = False  # dot products of the current step already computed
        z_theta = 0.0
        z_v = 0.0
        z_u = 0.0
        for row in range(rows):
            if stop_at_hit and not active[r]:
                break
            step = t + row
            z = block[row, r * d : (r + 1) * d]
            if not ready:
                z_theta = 0.0
                z_v = 0.0
                z_u = 0.0
                for i in range(d):
                    z_theta += z[i] * theta[i]
                    z_v += z[i] * w_r[i]
                    z_u += z[i] * u[i]
            sc = scale[r]
            w_theta = sc * v_theta[r]
            w_w = sc * sc * v_v[r]
            zw = (sc * z_v + (root - 1.0) * z_theta * w_theta) / root  # <w, x>
            zu = (z_u + (root - 1.0) * z_theta * u_theta) / root  # <u, x>
            y, _ = _link(gkind, gpower, gslope, zu / sigma_u)
            if noise > 0.0:
                y += noise * block[row, replicas * d + r]
            sig = 1.0 if variant == 0 else math.sqrt((w_w + kappa * w_theta * w_theta) / k1)
            phi, dphi = _link(pkind, ppower, pslope, zw / sig)
            slope = -y * dphi if loss == 0 else (phi - y) * dphi
            # new w = cw w + cz z + ct theta
            if variant == 0:
                f = eta * slope
                cw = 1.0 + f * zw
                cz = -f / root
                ct = -f * (root - 1.0) * z_theta / root
            elif variant == 1:
                f = eta * slope / sig
                h = eta * slope * zw / (sig * sig * sig)
                cw = 1.0 + h / k1
                cz = -f / root
                ct = -f * (root - 1.0) * z_theta / root + h * kappa * w_theta / k1
            else:
                f = eta * slope / sig
                h = eta * slope * zw / (sig * sig * sig)
                cw = 1.0 + h
                cz = -f * k1 / root
                ct = -f * k1 * (root - 1.0) * z_theta / root + f * kappa * z_theta
            cv = cw * sc
            n_theta = 0.0
            n_u = 0.0
            n_n = 0.0
            if row + 1 < rows:  # with the dot products of the next step
                following = block[row + 1, r * d : (r + 1) * d]
                z_theta = 0.0
                z_v = 0.0
                z_u = 0.0
                for i in range(d):
                    value = cv * w_r[i] + cz * z[i] + ct * theta[i]
                    w_r[i] = value
                    n_theta += value * theta[i]
                    n_u += value * u[i]
                    n_n += value * value
                    z_theta += following[i] * theta[i]
                    z_v += following[i] * value
                    z_u += following[i] * u[i]
                ready = True
            else:
                for i in range(d):
                    value = cv * w_r[i] + cz * z[i] + ct * theta[i]
                    w_r[i] = value
                    n_theta += value * theta[i]
                    n_u += value * u[i]
                    n_n += value * value
                ready = False
            v_theta[r] = n_theta
            v_u[r] = n_u
            v_v[r] = n_n
            # Euclidean norm, or the Sigma-norm for the preconditioned step
            norm2 = (n_n + kappa * n_theta * n_theta) / k1 if variant == 2 else n_n
            sc = 1.0 / math.sqrt(norm2)
            scale[r] = sc
            w_theta = sc * n_theta
            w_u = sc * n_u
            if overlap_u:
                o = n_u / math.sqrt(n_n)
            else:
                w_w = sc * sc * n_n
                sw = math.sqrt((w_w + kappa * w_theta * w_theta) / k1)
                o = (w_u + kappa * w_theta * u_theta) / k1 / (sw * sigma_u)
            for j in range(steps.size):
                if steps[j] == step:
                    snaps[r, j, 0] = w_theta
                    snaps[r, j, 1] = w_u
                    snaps[r, j, 2] = o
            if hits[r] < 0 and (abs(o) if absolute else o) >= threshold:
                hits[r] = step
                if stop_at_hit:
                    active[r] = False
    return t + rows


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
    theta, theta_perp = frame[:, 0].copy(), frame[:, 1].copy()
    u = c * theta + math.sqrt(max(1 - c * c, 0.0)) * theta_perp
    sigma_u = math.sqrt(u @ u + kappa * (u @ theta) ** 2) / math.sqrt(1 + kappa)

    def sigma_times(v):  # Sigma v, row-wise
        return (v + kappa * (v @ theta)[:, None] * theta) / (1 + kappa)

    w = rng.standard_normal((replicas, d))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    if config.variant == "preconditioned":
        w /= np.sqrt(np.einsum("ij,ij->i", w, sigma_times(w)))[:, None]

    def overlap(w):
        if config.overlap == "u":
            return (w @ u) / np.linalg.norm(w, axis=1)
        sw = np.sqrt(np.einsum("ij,ij->i", w, sigma_times(w)))
        return (sigma_times(w) @ u) / (sw * sigma_u)

    steps = np.asarray(sorted(int(t) for t in snapshot_steps), dtype=np.int64)
    snaps = np.full((replicas, steps.size, 3), np.nan)
    hits = np.full(replicas, -1, dtype=np.int64)
    o = overlap(w)
    for j in np.flatnonzero(steps == 0):
        snaps[:, j, 0] = w @ theta
        snaps[:, j, 1] = w @ u
        snaps[:, j, 2] = o
    hits[(np.abs(o) if config.absolute else o) >= config.threshold] = 0
    active = hits < 0 if stop_at_hit else np.ones(replicas, dtype=bool)

    gkind, gpower, gslope = _power_series(config.link)
    pkind, ppower, pslope = _power_series(config.student)
    per_step = replicas * d + (replicas if config.noise > 0 else 0)
    rows = max(1, min(BLOCK_NORMALS // per_step, max_steps))
    buffer = np.empty((rows, per_step))
    scale = np.ones(replicas)
    v_theta, v_u, v_v = w @ theta, w @ u, np.einsum("ij,ij->i", w, w)
    t = 1
    while t <= max_steps:
        if stop_at_hit and not active.any():
            break
        if not stop_at_hit and t > (steps[-1] if steps.size else 0) and (hits >= 0).all():
            break
        block = buffer[: min(rows, max_steps - t + 1)]
        rng.standard_normal(out=block)
        t = _advance(
            block,
            t,
            int(max_steps),
            w,
            scale,
            v_theta,
            v_u,
            v_v,
            theta,
            u,
            float(u @ theta),
            sigma_u,
            float(kappa),
            float(eta),
            VARIANT_CODES[config.variant],
            LOSS_CODES[config.loss],
            float(config.noise),
            gkind,
            gpower,
            gslope,
            pkind,
            ppower,
            pslope,
            float(config.threshold),
            config.overlap == "u",
            bool(config.absolute),
            bool(stop_at_hit),
            steps,
            active,
            hits,
            snaps,
        )
    return RunResult(hits, snaps, steps, int(max_steps))
