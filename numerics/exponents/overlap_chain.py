"""Exact reduced simulation of online spherical SGD in the overlaps, in O(1) per step.

The law of ``x ~ N(0, Sigma)`` and of the label is invariant under the rotations
that fix ``theta`` and ``u``, so ``(a_t, b_t) = (<w_t, theta>, <w_t, u>)`` is a
Markov chain (with ``||w_t||`` a function of it).  One step is sampled exactly:

1. Orthonormal basis of a 3-space ``S`` containing ``span(theta, u, w)``:
   ``e1 = theta``, ``e2 = (u - c theta)/sqrt(1 - c^2)``, ``e3`` along the rest of ``w``.
   Then ``theta = (1, 0, 0)``, ``u = (c, sqrt(1 - c^2), 0)``,
   ``w = (a, beta, gamma)`` with ``beta = (b - c a)/sqrt(1 - c^2)`` and
   ``gamma = sqrt(||w||^2 - a^2 - beta^2)`` (for ``c = +-1``, ``e2`` follows ``w``).
2. ``Sigma`` is diagonal in any basis containing ``theta``: ``P_S x = (xi1, xi2, xi3)``
   with ``xi1 ~ N(0, 1)``, ``xi2, xi3 ~ N(0, 1/(1 + kappa))``, and
   ``||x_perp||^2 ~ chi^2_(d-3)/(1 + kappa)``, independent of ``P_S x``.
3. ``<w, x> = w . xi`` and ``<u, x> = u . xi`` fix the label, the pre-activation and
   ``L = dloss/dp``.  The update is ``w' = w - eta L G`` where ``G`` is ``x - <w,x> w``
   (plain), ``x/sigma_w - <w,x> Sigma w/sigma_w^3`` (normalized) or
   ``Sigma^(-1) x/sigma_w - <w,x> w/sigma_w^3`` (preconditioned): its ``S``-part is
   explicit, its ``S^perp``-part is a multiple of ``x_perp`` whose squared norm is
   known from the chi-square.  The renormalisation (Euclidean, or ``Sigma``-norm for
   the preconditioned step) needs only these, and ``a' = w'_1/N``,
   ``b' = (c w'_1 + sqrt(1 - c^2) w'_2)/N``.

About five random numbers per step whatever ``d``.  The derivation, with the invariance
that makes ``(a_t, b_t)`` a Markov chain, is
``docs/derivations/exponent-reduced-simulator.md``.  Replicas run in parallel (numba
``prange``); replica ``r`` draws from its own ``numpy.random.Generator`` (PCG64, seeded by
the ``r``-th ``SeedSequence`` child), passed into the kernel, so results do not depend on
the number of threads.  numba runs a Generator's methods with numpy's own algorithms, so a
replica's stream is the one numpy gives for the same seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numba import typed

from featcheck.numerics.exponents.spherical_sgd import OnlineSGD
from featcheck.numerics.numba_cache import use_user_cache

use_user_cache()  # before any cache=True kernel is defined

#: Bump when the simulator's law or output changes: cached cells of the old version are
#: then ignored (:mod:`featcheck.numerics.exponents.cell_cache`).
SIMULATOR_VERSION = "reduced-2"
VARIANT_CODES = {"plain": 0, "normalized": 1, "preconditioned": 2}
LOSS_CODES = {"correlation": 0, "square": 1}


@numba.njit(cache=True, inline="always", error_model="numpy")
def _evaluate(kind, coefficients, z):
    """``(f(z), f'(z))`` of a monic Hermite series (kind 0) or of ReLU (kind 1)."""
    if kind == 1:
        if z > 0.0:
            return z, 1.0
        return 0.0, 0.0
    value = 0.0
    slope = 0.0
    previous = 0.0
    current = 1.0
    for k in range(coefficients.size):
        value += coefficients[k] * current
        if k > 0:
            slope += coefficients[k] * k * previous
        following = z * current - k * previous
        previous = current
        current = following
    return value, slope


@numba.njit(cache=True, inline="always", error_model="numpy")
def _chisquare(rng, b, c):
    """A ``chi^2_df`` draw for ``df > 2``, given ``b = df/2 - 1/3`` and ``c = 1/sqrt(9 b)``.

    ``2 Gamma(df/2)`` by Marsaglia and Tsang's method, the one ``Generator.chisquare`` runs
    (same draws, same result) with its two constants computed once per chain, not per call.
    """
    while True:
        while True:
            x = rng.standard_normal()
            v = 1.0 + c * x
            if v > 0.0:
                break
        v = v * v * v
        u = rng.random()
        if u < 1.0 - 0.0331 * (x * x) * (x * x):
            return 2.0 * b * v
        if math.log(u) < 0.5 * x * x + b * (1.0 - v + math.log(v)):
            return 2.0 * b * v


@numba.njit(cache=True, error_model="numpy")
def _overlap(a, b, norm2, kappa, c, sigma_u, kind):
    if kind == 0:
        return b / math.sqrt(norm2)
    sigma_w = math.sqrt((norm2 + kappa * a * a) / (1.0 + kappa))
    return (b + kappa * c * a) / (1.0 + kappa) / (sigma_w * sigma_u)


@numba.njit(cache=True, error_model="numpy")
def _run_one(
    rng,
    d,
    kappa,
    c,
    eta,
    variant,
    loss,
    noise,
    gkind,
    gcoef,
    pkind,
    pcoef,
    threshold,
    overlap_kind,
    absolute,
    max_steps,
    stop_at_hit,
    snap_steps,
    snaps,
):
    """One replica drawing from the Generator ``rng``; returns the hitting step (-1 if
    censored) and fills ``snaps``."""
    k1 = 1.0 + kappa
    bulk = 1.0 / math.sqrt(k1)
    sc = math.sqrt(max(1.0 - c * c, 0.0))
    sigma_u = math.sqrt((1.0 + kappa * c * c) / k1)
    # w0 uniform on the Euclidean sphere: exact law of (<w0, e1>, <w0, e2>)
    g1 = rng.standard_normal()
    g2 = rng.standard_normal()
    rest = rng.chisquare(d - 2) if d > 2 else 0.0
    norm = math.sqrt(g1 * g1 + g2 * g2 + rest)
    a = g1 / norm
    b = c * a + sc * g2 / norm
    norm2 = 1.0
    if variant == 2:  # move to the Sigma-sphere (same direction, same whitened overlap)
        sigma_w = math.sqrt((1.0 + kappa * a * a) / k1)
        a /= sigma_w
        b /= sigma_w
        norm2 = k1 - kappa * a * a
    gamma_b = (d - 3) / 2.0 - 1.0 / 3.0  # chi^2_(d-3) by _chisquare when d - 3 > 2
    gamma_c = 1.0 / math.sqrt(9.0 * gamma_b) if d > 5 else 0.0
    j = 0
    while j < snap_steps.size and snap_steps[j] == 0:
        snaps[j, 0] = a
        snaps[j, 1] = b
        snaps[j, 2] = _overlap(a, b, norm2, kappa, c, sigma_u, overlap_kind)
        j += 1
    hit = -1
    o = _overlap(a, b, norm2, kappa, c, sigma_u, overlap_kind)
    if (abs(o) if absolute else o) >= threshold:
        hit = 0
        if stop_at_hit:
            return hit
    # Divisions and square roots are most of a step's latency: constants are inverted once,
    # and sigma_w = ||Sigma^(1/2) w|| is computed once per step, for the overlap and for the
    # next pre-activation.  On the Sigma-sphere (preconditioned) sigma_w = 1 exactly.
    inv_sc = 1.0 / sc if sc > 1e-12 else 0.0
    inv_k1 = 1.0 / k1
    inv_sigma_u = 1.0 / sigma_u
    inv_sig = 1.0
    if variant == 1:
        inv_sig = 1.0 / math.sqrt((norm2 + kappa * a * a) * inv_k1)
    # w = (a, beta, gamma) in the basis of step 1; after a step the basis keeps e1 and e2 and
    # takes e3 along the new rest of w, so beta and gamma come from the step itself
    beta = (b - c * a) * inv_sc if sc > 1e-12 else math.sqrt(max(norm2 - a * a, 0.0))
    gamma = math.sqrt(max(norm2 - a * a - beta * beta, 0.0))
    for t in range(1, max_steps + 1):
        x1 = rng.standard_normal()
        x2 = rng.standard_normal() * bulk
        x3 = rng.standard_normal() * bulk
        if d > 5:
            q = _chisquare(rng, gamma_b, gamma_c) * inv_k1
        elif d > 3:
            q = rng.chisquare(d - 3) * inv_k1
        else:
            q = 0.0
        zw = a * x1 + beta * x2 + gamma * x3
        zu = c * x1 + sc * x2
        y, _ = _evaluate(gkind, gcoef, zu * inv_sigma_u)
        if noise > 0.0:
            y += noise * rng.standard_normal()
        phi, dphi = _evaluate(pkind, pcoef, zw * inv_sig)
        slope = -y * dphi if loss == 0 else (phi - y) * dphi
        if variant == 0:
            f = eta * slope
            v1 = a - f * (x1 - zw * a)
            v2 = beta - f * (x2 - zw * beta)
            v3 = gamma - f * (x3 - zw * gamma)
            perp2 = f * f * q
            n2 = v1 * v1 + v2 * v2 + v3 * v3 + perp2
        elif variant == 1:
            f = eta * slope * inv_sig
            h = f * zw * inv_sig * inv_sig
            v1 = a - f * x1 + h * a
            v2 = beta - f * x2 + h * beta * inv_k1
            v3 = gamma - f * x3 + h * gamma * inv_k1
            perp2 = f * f * q
            n2 = v1 * v1 + v2 * v2 + v3 * v3 + perp2
        else:  # sigma_w = 1
            f = eta * slope
            h = f * zw
            v1 = a - f * x1 + h * a
            v2 = beta - f * k1 * x2 + h * beta
            v3 = gamma - f * k1 * x3 + h * gamma
            perp2 = f * f * k1 * k1 * q
            n2 = v1 * v1 + (v2 * v2 + v3 * v3 + perp2) * inv_k1  # Sigma-norm
        scale = 1.0 / math.sqrt(n2)
        if variant != 2 and (variant == 1 or overlap_kind == 1):
            # 1/sigma_w of the new w, (1 + kappa a^2)/k1 with a = v1/sqrt(n2), computed from n2
            # beside `scale` rather than after it
            inv_sig_next = math.sqrt(k1 * n2 / (n2 + kappa * v1 * v1))
        else:
            inv_sig_next = 1.0
        a = v1 * scale
        if sc > 1e-12:
            beta = v2 * scale
            gamma = math.sqrt(v3 * v3 + perp2) * scale
        else:  # e2 follows w
            beta = math.sqrt(v2 * v2 + v3 * v3 + perp2) * scale
            gamma = 0.0
        b = c * a + sc * beta
        if variant == 2:
            norm2 = k1 - kappa * a * a
        elif variant == 1:
            inv_sig = inv_sig_next
        if overlap_kind == 0:
            o = b / math.sqrt(norm2) if variant == 2 else b  # ||w|| = 1 off the Sigma-sphere
        else:
            o = (b + kappa * c * a) * inv_k1 * inv_sigma_u * inv_sig_next
        while j < snap_steps.size and snap_steps[j] == t:
            snaps[j, 0] = a
            snaps[j, 1] = b
            snaps[j, 2] = o
            j += 1
        if hit < 0 and (abs(o) if absolute else o) >= threshold:
            hit = t
            if stop_at_hit:
                return hit
        if j >= snap_steps.size and hit >= 0:
            return hit
    return hit


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _run_many(
    generators,
    replicas,
    d,
    kappa,
    c,
    eta,
    variant,
    loss,
    noise,
    gkind,
    gcoef,
    pkind,
    pcoef,
    threshold,
    overlap_kind,
    absolute,
    max_steps,
    stop_at_hit,
    snap_steps,
    hits,
    snaps,
):
    for r in numba.prange(replicas):
        hits[r] = _run_one(
            generators[np.int64(r)],  # prange indices are unsigned
            d,
            kappa,
            c,
            eta,
            variant,
            loss,
            noise,
            gkind,
            gcoef,
            pkind,
            pcoef,
            threshold,
            overlap_kind,
            absolute,
            max_steps,
            stop_at_hit,
            snap_steps,
            snaps[r],
        )


@dataclass
class RunResult:
    """Hitting steps (``-1``: censored at ``max_steps``) and snapshots ``(a, b, overlap)``."""

    hits: np.ndarray
    snapshots: np.ndarray  # (replicas, len(snapshot_steps), 3), NaN where not reached
    snapshot_steps: np.ndarray
    max_steps: int

    @property
    def censored(self) -> np.ndarray:
        return self.hits < 0


def replica_generators(seed: int | np.random.SeedSequence, replicas: int) -> typed.List:
    """One PCG64 ``Generator`` per replica, from ``SeedSequence.spawn`` children (a numba
    typed list, which the parallel kernel indexes by replica)."""
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    generators = typed.List()
    for child in sequence.spawn(replicas):
        generators.append(np.random.Generator(np.random.PCG64(child)))
    return generators


def simulate(
    config: OnlineSGD,
    replicas: int,
    max_steps: int,
    seed: int | np.random.SeedSequence,
    snapshot_steps=(),
    stop_at_hit: bool = True,
) -> RunResult:
    """Run ``replicas`` independent chains of ``config`` for at most ``max_steps`` steps.

    ``stop_at_hit``: stop a chain at its hitting time (snapshots after it are NaN);
    otherwise every chain runs to the last snapshot (or to its hit, whichever is later).
    """
    from featcheck.theory.errors import DomainError

    if replicas < 1:
        raise DomainError(f"need at least one replica, got {replicas}")
    if max_steps < 1:
        raise DomainError(f"the step budget must be at least 1, got {max_steps}")
    steps = np.asarray(sorted(int(t) for t in snapshot_steps), dtype=np.int64)
    if steps.size and (steps[0] < 0 or steps[-1] > max_steps):
        raise DomainError(f"snapshot steps must lie in [0, {max_steps}]")
    generators = replica_generators(seed, replicas)
    hits = np.empty(replicas, dtype=np.int64)
    snaps = np.full((replicas, steps.size, 3), np.nan)
    _run_many(
        generators,
        replicas,
        int(config.d),
        float(config.kappa),
        float(config.c),
        float(config.eta),
        VARIANT_CODES[config.variant],
        LOSS_CODES[config.loss],
        float(config.noise),
        config.link.kind,
        config.link.array(),
        config.student.kind,
        config.student.array(),
        float(config.threshold),
        0 if config.overlap == "u" else 1,
        bool(config.absolute),
        int(max_steps),
        bool(stop_at_hit),
        steps,
        hits,
        snaps,
    )
    return RunResult(hits, snaps, steps, int(max_steps))


def steps_per_second_kernel(config: OnlineSGD, steps: int, seed: int = 0) -> int:
    """Run one replica for exactly ``steps`` steps (threshold never reached): a benchmark body."""
    snaps = np.full((1, 3), np.nan)
    return _run_one(
        np.random.Generator(np.random.PCG64(seed)),
        int(config.d),
        float(config.kappa),
        float(config.c),
        float(config.eta),
        VARIANT_CODES[config.variant],
        LOSS_CODES[config.loss],
        float(config.noise),
        config.link.kind,
        config.link.array(),
        config.student.kind,
        config.student.array(),
        2.0,  # unreachable threshold: exactly `steps` steps
        1,
        True,
        int(steps),
        True,
        np.array([steps], dtype=np.int64),
        snaps,
    )
