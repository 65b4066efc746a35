r"""One gradient step on the first layer of a two-layer network, in both normalisations.

Model A (Moniri et al. 2024; ``n`` samples, dimension ``d``, width ``N``): see
:mod:`featcheck.theory.onestep`.  :func:`simulate_a` draws ``beta*``, ``W0`` (rows uniform on
the sphere), ``a ~ N(0, I_N/N)``, takes ``W1 = W0 + eta G`` with ``eta = eta0 n^alpha``
on a first batch, builds the features ``sigma(X W^T)`` on a fresh batch, fits a
ridge readout ``min_a (1/n)||y - F a||^2 + lambda ||a||^2`` and measures the test
error on a third batch.  Spectral analysis is done on column-centred features
(the centring removes the constant ``mu_0 1 1^T``, present before training).

Model B (Demir and Dogan 2025; dimension ``n``, ``m`` samples, width ``k``):
:func:`simulate_b` follows the authors' normalisation: ``F ~ N(0, 1/tr)``,
``w ~ N(0, I_k)/sqrt(k)``, predictor ``w^T sigma(F x)/sqrt(k)``, one step with
``eta = n^(beta alpha)`` on the full gradient of ``(1/2m)||y - yhat||^2``,
features ``sigma(X F^T)/sqrt(k)``, ridge with penalty ``lambda m``, errors
``1/2 mean (y - yhat)^2 (+ lambda/2 ||w||^2 for training)``; the Hermite model
replaces ``sigma`` in the readout features (train and test) only.

All heavy work is matrix products (BLAS); nothing here is ``O(d^3)`` except
the ridge solve in the smaller of the two feature dimensions.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.linalg as sla
import sympy as sp
from numpy.polynomial import hermite_e
from threadpoolctl import threadpool_limits

from featcheck.numerics.onestep.gram import Gram
from featcheck.numerics.onestep.mixture import Mixture, gaussian_mixture, isotropic, spiked
from featcheck.numerics.onestep.spectrum_b import (
    PROBE_DEGREE,
    SpectrumB,
    monomial_probes,
    population_gradient,
    spectrum_b,
    spread_groups,
    standardised_coordinate,
)
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import FunctionLike, as_function, z
from featcheck.theory.hermite import hermite_coefficients
from featcheck.theory.onestep import HermiteModel, hermite_degree, hermite_model

#: An outlier exceeds the bulk edge by more than this many ``min(n, N)^(-2/3)``
#: (the Tracy-Widom scale of the largest singular value, relative to the edge).
EDGE_MARGIN = 4.0
MIN_SPECTRUM_SIZE = 50


def blas_threads() -> int:
    """BLAS threads for the simulations: ``FEATCHECK_BLAS_THREADS`` (default 1).

    One thread by default: on a shared machine, or under ``pytest -n 2``, several
    BLAS threads per process oversubscribe the cores and run many times slower.
    """
    try:
        return max(1, int(os.environ.get("FEATCHECK_BLAS_THREADS", "1")))
    except ValueError:
        return 1


def limited_blas(function):
    """Run ``function`` with :func:`blas_threads` BLAS threads."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=blas_threads(), user_api="blas"):
            return function(*args, **kwargs)

    return wrapper


# ----------------------------------------------------------------------------
# Activations in double precision


def numpy_pair(function: FunctionLike):
    """``(sigma, sigma')`` as vectorised numpy callables (a name, an expression or a Function)."""
    return _numpy_pair(as_function(function).expr)


@lru_cache(maxsize=64)
def _numpy_pair(expr: sp.Expr):
    return _vectorise(expr), _vectorise(sp.diff(expr, z))


def _vectorise(expr: sp.Expr):
    fn = sp.lambdify(z, expr, modules=["numpy", "scipy"])

    def apply(u: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            out = np.asarray(fn(u), dtype=float)
        return np.broadcast_to(out, np.shape(u)).copy() if out.shape != np.shape(u) else out

    return apply


# ----------------------------------------------------------------------------
# Linear algebra


def ridge_fit(features: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """``argmin_w ||y - F w||^2 + penalty ||w||^2`` through the smaller Gram matrix."""
    gram = Gram(features)
    gram.factor(penalty)
    return gram.coefficients(y)


def top_singular_vector(
    matrix: np.ndarray, start: np.ndarray, tol: float = 1e-12, max_iter: int = 200
) -> tuple[float, np.ndarray]:
    """Top singular value and right singular vector by power iteration on ``M^T M``.

    Started from ``start`` (for the gradient: ``beta_hat``, already close to the
    answer), it stops when the direction changes by less than ``tol``.
    """
    v = start / np.linalg.norm(start)
    value = 0.0
    for _ in range(max_iter):
        mv = matrix @ v
        w = matrix.T @ mv
        value = float(np.sqrt(np.linalg.norm(w)))
        w /= np.linalg.norm(w)
        if np.linalg.norm(w - v) < tol:
            return value, w
        v = w
    return value, v


def centred(matrix: np.ndarray) -> np.ndarray:
    return matrix - matrix.mean(axis=0, keepdims=True)


def unit_columns(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=0, keepdims=True)


def hermite_features(u: np.ndarray, degrees: range | list[int]) -> np.ndarray:
    """Columns ``He_k(u)`` (probabilists'), centred and of unit norm."""
    cols = []
    for k in degrees:
        coef = np.zeros(k + 1)
        coef[k] = 1.0
        cols.append(hermite_e.hermeval(u, coef))
    return unit_columns(centred(np.stack(cols, axis=1)))


# ----------------------------------------------------------------------------
# Model A


@dataclass(frozen=True)
class ConfigA:
    """Model A parameters (Moniri et al. notation)."""

    activation: FunctionLike
    target: FunctionLike
    alpha: float
    n: int
    d: int
    width: int
    eta0: float = 1.0
    noise: float = 0.0  # standard deviation of eps
    ridge: float = 1e-2
    top: int = 8
    probe_degree: int = 6
    spike_degrees: tuple[int, ...] = ()  # degrees for the surrogate and the alignments

    def check(self) -> None:
        if not 0 < self.alpha < 0.5:
            raise DomainError(f"alpha must lie in (0, 1/2), got {self.alpha}")
        if min(self.n, self.d, self.width) < MIN_SPECTRUM_SIZE:
            raise DomainError(
                f"n, d and width must be at least {MIN_SPECTRUM_SIZE} for a spectrum "
                f"(got n={self.n}, d={self.d}, width={self.width})"
            )
        if self.ridge <= 0:
            raise DomainError(f"ridge penalty must be positive, got {self.ridge}")
        if self.noise < 0:
            raise DomainError(f"noise must be non-negative, got {self.noise}")


@dataclass
class ResultA:
    eta: float
    beta_hat_norm: float
    overlap_beta_hat: float  # <beta_hat/||beta_hat||, beta*>
    overlap_gradient: float  # |<top right singular vector of G, beta*>|
    singular_values: np.ndarray  # top of centred sigma(X W1^T)
    initial_singular_values: np.ndarray  # top of centred sigma(X W0^T)
    bulk_edge_initial: float
    bulk_edge_updated: float  # after projecting out He_1..He_K of X beta_hat
    outliers: int
    alignment_learned: list[float]  # i-th outlier vs He_{k_i}(X beta_hat)
    alignment_target: list[float]  # vs He_{k_i}(X beta*), signed along the learned feature
    subspace_learned: list[float]  # ||P_outliers He_k(X beta_hat)||
    train_error: float  # ridge objective on the updated features
    test_error: float
    train_error_initial: float
    surrogate: float | None
    details: dict = field(default_factory=dict)

    @property
    def edge_threshold(self) -> float:
        return self.details["edge_threshold"]


def _sample_sphere(rows: int, d: int, rng: np.random.Generator) -> np.ndarray:
    w = rng.standard_normal((rows, d))
    return w / np.linalg.norm(w, axis=1, keepdims=True)


def gradient_a(x, y, w0, a, dsigma) -> np.ndarray:
    """``G = (1/n) [(y a^T) o sigma'(X W0^T)]^T X`` (``N x d``)."""
    weights = dsigma(x @ w0.T)
    weights *= y[:, None]
    weights *= a[None, :]
    return weights.T @ x / x.shape[0]


def surrogate_training_error(
    y: np.ndarray, features: np.ndarray | Gram, spikes: np.ndarray, penalty: float
) -> float:
    """``min_b min_w (1/n)||y - P b - F w||^2 + lambda ||w||^2`` (``P`` unpenalised).

    With ``M = lambda (F F^T + n lambda I)^(-1)`` the value is
    ``y^T M y - y^T M P (P^T M P)^(-1) P^T M y``; computed as the residual of a
    generalised least-squares problem in the ``M`` inner product.  ``features``
    may be a :class:`Gram` already factored with penalty ``n lambda`` (the ridge
    readout's factor is then reused).
    """
    n = y.shape[0]
    gram = features if isinstance(features, Gram) else Gram(features)
    if gram.penalty == 0.0:
        gram.factor(n * penalty)
    elif not np.isclose(gram.penalty, n * penalty, rtol=1e-12):
        raise ValueError("the Gram matrix was factored with another penalty")
    my = gram.resolvent(y) / n  # M y
    value = float(y @ my)
    if spikes.size == 0:
        return value
    mp = gram.resolvent(spikes) / n
    inner = spikes.T @ mp
    rhs = spikes.T @ my
    coef = sla.solve((inner + inner.T) / 2, rhs, assume_a="pos")
    return value - float(rhs @ coef)


def ridge_objective(gram: Gram, y: np.ndarray, ridge: float) -> tuple[np.ndarray, float]:
    """Coefficients and ``(1/n)||y - F w||^2 + lambda ||w||^2`` for a factored ``gram``."""
    coef = gram.coefficients(y)
    residual = y - gram.features @ coef
    return coef, float(residual @ residual / y.shape[0] + ridge * coef @ coef)


@limited_blas
def simulate_a(config: ConfigA, rng: np.random.Generator) -> ResultA:
    """One run of model A (see the module docstring).

    Linear algebra: five ``n x d x N`` products (gradient: two; features on the
    second batch before and after the step: two; test features: one) and one Gram
    matrix per feature matrix, which serves its spectrum (centred, and deflated
    by low-rank corrections) and, through one Cholesky factor, its ridge readout
    and the surrogate.
    """
    config.check()
    n, d, N = config.n, config.d, config.width
    sigma, dsigma = numpy_pair(config.activation)
    star, _ = numpy_pair(config.target)

    beta_star = rng.standard_normal(d)
    beta_star /= np.linalg.norm(beta_star)
    w0 = _sample_sphere(N, d, rng)
    a = rng.standard_normal(N) / np.sqrt(N)

    def batch(size: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.standard_normal((size, d))
        y = star(x @ beta_star) + config.noise * rng.standard_normal(size)
        return x, y

    x1, y1 = batch(n)
    g = gradient_a(x1, y1, w0, a, dsigma)
    beta_hat = x1.T @ y1 / n
    beta_hat_norm = float(np.linalg.norm(beta_hat))
    eta = config.eta0 * n**config.alpha
    # top right singular vector of G, from beta_hat's direction (G ~ mu_1 a beta_hat^T)
    _, v = top_singular_vector(g, beta_hat)
    w1 = w0 + eta * g
    del x1, y1, g

    x2, y2 = batch(n)
    learned = x2 @ beta_hat / beta_hat_norm
    target = x2 @ beta_star
    mean_direction = np.full((n, 1), 1 / np.sqrt(n))
    probes = hermite_features(learned, range(1, config.probe_degree + 1))
    deflation = np.hstack([mean_direction, np.linalg.qr(probes)[0]])

    penalty = n * config.ridge
    gram0 = Gram(sigma(x2 @ w0.T))
    # energy of the features along each probe He_k(X beta_hat) (centred probes: no centring needed)
    along0 = np.linalg.norm(probes.T @ gram0.features, axis=1)
    s0, _ = gram0.top(2, rng, basis=mean_direction)
    gram0.factor(penalty)
    _, train0 = ridge_objective(gram0, y2, config.ridge)
    degrees = list(config.spike_degrees)
    surrogate = None
    if degrees:
        spikes = np.stack([learned**k for k in degrees], axis=1)
        surrogate = surrogate_training_error(y2, gram0, spikes, config.ridge)
    del gram0

    gram1 = Gram(sigma(x2 @ w1.T))
    along1 = np.linalg.norm(probes.T @ gram1.features, axis=1)
    s1, u1 = gram1.top(config.top, rng, basis=mean_direction, vectors=True)
    edge_updated, _ = gram1.top(1, rng, basis=deflation)
    edge = float(edge_updated[0])
    threshold = edge * (1 + EDGE_MARGIN * min(n, N) ** (-2 / 3))
    outliers = int(np.sum(s1 > threshold))

    align_learned, align_target, subspace = [], [], []
    if degrees:
        h_learned = hermite_features(learned, degrees)
        h_target = hermite_features(target, degrees)
        shown = min(len(degrees), u1.shape[1])
        for i in range(shown):
            # the sign of a singular vector is arbitrary: orient it along the learned feature,
            # so that the target alignment is a signed, unbiased estimate (mean 0 when rho = 0)
            along = float(u1[:, i] @ h_learned[:, i])
            align_learned.append(abs(along))
            align_target.append(float(np.sign(along) * (u1[:, i] @ h_target[:, i])))
        basis = u1[:, : max(outliers, 0)]
        for i in range(len(degrees)):
            subspace.append(float(np.linalg.norm(basis.T @ h_learned[:, i])) if outliers else 0.0)

    gram1.factor(penalty)
    coef, train = ridge_objective(gram1, y2, config.ridge)
    del gram1, x2
    x3, y3 = batch(n)
    test = float(np.mean((y3 - sigma(x3 @ w1.T) @ coef) ** 2))

    return ResultA(
        eta=eta,
        beta_hat_norm=beta_hat_norm,
        overlap_beta_hat=float(beta_hat @ beta_star / beta_hat_norm),
        overlap_gradient=float(abs(v @ beta_star)),
        singular_values=s1,
        initial_singular_values=s0,
        bulk_edge_initial=float(s0[0]),
        bulk_edge_updated=edge,
        outliers=outliers,
        alignment_learned=align_learned,
        alignment_target=align_target,
        subspace_learned=subspace,
        train_error=train,
        test_error=test,
        train_error_initial=train0,
        surrogate=surrogate,
        details={
            "edge_threshold": threshold,
            # ||He_k^T F1||^2 - ||He_k^T F0||^2: the energy the step added along degree k
            "probe_energy_added": (along1**2 - along0**2).tolist(),
            "probe_energy_initial": (along0**2).tolist(),
        },
    )


def singular_values(matrix: np.ndarray) -> np.ndarray:
    """All singular values of ``matrix`` (decreasing), through its smaller Gram matrix."""
    n, p = matrix.shape
    gram = matrix @ matrix.T if p > n else matrix.T @ matrix
    values = np.linalg.eigvalsh(gram)[::-1]
    return np.sqrt(np.clip(values, 0.0, None))


def separation_threshold(bulk: np.ndarray, shape: tuple[int, int], position: float) -> float:
    """The strength a rank-one spike needs for its outlier to reach ``position``.

    Benaych-Georges and Nadakuditi (2012), rectangular case: a spike ``theta u v^T`` with
    unit ``u``, ``v`` in general position with respect to a ``n x p`` noise matrix of
    singular values ``s`` puts an outlier at the ``z`` above the bulk where
    ``D(z) = 1/theta^2``, ``D(z) = phi_n(z) phi_p(z)``,
    ``phi_q(z) = (1/q) sum_{i<=q} z/(z^2 - s_i^2)`` (``s`` padded with zeros to ``q``).
    ``D`` decreases above the edge, so the threshold is ``1/sqrt(D(position))``: at
    ``position`` = the outlier threshold of the count, the BBP-type separation threshold at
    the resolution the count uses.  ``bulk`` holds the singular values of the noise (the
    features with the spike directions projected out).
    """
    n, p = shape
    s2 = np.asarray(bulk, dtype=float) ** 2
    if position**2 <= s2.max():
        raise DomainError("the position must lie above the bulk")
    z = float(position)
    terms = z / (z**2 - s2)
    zeros = z / z**2
    phi_n = (terms.sum() + (n - s2.size) * zeros) / n
    phi_p = (terms.sum() + (p - s2.size) * zeros) / p
    return float(1 / np.sqrt(phi_n * phi_p))


@dataclass
class SpikeStrengthsA:
    """Model A: the spikes of one draw for several step sizes and widths.

    Every variant ``(eta, width)`` shares the data, ``beta_hat`` and the neurons: the network
    of width ``N' <= N`` is the first ``N'`` neurons with second layer ``a sqrt(N/N')``
    (so ``a' ~ N(0, I/N')``), a draw of model A at width ``N'``.  Arrays are indexed
    ``[variant, degree]`` with degrees ``1..K``.  ``measured[., k]`` is
    ``<h_k, (F_1 - F_0) v_k>`` with ``h_k`` the centred unit ``He_k(X beta_hat/||beta_hat||)``
    on fresh data (the normalised Hermite feature) and ``v_k = a^{o k}/||a^{o k}||``;
    ``predicted`` the same bilinear form of the degree-``k`` Taylor term
    ``(mu_k/k!) (eta mu_1)^k (X beta_hat)^{o k} (a^{o k})^T`` with this draw's ``beta_hat``,
    ``a`` and ``h_k``.  ``effective`` holds the singular values of the signal
    ``sum_k measured_k h_k v_k^T`` assigned to the degrees in decreasing order of
    ``|measured|`` (the ``v_k`` of degrees of one parity are far from orthogonal, so a weaker
    spike separates by its part orthogonal to the stronger ones).  The spectral fields
    (first variant only, NaN elsewhere): ``threshold``, the separation threshold of the
    updated bulk at the count's outlier threshold (:func:`separation_threshold`), ``edge``
    the deflated bulk edge, ``outliers`` the count, ``top`` the top singular values.
    ``overlap`` is ``<beta_hat/||beta_hat||, beta*>`` and ``target_alignment[k]``
    ``<h_k, He_k(X beta*)>`` (centred, unit), both signed.
    """

    degrees: tuple[int, ...]
    variants: tuple[tuple[float, int], ...]
    beta_hat_norm: float
    overlap: float
    target_alignment: np.ndarray
    measured: np.ndarray
    predicted: np.ndarray
    effective: np.ndarray
    threshold: float
    edge: float
    outliers: int
    top: np.ndarray


@limited_blas
def spike_strengths_a(
    config: ConfigA,
    rng: np.random.Generator,
    variants: tuple[tuple[float, int], ...] | None = None,
    *,
    spectrum: bool = True,
) -> SpikeStrengthsA:
    """Projected spike strengths of one draw of model A, and the spectrum of the first variant.

    ``variants`` lists ``(eta0, width)`` pairs, ``eta = eta0 n^alpha``, each width at most
    ``config.width``; it defaults to ``((config.eta0, config.width),)``.  Degrees
    ``1..config.probe_degree``.  With ``spectrum``, the first variant's outlier count, its
    deflated bulk edge and the separation threshold of that bulk.
    """
    config.check()
    n, d, N = config.n, config.d, config.width
    variants = variants or ((config.eta0, N),)
    if any(not MIN_SPECTRUM_SIZE <= w <= N for _, w in variants):
        raise DomainError(f"every width must lie in [{MIN_SPECTRUM_SIZE}, {N}]")
    sigma, dsigma = numpy_pair(config.activation)
    star, _ = numpy_pair(config.target)
    degrees = tuple(range(1, config.probe_degree + 1))
    powers_k = np.array(degrees)
    mu = hermite_coefficients(config.activation, degrees[-1], basis="monic")
    mus = np.array([float(mu[k].value) for k in degrees])
    factorials = np.array([float(sp.factorial(k)) for k in degrees])

    beta_star = rng.standard_normal(d)
    beta_star /= np.linalg.norm(beta_star)
    w0 = _sample_sphere(N, d, rng)
    a = rng.standard_normal(N) / np.sqrt(N)
    x1 = rng.standard_normal((n, d))
    y1 = star(x1 @ beta_star) + config.noise * rng.standard_normal(n)
    g = gradient_a(x1, y1, w0, a, dsigma)  # rows a_j (...): rescaling a rescales them
    beta_hat = x1.T @ y1 / n
    norm = float(np.linalg.norm(beta_hat))
    del x1, y1

    x2 = rng.standard_normal((n, d))
    u = x2 @ beta_hat / norm
    h = hermite_features(u, degrees)  # centred unit columns He_k(u)
    target_alignment = np.einsum("ik,ik->k", h, hermite_features(x2 @ beta_star, degrees))
    overlap_h = np.einsum("ik,ik->k", h, np.stack([u**k for k in degrees], axis=1))
    pre0 = x2 @ w0.T
    f0 = sigma(pre0)
    step = x2 @ g.T
    del x2
    shape = (len(variants), len(degrees))
    measured, predicted, effective = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    threshold = edge = math.nan
    outliers, top = -1, np.full(config.top, np.nan)
    for i, (eta0, width) in enumerate(variants):
        eta = eta0 * n**config.alpha
        factor = math.sqrt(N / width)
        a_w = a[:width] * factor
        a_powers = np.stack([a_w**k for k in degrees], axis=1)
        a_norms = np.linalg.norm(a_powers, axis=0)
        v = a_powers / a_norms
        f1 = sigma(pre0[:, :width] + (eta * factor) * step[:, :width])
        measured[i] = np.einsum("ik,ik->k", h, (f1 - f0[:, :width]) @ v)
        predicted[i] = mus / factorials * (eta * mus[0] * norm) ** powers_k * overlap_h * a_norms
        order = np.argsort(-np.abs(measured[i]))
        effective[i, order] = np.linalg.svd(measured[i][order][:, None] * v.T[order], False, False)
        if spectrum and i == 0:
            mean_direction = np.full((n, 1), 1 / np.sqrt(n))
            deflation = np.hstack([mean_direction, np.linalg.qr(h)[0]])
            full = singular_values(f1 - f1.mean(axis=0, keepdims=True))
            bulk = singular_values(f1 - deflation @ (deflation.T @ f1))
            edge = float(bulk[0])
            position = edge * (1 + EDGE_MARGIN * min(n, width) ** (-2 / 3))
            threshold = separation_threshold(bulk, (n, width), position)
            outliers = int(np.sum(full > position))
            top = full[: config.top]
    return SpikeStrengthsA(
        degrees, tuple(variants), norm, float(beta_hat @ beta_star) / norm, target_alignment,
        measured, predicted, effective, threshold, edge,
        outliers, top,
    )  # fmt: skip


@limited_blas
def beta_hat_draws(
    target: FunctionLike, *, n: int, d: int, noise: float, replicas: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``||beta_hat||^2`` and ``<beta_hat/||beta_hat||, beta*>`` for independent draws of model
    A's first batch (``beta_hat = X^T y/n`` needs no network: one ``n x d`` batch per draw)."""
    star, _ = numpy_pair(target)
    norms, overlaps = np.empty(replicas), np.empty(replicas)
    for i in range(replicas):
        beta = rng.standard_normal(d)
        beta /= np.linalg.norm(beta)
        x = rng.standard_normal((n, d))
        y = star(x @ beta) + noise * rng.standard_normal(n)
        beta_hat = x.T @ y / n
        norms[i] = beta_hat @ beta_hat
        overlaps[i] = beta_hat @ beta / np.sqrt(norms[i])
    return norms, overlaps


@limited_blas
def gradient_overlaps(
    activation: FunctionLike,
    target: FunctionLike,
    *,
    n: int,
    d: int,
    width: int,
    noise: float,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """``<beta_hat/||beta_hat||, beta*>`` and ``|<v_1(G), beta*>|`` for one draw of model A.

    Only the gradient step of :func:`simulate_a` (no features): ``n`` samples in dimension
    ``d``, width ``width``, label noise of standard deviation ``noise``; ``v_1(G)`` is the
    top right singular vector of the gradient, by 30 power iterations from a random start.
    """
    star, _ = numpy_pair(target)
    _, dsigma = numpy_pair(activation)
    beta = rng.standard_normal(d)
    beta /= np.linalg.norm(beta)
    w0 = _sample_sphere(width, d, rng)
    a = rng.standard_normal(width) / np.sqrt(width)
    x = rng.standard_normal((n, d))
    y = star(x @ beta) + noise * rng.standard_normal(n)
    g = gradient_a(x, y, w0, a, dsigma)
    beta_hat = x.T @ y / n
    v = rng.standard_normal(d)
    for _ in range(30):
        v = g.T @ (g @ v)
        v /= np.linalg.norm(v)
    return float(beta_hat @ beta / np.linalg.norm(beta_hat)), float(abs(v @ beta))


# ----------------------------------------------------------------------------
# Model B


@dataclass(frozen=True)
class ConfigB:
    """Model B parameters (Demir and Dogan notation: n dimension, m samples, k width)."""

    activation: FunctionLike
    n: int
    m: int
    k: int
    alpha: float  # weight between learning rate (1) and data spread (0)
    beta: float  # strength
    ridge: float = 1e-4
    noise: float = 0.0
    data: str = "mixture"  # isotropic | spiked | mixture
    task: str = "regression"  # regression | classification
    target: FunctionLike = "relu"
    alignment: float = 0.0
    weights: tuple[float, float] = (0.5, 0.5)
    rank: int = 1  # rank of each component's spike
    test_samples: int | None = None

    def check(self) -> None:
        if not 0 <= self.alpha <= 1:
            raise DomainError(f"weight alpha must lie in [0, 1], got {self.alpha}")
        if not 0 < self.beta < 1:
            raise DomainError(f"strength beta must lie in (0, 1), got {self.beta}")
        if min(self.n, self.m, self.k) < 10:
            raise DomainError("n, m and k must be at least 10")
        if self.data not in ("isotropic", "spiked", "mixture"):
            raise DomainError(f"unknown data model {self.data!r}: isotropic, spiked or mixture")
        if self.task not in ("regression", "classification"):
            raise DomainError(f"unknown task {self.task!r}: regression or classification")
        if self.task == "classification" and self.data != "mixture":
            raise DomainError("classification labels need the two-component mixture")
        if self.ridge <= 0:
            raise DomainError(f"ridge penalty must be positive, got {self.ridge}")
        if not 1 <= self.rank <= self.n // 2:
            raise DomainError(f"spike rank must lie in [1, n/2], got {self.rank}")

    @property
    def eta(self) -> float:
        return float(self.n ** (self.beta * self.alpha))

    @property
    def spike(self) -> float:
        return float(self.n ** (self.beta * (1 - self.alpha)))


@dataclass
class ErrorsB:
    train: float
    test: float


@dataclass
class ResultB:
    network: ErrorsB
    models: dict[int, ErrorsB]  # Hermite degree -> errors
    scale: float  # b = sqrt(n / tr)
    details: dict = field(default_factory=dict)
    spectrum: SpectrumB | None = None
    # Hermite degree -> errors of the model at the total pre-activation scale b = 1
    models_total: dict[int, ErrorsB] = field(default_factory=dict)


def data_b(config: ConfigB, rng: np.random.Generator) -> Mixture:
    if config.data == "isotropic":
        return isotropic(config.n)
    if config.data == "spiked":
        return spiked(config.n, config.spike, rng)
    sizes = (config.spike,) * config.rank
    return gaussian_mixture(
        config.n,
        rng,
        weights=config.weights,
        spikes=(sizes, sizes),
        alignment=config.alignment,
    )


@limited_blas
def simulate_b(
    config: ConfigB,
    rng: np.random.Generator,
    degrees: tuple[int, ...] | None = None,
    spectrum: bool = False,
    top: int = 10,
    features: bool = True,
    total_scale: bool = False,
) -> ResultB:
    """One run of model B: the network and the Hermite models of the given degrees.

    ``degrees`` defaults to ``(L(beta),)``; the same batches and the same updated
    first layer are used for every model, each model with its own noise.  With
    ``spectrum``, also the gradient's spike, the learned direction and the spikes of
    the updated features (:mod:`featcheck.numerics.onestep.spectrum_b`); that analysis draws
    from a stream spawned from ``rng``, so the errors are the same with or without it.
    ``features=False`` restricts it to the gradient (no feature spectra).  With
    ``total_scale``, also the Hermite models at ``b = 1``, the scale of the total
    pre-activation variance ``E[(f.x)^2] = E[x^T x]/tr = 1`` (``models_total``), beside the
    authors' ``b = sqrt(n/tr)``, which counts only the isotropic part of the trace.
    """
    config.check()
    if degrees is None:
        degrees = (hermite_degree(config.beta),)
    spectral_rng = rng.spawn(1)[0] if spectrum else None
    mixture = data_b(config, rng)
    n, m, k = config.n, config.m, config.k
    sigma, dsigma = numpy_pair(config.activation)
    star, _ = numpy_pair(config.target)
    tr = float(mixture.traces()[0])
    xi = rng.standard_normal(n)
    xi /= np.linalg.norm(xi) * np.sqrt(mixture.average_covariance_norm())

    def batch(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, labels = mixture.sample(size, rng)
        if config.task == "classification":
            y = np.where(labels == 0, 1.0, -1.0)
        else:
            y = star(x @ xi) + config.noise * rng.standard_normal(size)
        return x, y, labels

    f = rng.standard_normal((k, n)) / np.sqrt(tr)
    w = rng.standard_normal(k) / np.sqrt(k)
    x1, y1, _ = batch(m)
    h1 = x1 @ f.T
    residual = y1 - sigma(h1) @ w / np.sqrt(k)
    weights = dsigma(h1)
    weights *= residual[:, None]
    weights *= w[None, :] / np.sqrt(k)
    step = weights.T @ x1 / m
    f1 = f + config.eta * step
    c_hat = x1.T @ residual / m if spectrum else None
    del h1, weights, x1

    x2, y2, labels2 = batch(m)
    x3, y3, _ = batch(config.test_samples or m)
    u2, u3 = x2 @ f1.T, x3 @ f1.T
    penalty = config.ridge * m

    def errors(phi2: np.ndarray | Gram, phi3: np.ndarray) -> ErrorsB:
        gram = phi2 if isinstance(phi2, Gram) else Gram(phi2)
        gram.factor(penalty)
        coef = gram.coefficients(y2)
        train = 0.5 * np.mean((y2 - gram.features @ coef) ** 2) + 0.5 * config.ridge * coef @ coef
        test = 0.5 * np.mean((y3 - phi3 @ coef) ** 2)
        return ErrorsB(float(train), float(test))

    root_k = np.sqrt(k)
    gram2 = Gram(sigma(u2) / root_k)
    analysis = None
    if spectrum:
        analysis = _spectrum_b(
            config,
            mixture,
            labels2,
            x2,
            f,
            gram2 if features else None,
            step,
            c_hat,
            w,
            xi,
            top,
            spectral_rng,
        )
    network = errors(gram2, sigma(u3) / root_k)
    del gram2
    b = float(np.sqrt(n / tr))
    models = {}
    for degree in degrees:
        model = _hermite_model(as_function(config.activation).expr, b, degree)
        models[degree] = errors(
            hermite_readout(model, u2, rng) / root_k, hermite_readout(model, u3, rng) / root_k
        )
    models_total = {}
    if total_scale:
        for degree in degrees:
            model = _hermite_model(as_function(config.activation).expr, 1.0, degree)
            models_total[degree] = errors(
                hermite_readout(model, u2, rng) / root_k, hermite_readout(model, u3, rng) / root_k
            )
    details = {"eta": config.eta, "spike": config.spike, "trace": tr}
    return ResultB(network, models, b, details, analysis, models_total)


@lru_cache(maxsize=256)
def _hermite_model(expr: sp.Expr, scale: float, degree: int) -> HermiteModel:
    """:func:`hermite_model`, once per activation, scale and degree (exact paths are slow, and
    every replica of a configuration has the same scale ``b = sqrt(n/tr)``)."""
    return hermite_model(expr, scale, degree)


def _spectrum_b(config, mixture, labels, x2, f0, gram2, step, c_hat, w, xi, top, rng):
    """The gradient's spike, the learned direction and the feature spikes of one run."""
    k, m = config.k, config.m
    analysis = (
        SpectrumB()
        if gram2 is None
        else _feature_spectrum(config, mixture, labels, x2, f0, gram2, c_hat, top, rng)
    )
    mu1 = float(hermite_coefficients(as_function(config.activation), 1)[1].value)
    top_two, _ = Gram(step).top(2, rng)
    _, v1 = top_singular_vector(step, c_hat)
    c_norm = float(np.linalg.norm(c_hat))
    population = population_gradient(
        mixture, xi if config.task == "regression" else None, config.target, config.noise
    )
    star = population.direction
    star_norm = float(np.linalg.norm(star))
    analysis.gradient = {
        "top_singular_values": top_two,
        "predicted_top": abs(mu1) * float(np.linalg.norm(w)) * c_norm / np.sqrt(k),
        "c_hat_norm_squared": c_norm**2,
        "c_hat_norm_squared_predicted": population.norm_squared(m),
        "overlap_c_hat": float(c_hat @ star) / (c_norm * star_norm) if star_norm else None,
        # oriented along c_hat (a singular vector's sign is arbitrary)
        "overlap_gradient": float(np.sign(v1 @ c_hat) * (v1 @ star)) / star_norm
        if star_norm
        else None,
        "overlap_predicted": population.overlap(m),
        "c_hat_vs_gradient": float(abs(v1 @ c_hat)) / c_norm,
    }
    return analysis


def _feature_spectrum(config, mixture, labels, x2, f0, gram2, c_hat, top, rng):
    """Outliers of the initial and updated features and their alignment with the probes."""
    sigma, _ = numpy_pair(config.activation)
    probes: dict[tuple[str, int, int], np.ndarray] = {}
    degrees = range(1, PROBE_DEGREE + 1)
    for group, (rows, gamma) in enumerate(spread_groups(mixture, labels)):
        g = standardised_coordinate(mixture, labels, x2, gamma)
        for j, col in zip(degrees, monomial_probes(g, rows, degrees).T, strict=True):
            probes[("spread", group, j)] = col
    learned = standardised_coordinate(mixture, labels, x2, c_hat)
    for j, col in zip(degrees, monomial_probes(learned, None, degrees).T, strict=True):
        probes[("step", 0, j)] = col
    initial = sigma(x2 @ f0.T) / np.sqrt(config.k)
    return spectrum_b(initial, gram2, probes, top, rng)


def hermite_readout(model: HermiteModel, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``sum_{i<=L} h_i He_i(u/b) + s_L eps`` with fresh ``eps`` for every entry."""
    scale = float(model.scale)
    out = hermite_e.hermeval(u / scale, np.array(model.h))
    if model.residual_std > 0:
        out += model.residual_std * rng.standard_normal(u.shape)
    return out
