r"""The Gaussian correlation function ``psi`` of an activation and a link, as a series.

For standard Gaussians ``Z1, Z2`` with correlation ``rho``, Mehler's formula gives

``psi_{f,g}(rho) = E[f(Z1) g(Z2)] = sum_k c_k(f) c_k(g) rho^k``

with ``c_k(f) = E[f(Z) He_k(Z)] / sqrt(k!)`` the normalised Hermite coefficients.  In
Mousavi-Hosseini, Wu, Suzuki, Erdogdu (2023) the risk of the normalized and preconditioned
students is ``-psi_{phi,g}(rho) + const`` with ``rho`` the correlation of ``<w, x>`` and
``<u, x>``.  The series is exact when ``f`` or ``g`` is a polynomial; otherwise it is
truncated at degree ``K`` and, by Cauchy-Schwarz and Parseval, the remainder obeys
``|sum_{k>K} c_k(f) c_k(g) rho^k| <= |rho|^(K+1) sqrt(T_f T_g)`` with
``T_f = E[f^2] - sum_{k<=K} c_k(f)^2`` (``HermiteExpansion.parseval_tail``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import mpmath
import sympy as sp

from featcheck.theory.functions import Function, z
from featcheck.theory.hermite import HermiteExpansion, hermite_coefficients

DEFAULT_MAX_DEGREE = 12


def coefficient_expr(coefficient, digits: int = 30) -> sp.Expr:
    """A coefficient as a sympy number: exact when known, else a Float of ``digits`` digits."""
    if coefficient.exact is not None:
        return sp.nsimplify(coefficient.exact) if coefficient.exact.is_Float else coefficient.exact
    return sp.Float(mpmath.nstr(coefficient.value, digits), digits)


@dataclass(frozen=True)
class CorrelationSeries:
    """``psi(rho) = sum_{k <= K} p_k rho^k``, ``p_k = c_k(f) c_k(g)``, with a remainder bound.

    ``exact``: the sum is the whole series (``f`` or ``g`` is a polynomial of degree
    ``<= K``); otherwise ``tail_bound = sqrt(T_f T_g)`` bounds the remainder divided by
    ``|rho|^(K+1)``.
    """

    f: Function
    g: Function
    products: tuple[sp.Expr, ...]
    exact: bool
    tail_bound: float

    @property
    def max_degree(self) -> int:
        return len(self.products) - 1

    def psi(self, x: sp.Expr) -> sp.Expr:
        """The (truncated) series evaluated at ``x``."""
        return sp.Add(*[p * x**k for k, p in enumerate(self.products) if p != 0])

    def product(self, k: int) -> sp.Expr:
        """``p_k = c_k(f) c_k(g)`` (zero beyond the truncation)."""
        return self.products[k] if k < len(self.products) else sp.Integer(0)

    @cached_property
    def leading_degree(self) -> int | None:
        """``min{k >= 1 : c_k(f) c_k(g) != 0}`` within the truncation."""
        for k, p in enumerate(self.products):
            if k >= 1 and p != 0 and abs(float(p)) > 0:
                return k
        return None


def _polynomial_degree(function: Function) -> int | None:
    return sp.Poly(function.expr, z).degree() if function.is_polynomial else None


def correlation_series(
    f: Function, g: Function, max_degree: int = DEFAULT_MAX_DEGREE
) -> CorrelationSeries:
    """The Mehler series of ``E[f(Z1) g(Z2)]``; exact if ``f`` or ``g`` is a polynomial."""
    degrees = [k for k in (_polynomial_degree(f), _polynomial_degree(g)) if k is not None]
    degree = min(degrees) if degrees else max_degree
    ef = hermite_coefficients(f, degree)
    eg = hermite_coefficients(g, degree)
    products = tuple(
        sp.nsimplify(coefficient_expr(cf) * coefficient_expr(cg))
        if (cf.exact is not None and cg.exact is not None)
        else coefficient_expr(cf) * coefficient_expr(cg)
        for cf, cg in zip(ef.coefficients, eg.coefficients, strict=True)
    )
    products = tuple(sp.simplify(p) if p.is_number and not p.is_Float else p for p in products)
    if degrees:
        return CorrelationSeries(f, g, products, True, 0.0)
    return CorrelationSeries(f, g, products, False, _tail_bound(ef, eg))


def _tail_bound(ef: HermiteExpansion, eg: HermiteExpansion) -> float:
    _, tf = ef.parseval_tail()
    _, tg = eg.parseval_tail()
    return float(mpmath.sqrt(tf * tg))
