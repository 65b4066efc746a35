r"""Information and leap exponents of a multi-index link from its Hermite expansion.

For ``F(z_1, ..., z_M)`` with ``z ~ N(0, I_M)``, ``F = sum_alpha f_alpha He_alpha(z)`` with
``He_alpha = prod_j He_(alpha_j)(z_j)``; the support is ``S = {alpha : |alpha| >= 1,
f_alpha != 0}``.

* The information exponent is ``min{|alpha| : alpha in S}``.
* The leap (Abbe, Boix-Adsera, Misiakiewicz, COLT 2023, arXiv 2302.11055) is
  ``min over orderings alpha^(1), ..., alpha^(n) of S of max_i sum_(k not in U_i) alpha^(i)_k``
  with ``U_i`` the union of the supports of ``alpha^(1), ..., alpha^(i-1)``: the largest number
  of new directions (with multiplicity) some step has to find at once.  Adding an index only
  enlarges ``U``, so an ordering with all steps ``<= L`` exists iff adding every index whose
  step is ``<= L``, repeatedly, exhausts ``S``; the leap is the least such ``L``.

Both are computed in the coordinates ``z_1, ..., z_M`` of the link as written (the paper's
isotropic leap minimises over orthonormal bases as well).  For a polynomial link the
coefficients are exact (``z^n = sum_k n!/(k! ((n-k)/2)! 2^((n-k)/2)) He_k(z)``, ``n - k``
even).  A sum of products of functions of one variable each uses the exact or certified
numeric coefficients of :func:`featcheck.theory.hermite.hermite_coefficients` up to
``max_degree``; a numeric coefficient counts as non-zero only beyond its error bound.

The time scale this predicts for online SGD (a reading of the paper, up to logarithmic
factors): ``d^(max(L - 1, 1))`` samples, i.e. ``t = steps/d`` of order ``d^(max(L - 1, 1) - 1)``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from featcheck.theory.errors import InputError
from featcheck.theory.functions import as_function, z
from featcheck.theory.hermite import hermite_coefficients, moment_against_he

MultiIndex = tuple[int, ...]


@dataclass(frozen=True)
class LinkExponents:
    """Hermite support, information exponent and leap of a multi-index link."""

    link: sp.Expr
    width: int
    coefficients: dict[MultiIndex, sp.Expr]
    support: tuple[MultiIndex, ...]
    information_exponent: int | None
    leap: int | None
    ordering: tuple[MultiIndex, ...]
    exact: bool
    max_degree: int | None

    @property
    def sample_exponent(self) -> int | None:
        """``max(L - 1, 1)``: online SGD needs about ``d^this`` samples (up to logs)."""
        return None if self.leap is None else max(self.leap - 1, 1)

    @property
    def time_exponent(self) -> int | None:
        """The exponent of ``d`` in the time ``t = steps/d`` that prediction gives."""
        e = self.sample_exponent
        return None if e is None else e - 1

    def describe(self) -> str:
        if self.leap is None:
            return "the link has no non-constant Hermite component" + (
                f" up to degree {self.max_degree}" if self.max_degree else ""
            )
        order = " -> ".join("(" + ",".join(map(str, a)) + ")" for a in self.ordering)
        scope = "" if self.max_degree is None else f" (degrees <= {self.max_degree})"
        return (
            f"information exponent {self.information_exponent}, leap {self.leap}{scope}: "
            f"ordering {order}"
        )


def _monomial_in_he(n: int) -> dict[int, sp.Integer]:
    """``z^n = sum_k m_k He_k(z)`` with ``m_k = E[z^n He_k] / k!``."""
    return {
        k: moment_against_he(n, k) / sp.factorial(k)
        for k in range(n % 2, n + 1, 2)
        if moment_against_he(n, k) != 0
    }


def _polynomial_coefficients(expr: sp.Expr, zs: tuple[sp.Symbol, ...]) -> dict[MultiIndex, sp.Expr]:
    out: dict[MultiIndex, sp.Expr] = {}
    for powers, c in sp.Poly(expr, *zs).terms():
        per_variable = [_monomial_in_he(n) for n in powers]
        for choice in itertools.product(*[list(p.items()) for p in per_variable]):
            alpha = tuple(k for k, _ in choice)
            value = c * sp.Mul(*[m for _, m in choice])
            out[alpha] = out.get(alpha, 0) + value
    return {a: sp.nsimplify(v) if v.is_Float else v for a, v in out.items() if v != 0}


def _separable_coefficients(
    expr: sp.Expr, zs: tuple[sp.Symbol, ...], max_degree: int
) -> tuple[dict[MultiIndex, sp.Expr], bool]:
    """Coefficients of a sum of products of functions of one ``z_j`` each."""
    out: dict[MultiIndex, sp.Expr] = {}
    exact = True
    for term in sp.Add.make_args(sp.expand(expr)):
        by_variable: dict[int, sp.Expr] = {}
        constant = sp.Integer(1)
        for factor in sp.Mul.make_args(term):
            present = [j for j, zj in enumerate(zs) if factor.has(zj)]
            if not present:
                constant *= factor
            elif len(present) == 1:
                j = present[0]
                by_variable[j] = by_variable.get(j, sp.Integer(1)) * factor
            else:
                raise InputError(
                    f"the leap needs a link that is a sum of products of functions of one "
                    f"variable each; {factor} mixes several"
                )
        expansions = []
        for j in range(len(zs)):
            if j not in by_variable:
                expansions.append({0: sp.Integer(1)})
                continue
            f = as_function(by_variable[j].subs(zs[j], z))
            expansion = hermite_coefficients(f, max_degree, basis="monic")
            values = {}
            for c in expansion.coefficients:
                if c.is_exact:
                    if c.exact != 0:
                        values[c.degree] = c.exact / sp.factorial(c.degree)
                elif abs(c.value) > c.error:
                    exact = False
                    values[c.degree] = sp.Float(c.value, 20) / sp.factorial(c.degree)
            expansions.append(values)
        for choice in itertools.product(*[list(e.items()) for e in expansions]):
            alpha = tuple(k for k, _ in choice)
            if sum(alpha) > max_degree:
                continue
            value = constant * sp.Mul(*[v for _, v in choice])
            out[alpha] = out.get(alpha, 0) + value
    return {a: v for a, v in out.items() if v != 0}, exact


def leap_of_support(support: list[MultiIndex]) -> tuple[int | None, tuple[MultiIndex, ...]]:
    """The leap of a set of multi-indices and an ordering that attains it."""
    indices = sorted({a for a in support if sum(a) >= 1}, key=lambda a: (sum(a), a))
    if not indices:
        return None, ()
    for level in range(1, max(sum(a) for a in indices) + 1):
        covered: set[int] = set()
        remaining = list(indices)
        ordering: list[MultiIndex] = []
        progress = True
        while remaining and progress:
            progress = False
            for alpha in list(remaining):
                step = sum(n for k, n in enumerate(alpha) if k not in covered)
                if step <= level:
                    ordering.append(alpha)
                    covered |= {k for k, n in enumerate(alpha) if n}
                    remaining.remove(alpha)
                    progress = True
        if not remaining:
            return level, tuple(ordering)
    raise AssertionError("the largest degree always suffices")


def link_exponents(link: sp.Expr, width: int, *, max_degree: int = 8) -> LinkExponents:
    """Hermite coefficients, information exponent and leap of ``link(z1, ..., z{width})``."""
    zs = tuple(sp.Symbol(f"z{j}", real=True) for j in range(1, width + 1))
    expr = sp.sympify(link)
    if expr.is_polynomial(*zs):
        coefficients = _polynomial_coefficients(expr, zs)
        exact, degree = True, None
    else:
        coefficients, exact = _separable_coefficients(expr, zs, max_degree)
        degree = max_degree
    support = sorted((a for a in coefficients if sum(a) >= 1), key=lambda a: (sum(a), a))
    information = min((sum(a) for a in support), default=None)
    leap, ordering = leap_of_support(support)
    return LinkExponents(
        expr, width, coefficients, tuple(support), information, leap, ordering, exact, degree
    )
