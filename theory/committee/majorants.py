r"""Majorants of an integrand on a complex strip, the input of certified quadrature.

Let ``f(y_1, ..., y_m)`` be an integrand of a
:class:`~featcheck.theory.committee.expectations.GaussianIntegral`.  For imaginary widths
``beta_k >= 0`` a *majorant* is a polynomial with non-negative coefficients

    U(s) = sum_alpha c_alpha prod_k s_k^alpha_k   such that   |f(x + i eta)| <= U(|x|)

for every real ``x`` and every ``|eta_k| <= beta_k`` (``|x|`` taken entrywise).  It is built
from the expression tree by the triangle inequality, ``|a + b| <= |a| + |b|``,
``|a b| = |a| |b|``, ``|y_k| <= |x_k| + beta_k``, and one bound per function of a linear
argument ``l = sum_k c_k y_k + c_0`` (real ``c``), whose imaginary part is at most
``v = sum_k |c_k| beta_k``:

* ``|tanh(u + i w)| <= 1/cos(w)`` for ``|w| < pi/2`` (``|tanh|^2 =
  (sinh^2 u + sin^2 w)/(sinh^2 u + cos^2 w) <= max(1, tan^2 w)``);
* ``|erf(u + i w)| <= 1 + (2/sqrt(pi)) |w| exp(w^2)`` (``erf`` changes along the vertical
  segment by at most its length times ``max |(2/sqrt(pi)) exp(-(u + i s)^2)| <=
  (2/sqrt(pi)) exp(w^2)``);
* ``|sin|, |cos| <= cosh(w)``;
* ``|exp(q(y))| <= exp(q_0 + sum_kl |B_kl| beta_k beta_l)`` for ``q = q_0 + y^T B y`` with
  ``B`` negative semi-definite (``Re q(x + i eta) = q_0 + x^T B x - eta^T B eta``);
* ``|1/D|^n <= c_0^-n`` for ``D = c_0 + sum_j c_j exp(l_j)`` with all ``c_j > 0`` and
  every ``l_j``'s imaginary part below ``pi/2`` (then ``Re D >= c_0``): the denominators of
  ``sigmoid`` and its powers and derivatives.

Integrands outside these forms (steps, ``|y|``, ReLU with a bias, ``log``, growing
exponentials) are not analytic in a strip, or not bounded there by a polynomial, and have no
majorant: :func:`strip_analysis` raises :class:`NotCertifiable` naming the part.

The admissible widths are those with every constraint ``sum_k |c_k| beta_k < v_max`` met;
:class:`StripAnalysis` records the constraints (``limits``) and returns the majorant of given
widths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import sympy as sp

from featcheck.theory.committee.expectations import slot_symbols

Monomial = tuple[int, ...]
Polynomial = dict[Monomial, float]

HALF_PI = math.pi / 2


class NotCertifiable(ValueError):
    """The integrand has no majorant on any strip (the message names the part)."""


@dataclass(frozen=True)
class Limit:
    """The constraint ``sum_k weights_k beta_k < bound`` on the widths."""

    weights: tuple[float, ...]
    bound: float


def _add(p: Polynomial, q: Polynomial) -> Polynomial:
    out = dict(p)
    for k, v in q.items():
        out[k] = out.get(k, 0.0) + v
    return out


def _mul(p: Polynomial, q: Polynomial) -> Polynomial:
    out: Polynomial = {}
    for a, u in p.items():
        for b, v in q.items():
            key = tuple(i + j for i, j in zip(a, b, strict=True))
            out[key] = out.get(key, 0.0) + u * v
    return out


def _constant(m: int, value: float) -> Polynomial:
    return {(0,) * m: float(value)}


class _Analyser:
    """One walk of the expression tree, with the widths ``beta`` (``None``: constraints only)."""

    def __init__(self, m: int, beta: Sequence[float] | None) -> None:
        self.m = m
        self.y = slot_symbols(m)
        self.beta = beta
        self.limits: list[Limit] = []

    def linear(self, arg: sp.Expr, where: sp.Expr) -> tuple[float, ...]:
        """``(|c_1|, ..., |c_m|)`` of a real linear argument."""
        poly = sp.Poly(sp.expand(arg), *self.y) if arg.free_symbols else None
        if poly is None:
            return (0.0,) * self.m
        if poly.total_degree() > 1 or not all(c.is_real for c in poly.coeffs()):
            raise NotCertifiable(f"{where}: the argument is not a real linear form")
        return tuple(abs(float(poly.coeff_monomial(v))) for v in self.y)

    def width(self, weights: tuple[float, ...]) -> float:
        if self.beta is None:
            return 0.0
        return sum(w * b for w, b in zip(weights, self.beta, strict=True))

    def bound(self, e: sp.Expr) -> Polynomial:
        m = self.m
        if e.is_number:
            value = complex(sp.N(e, 20))
            if not math.isfinite(abs(value)):
                raise NotCertifiable(f"{e}: not a finite constant")
            return _constant(m, abs(value))
        if e in self.y:
            k = self.y.index(e)
            beta = 0.0 if self.beta is None else self.beta[k]
            unit = tuple(int(i == k) for i in range(m))
            return {unit: 1.0, (0,) * m: beta}
        if isinstance(e, sp.Add):
            out: Polynomial = {}
            for a in e.args:
                out = _add(out, self.bound(a))
            return out
        if isinstance(e, sp.Mul):
            out = _constant(m, 1.0)
            for a in e.args:
                out = _mul(out, self.bound(a))
            return out
        if isinstance(e, sp.Pow):
            base, exponent = e.args
            if exponent.is_Integer and exponent > 0:
                out = _constant(m, 1.0)
                factor = self.bound(base)
                for _ in range(int(exponent)):
                    out = _mul(out, factor)
                return out
            if exponent.is_Integer and exponent < 0:
                return _constant(m, self.positive_exponential_sum(base) ** int(exponent))
            raise NotCertifiable(f"{e}: a non-integer power")
        if isinstance(e, sp.tanh):
            weights = self.linear(e.args[0], e)
            self.limits.append(Limit(weights, HALF_PI))
            w = self.width(weights)
            if w >= HALF_PI:
                raise NotCertifiable(f"{e}: the strip reaches a pole")
            return _constant(m, 1.0 / math.cos(w))
        if isinstance(e, sp.erf):
            w = self.width(self.linear(e.args[0], e))
            return _constant(m, 1.0 + 2.0 / math.sqrt(math.pi) * w * math.exp(w * w))
        if isinstance(e, (sp.sin, sp.cos)):
            w = self.width(self.linear(e.args[0], e))
            return _constant(m, math.cosh(w))
        if isinstance(e, sp.exp):
            return _constant(m, self.gaussian_factor(e))
        raise NotCertifiable(f"{e}: no majorant on a strip for {type(e).__name__}")

    def gaussian_factor(self, e: sp.exp) -> float:
        """``max |exp(q)|`` over the strip for ``q = q_0 + y^T B y``, ``B`` negative
        semi-definite."""
        poly = sp.Poly(sp.expand(e.args[0]), *self.y)
        if poly.total_degree() > 2 or any(sum(mon) == 1 for mon in poly.monoms()):
            raise NotCertifiable(f"{e}: only exp of a negative semi-definite quadratic form")
        B = sp.zeros(self.m, self.m)
        for mon, c in zip(poly.monoms(), poly.coeffs(), strict=True):
            if sum(mon) != 2:
                continue
            i, j = (k for k in range(self.m) for _ in range(mon[k]))
            if i == j:
                B[i, i] = c
            else:
                B[i, j] = B[j, i] = c / 2
        if not (B.is_zero_matrix or B.is_negative_semidefinite):
            raise NotCertifiable(f"{e}: the quadratic form is not negative semi-definite")
        q0 = float(poly.coeff_monomial(1))
        beta = self.beta or (0.0,) * self.m
        growth = sum(
            abs(float(B[i, j])) * beta[i] * beta[j] for i in range(self.m) for j in range(self.m)
        )
        return math.exp(q0 + growth)

    def positive_exponential_sum(self, d: sp.Expr) -> float:
        """``c_0`` of ``D = c_0 + sum_j c_j exp(l_j)`` (all ``c_j > 0``), recording that every
        ``l_j``'s imaginary part must stay below ``pi/2`` (then ``Re D >= c_0 > 0``)."""
        terms = sp.Add.make_args(sp.expand(d))
        c0 = 0.0
        for term in terms:
            coefficient, factors = term.as_coeff_mul()
            if not (coefficient.is_number and coefficient.is_positive):
                raise NotCertifiable(f"1/({d}): a term without a positive coefficient")
            exponent = sp.Integer(0)
            for f in factors:
                if f.is_number and f.is_positive:
                    coefficient *= f
                elif isinstance(f, sp.exp):
                    exponent += f.args[0]
                elif isinstance(f, sp.Pow) and isinstance(f.args[0], sp.exp):
                    exponent += f.args[0].args[0] * f.args[1]
                else:
                    raise NotCertifiable(f"1/({d}): {f} is not an exponential")
            if not exponent.free_symbols:
                c0 += float(coefficient * sp.exp(exponent))
                continue
            weights = self.linear(exponent, d)
            self.limits.append(Limit(weights, HALF_PI))
            if self.width(weights) >= HALF_PI:
                raise NotCertifiable(f"1/({d}): the strip reaches a zero")
        if c0 <= 0:
            raise NotCertifiable(f"1/({d}): no positive constant term")
        return c0


@dataclass(frozen=True)
class StripAnalysis:
    """The majorants of one integrand in ``m`` slots."""

    integrand: sp.Expr
    slots: int
    limits: tuple[Limit, ...]

    def admissible(self, beta: Sequence[float]) -> bool:
        """Whether the widths meet every constraint."""
        return all(
            sum(w * b for w, b in zip(lim.weights, beta, strict=True)) < lim.bound
            for lim in self.limits
        )

    def majorant(self, beta: Sequence[float]) -> Polynomial:
        """The coefficients ``c_alpha`` of ``U`` for the widths ``beta``."""
        if len(beta) != self.slots or any(b < 0 for b in beta):
            raise ValueError(f"need {self.slots} non-negative widths, got {beta}")
        walk = _Analyser(self.slots, tuple(float(b) for b in beta))
        return {k: v for k, v in walk.bound(self.integrand).items() if v != 0.0}


@cache
def strip_analysis(integrand: sp.Expr, slots: int) -> StripAnalysis:
    """The constraints of ``integrand`` (an expression in ``y_1..y_slots``); raises
    :class:`NotCertifiable` when it has no majorant."""
    walk = _Analyser(slots, None)
    walk.bound(integrand)
    return StripAnalysis(integrand, slots, tuple(dict.fromkeys(walk.limits)))
