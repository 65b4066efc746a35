"""Model B (Demir and Dogan 2025): the degree ``L(beta)`` and the Hermite model.

The Hermite model of degree ``L`` replaces ``sigma`` in the readout by
``sum_{i<=L} h_i He_i(u/b) + s_L eps`` with ``b = sqrt(n / tr)``,
``h_i = E[sigma(b Z) He_i(Z)] / i!`` and ``s_L^2 = E[sigma(b Z)^2] - sum_{i<=L} i! h_i^2``;
Theorem 4 of the paper takes ``L = L(beta) = floor(1/(1 - beta))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy as sp

from featcheck.theory.errors import DomainError
from featcheck.theory.functions import Function, FunctionLike, as_function
from featcheck.theory.hermite import Coefficient, Quantity, hermite_coefficients
from featcheck.theory.onestep.coefficients import at_integer, exact_rational


def hermite_degree(beta: float | sp.Rational) -> int:
    """Model B: ``L(beta) = floor(1/(1 - beta))`` for ``beta`` in ``(0, 1)``.

    Theorem 4's intervals ``(l-2)/(l-1) < beta < (l-1)/l`` give ``L = l - 1``; the
    model is undefined at the boundaries ``beta = 1 - 1/j`` (``1/2, 2/3, 3/4, ...``).
    """
    b = exact_rational(beta, "beta")
    if not (0 < b < 1):
        raise DomainError(f"beta must lie in (0, 1), got {beta}")
    inverse = 1 / (1 - b)
    if at_integer(inverse):
        inverse = sp.Integer(round(float(inverse)))
        raise DomainError(
            f"beta = {b} is the boundary 1 - 1/{inverse} between Hermite degrees "
            f"{int(inverse) - 1} and {int(inverse)}: the Hermite model is undefined there"
        )
    return int(sp.floor(inverse))


def degree_interval(L: int) -> tuple[sp.Rational, sp.Rational]:
    """Model B: the open interval of ``beta`` on which ``L(beta) = L``."""
    if L < 1:
        raise DomainError(f"Hermite degree must be at least 1, got {L}")
    return sp.Rational(L - 1, L), sp.Rational(L, L + 1)


def rational_scale(b: float, tolerance: float = 1e-12) -> sp.Rational:
    """A rational within relative ``tolerance`` of ``b > 0`` (keeps exact Hermite paths exact)."""
    if not b > 0:
        raise DomainError(f"scale must be positive, got {b}")
    fraction = Fraction(b).limit_denominator(int(1 / tolerance))
    return sp.Rational(fraction.numerator, fraction.denominator)


@dataclass(frozen=True)
class HermiteModel:
    """Model B: ``sigma_L(u) = sum_{i<=L} h_i He_i(u/b) + s_L eps`` for ``sigma(b .)``."""

    activation: Function
    scale: sp.Rational
    degree: int
    method: str
    mu: tuple[Coefficient, ...]  # mu_i(sigma(b .)) = i! h_i, i = 0..L
    second_moment: Quantity
    residual_variance: Quantity  # s_L^2

    @property
    def h(self) -> tuple[float, ...]:
        """``h_i = mu_i / i!`` as floats."""
        return tuple(float(c.value) / float(sp.factorial(c.degree)) for c in self.mu)

    @property
    def residual_std(self) -> float:
        return float(mpmath.sqrt(max(self.residual_variance.value, 0)))


def hermite_model(activation: FunctionLike, scale: float, degree: int) -> HermiteModel:
    """Model B: coefficients and residual variance of the degree-``L`` Hermite model.

    ``mu_i = E[sigma(b Z) He_i(Z)]`` (monic basis of ``sigma(b .)`` via
    :meth:`Function.scaled`), ``h_i = mu_i / i!`` and
    ``s_L^2 = E[sigma(b Z)^2] - sum_{i<=L} mu_i^2 / i!`` (Parseval), exact when
    the foundation is exact for ``sigma(b .)``; otherwise each error bound is
    carried through.  ``scale`` is replaced by a rational within ``1e-12``.
    """
    sigma = as_function(activation)
    if not isinstance(degree, int) or degree < 0:
        raise DomainError(f"Hermite degree must be a non-negative integer, got {degree}")
    b = rational_scale(float(scale))
    expansion = hermite_coefficients(sigma.scaled(b), degree, basis="monic")
    mus = expansion.coefficients
    m2 = expansion.second_moment
    if expansion.method == "exact" and m2.is_exact and all(c.is_exact for c in mus):
        exact = m2.exact - sum(c.exact**2 / sp.factorial(c.degree) for c in mus)
        exact = sp.nsimplify(sp.simplify(exact)) if exact.is_number else exact
        value = mpmath.mpf(sp.N(exact, 40))
        residual = Quantity(exact, value, mpmath.mpf(0))
    else:
        value = m2.value - sum(c.value**2 / mpmath.factorial(c.degree) for c in mus)
        error = m2.error + sum(
            (2 * abs(c.value) * c.error + c.error**2) / mpmath.factorial(c.degree) for c in mus
        )
        residual = Quantity(None, value, error)
    if residual.value + residual.error < 0:
        raise DomainError("negative residual variance: the coefficients are inconsistent")
    return HermiteModel(sigma, b, degree, expansion.method, mus, m2, residual)
