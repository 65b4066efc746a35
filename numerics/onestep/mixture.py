r"""Gaussian data with finite-rank structure: isotropic, spiked, mixtures.

A mixture has components ``c`` with weights ``rho_c``, means ``mu_c`` and
covariances ``Sigma_c = s_c (I + Gamma_c Theta_c Gamma_c^T)`` (``Gamma_c``: ``d x r``
with orthonormal columns, ``Theta_c = diag(theta_c) >= 0``, ``s_c > 0`` a scale set
by trace matching).  Isotropic data is the one-component mixture with no spike;
the spiked model ``I + theta gamma gamma^T`` is the one-component mixture with a
rank-one spike.  (The spike is unnormalised, ``I + theta gamma gamma^T`` with
``theta`` growing with the dimension, as in Demir and Dogan 2025.)

Sampling never forms a ``d x d`` matrix: with ``z ~ N(0, I_d)``,
``Sigma_c^{1/2} z = sqrt(s_c) (z + Gamma_c ((1 + Theta_c)^{1/2} - 1) Gamma_c^T z)``,
``O(m d r)`` for ``m`` samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from featcheck.theory.errors import DomainError


@dataclass(frozen=True)
class Component:
    """One Gaussian component ``N(mean, scale (I + Gamma diag(theta) Gamma^T))``."""

    weight: float
    spikes: np.ndarray  # theta, shape (r,)
    directions: np.ndarray  # Gamma, shape (d, r), orthonormal columns
    scale: float = 1.0
    mean: np.ndarray | None = None

    @property
    def dim(self) -> int:
        return self.directions.shape[0]

    @property
    def trace(self) -> float:
        return self.scale * (self.dim + float(np.sum(self.spikes)))

    def covariance_apply(self, v: np.ndarray) -> np.ndarray:
        """``Sigma_c v`` for ``v`` of shape ``(d,)`` or ``(d, p)``, in ``O(d r p)``."""
        g = self.directions
        coef = g.T @ v
        coef = coef * (self.spikes[:, None] if coef.ndim == 2 else self.spikes)
        return self.scale * (v + g @ coef)


@dataclass(frozen=True)
class Mixture:
    """A Gaussian mixture with finite-rank spikes (see the module docstring)."""

    components: tuple[Component, ...]
    label: str = "mixture"
    notes: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return self.components[0].dim

    @property
    def weights(self) -> np.ndarray:
        return np.array([c.weight for c in self.components])

    def traces(self) -> np.ndarray:
        return np.array([c.trace for c in self.components])

    def average_covariance_norm(self) -> float:
        """``||sum_c rho_c Sigma_c||_op`` (zero means), from the span of all spike directions."""
        span = np.concatenate([c.directions for c in self.components], axis=1)
        if span.shape[1] == 0:
            return float(sum(c.weight * c.scale for c in self.components))
        q, _ = np.linalg.qr(span)
        applied = sum(c.weight * c.covariance_apply(q) for c in self.components)
        small = q.T @ applied
        top = float(np.max(np.linalg.eigvalsh((small + small.T) / 2)))
        # Off the span every Sigma_c acts as s_c I.
        off = float(sum(c.weight * c.scale for c in self.components))
        return max(top, off)

    def sample(
        self, m: int, rng: np.random.Generator, *, remove_mean: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """``m`` samples (rows) and their component labels; optionally centred empirically."""
        if m < 1:
            raise DomainError(f"number of samples must be positive, got {m}")
        labels = rng.choice(len(self.components), size=m, p=self.weights)
        x = rng.standard_normal((m, self.dim))
        for index, c in enumerate(self.components):
            rows = labels == index
            if not np.any(rows):
                continue
            block = x[rows]
            if c.spikes.size:
                stretch = np.sqrt(1.0 + c.spikes) - 1.0
                block = block + (block @ c.directions) * stretch @ c.directions.T
            block *= np.sqrt(c.scale)
            if c.mean is not None:
                block += c.mean
            x[rows] = block
        if remove_mean:
            x -= x.mean(axis=0)
        return x, labels


def _orthonormal(d: int, r: int, rng: np.random.Generator) -> np.ndarray:
    if r > d:
        raise DomainError(f"spike rank {r} exceeds the dimension {d}")
    q, _ = np.linalg.qr(rng.standard_normal((d, r)))
    return q


def isotropic(d: int) -> Mixture:
    """``N(0, I_d)`` as a one-component mixture."""
    _check_dim(d)
    return Mixture((Component(1.0, np.zeros(0), np.zeros((d, 0))),), label="isotropic")


def spiked(
    d: int, theta: float, rng: np.random.Generator, direction: np.ndarray | None = None
) -> Mixture:
    """``N(0, I_d + theta gamma gamma^T)``, ``gamma`` uniform on the sphere unless given."""
    _check_dim(d)
    if theta < 0:
        raise DomainError(f"spike size must be non-negative, got {theta}")
    if direction is None:
        gamma = _orthonormal(d, 1, rng)
    else:
        gamma = np.asarray(direction, dtype=float).reshape(d, 1)
        gamma = gamma / np.linalg.norm(gamma)
    return Mixture((Component(1.0, np.array([float(theta)]), gamma),), label="spiked")


def gaussian_mixture(
    d: int,
    rng: np.random.Generator,
    *,
    weights: tuple[float, ...] = (0.5, 0.5),
    spikes: tuple[tuple[float, ...], ...] = ((1.0,), (1.0,)),
    alignment: float = 0.0,
    match_trace: bool = True,
    means: tuple[np.ndarray, ...] | None = None,
) -> Mixture:
    """Components ``I + Gamma_c Theta_c Gamma_c^T`` with aligned spike directions.

    ``alignment = a`` sets ``Gamma_c = a Gamma_1 + sqrt(1 - a^2) Gamma_c^perp`` for
    ``c >= 2`` (``Gamma_c^perp`` orthonormal and orthogonal to ``Gamma_1``), so the
    principal angles between the spike spaces all have cosine ``a``.  With
    ``match_trace`` every component is rescaled to the trace of the first.
    """
    _check_dim(d)
    weights_arr = np.asarray(weights, dtype=float)
    if weights_arr.ndim != 1 or len(weights_arr) != len(spikes) or len(weights_arr) == 0:
        raise DomainError("give one weight and one tuple of spike sizes per component")
    if np.any(weights_arr <= 0) or not np.isclose(weights_arr.sum(), 1.0):
        raise DomainError(f"mixture weights must be positive and sum to 1, got {weights}")
    if not -1.0 <= alignment <= 1.0:
        raise DomainError(f"alignment must lie in [-1, 1], got {alignment}")
    ranks = {len(s) for s in spikes}
    if len(ranks) != 1:
        raise DomainError("all components must have the same spike rank (pad with zeros)")
    r = ranks.pop()
    if r * (len(spikes)) > d:
        raise DomainError(f"dimension {d} is too small for {len(spikes)} rank-{r} spikes")
    if any(t < 0 for s in spikes for t in s):
        raise DomainError("spike sizes must be non-negative")
    basis = _orthonormal(d, r * len(spikes), rng)
    first = basis[:, :r]
    components = []
    for index, theta in enumerate(spikes):
        if index == 0:
            gamma = first
        else:
            perp = basis[:, r * index : r * (index + 1)]
            gamma = alignment * first + np.sqrt(1.0 - alignment**2) * perp
        mean = None if means is None else np.asarray(means[index], dtype=float)
        components.append(
            Component(float(weights_arr[index]), np.asarray(theta, float), gamma, 1.0, mean)
        )
    if match_trace:
        reference = components[0].trace
        components = [
            Component(c.weight, c.spikes, c.directions, reference / c.trace, c.mean)
            for c in components
        ]
    return Mixture(tuple(components), label="mixture", notes={"alignment": alignment})


def _check_dim(d: int) -> None:
    if not isinstance(d, int | np.integer) or d < 1:
        raise DomainError(f"dimension must be a positive integer, got {d}")
