r"""Exact Hermite analysis of functions of a standard Gaussian.

Conventions (DLMF chapter 18, probabilists' normalisation): Hermite
polynomials ``He_k`` with ``E[He_j(Z) He_k(Z)] = k! [j = k]``, orthonormal
``h_k = He_k / sqrt(k!)``; *normalized* coefficients ``c_k(f) = E[f(Z) h_k(Z)]``
and *monic* coefficients ``mu_k(f) = E[f(Z) He_k(Z)] = sqrt(k!) c_k(f)``.

Methods, chosen from the form of ``f``:

* polynomial: projection, ``mu_k = sum_m p_m E[Z^m He_k(Z)]`` with
  ``E[Z^m He_k(Z)] = m! / (((m-k)/2)! 2^((m-k)/2))`` for ``m >= k``, ``m - k`` even;
* sums of ``p(z) g(z)`` with ``p`` polynomial and ``g`` one of ``1``,
  ``exp(-a z^2)``, ``erf(b z)``: write ``p He_k = sum_j beta_j He_j`` (via
  ``z He_j = He_{j+1} + j He_{j-1}``) and use the closed forms
  ``mu_j(exp(-a z^2)) = He_j(0) (2a/(1+2a))^(j/2) / sqrt(1+2a)`` and
  ``mu_j(erf(b z)) = 2b He_{j-1}(0) (2b^2/(1+2b^2))^((j-1)/2) / sqrt(pi (1+2b^2))``;
* piecewise polynomials (ReLU with and without bias, ``|z|``, ``sign``, step,
  any ``abs``/``max``/``min``/``sign``/``step`` combination of polynomials): on a
  piece ``[a, b]``, integration by parts with ``(He_{k-1} phi)' = -He_k phi`` gives
  ``int_a^b p He_k phi = sum_{j<k} [p^(j) He_{k-1-j} phi]_{b}^{a} + int_a^b p^(k) phi``
  (only ``j <= deg p`` contribute), with ``phi``, ``Phi`` the N(0,1) density and
  distribution function; this is the closed-form recurrence that makes ReLU to
  degree 200 fast;
* anything else (``tanh``, ``sigmoid``, ``softplus``, user expressions):
  tanh-sinh quadrature in mpmath at the requested number of digits, split at
  the kinks, with an error estimate carried by every coefficient.  Coefficients
  that vanish by parity are exact zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache, lru_cache

import mpmath
import sympy as sp

from featcheck.theory.errors import DomainError, InputError, NumericalError
from featcheck.theory.functions import SWITCHES, Function, FunctionLike, as_function, branches, z
from featcheck.theory.names import BASES, MAX_DEGREE
from featcheck.theory.tanh_sinh import gaussian_integrals, hermite_vector

#: The numeric path evaluates ``He_0 .. He_K`` at every quadrature node with
#: ``digits + 15 + K/4`` working digits (He_K cancels that many); its cost grows like
#: ``K^2`` times the precision, about a minute at ``K = 150`` on one core.
MAX_NUMERIC_DEGREE = 150
SQRT_2PI = sp.sqrt(2 * sp.pi)


class _ScaledBySqrtFactorial:
    """An exact form not built yet: ``base * sqrt(k!)**power`` with ``power`` 1 or -1.

    Building it is sympy work (a product of surds put in canonical form); a coefficient
    whose exact form nobody reads never pays for it.
    """

    __slots__ = ("base", "degree", "power")

    def __init__(self, base: sp.Expr, degree: int, power: int) -> None:
        self.base, self.degree, self.power = base, degree, power

    def build(self) -> sp.Expr:
        factor = sqrt_factorial(self.degree)
        if self.power < 0:
            factor = inverse_sqrt_factorial(self.degree)
        return self.base * factor


class _ExactField:
    """The ``exact`` field of :class:`Quantity`: stored as given, or built on first
    access (then kept) when it was given as a deferred product."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, obj, owner=None):
        if obj is None:  # no class-level default: the field stays a required argument
            raise AttributeError(self.slot[1:])
        stored = obj.__dict__[self.slot]
        if isinstance(stored, _ScaledBySqrtFactorial):
            stored = obj.__dict__[self.slot] = stored.build()
        return stored

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.slot] = value


@dataclass(frozen=True)
class Quantity:
    """A real number known exactly (``exact`` set, ``error = 0``) or to within ``error``.

    The exact form of a converted coefficient is built when ``exact`` is first read
    (equality, hashing and ``repr`` read it too); ``value`` and ``error`` never wait for it.
    """

    exact: sp.Expr | None = _ExactField()  # type: ignore[assignment]
    value: mpmath.mpf
    error: mpmath.mpf

    @property
    def is_exact(self) -> bool:
        return self.__dict__["_exact"] is not None

    def scaled(self, factor: sp.Expr) -> Quantity:
        """The quantity times an exact positive ``factor``."""
        f = mpmath.mpf(sp.N(factor, mpmath.mp.dps + 10))
        exact = None if self.exact is None else self.exact * factor
        return Quantity(exact, self.value * f, self.error * f)


@dataclass(frozen=True)
class Coefficient(Quantity):
    """A Hermite coefficient of a given degree."""

    degree: int = 0


@dataclass(frozen=True)
class HermiteExpansion:
    """Hermite coefficients of ``function`` up to ``max_degree`` in one ``basis``."""

    function: Function
    basis: str
    method: str  # "exact" or "numeric"
    form: str
    coefficients: tuple[Coefficient, ...]
    second_moment: Quantity
    digits: int

    @property
    def max_degree(self) -> int:
        return len(self.coefficients) - 1

    def __getitem__(self, k: int) -> Coefficient:
        return self.coefficients[k]

    def values(self) -> list[float]:
        return [float(c.value) for c in self.coefficients]

    def in_basis(self, basis: str) -> HermiteExpansion:
        """The same expansion in the other basis (``mu_k = sqrt(k!) c_k``)."""
        check_basis(basis)
        if basis == self.basis:
            return self
        with mpmath.workdps(self.digits + 10):
            converted = tuple(convert_coefficient(c, self.basis, basis) for c in self.coefficients)
        return replace(self, basis=basis, coefficients=converted)

    def parseval_tail(self) -> tuple[mpmath.mpf, mpmath.mpf]:
        """Bounds ``(lower, upper)`` on ``sum_{k > K} c_k^2 = E[f^2] - sum_{k <= K} c_k^2``."""
        normalized = self.in_basis("normalized")
        low_sum = mpmath.mpf(0)
        high_sum = mpmath.mpf(0)
        for c in normalized.coefficients:
            low_sum += max(abs(c.value) - c.error, 0) ** 2
            high_sum += (abs(c.value) + c.error) ** 2
        m = self.second_moment
        return max(m.value - m.error - high_sum, mpmath.mpf(0)), max(
            m.value + m.error - low_sum, mpmath.mpf(0)
        )


def check_basis(basis: str) -> None:
    if basis not in BASES:
        raise InputError(f"unknown basis {basis!r}: use 'normalized' or 'monic'")


def convert_coefficient(c: Coefficient, source: str, target: str) -> Coefficient:
    """Convert one coefficient between the ``normalized`` and ``monic`` bases."""
    check_basis(source)
    check_basis(target)
    if source == target:
        return c
    k = c.degree
    factor = mpmath.sqrt(mpmath.factorial(k))
    if target == "normalized":
        value, error = c.value / factor, c.error / factor
    else:
        value, error = c.value * factor, c.error * factor
    exact = c.exact
    if exact is not None and exact != 0 and k > 1:
        exact = _ScaledBySqrtFactorial(exact, k, -1 if target == "normalized" else 1)
    return Coefficient(exact, value, error, degree=k)


@cache
def _sqrt_factorial_parts(k: int) -> tuple[int, int]:
    """``(A, B)`` with ``sqrt(k!) = A sqrt(B)`` and ``B`` square-free.

    Legendre's formula gives the exponent of each prime ``p <= k`` in ``k!``,
    ``sum_{i >= 1} floor(k / p^i)``; its even part goes to ``A``, its odd part to ``B``.
    """
    square, free = 1, 1
    for p in sp.sieve.primerange(2, k + 1):
        exponent, power = 0, p
        while power <= k:
            exponent += k // power
            power *= p
        square *= p ** (exponent // 2)
        if exponent % 2:
            free *= p
    return square, free


def sqrt_factorial(k: int) -> sp.Expr:
    """``sqrt(k!)`` in sympy's canonical form (``sp.sqrt(sp.factorial(k))``), built
    from the prime factorisation instead of factoring ``k!``."""
    square, free = _sqrt_factorial_parts(k)
    if free == 1:
        return sp.Integer(square)
    surd = sp.Pow(sp.Integer(free), sp.S.Half, evaluate=False)
    return surd if square == 1 else sp.Mul(sp.Integer(square), surd, evaluate=False)


def inverse_sqrt_factorial(k: int) -> sp.Expr:
    """``1/sqrt(k!) = sqrt(B)/(A B)`` in sympy's canonical form (``1/sp.sqrt(sp.factorial(k))``)."""
    square, free = _sqrt_factorial_parts(k)
    if free == 1:
        return sp.Rational(1, square)
    surd = sp.Pow(sp.Integer(free), sp.S.Half, evaluate=False)
    return sp.Mul(sp.Rational(1, square * free), surd, evaluate=False)


# ----------------------------------------------------------------------------
# Gaussian building blocks


def he_at(k_max: int, x: sp.Expr) -> list[sp.Expr]:
    """``[He_0(x), ..., He_{k_max}(x)]`` exactly, by the three-term recurrence."""
    values = [sp.Integer(1), x]
    for k in range(1, k_max):
        values.append(sp.expand(x * values[k] - k * values[k - 1]))
    return values[: k_max + 1] if k_max >= 0 else []


def gaussian_moment(m: int) -> sp.Integer:
    """``E[Z^m] = (m-1)!!`` for even ``m``, 0 for odd ``m``."""
    return sp.Integer(0) if m % 2 else sp.factorial2(m - 1)


def moment_against_he(m: int, k: int) -> sp.Integer:
    """``E[Z^m He_k(Z)] = m! / (((m-k)/2)! 2^((m-k)/2))`` if ``m >= k`` and ``m - k`` even."""
    if m < k or (m - k) % 2:
        return sp.Integer(0)
    j = (m - k) // 2
    return sp.factorial(m) / (sp.factorial(j) * 2**j)


def normal_pdf(x: sp.Expr) -> sp.Expr:
    """Standard normal density ``phi(x)``; zero at infinity."""
    if x in (sp.oo, -sp.oo):
        return sp.Integer(0)
    return sp.exp(-(x**2) / 2) / SQRT_2PI


def normal_cdf(x: sp.Expr) -> sp.Expr:
    """Standard normal distribution function ``Phi(x)``."""
    if x == sp.oo:
        return sp.Integer(1)
    if x == -sp.oo:
        return sp.Integer(0)
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def _times_z(coeffs: dict[int, sp.Expr]) -> dict[int, sp.Expr]:
    """Multiply ``sum_j a_j He_j`` by ``z``: ``z He_j = He_{j+1} + j He_{j-1}``."""
    out: dict[int, sp.Expr] = {}
    for j, a in coeffs.items():
        out[j + 1] = out.get(j + 1, 0) + a
        if j:
            out[j - 1] = out.get(j - 1, 0) + j * a
    return out


def poly_times_he(poly: sp.Poly, k: int) -> dict[int, sp.Expr]:
    """``p(z) He_k(z)`` in the ``He`` basis (a band of width ``deg p`` around ``k``)."""
    current: dict[int, sp.Expr] = {k: sp.Integer(1)}
    total: dict[int, sp.Expr] = {}
    coeffs = poly.all_coeffs()[::-1]
    for i, p_i in enumerate(coeffs):
        if i:
            current = _times_z(current)
        if p_i != 0:
            for j, a in current.items():
                total[j] = total.get(j, 0) + p_i * a
    return total


# Closed-form monic coefficients mu_j of the base functions g.


def _mu_one(j: int) -> sp.Expr:
    return sp.Integer(1 if j == 0 else 0)


def _mu_gauss(a: sp.Expr, j: int) -> sp.Expr:
    if j % 2:
        return sp.Integer(0)
    he0 = (-1) ** (j // 2) * sp.factorial2(j - 1)
    return he0 * (2 * a / (1 + 2 * a)) ** (j // 2) / sp.sqrt(1 + 2 * a)


def _mu_erf(b: sp.Expr, j: int) -> sp.Expr:
    if j % 2 == 0:
        return sp.Integer(0)
    n = j - 1
    he0 = (-1) ** (n // 2) * sp.factorial2(n - 1)
    return 2 * b * he0 * (2 * b**2 / (1 + 2 * b**2)) ** (n // 2) / sp.sqrt(sp.pi * (1 + 2 * b**2))


# ----------------------------------------------------------------------------
# Recognising exact forms


@dataclass(frozen=True)
class _Term:
    poly: sp.Poly
    kind: str  # "one", "gauss" (exp(-a z^2)) or "erf" (erf(b z))
    param: sp.Expr | int = 0

    def mu(self, j: int) -> sp.Expr:
        if self.kind == "one":
            return _mu_one(j)
        if self.kind == "gauss":
            return _mu_gauss(self.param, j)
        return _mu_erf(self.param, j)


def _split_term(term: sp.Expr) -> _Term | None:
    poly_part = sp.Integer(1)
    kind, param = "one", sp.Integer(0)
    for factor in sp.Mul.make_args(term):
        if not factor.has(z) or (factor.is_polynomial(z)):
            poly_part *= factor
            continue
        if kind != "one":
            return None
        if isinstance(factor, sp.exp):
            arg = sp.expand(factor.args[0])
            if not arg.is_polynomial(z):
                return None
            arg_poly = sp.Poly(arg, z)
            if arg_poly.degree() != 2 or arg_poly.coeff_monomial(z) != 0:
                return None
            a = -arg_poly.coeff_monomial(z**2)
            if not (a.is_real and (1 + 4 * a).is_positive):
                return None
            poly_part *= sp.exp(arg_poly.coeff_monomial(1))
            kind, param = "gauss", a
        elif isinstance(factor, sp.erf):
            arg = sp.expand(factor.args[0])
            b = arg.coeff(z)
            if sp.expand(arg - b * z) != 0 or not b.is_real or b.has(z):
                return None
            kind, param = "erf", b
        else:
            return None
    return _Term(sp.Poly(poly_part, z), kind, param)


def _gaussian_erf_terms(expr: sp.Expr) -> list[_Term] | None:
    expanded = sp.expand(sp.powsimp(sp.expand(expr), combine="exp"))
    terms: dict[tuple[str, sp.Expr], sp.Poly] = {}
    for term in sp.Add.make_args(expanded):
        split = _split_term(term)
        if split is None:
            return None
        key = (split.kind, split.param)
        terms[key] = terms[key] + split.poly if key in terms else split.poly
    return [_Term(p, kind, param) for (kind, param), p in terms.items() if not p.is_zero]


_BETA = sp.Symbol("beta")


def _exponential_terms(expr: sp.Expr) -> dict[sp.Expr, sp.Poly] | None:
    """``{b: p_b}`` with ``f(z) = sum_b p_b(z) exp(b z)`` (``b`` complex constants), when
    ``f`` is a polynomial combination of ``exp``, ``sin``, ``cos``, ``sinh``, ``cosh`` of
    affine functions of ``z``; else None."""
    if not expr.has(sp.exp, sp.sin, sp.cos, sp.sinh, sp.cosh):
        return None
    rewritten = sp.expand(sp.powsimp(sp.expand(expr.rewrite(sp.exp)), combine="exp"))
    terms: dict[sp.Expr, sp.Poly] = {}
    for term in sp.Add.make_args(rewritten):
        rate, poly = sp.Integer(0), sp.Integer(1)
        for factor in sp.Mul.make_args(term):
            base, exponent = factor.as_base_exp()
            if isinstance(factor, sp.exp) or base == sp.E:
                argument = sp.expand(factor.args[0] if isinstance(factor, sp.exp) else exponent)
                if not argument.is_polynomial(z) or sp.Poly(argument, z).degree() > 1:
                    return None
                slope = argument.coeff(z, 1)
                rate += slope
                poly *= sp.exp(sp.expand(argument - slope * z))
            elif factor.is_polynomial(z):
                poly *= factor
            else:
                return None
        rate = sp.nsimplify(rate) if rate.is_Float else rate
        addition = sp.Poly(poly, z)
        terms[rate] = terms[rate] + addition if rate in terms else addition
    return {b: p for b, p in terms.items() if not p.is_zero}


def _mu_exponential(terms: dict[sp.Expr, sp.Poly], k: int) -> sp.Expr:
    """``E[f(Z) He_k(Z)]`` for ``f = sum_b p_b(z) exp(b z)``, from
    ``E[Z^m He_k(Z) exp(b Z)] = d^m/db^m (b^k exp(b^2/2))`` (differentiate the Hermite
    generating function ``E[He_k(Z) exp(b Z)] = b^k exp(b^2/2)`` under the integral)."""
    total = sp.Integer(0)
    for b, poly in terms.items():
        generating = _BETA**k * sp.exp(_BETA**2 / 2)
        for (m,), coefficient in poly.terms():
            total += coefficient * sp.diff(generating, _BETA, m).subs(_BETA, b)
    return _real(total)


def _real(value: sp.Expr) -> sp.Expr:
    """The real part of an exact expression (a real ``f`` has real coefficients)."""
    real = sp.re(sp.expand_complex(sp.expand(value)))
    return sp.factor_terms(sp.expand(real))


def piecewise_pieces(function: Function) -> list[tuple[sp.Expr, sp.Expr, sp.Poly]] | None:
    """``[(a, b, p)]``: ``f = p`` on ``(a, b)``, when ``f`` is a piecewise polynomial; else None."""
    if not function.breakpoints or not function.expr.has(*SWITCHES):
        return None
    pieces = []
    for a, b, branch in branches(function.expr, function.breakpoints):
        branch = sp.expand(branch)
        if branch.has(sp.nan) or not branch.is_polynomial(z):
            return None
        pieces.append((a, b, sp.Poly(branch, z)))
    return pieces


# ----------------------------------------------------------------------------
# Exact coefficients


def _mu_polynomial(poly: sp.Poly, k: int) -> sp.Expr:
    coeffs = poly.all_coeffs()[::-1]
    return sp.Add(*[p_m * moment_against_he(m, k) for m, p_m in enumerate(coeffs) if p_m != 0])


def _mu_terms(terms: list[_Term], k: int) -> sp.Expr:
    total = sp.Integer(0)
    for term in terms:
        if term.kind == "one":
            total += _mu_polynomial(term.poly, k)
            continue
        for j, beta in poly_times_he(term.poly, k).items():
            if beta != 0:
                total += beta * term.mu(j)
    return total


def truncated_moments(m_max: int, a: sp.Expr, b: sp.Expr) -> list[sp.Expr]:
    """``M_m = int_a^b z^m phi(z) dz`` for ``m <= m_max`` (exact recurrence)."""
    pa, pb = normal_pdf(a), normal_pdf(b)
    moments = [normal_cdf(b) - normal_cdf(a), pa - pb]
    for m in range(2, m_max + 1):
        edge_a = a ** (m - 1) * pa if pa != 0 else 0
        edge_b = b ** (m - 1) * pb if pb != 0 else 0
        moments.append((m - 1) * moments[m - 2] + edge_a - edge_b)
    return moments[: m_max + 1]


class _PiecewiseEngine:
    """Monic coefficients of a piecewise polynomial by integration by parts."""

    def __init__(self, pieces: list[tuple[sp.Expr, sp.Expr, sp.Poly]], max_degree: int):
        self.pieces = [piece for piece in pieces if not piece[2].is_zero]
        self.he = {}
        for a, b, _ in self.pieces:
            for x in (a, b):
                if x not in (sp.oo, -sp.oo) and x not in self.he:
                    self.he[x] = he_at(max_degree, x)
        self.moments = [
            truncated_moments(max(poly.degree(), 1), a, b) for a, b, poly in self.pieces
        ]

    def mu(self, k: int) -> sp.Expr:
        total = sp.Integer(0)
        for (a, b, poly), moments in zip(self.pieces, self.moments, strict=True):
            derivative = poly
            for j in range(min(k, poly.degree() + 1)):
                for x, sign in ((a, 1), (b, -1)):
                    if x in (sp.oo, -sp.oo):
                        continue
                    value = derivative.eval(x)
                    if value != 0:
                        total += sign * value * self.he[x][k - 1 - j] * normal_pdf(x)
                derivative = derivative.diff(z)
            if k <= poly.degree():
                coeffs = derivative.all_coeffs()[::-1]
                total += sp.Add(*[c * moments[m] for m, c in enumerate(coeffs)])
        return total


def _second_moment_exact(form: str, function: Function, data) -> sp.Expr | None:
    if form == "polynomial":
        return _mu_polynomial(sp.Poly(function.expr**2, z), 0)
    if form == "piecewise polynomial":
        total = sp.Integer(0)
        for a, b, poly in data:
            if poly.is_zero:
                continue
            square = (poly**2).all_coeffs()[::-1]
            moments = truncated_moments(max(len(square) - 1, 1), a, b)
            total += sp.Add(*[c * moments[m] for m, c in enumerate(square)])
        return total
    if form == EXPONENTIAL_FORM:
        squared = _exponential_terms(sp.expand(function.expr**2))
        return None if squared is None else _mu_exponential(squared, 0)
    return _second_moment_terms(data)


def _second_moment_terms(terms: list[_Term]) -> sp.Expr | None:
    total = sp.Integer(0)
    for i, s in enumerate(terms):
        for t in terms[i:]:
            weight = 1 if s is t else 2
            value = _expect_product(s, t)
            if value is None:
                return None
            total += weight * value
    return total


def _expect_product(s: _Term, t: _Term) -> sp.Expr | None:
    """``E[p_s g_s p_t g_t]`` for two terms, where a closed form is known."""
    if s.kind == "erf" and t.kind == "erf":
        product = s.poly * t.poly
        if product.degree() > 0:
            return None
        b, c = s.param, t.param
        return (
            product.as_expr()
            * 2
            / sp.pi
            * sp.asin(2 * b * c / sp.sqrt((1 + 2 * b**2) * (1 + 2 * c**2)))
        )
    if t.kind == "erf":
        s, t = t, s
    product = s.poly * t.poly
    if s.kind == "erf":
        a = t.param if t.kind == "gauss" else sp.Integer(0)
        scale = sp.sqrt(1 + 2 * a)
        rescaled = sp.Poly(product.as_expr().subs(z, z / scale), z)
        inner = _Term(rescaled, "erf", s.param / scale)
        return _mu_terms([inner], 0) / scale
    a = (s.param if s.kind == "gauss" else 0) + (t.param if t.kind == "gauss" else 0)
    kind = "gauss" if a != 0 else "one"
    return _mu_terms([_Term(product, kind, a)], 0)


#: Largest working precision (decimal digits) spent on evaluating one exact form.
MAX_EVALUATION_DIGITS = 5000


def exact_value(exact: sp.Expr, digits: int) -> mpmath.mpf | None:
    """``exact`` to ``digits`` correct significant digits, or ``None`` when it is zero.

    Cancellation (``1/2 - erf(15 sqrt 2)/2 = 4.9e-198``) is handled by raising the
    working precision until the digits are certain (sympy's ``evalf(strict=True)``),
    up to :data:`MAX_EVALUATION_DIGITS`; an expression that still shows no digit is
    simplified, and is zero only if sympy proves it.
    """
    try:
        with mpmath.workdps(digits + 10):
            return mpmath.mpf(exact.evalf(digits + 10, strict=True, maxn=MAX_EVALUATION_DIGITS))
    except sp.core.evalf.PrecisionExhausted:
        if sp.simplify(exact) == 0:
            return None
        raise NumericalError(
            f"could not evaluate {exact} to {digits} digits: it is below "
            f"10^-{MAX_EVALUATION_DIGITS} in magnitude or not provably zero"
        ) from None


def _quantity(exact: sp.Expr, digits: int) -> Quantity:
    value = exact_value(exact, digits) if exact != 0 else None
    if value is None:
        return Quantity(sp.Integer(0), mpmath.mpf(0), mpmath.mpf(0))
    return Quantity(exact, value, mpmath.mpf(0))


def _classify(function: Function):
    if function.is_polynomial:
        return "polynomial", sp.Poly(function.expr, z)
    pieces = piecewise_pieces(function)
    if pieces is not None:
        return "piecewise polynomial", pieces
    if not function.expr.has(*SWITCHES):
        terms = _gaussian_erf_terms(function.expr)
        if terms is not None:
            return "polynomial times Gaussian or erf", terms
        exponentials = _exponential_terms(function.expr)
        if exponentials is not None:
            return EXPONENTIAL_FORM, exponentials
    return "numeric quadrature", None


EXPONENTIAL_FORM = "polynomial times exp, sin, cos of linear functions"


def _exact_mu(form: str, data, max_degree: int):
    if form == EXPONENTIAL_FORM:
        return [_mu_exponential(data, k) for k in range(max_degree + 1)]
    if form == "polynomial":
        return [_mu_polynomial(data, k) for k in range(max_degree + 1)]
    if form == "piecewise polynomial":
        engine = _PiecewiseEngine(data, max_degree)
        return [engine.mu(k) for k in range(max_degree + 1)]
    return [_mu_terms(data, k) for k in range(max_degree + 1)]


# ----------------------------------------------------------------------------
# Numeric coefficients


def _numeric(function: Function, max_degree: int, digits: int):
    d_even, d_odd = function.symmetry
    guard = 15 + max_degree // 4
    with mpmath.workdps(digits + guard):
        breakpoints = [mpmath.mpf(sp.N(p, digits + guard)) for p in function.breakpoints]
        he = hermite_vector(max_degree)
        f = function.mp

        def integrand(x):
            fx = f(x)
            return [fx * v for v in he(x)] + [fx * fx]

        purely_even, purely_odd = d_odd == -1, d_even == -1
        half = (purely_even or purely_odd) and not breakpoints
        values, errors = gaussian_integrals(
            integrand, max_degree + 2, digits=digits, breakpoints=breakpoints, half_line=half
        )
        mus = []
        for k in range(max_degree + 1):
            if function.vanishes_by_symmetry(k):
                mus.append(Quantity(sp.Integer(0), mpmath.mpf(0), mpmath.mpf(0)))
            elif half:
                mus.append(Quantity(None, 2 * values[k], 2 * errors[k]))
            else:
                mus.append(Quantity(None, values[k], errors[k]))
        second = values[-1], errors[-1]
        if half:
            second = 2 * second[0], 2 * second[1]
        return mus, Quantity(None, second[0], second[1])


# ----------------------------------------------------------------------------
# Public API


def hermite_coefficients(
    function: FunctionLike,
    max_degree: int = 10,
    *,
    basis: str = "normalized",
    digits: int = 30,
) -> HermiteExpansion:
    """Hermite coefficients of ``f`` for degrees ``0..max_degree``.

    Exact (sympy) where the form of ``f`` allows it, else numeric to ``digits``
    digits with a per-coefficient error estimate.  ``basis`` selects ``c_k``
    (``normalized``) or ``mu_k`` (``monic``).
    """
    function = as_function(function)
    check_basis(basis)
    if not isinstance(max_degree, int) or max_degree < 0:
        raise DomainError(f"maximum degree must be a non-negative integer, got {max_degree}")
    if max_degree > MAX_DEGREE:
        raise DomainError(f"maximum degree {max_degree} exceeds the limit {MAX_DEGREE}")
    if not 5 <= digits <= 200:
        raise DomainError(f"digits must be between 5 and 200, got {digits}")
    monic = _monic_expansion(function, max_degree, digits)
    return monic.in_basis(basis)


@lru_cache(maxsize=256)
def _monic_expansion(function: Function, max_degree: int, digits: int) -> HermiteExpansion:
    form, data = _classify(function)
    with mpmath.workdps(digits + 10):
        if data is not None:
            mus = [_quantity(mu, digits) for mu in _exact_mu(form, data, max_degree)]
            exact_second = _second_moment_exact(form, function, data)
            if exact_second is not None:
                second = _quantity(exact_second, digits)
            else:
                _, second = _numeric(function, 0, digits)
            method = "exact"
        else:
            if max_degree > MAX_NUMERIC_DEGREE:
                raise DomainError(
                    f"{function.name} has no exact form here, and numeric coefficients are "
                    f"limited to degree {MAX_NUMERIC_DEGREE} (the cost grows like K^2 times "
                    f"the working precision); asked for {max_degree}"
                )
            mus, second = _numeric(function, max_degree, digits)
            method = "numeric"
        coefficients = tuple(
            Coefficient(q.exact, q.value, q.error, degree=k) for k, q in enumerate(mus)
        )
    return HermiteExpansion(function, "monic", method, form, coefficients, second, digits)


def second_moment(function: FunctionLike, digits: int = 30) -> Quantity:
    """``E[f(Z)^2]``, exact where possible."""
    return hermite_coefficients(function, 0, digits=digits).second_moment


@dataclass(frozen=True)
class InformationExponent:
    """``s(f) = min{k >= 1: c_k(f) != 0}``; ``value`` is None when not determined."""

    value: int | None
    certain: bool
    reason: str


def information_exponent(expansion: HermiteExpansion) -> InformationExponent:
    """The information exponent, with a statement of how certain it is.

    An exact coefficient is zero only if it is exactly zero; a numeric one
    counts as zero when its absolute value is within its error bound, which
    makes the answer uncertain (it is reported as such).
    """
    unproven: list[int] = []
    for c in expansion.coefficients[1:]:
        if c.is_exact:
            if c.exact != 0:
                break
        elif abs(c.value) > c.error:
            break
        else:
            unproven.append(c.degree)
    else:
        if unproven:
            reason = (
                f"c_1..c_{expansion.max_degree} are all within their error bounds of 0: "
                f"s > {expansion.max_degree} or f is constant, not proven"
            )
        else:
            reason = (
                f"c_1..c_{expansion.max_degree} are exactly 0: "
                f"s > {expansion.max_degree}, or f is constant"
            )
        return InformationExponent(None, False, reason)
    k = c.degree
    if unproven:
        listed = ", ".join(str(j) for j in unproven)
        return InformationExponent(
            k,
            False,
            f"c_{k} is non-zero; c_k for k in {{{listed}}} are below their error bounds "
            "and count as zero without proof",
        )
    how = "exactly" if c.is_exact else f"beyond its error bound {mpmath.nstr(c.error, 3)}"
    return InformationExponent(k, True, f"c_{k} is non-zero {how}; all lower c_k are exactly 0")
