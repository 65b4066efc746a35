r"""Gaussian identities: the Mehler kernel and variance scaling.

For standard Gaussians ``Z1, Z2`` with correlation ``rho`` (Mehler),

    E[f(Z1) g(Z2)] = psi_{f,g}(rho) = sum_k c_k(f) c_k(g) rho^k .

:func:`mehler` returns ``psi`` in closed form when one side is a polynomial
(a finite sum), when both are positive multiples of ReLU (the arc-cosine
kernel ``(sqrt(1 - rho^2) + (pi - arccos rho) rho) / (2 pi)``) or both are
multiples of ``erf(a z)`` (the arcsine kernel
``(2/pi) arcsin(2 a b rho / sqrt((1 + 2a^2)(1 + 2b^2)))``); otherwise a
truncated series with a rigorous bound on the remainder: by Cauchy-Schwarz
and Parseval,

    |sum_{k>K} c_k(f) c_k(g) rho^k| <= |rho|^(K+1) sqrt(T_f(K) T_g(K)),
    T_f(K) = E[f^2] - sum_{k<=K} c_k(f)^2 .

Variance scaling: a Gaussian of variance ``sigma^2`` is ``sigma Z``, so the
coefficients of ``f(sigma .)`` (:meth:`featcheck.theory.functions.Function.scaled`) apply;
:func:`scaled_monic_coefficient` gives them from those of ``f`` through
``mu_k(f(sigma .)) = sigma^k sum_j mu_{k+2j}(f) ((sigma^2 - 1)/2)^j / j!``
(a finite sum for polynomials).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from featcheck.theory.errors import DomainError
from featcheck.theory.functions import Function, FunctionLike, as_function, z
from featcheck.theory.hermite import HermiteExpansion, hermite_coefficients

rho = sp.Symbol("rho", real=True)


@dataclass(frozen=True)
class MehlerKernel:
    """``psi_{f,g}(rho)``: a closed form, or a truncated series with a tail bound."""

    f: Function
    g: Function
    method: str  # "polynomial", "arc-cosine", "arcsine" or "series"
    closed_form: sp.Expr | None
    f_expansion: HermiteExpansion
    g_expansion: HermiteExpansion

    @property
    def max_degree(self) -> int:
        return self.f_expansion.max_degree

    def _pairs(self):
        return zip(self.f_expansion.coefficients, self.g_expansion.coefficients, strict=True)

    def series(self) -> sp.Expr:
        """The truncated series ``sum_{k<=K} c_k(f) c_k(g) rho^k`` (exact where both are)."""
        terms = []
        for cf, cg in self._pairs():
            if cf.exact is not None and cg.exact is not None:
                coefficient = cf.exact * cg.exact
            else:
                coefficient = sp.Float(cf.value * cg.value, 30)
            terms.append(coefficient * rho**cf.degree)
        return sp.Add(*terms)

    def evaluate(self, value: float | mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
        """``(psi(rho), error bound)`` at a correlation ``|rho| <= 1``."""
        r = mpmath.mpf(value)
        if abs(r) > 1:
            raise DomainError(f"a correlation must lie in [-1, 1], got {value}")
        if self.closed_form is not None and self.method != "polynomial":
            exact = self.closed_form.subs(rho, sp.Float(r, mpmath.mp.dps + 5))
            return mpmath.mpf(sp.N(exact, mpmath.mp.dps + 5)), mpmath.mpf(0)
        total = mpmath.mpf(0)
        error = mpmath.mpf(0)
        for cf, cg in self._pairs():
            power = r**cf.degree
            total += cf.value * cg.value * power
            product_error = (
                abs(cf.value) * cg.error + abs(cg.value) * cf.error + cf.error * cg.error
            )
            error += product_error * abs(power)
        if self.method == "series":
            _, tail_f = self.f_expansion.parseval_tail()
            _, tail_g = self.g_expansion.parseval_tail()
            error += abs(r) ** (self.max_degree + 1) * mpmath.sqrt(tail_f * tail_g)
        return total, error


def _relu_multiple(function: Function) -> sp.Expr | None:
    """``a`` if ``f = a max(z, 0)`` with ``a > 0``, else None."""
    a = function.expr.subs(z, 1)
    if not (a.is_number and a.is_positive):
        return None
    if sp.simplify(function.expr - a * sp.Max(z, 0)) == 0:
        return a
    return None


def _erf_multiple(function: Function) -> tuple[sp.Expr, sp.Expr] | None:
    """``(c, a)`` if ``f = c erf(a z)``, else None."""
    erfs = function.expr.atoms(sp.erf)
    if len(erfs) != 1:
        return None
    (node,) = erfs
    a = sp.expand(node.args[0]).coeff(z)
    if a == 0 or sp.expand(node.args[0] - a * z) != 0:
        return None
    c = sp.simplify(function.expr / node)
    if c.has(z):
        return None
    return c, a


def mehler(
    f: FunctionLike,
    g: FunctionLike,
    max_degree: int = 30,
    *,
    digits: int = 30,
) -> MehlerKernel:
    """The Mehler kernel ``psi_{f,g}``; the series part uses degrees ``0..max_degree``."""
    f = as_function(f)
    g = as_function(g)
    degree = max_degree
    for side in (f, g):
        if side.is_polynomial:
            degree = min(degree, sp.Poly(side.expr, z).degree())
    fe = hermite_coefficients(f, degree, digits=digits)
    ge = hermite_coefficients(g, degree, digits=digits)
    if f.is_polynomial or g.is_polynomial:
        kernel = MehlerKernel(f, g, "polynomial", None, fe, ge)
        exact = fe.method == "exact" and ge.method == "exact"
        return MehlerKernel(f, g, "polynomial", kernel.series() if exact else None, fe, ge)
    relu_f, relu_g = _relu_multiple(f), _relu_multiple(g)
    if relu_f is not None and relu_g is not None:
        arc_cosine = (sp.sqrt(1 - rho**2) + (sp.pi - sp.acos(rho)) * rho) / (2 * sp.pi)
        return MehlerKernel(f, g, "arc-cosine", relu_f * relu_g * arc_cosine, fe, ge)
    erf_f, erf_g = _erf_multiple(f), _erf_multiple(g)
    if erf_f is not None and erf_g is not None:
        (cf, a), (cg, b) = erf_f, erf_g
        arcsine = 2 / sp.pi * sp.asin(2 * a * b * rho / sp.sqrt((1 + 2 * a**2) * (1 + 2 * b**2)))
        return MehlerKernel(f, g, "arcsine", cf * cg * arcsine, fe, ge)
    return MehlerKernel(f, g, "series", None, fe, ge)


def scaled_monic_coefficient(expansion: HermiteExpansion, k: int, sigma: sp.Expr) -> sp.Expr:
    """``mu_k(f(sigma .))`` from the exact monic coefficients of a polynomial ``f``.

    ``mu_k(f(sigma .)) = sigma^k sum_j mu_{k+2j}(f) ((sigma^2 - 1)/2)^j / j!``; the sum is
    finite for a polynomial, and ``expansion`` must reach its degree.
    """
    monic = expansion.in_basis("monic")
    if monic.method != "exact" or not monic.function.is_polynomial:
        raise DomainError("the finite scaling sum needs the exact expansion of a polynomial")
    if monic.max_degree < sp.Poly(monic.function.expr, z).degree():
        raise DomainError("the expansion must reach the degree of the polynomial")
    total = sp.Integer(0)
    j = 0
    while k + 2 * j <= monic.max_degree:
        total += monic[k + 2 * j].exact * ((sigma**2 - 1) / 2) ** j / sp.factorial(j)
        j += 1
    return sp.expand(sigma**k * total)
