"""Online spherical SGD for a single-index target under a spiked covariance: the setting.

Model: ``x ~ N(0, Sigma)``,
``Sigma = (I_d + kappa theta theta^T)/(1 + kappa)``, target
``y = g(<u, x>/||Sigma^(1/2) u||) + sigma_eps * eps`` with ``||u|| = 1`` and
``c = <u, theta>``.  Student ``phi(p)`` with pre-activation

* ``plain``:          ``p = <w, x>``, step ``w <- (w - eta P_w grad)/||.||`` (Euclidean sphere,
  ``P_w = I - w w^T``);
* ``normalized``:     ``p = <w, x>/||Sigma^(1/2) w||``, same step (the gradient is already
  orthogonal to ``w`` because ``p`` is 0-homogeneous);
* ``preconditioned``: the normalized student with the step ``w - eta Sigma^(-1) grad``,
  renormalised to ``||Sigma^(1/2) w|| = 1``.  In whitened coordinates this is exactly
  isotropic spherical SGD with step ``eta``, started from the whitened overlap ``rho0`` of a
  Euclidean-uniform ``w0``.

One-sample losses: ``correlation`` ``-y phi(p)`` or ``square`` ``(phi(p) - y)^2/2``.
Links and activations are polynomials (given by their monic Hermite coefficients, so
``He_k`` evaluations are exact) or ReLU.  Success is an overlap ``|<w, u>|/||w||``
(``overlap = "u"``) or a whitened overlap ``|rho|`` (``"whitened"``) at least
``threshold``; :func:`whitened_overlap` computes ``rho``.

The simulators taking an :class:`OnlineSGD` are
:func:`featcheck.numerics.exponents.overlap_chain.simulate` (exact, ``O(1)`` per step)
and :func:`featcheck.numerics.exponents.overlap_chain.simulate_full` (``O(d)`` per step),
both the committee model's simulators.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from featcheck.theory.errors import DomainError, InputError

if TYPE_CHECKING:  # sympy loads only when a link is parsed
    from featcheck.theory.functions import FunctionLike

VARIANTS = ("plain", "normalized", "preconditioned")
LOSSES = ("correlation", "square")
OVERLAPS = ("u", "whitened")
RELU = 1
POLYNOMIAL = 0


@dataclass(frozen=True)
class Link:
    """A link or activation: a polynomial in monic Hermite coefficients, or ReLU."""

    name: str
    kind: int
    coefficients: tuple[float, ...]

    @classmethod
    def parse(cls, function: FunctionLike) -> Link:
        """A link from a :class:`~featcheck.theory.functions.Function`, a sympy expression in
        ``z`` or a string (``h(3)``, ``he(2)``, ``z^3 - 3*z``, ``relu``): a polynomial of
        degree at most 12, or ReLU."""
        import sympy as sp

        from featcheck.theory.functions import as_function, z
        from featcheck.theory.hermite import hermite_coefficients

        function = as_function(function)
        if sp.simplify(function.expr - sp.Max(z, 0)) == 0:
            return cls("relu", RELU, ())
        if not function.is_polynomial:
            raise InputError(
                f"the simulators support polynomial links and relu; {function.name!r} is neither"
            )
        degree = sp.Poly(function.expr, z).degree()
        if degree > 12:
            raise DomainError(f"polynomial degree {degree} is above the supported maximum 12")
        expansion = hermite_coefficients(function, max(degree, 0), basis="monic")
        monic = tuple(float(c.value) / math.factorial(c.degree) for c in expansion.coefficients)
        return cls(function.name, POLYNOMIAL, monic)

    @classmethod
    def hermite(cls, k: int) -> Link:
        """``h_k = He_k/sqrt(k!)`` (unit second moment, information exponent ``k``)."""
        coefficients = [0.0] * (k + 1)
        coefficients[k] = 1.0 / math.sqrt(math.factorial(k))
        return cls(f"h({k})", POLYNOMIAL, tuple(coefficients))

    def array(self) -> np.ndarray:
        return np.asarray(self.coefficients if self.coefficients else (0.0,), dtype=np.float64)

    def __call__(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(f(z), f'(z))`` with numpy (for the full-dimensional simulator)."""
        z = np.asarray(z, dtype=np.float64)
        if self.kind == RELU:
            return np.maximum(z, 0.0), (z > 0).astype(np.float64)
        value = np.zeros_like(z)
        slope = np.zeros_like(z)
        previous, current = np.zeros_like(z), np.ones_like(z)  # He_{-1}, He_0
        for k, a in enumerate(self.coefficients):
            value += a * current
            if k > 0:
                slope += a * k * previous
            previous, current = current, z * current - k * previous
        return value, slope


@dataclass(frozen=True)
class OnlineSGD:
    """One configuration of online spherical SGD (everything that fixes its law).

    ``activation`` (the student ``phi``; None: the same as the link) and ``link`` (the
    target ``g``) are :class:`Link` objects or anything :meth:`Link.parse` accepts.
    """

    d: int
    eta: float
    activation: Link | FunctionLike | None = None
    link: Link | FunctionLike = field(default_factory=lambda: Link.hermite(2))
    kappa: float = 0.0
    c: float = 1.0
    variant: str = "normalized"
    loss: str = "correlation"
    noise: float = 0.0
    threshold: float = 0.5
    overlap: str = "whitened"
    absolute: bool = True

    def __post_init__(self) -> None:
        for name in ("activation", "link"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Link):
                object.__setattr__(self, name, Link.parse(value))
        if int(self.d) != self.d or self.d < 3:
            raise DomainError(f"dimension d must be a whole number >= 3, got {self.d}")
        if not (math.isfinite(self.eta) and self.eta > 0):
            raise DomainError(f"step size eta must be positive and finite, got {self.eta}")
        if not (math.isfinite(self.kappa) and self.kappa >= 0):
            raise DomainError(f"spike kappa must be >= 0, got {self.kappa}")
        if not -1.0 <= self.c <= 1.0:
            raise DomainError(f"alignment c = <u, theta> must lie in [-1, 1], got {self.c}")
        if self.variant not in VARIANTS:
            raise DomainError(f"unknown variant {self.variant!r}: use {', '.join(VARIANTS)}")
        if self.loss not in LOSSES:
            raise DomainError(f"unknown loss {self.loss!r}: use {', '.join(LOSSES)}")
        if self.overlap not in OVERLAPS:
            raise DomainError(f"unknown overlap {self.overlap!r}: use {', '.join(OVERLAPS)}")
        if not 0 < self.threshold <= 1:
            raise DomainError(f"success threshold must lie in (0, 1], got {self.threshold}")
        if self.noise < 0:
            raise DomainError(f"label noise must be >= 0, got {self.noise}")

    @property
    def student(self) -> Link:
        """The student's activation ``phi``."""
        return self.activation or self.link

    def to_json(self) -> dict:
        """Plain data that fixes the law of a run (the cache key is built from it)."""
        out = asdict(self)
        out["link"] = asdict(self.link)
        out["activation"] = asdict(self.student)
        return out


def whitened_overlap(a, b, kappa: float, c: float, norm2=1.0):
    """``rho = w^T Sigma u / (||Sigma^(1/2) w|| ||Sigma^(1/2) u||)`` from ``a = <w, theta>``,
    ``b = <w, u>`` and ``||w||^2 = norm2``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    sigma_w = np.sqrt((norm2 + kappa * a * a) / (1 + kappa))
    sigma_u = math.sqrt((1 + kappa * c * c) / (1 + kappa))
    return (b + kappa * c * a) / (1 + kappa) / (sigma_w * sigma_u)
