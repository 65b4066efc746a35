"""Samplers for isotropic and spiked Gaussian inputs in ``O(n d)``, never forming ``Sigma``.

``Sigma = alpha (I + kappa theta theta^T)`` (``alpha = 1/(1+kappa)`` for the ``unit``
convention, ``1`` for ``ba``), so every power is rank-one-plus-identity:
``Sigma^p = alpha^p (I + ((1 + kappa)^p - 1) theta theta^T)`` acts on a vector in ``O(d)``.
A sample is ``x = Sigma^(1/2) z`` with ``z ~ N(0, I_d)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featcheck.theory.errors import DomainError
from featcheck.theory.models import check_convention


@dataclass(frozen=True)
class SpikedOperator:
    """``Sigma`` of the ``(kappa, theta)``-spiked model as an ``O(d)`` linear operator."""

    theta: np.ndarray
    kappa: float
    convention: str = "unit"

    def __post_init__(self) -> None:
        check_convention(self.convention)
        if not np.isfinite(self.kappa) or self.kappa < 0:
            raise DomainError(f"the spike magnitude kappa must be >= 0, got {self.kappa}")
        norm = np.linalg.norm(self.theta)
        if not np.isclose(norm, 1.0, atol=1e-12):
            raise DomainError(f"theta must be a unit vector, |theta| = {norm}")

    @property
    def dim(self) -> int:
        return self.theta.shape[0]

    @property
    def alpha(self) -> float:
        return 1.0 / (1.0 + self.kappa) if self.convention == "unit" else 1.0

    def power_coefficients(self, p: float) -> tuple[float, float]:
        """``(s, t)`` with ``Sigma^p = s (I + t theta theta^T)``."""
        return self.alpha**p, (1.0 + self.kappa) ** p - 1.0

    def apply(self, v: np.ndarray, p: float = 1.0) -> np.ndarray:
        """``Sigma^p v`` for ``v`` of shape ``(..., d)``."""
        s, t = self.power_coefficients(p)
        along = v @ self.theta
        return s * (v + t * along[..., None] * self.theta)

    def sqrt(self, v: np.ndarray) -> np.ndarray:
        return self.apply(v, 0.5)

    def inv_sqrt(self, v: np.ndarray) -> np.ndarray:
        return self.apply(v, -0.5)

    def inv(self, v: np.ndarray) -> np.ndarray:
        return self.apply(v, -1.0)

    def quadratic(self, v: np.ndarray, p: float = 1.0) -> np.ndarray:
        """``v^T Sigma^p v`` along the last axis."""
        s, t = self.power_coefficients(p)
        along = v @ self.theta
        return s * (np.einsum("...i,...i->...", v, v) + t * along**2)

    def sample(self, n: int, rng: np.random.Generator, *, size: tuple[int, ...] = ()) -> np.ndarray:
        """``n`` samples ``x ~ N(0, Sigma)``, shape ``(*size, n, d)``, in ``O(n d)``."""
        if n <= 0:
            raise DomainError(f"the number of samples must be positive, got {n}")
        z = rng.standard_normal((*size, n, self.dim))
        return self.sqrt(z)


def unit_vector(d: int, rng: np.random.Generator, size: tuple[int, ...] = ()) -> np.ndarray:
    """Uniform on the sphere ``S^(d-1)`` (a normalised Gaussian)."""
    v = rng.standard_normal((*size, d))
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def spike_and_target(d: int, c: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random unit ``theta`` and ``u`` with ``<u, theta> = c`` exactly."""
    if abs(c) > 1:
        raise DomainError(f"the alignment c must lie in [-1, 1], got {c}")
    theta = unit_vector(d, rng)
    other = rng.standard_normal(d)
    other -= (other @ theta) * theta
    other /= np.linalg.norm(other)
    u = c * theta + np.sqrt(max(1.0 - c * c, 0.0)) * other
    return theta, u / np.linalg.norm(u)


def start_with_overlaps(
    theta: np.ndarray, u: np.ndarray, a0: float, b0: float, rng: np.random.Generator, size=()
) -> np.ndarray:
    """Unit vectors ``w`` with ``<w, theta> = a0``, ``<w, u> = b0``, random in the complement."""
    d = theta.shape[0]
    basis = np.linalg.qr(np.stack([theta, u], axis=1))[0]  # orthonormal basis of span(theta, u)
    gram = basis.T @ np.stack([theta, u], axis=1)  # coordinates of theta, u
    coords = np.linalg.lstsq(gram.T, np.array([a0, b0]), rcond=None)[0]
    rest = 1.0 - coords @ coords
    if rest < -1e-12:
        raise DomainError(f"no unit vector has <w, theta> = {a0} and <w, u> = {b0}")
    z = rng.standard_normal((*size, d))
    z -= (z @ basis) @ basis.T
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    return basis @ coords + np.sqrt(max(rest, 0.0)) * z
