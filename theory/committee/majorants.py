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
* ``|e^l / prod_i F_i| <= prod_i 1/(c_i cos v_i)`` for a fraction whose denominator factors
  (``sympy.factor``) into sums ``F_i = sum_j c_ij exp(l_ij)`` with all ``c_ij > 0`` and every
  ``l_ij`` within ``pi/2`` of the real axis, one term ``c_i exp(l_i)`` chosen in each factor so
  that the chosen ``l_i`` add up to ``l`` (``Re F_i >= c_i e^(Re l_i) cos v_i``): ``sigmoid``,
  its powers and derivatives (whose expanded denominators factor into ``(1 + e^(y_k))^p``), and
  the derivative of ``softplus``, ``e^z/(1 + e^z)``;
* ``|log(1 + exp(l))| <= ln 2 + |Re l| + pi/2`` for ``v < pi/2`` (``Re(1 + e^l) >= 1``):
  ``softplus``.

Integrands outside these forms (steps, ``|y|``, ReLU with a bias, other logarithms, growing
exponentials without a denominator that bounds them) are not analytic in a strip, or not
bounded there by a polynomial, and have no majorant: :func:`strip_analysis` raises
:class:`NotCertifiable` naming the part.

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


def _is_integer_power(f: sp.Expr) -> bool:
    return isinstance(f, sp.Pow) and f.args[1].is_Integer


def _is_reciprocal(f: sp.Expr) -> bool:
    """``D^-n`` with ``n`` a positive integer and ``D`` a sum."""
    return _is_integer_power(f) and f.args[1] < 0 and isinstance(f.args[0], sp.Add)


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
            rest = list(e.args)
            if any(self.is_growing_exponential(a) or _is_reciprocal(a) for a in e.args):
                rest, ratio = self.exponential_fraction(e, e.args)
                out = _constant(m, ratio)
            for a in rest:
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
            if _is_reciprocal(e):
                return _constant(m, self.exponential_fraction(e, [e])[1])
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
        if isinstance(e, sp.log):
            return self.softplus(e)
        raise NotCertifiable(f"{e}: no majorant on a strip for {type(e).__name__}")

    def exponent_of(self, f: sp.Expr) -> sp.Expr | None:
        """``l`` when ``f = exp(l)``, ``exp(l)^n`` (integer ``n``) or a product of such, else
        None."""
        if isinstance(f, sp.Mul):
            parts = [self.exponent_of(a) for a in f.args]
            return None if any(p is None for p in parts) else sp.Add(*parts)
        if isinstance(f, sp.exp):
            return f.args[0]
        if isinstance(f, sp.Pow) and isinstance(f.args[0], sp.exp) and f.args[1].is_Integer:
            return f.args[0].args[0] * f.args[1]
        return None

    def is_growing_exponential(self, f: sp.Expr) -> bool:
        """An exponential of a non-constant linear form (it grows along some direction)."""
        exponent = self.exponent_of(f)
        if exponent is None or not exponent.free_symbols:
            return False
        poly = sp.Poly(sp.expand(exponent), *self.y)
        return poly.total_degree() == 1

    def exponential_fraction(self, e: sp.Expr, factors) -> tuple[list, float]:
        """``|e^l / prod_i F_i|`` for the growing exponentials (``e^l`` combined) and the
        reciprocals among ``factors``: each reciprocal's base is factored (``sympy.factor``:
        the expanded denominators of ``sigmoid`` products become products of ``1 + e^(y_k)``),
        its exponential factors join ``l``, and every remaining factor ``F = sum_j c_j
        e^(l_j)`` (``c_j > 0``, each ``l_j`` within ``pi/2`` of the real axis) satisfies
        ``Re F >= c_j e^(Re l_j) cos v_j`` for each of its terms.  Choosing one term per
        factor (with multiplicity) so that the chosen ``l_j`` add up to ``l`` bounds the
        fraction by ``prod 1/(c_j cos v_j)`` (``cos v_j = 1`` for a constant term); the
        cheapest such choice is taken.  Returns the other factors and that constant."""
        exponent = sp.Integer(0)
        copies: list[list[tuple[float, sp.Expr]]] = []
        constant = 1.0
        rest = []
        for f in factors:
            if self.is_growing_exponential(f):
                exponent += self.exponent_of(f)
                continue
            if not _is_reciprocal(f):
                rest.append(f)
                continue
            n = -int(f.args[1])
            for g in sp.Mul.make_args(sp.factor(f.args[0])):
                power = self.exponent_of(g)
                if g.is_number:
                    if not g.is_positive:
                        raise NotCertifiable(f"{e}: a denominator with a non-positive factor")
                    constant /= float(g) ** n
                elif power is not None:
                    exponent -= n * power
                else:
                    base, p = (g.args[0], int(g.args[1])) if _is_integer_power(g) else (g, 1)
                    terms = self.exponential_terms(base, e)
                    for _, l_j in terms:
                        if l_j.free_symbols:
                            self.limits.append(Limit(self.linear(l_j, e), HALF_PI))
                    copies += [terms] * (p * n)
        target = self._vector(sp.expand(exponent), e)
        best = self._cheapest(copies, target, e)
        if best is None:
            raise NotCertifiable(f"{e}: an exponential without a denominator that bounds it")
        return rest, constant * best

    def _vector(self, power: sp.Expr, where: sp.Expr) -> tuple:
        poly = sp.Poly(power, *self.y) if power.free_symbols else None
        if poly is None:
            if power != 0:
                raise NotCertifiable(f"{where}: a constant in an exponent")
            return (sp.Integer(0),) * self.m
        if poly.total_degree() > 1 or poly.coeff_monomial(1) != 0:
            raise NotCertifiable(f"{where}: an exponent that is not a linear form")
        return tuple(poly.coeff_monomial(v) for v in self.y)

    def _cheapest(self, copies: list, target: tuple, where: sp.Expr) -> float | None:
        """The least ``prod 1/(c_j cos v_j)`` over choices of one term per copy whose
        exponents add up to ``target`` (None if there is none)."""
        options = []
        for terms in copies:
            row = []
            for c, l_j in terms:
                v = self.width(self.linear(l_j, where)) if l_j.free_symbols else 0.0
                if v >= HALF_PI:
                    raise NotCertifiable(f"{where}: the strip reaches a zero of a denominator")
                row.append((self._vector(l_j, where), 1.0 / (c * math.cos(v))))
            options.append(row)
        zero = (sp.Integer(0),) * self.m

        @cache
        def search(i: int, remaining: tuple) -> float | None:
            if i == len(options):
                return 1.0 if remaining == zero else None
            found = None
            for vector, cost in options[i]:
                rest = search(i + 1, tuple(a - b for a, b in zip(remaining, vector, strict=True)))
                if rest is not None and (found is None or cost * rest < found):
                    found = cost * rest
            return found

        return search(0, target)

    def exponential_terms(self, d: sp.Expr, where: sp.Expr) -> list[tuple[float, sp.Expr]]:
        """``[(c_j, l_j)]`` of ``D = sum_j c_j exp(l_j)`` with every ``c_j > 0``."""
        out = []
        for term in sp.Add.make_args(sp.expand(d)):
            coefficient, factors = term.as_coeff_mul()
            if not (coefficient.is_number and coefficient.is_positive):
                raise NotCertifiable(f"{where}: a term without a positive coefficient")
            exponent = sp.Integer(0)
            for f in factors:
                if f.is_number and f.is_positive:
                    coefficient *= f
                    continue
                power = self.exponent_of(f)
                if power is None:
                    raise NotCertifiable(f"{where}: {f} is not an exponential")
                exponent += power
            if not exponent.free_symbols:
                coefficient, exponent = coefficient * sp.exp(exponent), sp.Integer(0)
            out.append((float(coefficient), sp.expand(exponent)))
        return out

    def softplus(self, e: sp.log) -> Polynomial:
        """``log(1 + exp(l))`` with ``|Im l| <= v < pi/2``: ``Re(1 + e^l) >= 1`` and
        ``|1 + e^l| <= 1 + e^(Re l)``, so ``|log(1 + e^l)| <= ln 2 + |Re l| + pi/2``."""
        arg = sp.expand(e.args[0])
        constant, rest = arg.as_independent(*self.y, as_Add=True)
        power = self.exponent_of(rest)
        if constant != 1 or power is None:
            raise NotCertifiable(f"{e}: only log(1 + exp(l)) has a majorant here")
        weights = self.linear(power, e)
        self.limits.append(Limit(weights, HALF_PI))
        if self.width(weights) >= HALF_PI:
            raise NotCertifiable(f"{e}: the strip reaches a branch point")
        poly = sp.Poly(sp.expand(power), *self.y)
        out = _constant(self.m, math.log(2) + HALF_PI + abs(float(poly.coeff_monomial(1))))
        for k, w in enumerate(weights):
            if w:
                out[tuple(int(i == k) for i in range(self.m))] = w
        return out

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
