r"""Gaussian expectations of functions of jointly Gaussian fields, in closed form where possible.

For a centred Gaussian vector ``x`` with covariance ``C`` (symbolic: the order parameters)
:func:`gaussian_expectation` returns ``E[f(x)]`` as an expression in the entries of ``C``,
with the method used and its error bound.  The integrand is expanded into terms, each a
product of a polynomial, Gaussian factors ``exp(-x^T A x / 2)``, error functions
``erf(b x_i)`` and steps ``H(x_i)`` (ReLU is ``x H(x)``, ``|x| = x (2H(x) - 1)``,
``sign(x) = 2H(x) - 1``).  Such a term is reduced exactly by four rules:

1. *Gaussian tilting*: ``E_C[exp(-x^T A x/2) G(x)] = det(I + C_SS A_S)^(-1/2) E_C'[G(x)]`` with
   ``C' = C - C_xS A_S (I + C_SS A_S)^(-1) C_Sx`` (``S`` the support of ``A``; Woodbury's
   identity for ``(C^-1 + A)^-1``).
2. *Stein's lemma* (Gaussian integration by parts): ``E[x_i G(x)] = sum_j C_ij E[d_j G(x)]``,
   with ``d/dz erf(b z) = (2b/sqrt(pi)) exp(-b^2 z^2)`` and ``d/dz H(z) = delta(z)``; for a
   polynomial alone this is Isserlis' (Wick's) theorem.
3. *Conditioning on a zero*: ``E[delta(x_j) G(x)] = (2 pi C_jj)^(-1/2) E[G(x) | x_j = 0]``, the
   conditional covariance being ``C - C_xj C_jx / C_jj``.
4. *Signs*: ``erf(b z) = E[sign(z + eta)]`` with ``eta ~ N(0, 1/(2 b^2))`` independent, and
   ``H(z) = (1 + sign(z))/2``; for signs of a centred Gaussian vector an odd product has mean
   zero, ``E[sign(u) sign(v)] = (2/pi) arcsin(rho_uv)`` (Sheppard), and a product of four is
   Plackett's one-dimensional integral (:class:`SignMoment4`).

For ``erf(z/sqrt(2))`` these rules give the integrals ``I2``, ``I3``, ``I4`` and ``J2`` of
Saad and Solla, Phys. Rev. E 52, 4225 (1995) (:func:`erf_i2`, :func:`erf_i3`, :func:`erf_i4`,
:func:`erf_j2` are those printed forms; the tests check that the reduction reproduces them);
for ReLU the arc-cosine kernel of the pairwise term.  Terms outside these forms (``tanh``,
``sigmoid``, a ReLU with a bias, ...) are grouped by the fields they involve and left as
:class:`GaussianIntegral` symbols, evaluated numerically by tensor Gauss-Hermite quadrature
when the system is compiled (``featcheck.numerics.committee.evaluation``).

Every :class:`Expectation` records the rules it used (``method``) and its error bound: ``0``
when exact, ``None`` when a numerical evaluation is involved.  The error of a numerical value
depends on the covariance, so it is bounded where it is evaluated: a :class:`GaussianIntegral`
whose integrand has a majorant on a complex strip
(:mod:`~featcheck.theory.committee.majorants`: ``tanh``, ``erf``, ``sigmoid``, ``softplus``,
polynomials, Gaussian factors) gets a certified bound at each state
(``featcheck.numerics.committee.certified``); the method says which kind it is.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import mpmath
import sympy as sp
from mpmath.libmp import prec_to_dps

from featcheck.theory.errors import InputError

# ----------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Expectation:
    """``E[integrand]`` over the Gaussian fields: its value, method and error bound.

    ``value`` is an expression in the covariance entries; it may contain
    :class:`SignMoment4` or :class:`GaussianIntegral` applications, which are evaluated
    numerically.  ``error_bound`` is ``0`` for an exact value and ``None`` when a numerical
    evaluation is involved.
    """

    integrand: sp.Expr
    value: sp.Expr
    method: str
    error_bound: float | None
    covariance: sp.Matrix | None = field(default=None, compare=False, repr=False)
    parts: tuple = field(default=(), compare=False, repr=False)
    numeric: sp.Expr = field(default=sp.S.Zero, compare=False, repr=False)

    @property
    def exact(self) -> bool:
        return self.error_bound == 0

    def diff(self, symbol: sp.Symbol) -> sp.Expr:
        """``d value / d symbol`` by the chain rule through the cached closed forms (the
        derivative of each generic pattern is computed once); ``symbol`` must be an entry
        of the covariance."""
        total = sp.diff(self.numeric, symbol) if self.numeric.has(symbol) else sp.Integer(0)
        C = self.covariance
        for canonical, used in self.parts:
            m = canonical.m
            for i in range(m):
                for j in range(i, m):
                    if C[used[i], used[j]] == symbol:
                        derivative = _pattern_derivative(canonical, i, j)
                        total += _mapped(derivative, m, used, C)
        return total


RULE_NAMES = {
    "parity": "odd terms vanish",
    "polynomial": "Isserlis/Wick",
    "tilting": "Gaussian tilting",
    "stein": "Stein's lemma",
    "conditioning": "conditioning on a zero",
    "signs": "sign laws (odd products vanish, arcsine law for two)",
    "plackett": "Plackett's integral for four signs (numeric, one-dimensional, certified at "
    "each state)",
    "certified-quadrature": "tensor quadrature, Gauss-Hermite or the trapezoid by the strip of "
    "analyticity (numeric, certified at each state)",
    "split-quadrature": "Gauss-Legendre quadrature cut at the kinks of steps (numeric, certified "
    "at each state by orthant probabilities)",
    "split-quadrature-uncertified": "Gauss-Legendre quadrature cut at the kinks of steps "
    "(numeric, no certified bound)",
    "quadrature": "tensor Gauss-Hermite quadrature (numeric, no certified bound: the integrand "
    "is not analytic in a strip)",
}
NUMERIC_RULES = frozenset(
    {
        "plackett",
        "certified-quadrature",
        "split-quadrature",
        "split-quadrature-uncertified",
        "quadrature",
    }
)


def describe_rules(rules: frozenset[str]) -> str:
    """The rules of a reduction in words, in a fixed order."""
    if not rules:
        return "exact (constant)"
    names = [RULE_NAMES[r] for r in RULE_NAMES if r in rules]
    kind = "numeric" if rules & NUMERIC_RULES else "exact"
    return f"{kind}: " + ", ".join(names)


# ----------------------------------------------------------------------------
# Numeric symbols: SignMoment4 and GaussianIntegral
#
# Their numpy implementations live in featcheck.numerics (this package never imports it);
# sympy.lambdify finds them through the ``_imp_`` attribute, which looks them up in the
# registry below.

_BACKENDS: dict[str, Callable[[type], Callable]] = {}
_IMPLEMENTATIONS: dict[type, Callable] = {}


def register_numeric_backend(kind: str, factory: Callable[[type], Callable]) -> None:
    """Register ``factory(cls) -> numpy function`` for the numeric symbols of ``kind``
    (``"sign-moment-4"``, ``"gaussian-integral"``, ``"gaussian-integral-derivative"``)."""
    _BACKENDS[kind] = factory
    for cls in [c for c in _IMPLEMENTATIONS if getattr(c, "backend_kind", None) == kind]:
        del _IMPLEMENTATIONS[cls]


class NumericImplementation:
    """The ``_imp_`` hook of :func:`sympy.lambdify`: one numpy function per class."""

    def __get__(self, instance, owner):
        if owner not in _IMPLEMENTATIONS:
            factory = _BACKENDS.get(owner.backend_kind)
            if factory is None:
                return None
            _IMPLEMENTATIONS[owner] = factory(owner)
        return _IMPLEMENTATIONS[owner]


def _correlation_pairs(n: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


class SignMoment4(sp.Function):
    r"""``E[sign(u_1) sign(u_2) sign(u_3) sign(u_4)]`` for a centred Gaussian ``u`` with unit
    variances and correlations ``(r12, r13, r14, r23, r24, r34)``.

    Plackett's identity ``d/dr_ij E[prod sign(u)] = E[d_i d_j prod sign(u)]
    = (4/pi^2) arcsin(r_kl.ij) / sqrt(1 - r_ij^2)`` (``r_kl.ij`` the partial correlation of the
    other two given ``u_i, u_j``), integrated along ``R(s) = I + s (R - I)`` from ``R(0) = I``
    where the moment is zero, gives a one-dimensional integral over ``s`` in ``[0, 1]``.
    """

    nargs = 6
    backend_kind = "sign-moment-4"
    _imp_ = NumericImplementation()

    @classmethod
    def eval(cls, *args):
        if all(a == 0 for a in args):
            return sp.Integer(0)
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        r = self.args
        pairs = _correlation_pairs(4)
        i, j = pairs[argindex - 1]
        k, o = (v for v in range(4) if v not in (i, j))
        R = sp.eye(4)
        for (p, q), value in zip(pairs, r, strict=True):
            R[p, q] = R[q, p] = value
        inverse = R.adjugate()  # proportional to R^-1 (det R > 0); the ratio is what matters
        partial = -inverse[k, o] / sp.sqrt(inverse[k, k] * inverse[o, o])
        return 4 / sp.pi**2 * sp.asin(partial) / sp.sqrt(1 - r[argindex - 1] ** 2)

    def _eval_evalf(self, prec):
        if not all(a.is_number for a in self.args):
            return None
        with mpmath.workprec(prec + 20):
            values = [mpmath.mpf(sp.N(a, prec_to_dps(prec) + 10)) for a in self.args]
            return sp.Float(sign_moment4_mp(values), prec_to_dps(prec))

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self.args)
        base = rf"S_{{4}}\left({args}\right)"
        return base if exp is None else rf"{base}^{{{exp}}}"


def sign_moment4_mp(r: Sequence[mpmath.mpf]) -> mpmath.mpf:
    """:class:`SignMoment4` by ``mpmath.quad`` (the theory's reference evaluation)."""
    pairs = _correlation_pairs(4)

    def integrand(s):
        R = mpmath.eye(4)
        for (p, q), value in zip(pairs, r, strict=True):
            R[p, q] = R[q, p] = s * value
        inverse = mpmath.inverse(R)
        total = mpmath.mpf(0)
        for (i, j), value in zip(pairs, r, strict=True):
            if value == 0:
                continue
            k, o = (v for v in range(4) if v not in (i, j))
            partial = -inverse[k, o] / mpmath.sqrt(inverse[k, k] * inverse[o, o])
            total += value * mpmath.asin(partial) / mpmath.sqrt(1 - (s * value) ** 2)
        return 4 / mpmath.pi**2 * total

    return mpmath.quad(integrand, [0, 1])


class GaussianIntegral(sp.Function):
    """Base of the generated classes ``E[f(y)]``, ``y ~ N(0, C)`` with ``m`` slots.

    A subclass fixes ``integrand`` (an expression in :func:`slot_symbols` ``y_1..y_m``) and
    ``slots``; its arguments are the entries of ``C`` (upper triangle, row by row).
    """

    integrand: sp.Expr = sp.Integer(0)
    slots: int = 0
    backend_kind = "gaussian-integral"
    _imp_ = NumericImplementation()

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        derivative = _integral_derivative_class(type(self), argindex - 1)
        return derivative(*self.args)

    def _latex(self, printer, exp=None):
        body = printer._print(self.integrand)
        base = rf"\mathbb{{E}}_{{\mathrm{{quad}}}}\left[{body}\right]"
        return base if exp is None else rf"\left({base}\right)^{{{exp}}}"


class GaussianIntegralDerivative(sp.Function):
    """``d/dC_entry`` of a :class:`GaussianIntegral` (evaluated by central differences)."""

    parent: type = GaussianIntegral
    entry: int = 0
    backend_kind = "gaussian-integral-derivative"
    _imp_ = NumericImplementation()


def slot_symbols(m: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"y_{i + 1}", real=True) for i in range(m))


@cache
def gaussian_integral_class(integrand: sp.Expr, slots: int) -> type:
    """The :class:`GaussianIntegral` subclass of one integrand (one class per integrand)."""
    digest = hashlib.sha1(sp.srepr(integrand).encode()).hexdigest()[:12]
    return type(
        f"GaussianIntegral_{digest}",
        (GaussianIntegral,),
        {"integrand": integrand, "slots": slots, "nargs": slots * (slots + 1) // 2},
    )


@cache
def _integral_derivative_class(parent: type, entry: int) -> type:
    return type(
        f"{parent.__name__}_d{entry}",
        (GaussianIntegralDerivative,),
        {"parent": parent, "entry": entry, "nargs": parent.nargs},
    )


def upper_entries(C: sp.Matrix) -> tuple[sp.Expr, ...]:
    n = C.shape[0]
    return tuple(C[i, j] for i in range(n) for j in range(i, n))


# ----------------------------------------------------------------------------
# Terms: polynomial x Gaussian x erf x step, on slots 0..m-1

Monomial = tuple[int, ...]


@dataclass(frozen=True)
class _Term:
    m: int
    poly: tuple[tuple[Monomial, sp.Expr], ...]
    gauss: tuple[tuple[sp.Expr, ...], ...] | None
    erfs: tuple[tuple[int, sp.Expr], ...]
    steps: tuple[int, ...]


def _term(
    m: int,
    poly: dict[Monomial, sp.Expr],
    gauss: sp.Matrix | None,
    erfs: Sequence[tuple[int, sp.Expr]],
    steps: Sequence[int],
) -> _Term | None:
    monomials = tuple(sorted((k, v) for k, v in poly.items() if v != 0))
    if not monomials:
        return None
    if gauss is not None and gauss.is_zero_matrix:
        gauss = None
    frozen_gauss = None if gauss is None else tuple(tuple(row) for row in gauss.tolist())
    return _Term(
        m,
        monomials,
        frozen_gauss,
        tuple(sorted(erfs, key=lambda e: (e[0], sp.default_sort_key(e[1])))),
        tuple(sorted(set(steps))),
    )


def _used_slots(term: _Term) -> list[int]:
    used = set(term.steps) | {s for s, _ in term.erfs}
    for alpha, _ in term.poly:
        used |= {i for i, e in enumerate(alpha) if e}
    if term.gauss is not None:
        used |= {i for i, row in enumerate(term.gauss) if any(v != 0 for v in row)}
    return sorted(used)


def _restrict(term: _Term, used: list[int]) -> _Term:
    """The term on the slots ``used`` only (the others do not appear in it)."""
    poly = {tuple(alpha[i] for i in used): c for alpha, c in term.poly}
    position = {s: i for i, s in enumerate(used)}
    gauss = None
    if term.gauss is not None:
        gauss = sp.Matrix(len(used), len(used), lambda i, j: term.gauss[used[i]][used[j]])
    erfs = [(position[s], b) for s, b in term.erfs]
    steps = [position[s] for s in term.steps]
    result = _term(len(used), poly, gauss, erfs, steps)
    assert result is not None
    return result


@lru_cache(maxsize=16)
def _generic(m: int) -> sp.Matrix:
    def entry(i: int, j: int) -> sp.Symbol:
        i, j = min(i, j), max(i, j)
        return sp.Symbol(f"c_{i}{j}")

    return sp.Matrix(m, m, entry)


Reduced = tuple[sp.Expr, frozenset[str]]


def _expect(term: _Term | None, C: sp.Matrix) -> Reduced | None:
    """``E[term]`` under covariance ``C``, or None when a rule does not apply."""
    if term is None:
        return sp.Integer(0), frozenset()
    used = _used_slots(term)
    if not used:
        return term.poly[0][1], frozenset()
    canonical = _restrict(term, used)
    result = _evaluate(canonical)
    if result is None:
        return None
    return _mapped(result[0], canonical.m, used, C), result[1]


def _mapped(value: sp.Expr, m: int, used: Sequence[int], C: sp.Matrix) -> sp.Expr:
    """A generic closed form with ``c_ij`` replaced by ``C[used_i, used_j]``."""
    generic = _generic(m)
    mapping = {generic[i, j]: C[used[i], used[j]] for i in range(m) for j in range(i, m)}
    with sp.evaluate(False):  # plugging symbols into a closed form: nothing to simplify
        return value.xreplace(mapping)


@lru_cache(maxsize=8192)
def _pattern_derivative(term: _Term, i: int, j: int) -> sp.Expr:
    """``d/dc_ij`` of a cached generic closed form (``c_ij = c_ji`` move together)."""
    value = _evaluate(term)
    assert value is not None
    return sp.diff(value[0], _generic(term.m)[i, j])


@lru_cache(maxsize=4096)
def _evaluate(term: _Term) -> Reduced | None:
    """``E[term]`` with the generic covariance ``c_ij`` (cached per pattern)."""
    return _reduce(term, _generic(term.m))


def _reduce(term: _Term, C: sp.Matrix) -> Reduced | None:
    if term.gauss is not None:
        return _tilt(term, C)
    rules: set[str] = set()
    total = sp.Integer(0)
    odd_atoms = len(term.erfs) % 2
    for alpha, coefficient in term.poly:
        if not term.steps and (sum(alpha) + odd_atoms) % 2:
            rules.add("parity")  # an odd integrand under a centred law
            continue
        if not any(alpha):
            base = _signs(term, C)
            if base is None:
                return None
            total += coefficient * base[0]
            rules |= base[1]
            continue
        reduced = _stein(term, alpha, C)
        if reduced is None:
            return None
        total += coefficient * reduced[0]
        rules |= reduced[1]
    return total, frozenset(rules)


def _tilt(term: _Term, C: sp.Matrix) -> Reduced | None:
    A = sp.Matrix(term.gauss)
    S = [i for i in range(term.m) if any(A[i, j] != 0 for j in range(term.m))]
    A_S = A.extract(S, S)
    C_xS = C.extract(list(range(term.m)), S)
    B = sp.eye(len(S)) + C.extract(S, S) * A_S
    det = sp.expand(B.det())
    correction = C_xS * A_S * B.adjugate() * C_xS.T
    tilted = sp.Matrix(
        term.m, term.m, lambda i, j: sp.expand(C[i, j] * det - correction[i, j]) / det
    )
    inner = _expect(_term(term.m, dict(term.poly), None, term.erfs, term.steps), tilted)
    if inner is None:
        return None
    return inner[0] / sp.sqrt(det), inner[1] | {"tilting"}


def _stein(term: _Term, alpha: Monomial, C: sp.Matrix) -> Reduced | None:
    """``E[y^alpha atoms]`` by one integration by parts on a slot of ``alpha``."""
    plain = [i for i in range(term.m) if alpha[i] and not _has_atom(term, i)]
    i = plain[0] if plain else next(i for i in range(term.m) if alpha[i])
    rest = list(alpha)
    rest[i] -= 1
    pure_polynomial = not term.erfs and not term.steps
    rules: set[str] = {"polynomial" if pure_polynomial else "stein"}
    total = sp.Integer(0)
    for j in range(term.m):
        if C[i, j] == 0:
            continue
        parts: list[Reduced | None] = []
        if rest[j]:
            lower = list(rest)
            lower[j] -= 1
            parts.append(
                _expect(_term(term.m, {tuple(lower): rest[j]}, None, term.erfs, term.steps), C)
            )
        for t, (slot, b) in enumerate(term.erfs):
            if slot != j:
                continue
            gauss = sp.zeros(term.m, term.m)
            gauss[j, j] = 2 * b**2
            others = term.erfs[:t] + term.erfs[t + 1 :]
            derivative = _term(
                term.m, {tuple(rest): 2 * b / sp.sqrt(sp.pi)}, gauss, others, term.steps
            )
            parts.append(_expect(derivative, C))
        if j in term.steps and not rest[j] and all(s != j for s, _ in term.erfs):
            parts.append(_condition(term, tuple(rest), j, C))
        for part in parts:
            if part is None:
                return None
            total += C[i, j] * part[0]
            rules |= part[1]
    return total, frozenset(rules)


def _has_atom(term: _Term, i: int) -> bool:
    return i in term.steps or any(s == i for s, _ in term.erfs)


def _condition(term: _Term, alpha: Monomial, j: int, C: sp.Matrix) -> Reduced | None:
    """``E[delta(y_j) y^alpha atoms-without-H_j]``: condition on ``y_j = 0``, drop slot ``j``."""
    keep = [i for i in range(term.m) if i != j]
    conditional = sp.Matrix(
        len(keep),
        len(keep),
        lambda p, q: (
            sp.expand(C[keep[p], keep[q]] * C[j, j] - C[keep[p], j] * C[j, keep[q]]) / C[j, j]
        ),
    )
    position = {s: n for n, s in enumerate(keep)}
    poly = {tuple(alpha[i] for i in keep): sp.Integer(1)}
    erfs = [(position[s], b) for s, b in term.erfs]
    steps = [position[s] for s in term.steps if s != j]
    inner = _expect(_term(len(keep), poly, None, erfs, steps), conditional)
    if inner is None:
        return None
    return inner[0] / sp.sqrt(2 * sp.pi * C[j, j]), inner[1] | {"conditioning"}


def _signs(term: _Term, C: sp.Matrix) -> Reduced | None:
    """``E[prod erf(b y_s) prod H(y_s)]`` through signs of an augmented Gaussian vector."""
    # each variable: (slot, extra variance); erf(b y) = E[sign(y + eta)], Var eta = 1/(2 b^2)
    erfs = [(s, 1 / (2 * b**2)) for s, b in term.erfs]
    steps = [(s, sp.Integer(0)) for s in term.steps]
    if not erfs and not steps:
        return sp.Integer(1), frozenset()
    total = sp.Integer(0)
    rules: set[str] = set()
    for size in range(len(steps) + 1):
        for subset in itertools.combinations(steps, size):
            moment = _sign_moment(erfs + list(subset), C)
            if moment is None:
                return None
            total += moment[0] / 2 ** len(steps)
            rules |= moment[1]
    return total, frozenset(rules)


def _sign_moment(variables: list[tuple[int, sp.Expr]], C: sp.Matrix) -> Reduced | None:
    n = len(variables)
    if n % 2:
        return sp.Integer(0), frozenset({"signs"})
    if n == 0:
        return sp.Integer(1), frozenset({"signs"})

    def correlation(a: int, b: int) -> sp.Expr:
        (s, ea), (t, eb) = variables[a], variables[b]
        if s == t and ea == eb:  # two independent smoothings of one field
            return C[s, s] / (C[s, s] + ea)
        return C[s, t] / sp.sqrt((C[s, s] + ea) * (C[t, t] + eb))

    if n == 2:
        return 2 / sp.pi * sp.asin(correlation(0, 1)), frozenset({"signs"})
    if n == 4:
        r = [correlation(a, b) for a, b in _correlation_pairs(4)]
        return SignMoment4(*r), frozenset({"plackett"})
    return None


# ----------------------------------------------------------------------------
# From sympy integrands to terms


def _linear_in_one_field(arg: sp.Expr, fields: Sequence[sp.Symbol]) -> tuple[int, sp.Expr] | None:
    """``(slot, b)`` when ``arg = b * fields[slot]`` with a non-zero number ``b``."""
    present = [i for i, f in enumerate(fields) if arg.has(f)]
    if len(present) != 1:
        return None
    field = fields[present[0]]
    b = sp.expand(arg).coeff(field)
    if b == 0 or not b.is_number or sp.expand(arg - b * field) != 0:
        return None
    return present[0], b


def normalise(expr: sp.Expr, fields: Sequence[sp.Symbol]) -> sp.Expr:
    """Write ``max``, ``min``, ``|.|``, ``sign`` with steps ``H`` of single fields."""

    def step(arg: sp.Expr) -> sp.Expr:
        found = _linear_in_one_field(arg, fields)
        if found is None:
            return sp.Heaviside(arg)
        slot, b = found
        return sp.Heaviside(fields[slot]) if b > 0 else 1 - sp.Heaviside(fields[slot])

    expr = expr.replace(
        lambda e: isinstance(e, sp.Max) and len(e.args) == 2,
        lambda e: e.args[1] + (e.args[0] - e.args[1]) * sp.Heaviside(e.args[0] - e.args[1]),
    )
    expr = expr.replace(
        lambda e: isinstance(e, sp.Min) and len(e.args) == 2,
        lambda e: e.args[0] - (e.args[0] - e.args[1]) * sp.Heaviside(e.args[0] - e.args[1]),
    )
    expr = expr.replace(sp.Abs, lambda a: a * (2 * sp.Heaviside(a) - 1))
    expr = expr.replace(sp.sign, lambda a: 2 * sp.Heaviside(a) - 1)
    return expr.replace(lambda e: isinstance(e, sp.Heaviside), lambda e: step(e.args[0]))


def _parse_term(term: sp.Expr, fields: Sequence[sp.Symbol]) -> _Term | None:
    """One product term as a :class:`_Term` on the slots ``fields``, or None."""
    m = len(fields)
    coefficient = sp.Integer(1)
    alpha = [0] * m
    gauss = sp.zeros(m, m)
    erfs: list[tuple[int, sp.Expr]] = []
    steps: list[int] = []
    for factor in sp.Mul.make_args(term):
        if not factor.has(*fields):
            coefficient *= factor
            continue
        if isinstance(factor, sp.exp):
            base, power = factor, 1
        elif isinstance(factor, sp.Pow):
            base, power = factor.args
            if not (power.is_Integer and power > 0):
                return None
            power = int(power)
        else:
            base, power = factor, 1
        if base in fields:
            alpha[fields.index(base)] += power
        elif isinstance(base, sp.erf):
            found = _linear_in_one_field(base.args[0], fields)
            if found is None:
                return None
            slot, b = found
            if b < 0:
                coefficient *= (-1) ** power
                b = -b
            erfs += [(slot, b)] * power
        elif isinstance(base, sp.Heaviside):
            if base.args[0] not in fields:
                return None
            steps.append(fields.index(base.args[0]))
        elif isinstance(base, sp.exp):
            quadratic = sp.expand(power * base.args[0])
            if not quadratic.is_polynomial(*fields):
                return None
            poly = sp.Poly(quadratic, *fields)
            if poly.total_degree() > 2:
                return None
            for monomial, c in poly.terms():
                degree = sum(monomial)
                if degree == 0:
                    coefficient *= sp.exp(c)
                elif degree == 1 or not c.is_number:
                    return None
                else:
                    slots = [i for i, e in enumerate(monomial) for _ in range(e)]
                    i, j = slots
                    if i == j:
                        gauss[i, i] += -2 * c
                    else:
                        gauss[i, j] += -c
                        gauss[j, i] += -c
        else:
            return None
    return _term(m, {tuple(alpha): coefficient}, gauss, erfs, steps)


def _expand(expr: sp.Expr) -> list[sp.Expr]:
    expanded = sp.expand(expr, power_base=False, power_exp=False, log=False)
    return list(sp.Add.make_args(expanded))


def gaussian_expectation(
    integrand: sp.Expr, fields: Sequence[sp.Symbol], covariance: sp.Matrix
) -> Expectation:
    """``E[integrand]`` for ``fields ~ N(0, covariance)`` (see the module docstring)."""
    fields = tuple(fields)
    if covariance.shape != (len(fields), len(fields)):
        raise InputError("the covariance must be square, one row per field")
    total = sp.Integer(0)
    rules: set[str] = set()
    parts: list[tuple[_Term, tuple[int, ...]]] = []
    leftovers: dict[tuple[int, ...], sp.Expr] = defaultdict(lambda: sp.Integer(0))
    for term in _expand(normalise(sp.sympify(integrand), fields)):
        parsed = _parse_term(term, fields)
        used = [] if parsed is None else _used_slots(parsed)
        if parsed is not None and not used:
            total += parsed.poly[0][1]
            continue
        canonical = None if parsed is None else _restrict(parsed, used)
        reduced = None if canonical is None else _evaluate(canonical)
        if reduced is None:
            slots = tuple(i for i, f in enumerate(fields) if term.has(f))
            leftovers[slots] += term
            continue
        total += _mapped(reduced[0], canonical.m, used, covariance)
        rules |= reduced[1]
        parts.append((canonical, tuple(used)))
    numeric = sp.Integer(0)
    for slots, rest in sorted(leftovers.items()):
        integral = numeric_integral(
            rest, [fields[i] for i in slots], covariance.extract(slots, slots)
        )
        numeric += integral
        rules.add(_quadrature_rule(integral))
    frozen = frozenset(rules)
    return Expectation(
        sp.sympify(integrand),
        total + numeric,
        describe_rules(frozen),
        None if frozen & NUMERIC_RULES else 0.0,
        covariance,
        tuple(parts),
        numeric,
    )


def term_integrand(term: _Term) -> sp.Expr:
    """The integrand of a term on the generic fields ``y_1, ..., y_m``."""
    y = slot_symbols(term.m)
    poly = sp.Add(
        *[c * sp.Mul(*[v**e for v, e in zip(y, alpha, strict=True)]) for alpha, c in term.poly]
    )
    factors = [sp.erf(b * y[s]) for s, b in term.erfs] + [sp.Heaviside(y[s]) for s in term.steps]
    if term.gauss is not None:
        A = sp.Matrix(term.gauss)
        vector = sp.Matrix(y)
        factors.append(sp.exp(-(vector.T * A * vector)[0, 0] / 2))
    return poly * sp.Mul(*factors)


def closed_form_patterns(expectations: Sequence[Expectation]) -> list[tuple[sp.Expr, sp.Expr]]:
    """``(integrand, closed form)`` on generic fields ``y_i`` with covariance ``c_ij``, once for
    each distinct pattern the expectations were reduced to, in order of first use."""
    seen: dict[_Term, None] = {}
    for expectation in expectations:
        for canonical, _ in expectation.parts:
            seen.setdefault(canonical, None)
    out = []
    for term in seen:
        value = _evaluate(term)
        assert value is not None
        out.append((term_integrand(term), _display(value[0], term.m)))
    return out


def _display(value: sp.Expr, m: int) -> sp.Expr:
    """The generic ``c_ij`` (0-based) renamed ``c_{i+1 j+1}`` for documents."""
    generic = _generic(m)
    names = {
        generic[i, j]: sp.Symbol(f"c_{{{i + 1}{j + 1}}}") for i in range(m) for j in range(i, m)
    }
    return value.xreplace(names)


#: Numeric Gaussian integrals over at most this many fields are evaluated (tensor rules).
MAX_NUMERIC_SLOTS = 6
#: Integrals whose only non-smooth parts are steps of single fields are evaluated by
#: Gauss-Legendre rules cut at the kinks (see
#: ``featcheck.numerics.committee.evaluation.split_rule``) when at most this many coordinates
#: need Gauss-Legendre: one per *hard* field (one with kinks or in which the integrand is not
#: a polynomial), less one when the integrand is a polynomial in a hard field on each piece
#: (that coordinate, the last hard one, is integrated exactly, see :func:`field_degrees`).
#: The other fields, polynomials without kinks (a polynomial link's teacher fields), cost no
#: Gauss-Legendre coordinate: they are integrated exactly by Gauss-Hermite.
MAX_SPLIT_COORDINATES = 3


@lru_cache(maxsize=512)
def field_kinks(integrand: sp.Expr, slots: int) -> tuple[tuple[float, ...], ...] | None:
    """The kinks ``y_k = t`` of each slot when the integrand's only non-smooth parts are
    steps ``H(a y_k + c)`` of single fields (a ReLU with a bias), else None (no steps, or a
    step of a combination of fields, or another non-smooth function)."""
    steps = integrand.atoms(sp.Heaviside)
    if not steps or integrand.atoms(sp.Abs, sp.sign, sp.Max, sp.Min, sp.DiracDelta):
        return None
    y = slot_symbols(slots)
    kinks: list[set[float]] = [set() for _ in y]
    for step in steps:
        arg = step.args[0]
        used = [s for s in y if arg.has(s)]
        if len(used) != 1:
            return None
        poly = sp.Poly(arg, used[0])
        if poly.degree() != 1 or not all(c.is_number for c in poly.coeffs()):
            return None
        a, c = (float(v) for v in poly.all_coeffs())
        kinks[y.index(used[0])].add(-c / a)
    return tuple(tuple(sorted(k)) for k in kinks)


@lru_cache(maxsize=512)
def field_degrees(integrand: sp.Expr, slots: int) -> tuple[int | None, ...]:
    """For each slot ``k``, the degree of the integrand as a polynomial in ``y_k`` when the
    steps are held fixed (a ReLU ``(y + b) H(y + b)`` has degree 1), else None (``tanh(y_k)``,
    ``exp``, a step of a combination of fields...).  On each piece between the kinks of
    ``y_k`` the integrand is then exactly that polynomial, so a Gaussian coordinate carrying
    only such fields can be integrated exactly (truncated Gaussian moments)."""
    y = slot_symbols(slots)
    steps = {step: sp.Dummy() for step in integrand.atoms(sp.Heaviside)}
    frozen = integrand.xreplace(steps)
    degrees: list[int | None] = []
    for slot in y:
        if not frozen.has(slot):
            degrees.append(0)
        elif frozen.is_polynomial(slot):
            degrees.append(int(sp.degree(sp.expand(frozen), slot)))
        else:
            degrees.append(None)
    return tuple(degrees)


def hard_fields(integrand: sp.Expr, slots: int) -> tuple[int, ...]:
    """The slots in which the integrand has kinks (:func:`field_kinks`) or is not a
    polynomial (:func:`field_degrees`); in the others it is a polynomial without kinks."""
    kinks = field_kinks(integrand, slots) or ((),) * slots
    degrees = field_degrees(integrand, slots)
    return tuple(k for k in range(slots) if kinks[k] or degrees[k] is None)


def legendre_coordinates(integrand: sp.Expr, slots: int) -> int:
    """The coordinates the split rule integrates by Gauss-Legendre: one per hard field
    (:func:`hard_fields`), one fewer when the integrand is a polynomial in one of them (the
    last hard coordinate is then integrated exactly)."""
    hard = hard_fields(integrand, slots)
    degrees = field_degrees(integrand, slots)
    return len(hard) - any(degrees[k] is not None for k in hard)


def split_kinks(integrand: sp.Expr, slots: int) -> tuple[tuple[float, ...], ...] | None:
    """The kinks of :func:`field_kinks` when the split rule applies to the integrand: at most
    :data:`MAX_NUMERIC_SLOTS` fields and :data:`MAX_SPLIT_COORDINATES` Gauss-Legendre
    coordinates (three hard fields, or four when the integrand is a polynomial in one of
    them, :func:`hard_fields`)."""
    if slots > MAX_NUMERIC_SLOTS:
        return None
    kinks = field_kinks(integrand, slots)
    if kinks is None:
        return None
    return kinks if legendre_coordinates(integrand, slots) <= MAX_SPLIT_COORDINATES else None


#: Piecewise polynomials with kinks in at most this many fields have certified values
#: (orthant probabilities of at most four fields, see
#: ``featcheck.numerics.committee.orthants``); fields without kinks are reduced away exactly.
MAX_ORTHANT_SLOTS = 4


def piecewise_polynomial(integrand: sp.Expr, slots: int) -> bool:
    """Whether the integrand is a polynomial between the kinks of steps of single fields
    (a ReLU with a bias, its derivative, polynomials), over at most
    :data:`MAX_NUMERIC_SLOTS` fields of which at most :data:`MAX_ORTHANT_SLOTS` have kinks:
    its expectation is then a finite sum of Gaussian orthant probabilities of the kinked
    fields with polynomial coefficients."""
    if slots > MAX_NUMERIC_SLOTS or integrand.atoms(sp.Abs, sp.sign, sp.Max, sp.Min, sp.DiracDelta):
        return False
    if integrand.atoms(sp.Heaviside):
        kinks = field_kinks(integrand, slots)
        if kinks is None or sum(1 for k in kinks if k) > MAX_ORTHANT_SLOTS:
            return False
    return all(d is not None for d in field_degrees(integrand, slots))


def _quadrature_rule(integral: sp.Expr) -> str:
    """The rule name of a numeric integral: certified, split at kinks (with or without a
    certificate), or plain quadrature."""
    if _certifiable(integral):
        return "certified-quadrature"
    atoms = sp.sympify(integral).atoms(GaussianIntegral)
    if atoms and all(split_kinks(type(a).integrand, type(a).slots) for a in atoms):
        if all(piecewise_polynomial(type(a).integrand, type(a).slots) for a in atoms):
            return "split-quadrature"
        return "split-quadrature-uncertified"
    return "quadrature"


def _certifiable(integral: sp.Expr) -> bool:
    """Whether the :class:`GaussianIntegral` has a majorant on a strip
    (:mod:`featcheck.theory.committee.majorants`), so that its quadrature can be certified."""
    from featcheck.theory.committee.majorants import NotCertifiable, strip_analysis

    for atom in sp.sympify(integral).atoms(GaussianIntegral):
        try:
            strip_analysis(type(atom).integrand, type(atom).slots)
        except NotCertifiable:
            return False
    return True


def numeric_integral(
    integrand: sp.Expr, fields: Sequence[sp.Symbol], covariance: sp.Matrix
) -> sp.Expr:
    """``E[integrand]`` as a :class:`GaussianIntegral` symbol (no closed form attempted)."""
    if not fields:
        return integrand
    slots = slot_symbols(len(fields))
    body = integrand.xreplace(dict(zip(fields, slots, strict=True)))
    cls = gaussian_integral_class(body, len(fields))
    return cls(*upper_entries(covariance))


# ----------------------------------------------------------------------------
# The printed closed forms for g = erf(z/sqrt(2)) (Saad and Solla 1995), on a covariance C


def erf_i2(C: sp.Matrix) -> sp.Expr:
    """``E[g(a) g(b)] = (2/pi) arcsin(C_ab / sqrt((1 + C_aa)(1 + C_bb)))``."""
    return 2 / sp.pi * sp.asin(C[0, 1] / sp.sqrt((1 + C[0, 0]) * (1 + C[1, 1])))


def erf_i3(C: sp.Matrix) -> sp.Expr:
    """``E[g'(a) b g(c)] = (2/pi) (C_bc (1 + C_aa) - C_ab C_ac) / ((1 + C_aa) sqrt(L3))``."""
    L3 = (1 + C[0, 0]) * (1 + C[2, 2]) - C[0, 2] ** 2
    return 2 / sp.pi * (C[1, 2] * (1 + C[0, 0]) - C[0, 1] * C[0, 2]) / ((1 + C[0, 0]) * sp.sqrt(L3))


def erf_i4(C: sp.Matrix) -> sp.Expr:
    """``E[g'(a) g'(b) g(c) g(d)] = (4/pi^2) arcsin(L0 / sqrt(L1 L2)) / sqrt(L4)``."""
    a, b, c, d = range(4)
    L4 = (1 + C[a, a]) * (1 + C[b, b]) - C[a, b] ** 2
    L0 = (
        L4 * C[c, d]
        - C[b, c] * C[b, d] * (1 + C[a, a])
        - C[a, c] * C[a, d] * (1 + C[b, b])
        + C[a, b] * C[a, c] * C[b, d]
        + C[a, b] * C[a, d] * C[b, c]
    )
    L1 = (
        L4 * (1 + C[c, c])
        - C[b, c] ** 2 * (1 + C[a, a])
        - C[a, c] ** 2 * (1 + C[b, b])
        + 2 * C[a, b] * C[a, c] * C[b, c]
    )
    L2 = (
        L4 * (1 + C[d, d])
        - C[b, d] ** 2 * (1 + C[a, a])
        - C[a, d] ** 2 * (1 + C[b, b])
        + 2 * C[a, b] * C[a, d] * C[b, d]
    )
    return 4 / sp.pi**2 * sp.asin(L0 / sp.sqrt(L1 * L2)) / sp.sqrt(L4)


def erf_j2(C: sp.Matrix) -> sp.Expr:
    """``E[g'(a) g'(b)] = (2/pi) / sqrt((1 + C_aa)(1 + C_bb) - C_ab^2)``."""
    return 2 / sp.pi / sp.sqrt((1 + C[0, 0]) * (1 + C[1, 1]) - C[0, 1] ** 2)


def relu_pair(C: sp.Matrix) -> sp.Expr:
    """``E[relu(a) relu(b)] = sqrt(C_aa C_bb) (sqrt(1 - r^2) + (pi - arccos r) r) / (2 pi)``,
    ``r = C_ab / sqrt(C_aa C_bb)`` (the arc-cosine kernel of degree one)."""
    r = C[0, 1] / sp.sqrt(C[0, 0] * C[1, 1])
    return sp.sqrt(C[0, 0] * C[1, 1]) * (sp.sqrt(1 - r**2) + (sp.pi - sp.acos(r)) * r) / (2 * sp.pi)
