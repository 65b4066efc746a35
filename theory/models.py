"""Data models for single-index learning: isotropic and ``(kappa, theta)``-spiked inputs.

Notation of Mousavi-Hosseini, Wu, Suzuki, Erdogdu (2023, arXiv 2309.03843).  Inputs
``x ~ N(0, Sigma)`` with

* ``unit`` (default): ``Sigma = (I + kappa theta theta^T) / (1 + kappa)``, eigenvalue 1
  along ``theta`` and ``1/(1 + kappa)`` in the bulk;
* ``ba``: ``Sigma = I + kappa theta theta^T`` (Ba, Erdogdu, Suzuki, Wang, Wu 2023).

Both are ``Sigma = alpha (I + kappa theta theta^T)`` with ``alpha = 1/(1 + kappa)`` or ``1``.
The target is ``y = g(<u, x> / ||Sigma^(1/2) u||) + eps`` with ``||u|| = 1`` and
``eps ~ N(0, sigma_eps^2)``, so the argument of ``g`` is ``N(0, 1)``; the alignment is
``c = <u, theta>``.  The student neuron is ``phi(<w, x>)``.

For ``||w|| = 1`` and the summary statistics ``a = <w, theta>``, ``b = <w, u>``:

* ``sigma_w^2 = w^T Sigma w = alpha (1 + kappa a^2)``,
* ``sigma_u^2 = alpha (1 + kappa c^2)``,
* ``w^T Sigma u = alpha (b + kappa c a)``,
* ``rho = w^T Sigma u / (sigma_w sigma_u)
  = (b + kappa c a) / sqrt((1 + kappa a^2)(1 + kappa c^2))``,

the correlation of the two pre-activations (it does not depend on the convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.functions import Function, as_function
from featcheck.theory.names import CONVENTIONS

kappa = sp.Symbol("kappa", nonnegative=True)
c = sp.Symbol("c", real=True)
a = sp.Symbol("a", real=True)
b = sp.Symbol("b", real=True)
m = sp.Symbol("m", real=True)
rho = sp.Symbol("rho", real=True)
sigma = sp.Symbol("sigma", positive=True)
d = sp.Symbol("d", positive=True)


def check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise InputError(f"unknown covariance convention {convention!r}: use 'unit' or 'ba'")


def covariance_scale(convention: str, k: sp.Expr = kappa) -> sp.Expr:
    """``alpha`` in ``Sigma = alpha (I + kappa theta theta^T)``."""
    check_convention(convention)
    return 1 / (1 + k) if convention == "unit" else sp.Integer(1)


def check_kappa(value: float | sp.Expr) -> None:
    if not sp.sympify(value).is_real or float(value) < 0:
        raise DomainError(f"the spike magnitude kappa must be >= 0, got {value}")


def check_alignment(value: float | sp.Expr) -> None:
    if not sp.sympify(value).is_real or abs(float(value)) > 1:
        raise DomainError(f"the alignment c = <u, theta> must lie in [-1, 1], got {value}")


def check_dimension(value: int) -> None:
    if int(value) != value or value < 3:
        raise DomainError(f"the dimension d must be a whole number >= 3, got {value}")


@dataclass(frozen=True)
class SpikedCovariance:
    """``Sigma = alpha (I + kappa theta theta^T)``; ``kappa`` may be a number or the symbol."""

    kappa: sp.Expr = kappa
    convention: str = "unit"

    def __post_init__(self) -> None:
        check_convention(self.convention)
        if self.kappa.is_number:
            check_kappa(self.kappa)

    @property
    def alpha(self) -> sp.Expr:
        return covariance_scale(self.convention, self.kappa)

    @property
    def spike_eigenvalue(self) -> sp.Expr:
        return sp.simplify(self.alpha * (1 + self.kappa))

    @property
    def bulk_eigenvalue(self) -> sp.Expr:
        return self.alpha

    def power(self, p: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
        """``Sigma^p = s (I + t theta theta^T)``: ``s = alpha^p``, ``t = (1+kappa)^p - 1``."""
        return self.alpha**p, (1 + self.kappa) ** p - 1

    def sigma_w2(self, a_: sp.Expr = a) -> sp.Expr:
        """``w^T Sigma w`` for a unit ``w`` with ``<w, theta> = a``."""
        return self.alpha * (1 + self.kappa * a_**2)

    def sigma_u2(self, c_: sp.Expr = c) -> sp.Expr:
        return self.alpha * (1 + self.kappa * c_**2)

    def cross(self, a_: sp.Expr = a, b_: sp.Expr = b, c_: sp.Expr = c) -> sp.Expr:
        """``w^T Sigma u``."""
        return self.alpha * (b_ + self.kappa * c_ * a_)

    def correlation(self, a_: sp.Expr = a, b_: sp.Expr = b, c_: sp.Expr = c) -> sp.Expr:
        """``rho(a, b)``, the correlation of ``<w, x>`` and ``<u, x>`` (unit ``w``)."""
        return (b_ + self.kappa * c_ * a_) / sp.sqrt(
            (1 + self.kappa * a_**2) * (1 + self.kappa * c_**2)
        )


@dataclass(frozen=True)
class SingleIndexModel:
    """``x ~ N(0, Sigma)``, ``y = g(<u, x>/||Sigma^(1/2) u||) + eps``, alignment ``c``."""

    link: Function
    covariance: SpikedCovariance
    alignment: sp.Expr = c
    noise: sp.Expr = sp.S.Zero

    def __post_init__(self) -> None:
        if self.alignment.is_number:
            check_alignment(self.alignment)
        if self.noise.is_number and float(self.noise) < 0:
            raise DomainError(f"the noise level must be >= 0, got {self.noise}")

    @property
    def is_aligned(self) -> bool:
        return self.alignment == 1


def spiked_model(
    link: str | Function,
    kappa_value: float | sp.Expr | None = None,
    alignment: float | sp.Expr | None = None,
    *,
    convention: str = "unit",
    noise: float = 0.0,
) -> SingleIndexModel:
    """A spiked single-index model; ``None`` keeps ``kappa`` or ``c`` symbolic."""
    link = as_function(link)
    k = kappa if kappa_value is None else _exact(kappa_value)
    cc = c if alignment is None else _exact(alignment)
    if k.is_number:
        check_kappa(k)
    if cc.is_number:
        check_alignment(cc)
    return SingleIndexModel(link, SpikedCovariance(k, convention), cc, _exact(noise))


def isotropic_model(link: str | Function, noise: float = 0.0) -> SingleIndexModel:
    """``x ~ N(0, I_d)``: the spiked model at ``kappa = 0``."""
    return spiked_model(link, 0, 1, noise=noise)


def _exact(value: float | sp.Expr) -> sp.Expr:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise DomainError(f"expected a finite number, got {value}")
        return sp.nsimplify(value, rational=True)
    return sp.sympify(value)


def scalings(d_value: float, r1: float, r2: float) -> tuple[float, float]:
    """High-dimensional scalings ``kappa = d^r2``, ``c = d^(-r1)``."""
    if not 0 <= r1 <= 0.5:
        raise DomainError(f"r1 must lie in [0, 1/2], got {r1}")
    if not 0 <= r2 <= 1:
        raise DomainError(f"r2 must lie in [0, 1], got {r2}")
    check_dimension(int(d_value))
    return float(d_value) ** r2, float(d_value) ** (-r1)


def initial_rho(a0: sp.Expr, b_perp: sp.Expr, cov: SpikedCovariance, c_: sp.Expr = c) -> sp.Expr:
    """Whitened overlap at a start ``w0`` with ``<w0, theta> = a0``, ``<w0, theta_perp> = b_perp``.

    ``u = c theta + sqrt(1 - c^2) theta_perp``, so ``b = c a0 + sqrt(1 - c^2) b_perp``.
    """
    b0 = c_ * a0 + sp.sqrt(1 - c_**2) * b_perp
    return cov.correlation(a0, b0, c_)
