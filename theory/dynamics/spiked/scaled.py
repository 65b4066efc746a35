r"""The Hermite coefficients of a rescaled activation ``phi(sigma .)`` as functions of ``sigma``.

In the plain (unnormalized) spherical flow of Mousavi-Hosseini, Wu, Suzuki, Erdogdu (2023)
the student's pre-activation ``<w, x>`` has variance ``sigma^2 = w^T Sigma w``, which moves
with ``w``.  The risk then needs ``V(sigma) = E[phi(sigma Z)^2]`` and the normalised Hermite
coefficients ``c_k(sigma) = E[phi(sigma Z) He_k(Z)] / sqrt(k!)``, ``Z ~ N(0, 1)``, as
functions of ``sigma``.

* For a piecewise polynomial ``phi`` (polynomials, ReLU with or without bias, ``|z|``,
  ``sign``, ``z|z|``, ...) they are exact: on a piece ``[l, r]`` of ``phi``,
  ``phi(sigma z)`` is ``p(sigma z)`` for ``z in [l/sigma, r/sigma]`` and
  ``E[p(sigma Z) He_k(Z) 1{...}] = sum_m [z^m](p(sigma z) He_k(z)) M_m(l/sigma, r/sigma)``
  with the truncated Gaussian moments ``M_m(l, r) = int_l^r z^m phi(z) dz``.
* For any other activation that is smooth on the real line (``tanh``, ``sigmoid``,
  ``softplus``, user expressions without kinks) ``V(sigma)`` and ``c_k(sigma)`` have no
  closed form.  They stay *symbols*: :class:`ScaledIntegral` applications ``V(sigma)``,
  ``c_k(sigma)`` whose ``sigma``-derivatives are again such applications, defined exactly by
  differentiation under the integral sign,
  ``d^j/dsigma^j E[F(sigma, Z)] = E[d^j F/dsigma^j (sigma, Z)]`` (``F`` smooth, of polynomial
  growth).  The closure, projection and chain rule stay exact; only the evaluation of these
  one-dimensional Gaussian integrals is numeric (``mpmath.quad`` here; a composite
  Gauss-Legendre rule in ``featcheck.numerics.spiked.scaled_integrals`` for compiled
  right-hand sides).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache

import mpmath
import sympy as sp

from featcheck.theory.errors import DomainError
from featcheck.theory.functions import Function, hermite_he, z
from featcheck.theory.hermite import piecewise_pieces, truncated_moments


def _pieces(function: Function) -> list[tuple[sp.Expr, sp.Expr, sp.Poly]] | None:
    """Polynomial pieces of ``phi``, or None when it is not piecewise polynomial."""
    if function.is_polynomial:
        return [(-sp.oo, sp.oo, sp.Poly(function.expr, z))]
    # The piecewise decomposition of the Hermite engine (same pieces as its exact path).
    pieces = piecewise_pieces(function)
    if pieces is None:
        return None
    return [piece for piece in pieces if not piece[2].is_zero]


#: the scale inside the integrands of :class:`ScaledIntegral` (``integrand`` is in it and ``z``)
SCALE = sp.Symbol("varsigma", positive=True)


class ScaledIntegral(sp.Function):
    """``d^order/dsigma^order`` of ``V(sigma) = E[phi(sigma Z)^2]`` (``kind = "V"``) or of
    ``c_k(sigma) = E[phi(sigma Z) He_k(Z)]/sqrt(k!)`` (``kind = "c"``), ``Z ~ N(0, 1)``.

    Subclasses are made by :func:`scaled_integral` (one per activation, kind, k, order).
    ``integrand`` is the exact sympy integrand ``d^order F/dsigma^order`` in
    (``varsigma``, ``z``), without the Gaussian density.  ``evalf`` integrates it with
    ``mpmath.quad`` (split at ``z = j/sigma`` so that a steep ``phi(sigma z)`` is resolved).
    """

    nargs = 1
    activation: Function
    kind: str
    k: int
    order: int
    integrand: sp.Expr

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        cls = type(self)
        return scaled_integral(cls.activation, cls.kind, cls.k, cls.order + 1)(self.args[0])

    def _eval_evalf(self, prec: int):
        x = self.args[0].evalf(prec)
        if not (x.is_Number and x.is_real):
            return None
        return sp.Float(scaled_integral_mp(type(self), str(x), prec), precision=prec)

    def _latex(self, printer, exp=None) -> str:
        cls = type(self)
        base = "V" if cls.kind == "V" else f"c_{{{cls.k}}}"
        primes = "'" * cls.order if cls.order <= 3 else f"^{{({cls.order})}}"
        out = rf"{base}{primes}\!\left({printer._print(self.args[0])}\right)"
        return f"{out}^{{{exp}}}" if exp else out


@lru_cache(maxsize=512)
def scaled_integral(activation: Function, kind: str, k: int, order: int) -> type:
    """The :class:`ScaledIntegral` subclass for one activation, kind, degree and order."""
    if kind == "V":
        base = activation.expr.subs(z, SCALE * z) ** 2
    else:
        base = activation.expr.subs(z, SCALE * z) * hermite_he(k) / sp.sqrt(sp.factorial(k))
    integrand = sp.diff(base, SCALE, order) if order else base
    token = hashlib.sha1(sp.srepr(activation.expr).encode()).hexdigest()[:10]
    name = f"phiscaled_{kind}{k if kind == 'c' else ''}_d{order}_{token}"
    attrs = {
        "activation": activation,
        "kind": kind,
        "k": k,
        "order": order,
        "integrand": integrand,
        "__module__": __name__,
    }
    return type(name, (ScaledIntegral,), attrs)


@lru_cache(maxsize=4096)
def scaled_integral_mp(cls: type, x: float | str, prec: int) -> mpmath.mpf:
    """``E[integrand(x, Z)]`` by ``mpmath.quad`` at ``prec`` bits (plus a guard).

    Tanh-sinh on ``(-inf, 0]`` and ``[0, inf)``; if mpmath's error estimate is not below
    ``2^-(prec - 10)`` the line is also split at ``z = j/sigma`` (a steep ``phi(sigma z)``).
    """
    with mpmath.workprec(prec + 30):
        sigma_ = mpmath.mpf(x)
        f = _mp_integrand(cls)
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)

        def integrand(t):
            return f(sigma_, t) * mpmath.exp(-t * t / 2) * norm

        value, error = mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf], error=True)
        if error > mpmath.mpf(2) ** -(prec - 10) * max(1, abs(value)):
            width = max(1, int(mpmath.ceil(8 * sigma_)))
            cuts = [mpmath.mpf(j) / sigma_ for j in range(-width, width + 1)]
            points = [-mpmath.inf, *[t for t in cuts if abs(t) < 12], mpmath.inf]
            value = mpmath.quad(integrand, points)
    return +value


@lru_cache(maxsize=512)
def _mp_integrand(cls: type):
    return sp.lambdify((SCALE, z), cls.integrand, modules="mpmath")


def mp_namespace(*exprs: sp.Expr) -> dict[str, object]:
    """Names of the :class:`ScaledIntegral` symbols in ``exprs`` -> mpmath evaluators."""
    out = {}
    for expr in exprs:
        for atom in sp.sympify(expr).atoms(ScaledIntegral):
            cls = type(atom)
            out[cls.__name__] = _mp_evaluator(cls)
    return out


def _mp_evaluator(cls: type):
    def evaluate(x):
        return scaled_integral_mp(cls, mpmath.nstr(mpmath.mpf(x), 50), mpmath.mp.prec)

    return evaluate


def _check_smooth(function: Function) -> None:
    if function.breakpoints:
        raise DomainError(
            f"the plain spherical flow needs E[phi(sigma Z)^2] and c_k(phi(sigma .)) as "
            f"functions of sigma; {function.name} has kinks at "
            f"{', '.join(str(p) for p in function.breakpoints)} and is not piecewise "
            "polynomial, so neither the exact path nor differentiation under the integral "
            "applies. Use a piecewise-polynomial activation (relu, abs, relu(z-1), z*abs(z)) "
            "or a smooth one (tanh, sigmoid, softplus, ...), or the normalized or "
            "preconditioned flow, which need only c_k(phi)"
        )


@dataclass(frozen=True)
class ScaledActivation:
    """``phi(sigma .)`` for a symbolic scale ``sigma > 0``: second moment and coefficients."""

    function: Function
    scale: sp.Symbol

    @cached_property
    def pieces(self) -> list[tuple[sp.Expr, sp.Expr, sp.Poly]] | None:
        return _pieces(self.function)

    @cached_property
    def closed_form(self) -> bool:
        """True for piecewise polynomials (exact); False: :class:`ScaledIntegral` symbols."""
        if self.pieces is None:
            _check_smooth(self.function)
            return False
        return True

    def _expect(self, polys: list[tuple[sp.Expr, sp.Expr, sp.Expr]]) -> sp.Expr:
        total = sp.Integer(0)
        for lo, hi, expr in polys:
            poly = sp.Poly(sp.expand(expr), z)
            coeffs = poly.all_coeffs()[::-1]
            lo_s = lo if lo in (sp.oo, -sp.oo) else lo / self.scale
            hi_s = hi if hi in (sp.oo, -sp.oo) else hi / self.scale
            moments = truncated_moments(max(len(coeffs) - 1, 1), lo_s, hi_s)
            total += sp.Add(*[cf * moments[k] for k, cf in enumerate(coeffs) if cf != 0])
        return total

    @cached_property
    def second_moment(self) -> sp.Expr:
        """``V(sigma) = E[phi(sigma Z)^2]``."""
        s = self.scale
        if not self.closed_form:
            return scaled_integral(self.function, "V", 0, 0)(s)
        return sp.simplify(
            self._expect([(lo, hi, p.as_expr().subs(z, s * z) ** 2) for lo, hi, p in self.pieces])
        )

    def coefficient(self, k: int) -> sp.Expr:
        """``c_k(phi(sigma .)) = E[phi(sigma Z) He_k(Z)] / sqrt(k!)``."""
        s = self.scale
        if self.function.vanishes_by_symmetry(k):
            return sp.Integer(0)  # phi(sigma .) has the symmetry of phi
        if not self.closed_form:
            return scaled_integral(self.function, "c", k, 0)(s)
        he = hermite_he(k)
        mu = self._expect([(lo, hi, p.as_expr().subs(z, s * z) * he) for lo, hi, p in self.pieces])
        return sp.simplify(mu / sp.sqrt(sp.factorial(k)))

    @cached_property
    def homogeneity(self) -> int | None:
        """``p`` with ``phi(sigma z) = sigma^p phi(z)`` for all ``sigma > 0``, if any."""
        degrees = set()
        if not self.closed_form:
            return None
        for lo, hi, poly in self.pieces:
            if lo not in (-sp.oo, 0) or hi not in (0, sp.oo):
                return None
            terms = poly.monoms()
            if len(terms) != 1:
                return None
            degrees.add(terms[0][0])
        return degrees.pop() if len(degrees) == 1 else None
