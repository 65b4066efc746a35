r"""Gaussian integrals of piecewise polynomials, exactly reduced to orthant probabilities and
enclosed in Arb balls.

A ReLU with a bias makes the integrands of the overlap ODEs piecewise polynomial: with the
steps ``H(a y_k + c)`` of single fields written as indicators ``1{y_k > t}`` (or one minus
one), ``E[f(y)]``, ``y ~ N(0, C)``, is a finite sum of terms ``c E[y^alpha 1{y_S > t_S}]``.
Each term reduces exactly:

* Gaussian integration by parts on the centred ``z = y - mu``,
  ``E[z_j g(z)] = sum_k Sigma_jk E[d_k g(z)]``; the derivative of an indicator is a point
  mass, ``d_k 1{z_k > d_k} = delta(z_k - d_k)``, and
  ``E[delta(z_k - d_k) G(z)] = phi(d_k; Sigma_kk) E[G(z) | z_k = d_k]``, a Gaussian law with
  one field fewer (mean ``mu + Sigma_.k (d_k - mu_k)/Sigma_kk``, covariance
  ``Sigma - Sigma_.k Sigma_k. / Sigma_kk``);
* what remains are orthant probabilities ``P(z_S > d_S)`` of the kinked fields, at most four,
  under the original law or a conditional one (fields without kinks, up to six fields in all,
  leave only their covariances behind).

Orthant probabilities: one field ``erfc``; two fields
``P(z_1 > h, z_2 > k) = Phibar(h) Phibar(k) + int_0^rho phi_2(h, k; r) dr`` (the derivative
in the correlation is the bivariate density, Sheppard); three and four fields Plackett's
identity ``dP/dR_ij = phi_2(h_i, h_j; R_ij) P(rest > h_rest | z_i = h_i, z_j = h_j)``
integrated along ``R(s) = R0 + s (R - R0)`` from disjoint pairs of fields (Plackett,
Biometrika 41, 246 (1954), with the pairs' two-field probabilities at ``s = 0``), the
conditional probability being of one or two fields.  The one-dimensional
integrals are Arb's rigorous integration of analytic functions (Petras' algorithm with
Gauss-Legendre error bounds on ellipses, :meth:`flint.acb.integral`), nested for four fields;
all arithmetic is in ball arithmetic, so the returned ball contains the exact value.

Singular covariances (a field that is a multiple of another, at a teacher) and an integrand
that is not piecewise polynomial raise
:class:`~featcheck.theory.committee.majorants.NotCertifiable`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from contextlib import contextmanager
from functools import lru_cache
from math import comb

import sympy as sp
from flint import acb, arb, ctx

from featcheck.theory.committee.expectations import (
    MAX_NUMERIC_SLOTS,
    MAX_ORTHANT_SLOTS,
    piecewise_polynomial,
    slot_symbols,
)
from featcheck.theory.committee.majorants import NotCertifiable

#: Working precision (bits) of the ball arithmetic.
PRECISION = 80
#: Most fields an orthant probability may have (Plackett's reduction is nested once).
MAX_FIELDS = MAX_ORTHANT_SLOTS
#: Work limit of one Arb integration (integrand evaluations), and of one orthant probability
#: (bivariate densities evaluated, nested integrals included: ten to forty seconds, by how
#: costly each evaluation is).  Nearly
#: singular covariances of four fields can need far more; they then have no certificate.
EVALUATIONS = 2_000_000
WORK = 2_000_000


class _Work:
    """A budget of integrand evaluations shared by nested integrations; once spent, the
    integrands return a non-finite ball, which ends Arb's integration without a result
    (a Python exception must not cross Arb's C callback)."""

    def __init__(self, budget: int) -> None:
        self.left = budget

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0


_UNDEFINED = acb(arb("nan"))

__all__ = [
    "MAX_FIELDS",
    "orthant_probability",
    "piecewise_polynomial_mean",
    "piecewise_terms",
    "sign_moment4_ball",
]

#: One cut ``y_k > t``: the field ``k`` and the threshold ``t`` (a sympy number).
Cut = tuple[int, sp.Expr]
#: ``coefficient * y^alpha * prod_(cuts) 1{y_k > t}``.
Term = tuple[tuple[int, ...], frozenset, sp.Expr]


@contextmanager
def _precision(bits: int):
    saved = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = saved


def _ball(x: sp.Expr) -> arb:
    """An Arb ball containing the sympy number ``x``."""
    x = sp.nsimplify(x) if isinstance(x, sp.Float) else x
    if x.is_Rational:
        return arb(int(x.p)) / arb(int(x.q))
    if not x.is_real or not x.is_number:
        raise NotCertifiable(f"{x} is not a real number")
    return arb(str(sp.Float(x, 40))) + arb(0, 1e-35)


# ----------------------------------------------------------------------------
# Orthant probabilities


def _upper_tail(x: acb) -> acb:
    """``Phibar(x) = P(z > x)``, ``z ~ N(0, 1)``."""
    return (x / acb(2).sqrt()).erfc() / 2


def _bivariate_density(h: acb, k: acb, r: acb, analytic: bool) -> acb:
    """``phi_2(h, k; r)``, unit variances, correlation ``r``."""
    s = 1 - r * r
    return (-(h * h - 2 * r * h * k + k * k) / (2 * s)).exp() / (
        2 * acb.pi() * s.sqrt(analytic=analytic)
    )


def _integral(f, a, b, tolerance: float) -> acb:
    return acb.integral(f, a, b, abs_tol=tolerance, eval_limit=EVALUATIONS)


def _two_fields(h: acb, k: acb, rho: acb, analytic: bool, tolerance: float, work: _Work) -> acb:
    """``P(z_1 > h, z_2 > k)``, unit variances, correlation ``rho`` (Sheppard)."""
    base = _upper_tail(h) * _upper_tail(k)
    if rho == 0:
        return base

    def density(r: acb, a: bool) -> acb:
        return _bivariate_density(h, k, r, a) if work.spend() else _UNDEFINED

    return base + _integral(density, acb(0), rho, tolerance)


def _path(R, R0, s: acb):
    """``R(s) = R0 + s (R - R0)`` as a function of the pair ``(k, o)``."""

    def entry(k: int, o: int) -> acb:
        if k == o:
            return acb(1)
        return R0[k][o] + s * (R[k][o] - R0[k][o])

    return entry


def _conditioned(R, R0, h, i: int, j: int, s: acb):
    """Mean and covariance of the other fields of ``N(0, R(s))`` given ``z_i = h_i``,
    ``z_j = h_j`` (``R(s) = R0 + s (R - R0)``)."""
    n = len(h)
    Rs = _path(R, R0, s)
    rest = [k for k in range(n) if k not in (i, j)]
    r = Rs(i, j)
    det = 1 - r * r
    weights = []
    mean = []
    for k in rest:
        a, b = Rs(k, i), Rs(k, j)
        wi, wj = (a - r * b) / det, (b - r * a) / det
        weights.append((wi, wj))
        mean.append(wi * h[i] + wj * h[j])
    cov = [
        [Rs(k, o) - (wi * Rs(o, i) + wj * Rs(o, j)) for o in rest]
        for k, (wi, wj) in zip(rest, weights, strict=True)
    ]
    return rest, mean, cov


def _pairing(R) -> list[tuple[int, int]]:
    """Disjoint pairs of fields with the largest sum of squared correlations (one pair of
    three fields, two of four): the start of Plackett's path."""
    n = len(R)

    def weight(pairs) -> float:
        return sum(float(R[i][j].real.mid()) ** 2 for i, j in pairs)

    if n == 3:
        candidates = [[(0, 1)], [(0, 2)], [(1, 2)]]
    else:
        candidates = [[(0, 1), (2, 3)], [(0, 2), (1, 3)], [(0, 3), (1, 2)]]
    return max(candidates, key=weight)


def _standard_orthant(
    h: list[acb], R: list[list[acb]], tolerance: float, work: _Work, paired: bool = True
) -> acb:
    """``P(z > h)``, ``z ~ N(0, R)`` with unit variances (``R`` positive definite).

    Three and four fields: Plackett's identity along ``R(s) = R0 + s (R - R0)``, where
    ``R0`` keeps the correlations of the disjoint pairs of :func:`_pairing` and sets the
    others to zero, so ``P(R0)`` is a product of two-field probabilities (Sheppard) and only
    the correlations between pairs move.  ``R(s)`` is positive definite (a convex
    combination of two such matrices), and a strongly correlated pair (a student near its
    teacher) stays fixed along the path instead of approaching singularity on it, which the
    path from the identity made costly: at correlations ``1 - 1e-4`` within two pairs it
    exceeded the work limit.  ``paired=False`` starts from the identity instead (Plackett's
    own path; an independent route for the tests)."""
    n = len(h)
    if n == 0:
        return acb(1)
    if n == 1:
        return _upper_tail(h[0])
    if n == 2:
        return _two_fields(h[0], h[1], R[0][1], False, tolerance, work)
    pairs0 = _pairing(R) if paired else []
    R0 = [[acb(1) if i == j else acb(0) for j in range(n)] for i in range(n)]
    start = acb(1)
    paired = set()
    for i, j in pairs0:
        R0[i][j] = R0[j][i] = R[i][j]
        start *= _two_fields(h[i], h[j], R[i][j], False, tolerance / 8, work)
        paired |= {i, j}
    for k in set(range(n)) - paired:
        start *= _upper_tail(h[k])
    moving = [(i, j) for i in range(n) for j in range(i + 1, n) if R[i][j] != R0[i][j]]
    inner = tolerance / (4 * max(len(moving), 1))

    def derivative(s: acb, analytic: bool) -> acb:
        if not work.spend():
            return _UNDEFINED
        total = acb(0)
        for i, j in moving:
            rest, mean, cov = _conditioned(R, R0, h, i, j, s)
            density = _bivariate_density(h[i], h[j], _path(R, R0, s)(i, j), analytic)
            scale = [cov[p][p].sqrt(analytic=analytic) for p in range(len(rest))]
            t = [(h[k] - m) / sd for k, m, sd in zip(rest, mean, scale, strict=True)]
            if len(rest) == 1:
                conditional = _upper_tail(t[0])
            else:
                rho = cov[0][1] / (scale[0] * scale[1])
                conditional = _two_fields(t[0], t[1], rho, analytic, inner, work)
            total += (R[i][j] - R0[i][j]) * density * conditional
        return total

    if not moving:
        return start
    return start + _integral(derivative, acb(0), acb(1), tolerance / 2)


def _check_definite(S: list[list[arb]]) -> None:
    """Raise :class:`NotCertifiable` unless every Cholesky pivot of ``S`` is certainly
    positive."""
    n = len(S)
    A = [row[:] for row in S]
    for k in range(n):
        if not A[k][k] > 0:
            raise NotCertifiable("the fields' covariance is singular (or nearly so)")
        for i in range(k + 1, n):
            factor = A[i][k] / A[k][k]
            for j in range(k + 1, n):
                A[i][j] -= factor * A[k][j]


def orthant_probability(
    thresholds: Sequence, covariance: Sequence[Sequence], *, tolerance: float = 1e-12
) -> arb:
    """``P(z > thresholds)`` for ``z ~ N(0, covariance)`` of at most :data:`MAX_FIELDS`
    fields, as an Arb ball containing the exact value (``tolerance`` is the integrations'
    absolute goal; the ball's radius says what was reached).

    >>> p = orthant_probability([0, 0, 0], [[1, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]])
    >>> abs(float(p.mid()) - 1 / 4) < 1e-15   # 1/8 + 3 arcsin(1/2)/(4 pi)
    True
    """
    n = len(thresholds)
    if n > MAX_FIELDS:
        raise NotCertifiable(f"orthant probabilities of more than {MAX_FIELDS} fields")
    with _precision(PRECISION):
        d = [x if isinstance(x, arb) else arb(x) for x in thresholds]
        S = [[x if isinstance(x, arb) else arb(x) for x in row] for row in covariance]
        return _orthant(d, S, tolerance)


def _orthant(d: list[arb], S: list[list[arb]], tolerance: float) -> arb:
    _check_definite(S)
    scale = [S[i][i].sqrt() for i in range(len(d))]
    h = [acb(d[i] / scale[i]) for i in range(len(d))]
    R = [
        [acb(1) if i == j else acb(S[i][j] / (scale[i] * scale[j])) for j in range(len(d))]
        for i in range(len(d))
    ]
    value = _standard_orthant(h, R, tolerance, _Work(WORK))
    if not value.is_finite():
        raise NotCertifiable(
            "the orthant probability's integral did not converge within the work limit "
            "(a nearly singular covariance)"
        )
    return value.real


# ----------------------------------------------------------------------------
# Piecewise polynomials


@lru_cache(maxsize=512)
def piecewise_terms(integrand: sp.Expr, slots: int) -> tuple[Term, ...]:
    """The integrand as ``sum c y^alpha prod_(cuts) 1{y_k > t}`` (at most one cut per field,
    equal terms merged), or :class:`NotCertifiable` when it is not a polynomial between the
    kinks of steps of single fields."""
    if not piecewise_polynomial(integrand, slots):
        raise NotCertifiable(
            f"{integrand} is not a polynomial between the kinks of steps of single fields "
            f"with kinks in at most {MAX_FIELDS} of at most {MAX_NUMERIC_SLOTS} fields"
        )
    y = slot_symbols(slots)
    steps = integrand.atoms(sp.Heaviside)
    cuts: dict[Cut, sp.Dummy] = {}
    replacement = {}
    for step in steps:
        arg = step.args[0]
        k = next(i for i, s in enumerate(y) if arg.has(s))
        a, c = sp.Poly(arg, y[k]).all_coeffs()
        t = sp.nsimplify(-c / a) if isinstance(-c / a, sp.Float) else -c / a
        indicator = cuts.setdefault((k, t), sp.Dummy(f"H{k}"))
        replacement[step] = indicator if a > 0 else 1 - indicator
    body = sp.expand(integrand.xreplace(replacement))
    indicators = list(cuts.values())
    by_dummy = {v: key for key, v in cuts.items()}
    merged: dict[tuple, sp.Expr] = {}
    for monomial, coefficient in sp.Poly(body, *y, *indicators).terms():
        if not coefficient.is_number:
            raise NotCertifiable(f"{integrand} has a symbolic coefficient")
        alpha = tuple(int(e) for e in monomial[:slots])
        highest: dict[int, sp.Expr] = {}
        for dummy, e in zip(indicators, monomial[slots:], strict=True):
            if e:
                k, t = by_dummy[dummy]
                # 1{y > t1} 1{y > t2} = 1{y > max(t1, t2)}
                highest[k] = t if k not in highest else sp.Max(highest[k], t)
        key = (alpha, frozenset(highest.items()))
        merged[key] = merged.get(key, 0) + coefficient
    return tuple((alpha, cutset, c) for (alpha, cutset), c in merged.items() if c != 0)


class _Laws:
    """The law of ``y ~ N(0, C)`` conditioned on ``y_k = t`` for sets of cuts, with the
    moments ``E[z^beta 1{y_S > t_S}]`` of the centred ``z`` under each (memoised)."""

    def __init__(self, C: list[list[arb]], cuts: dict[Cut, arb], tolerance: float) -> None:
        self.m = len(C)
        self.cuts = cuts
        self.tolerance = tolerance
        self.laws = {frozenset(): ([arb(0)] * self.m, C)}
        self.moments: dict = {}
        self.orthants: dict = {}

    def law(self, T: frozenset) -> tuple[list[arb], list[list[arb]]]:
        """``(mu, Sigma)``: the mean and covariance of ``y`` given ``y_k = t`` for the cuts
        ``T`` (the conditioned fields' rows and columns are zero), one cut at a time."""
        if T not in self.laws:
            cut = max(T)
            k = cut[0]
            mu, S = self.law(T - {cut})
            if not S[k][k] > 0:
                raise NotCertifiable("the fields' covariance is singular (or nearly so)")
            gap = self.cuts[cut] - mu[k]
            column = [S[i][k] for i in range(self.m)]
            mu = [mu[i] + column[i] * gap / S[k][k] for i in range(self.m)]
            mu[k] = self.cuts[cut]
            S = [
                [S[i][j] - column[i] * column[j] / S[k][k] for j in range(self.m)]
                for i in range(self.m)
            ]
            for i in range(self.m):
                S[i][k] = S[k][i] = arb(0)
            self.laws[T] = (mu, S)
        return self.laws[T]

    def orthant(self, T: frozenset, S: frozenset) -> arb:
        key = (T, S)
        if key not in self.orthants:
            mu, Sigma = self.law(T)
            order = sorted(S, key=lambda cut: cut[0])
            fields = [k for k, _ in order]
            d = [self.cuts[cut] - mu[k] for cut, k in zip(order, fields, strict=True)]
            block = [[Sigma[i][j] for j in fields] for i in fields]
            self.orthants[key] = _orthant(d, block, self.tolerance) if fields else arb(1)
        return self.orthants[key]

    def moment(self, T: frozenset, S: frozenset, beta: tuple[int, ...]) -> arb:
        """``E_T[z^beta 1{y_S > t_S}]``, ``z = y - mu_T``, without the density of ``y_T``."""
        key = (T, S, beta)
        if key in self.moments:
            return self.moments[key]
        if not any(beta):
            value = self.orthant(T, S)
        else:
            _, Sigma = self.law(T)
            j = next(i for i, b in enumerate(beta) if b)
            gamma = list(beta)
            gamma[j] -= 1
            fixed = {k for k, _ in T}
            value = arb(0)
            for k in range(self.m):
                if k in fixed or Sigma[j][k] == 0:
                    continue
                part = arb(0)
                if gamma[k]:
                    lower = list(gamma)
                    lower[k] -= 1
                    part += gamma[k] * self.moment(T, S, tuple(lower))
                cut = next((c for c in S if c[0] == k), None)
                if cut is not None:
                    part += self._on_cut(T, S, cut, tuple(gamma))
                value += Sigma[j][k] * part
        self.moments[key] = value
        return value

    def _on_cut(self, T: frozenset, S: frozenset, cut: Cut, gamma: tuple[int, ...]) -> arb:
        """``E_T[z^gamma delta(y_k - t) 1{y_(S - cut) > t}]``."""
        mu, Sigma = self.law(T)
        k = cut[0]
        gap = self.cuts[cut] - mu[k]
        density = (-gap * gap / (2 * Sigma[k][k])).exp() / (2 * arb.pi() * Sigma[k][k]).sqrt()
        inner = T | {cut}
        mu2, _ = self.law(inner)
        rest = S - {cut}
        shift = [mu2[i] - mu[i] for i in range(self.m)]
        value = arb(0)
        ranges = [range(g + 1) if i != k else (0,) for i, g in enumerate(gamma)]
        for lower in itertools.product(*ranges):
            coefficient = gap ** gamma[k]
            for i, (g, low) in enumerate(zip(gamma, lower, strict=True)):
                if i != k and g:
                    coefficient *= comb(g, low) * shift[i] ** (g - low)
            value += coefficient * self.moment(inner, rest, tuple(lower))
        return density * value


def _merge_collinear(
    integrand: sp.Expr, slots: int, covariance: Sequence[Sequence[float]]
) -> tuple[sp.Expr, int, list[list[float]]]:
    """The same expectation over fewer fields when the covariance makes a field zero or an
    exact multiple of an earlier one (``C_ij^2 = C_ii C_jj`` in exact arithmetic on the
    binary entries: a student at its teacher): ``y_j = (C_ij / C_ii) y_i`` is substituted.
    A minor ``C_ii C_jj - C_ij^2`` below zero (rounding in a state at its teacher: the
    covariance is then not one) is taken as zero, the collinear covariance nearest to it."""
    from fractions import Fraction

    y = slot_symbols(slots)
    C = [[Fraction(float(x)) for x in row] for row in covariance]
    kept: list[int] = []
    substitution: dict[sp.Symbol, sp.Expr] = {}
    for j in range(slots):
        if C[j][j] == 0:
            if any(
                step.args[0].has(y[j]) and step.args[0].subs(y[j], 0) == 0
                for step in integrand.atoms(sp.Heaviside)
            ):
                raise NotCertifiable("a step at zero of a field that is identically zero")
            substitution[y[j]] = sp.Integer(0)
            continue
        source = next((i for i in kept if C[i][j] ** 2 >= C[i][i] * C[j][j]), None)
        if source is None:
            kept.append(j)
        else:
            ratio = C[source][j] / C[source][source]
            substitution[y[j]] = sp.Rational(ratio.numerator, ratio.denominator) * y[source]
    if not substitution:
        return integrand, slots, [[float(x) for x in row] for row in covariance]
    renamed = dict(zip((y[k] for k in kept), slot_symbols(len(kept)), strict=True))
    reduced = integrand.xreplace(substitution).xreplace(renamed)
    block = [[float(C[i][j]) for j in kept] for i in kept]
    return reduced, len(kept), block


def piecewise_polynomial_mean(
    integrand: sp.Expr,
    slots: int,
    covariance: Sequence[Sequence[float]],
    *,
    tolerance: float = 1e-12,
) -> arb:
    """``E[integrand(y)]``, ``y ~ N(0, covariance)``, for a polynomial between the kinks of
    steps of single fields (:func:`piecewise_terms`), as an Arb ball containing the exact
    value.  The covariance's entries are taken as exact binary numbers; a field that is
    zero or an exact multiple of another (a student at its teacher) is substituted first.

    >>> import sympy as sp
    >>> y1, y2 = sp.symbols("y_1 y_2", real=True)
    >>> relu = lambda u: u * sp.Heaviside(u)
    >>> ball = piecewise_polynomial_mean(relu(y1) * relu(y2), 2, [[1, 0], [0, 1]])
    >>> abs(float(ball.mid()) - 1 / (2 * 3.141592653589793)) < 1e-15   # (E relu)^2
    True
    """
    integrand, slots, covariance = _merge_collinear(sp.sympify(integrand), slots, covariance)
    if slots == 0:
        return _ball(sp.sympify(integrand))
    terms = piecewise_terms(integrand, slots)
    with _precision(PRECISION):
        C = [[arb(float(x)) for x in row] for row in covariance]
        cuts = {cut: _ball(cut[1]) for _, cutset, _ in terms for cut in cutset}
        laws = _Laws(C, cuts, tolerance / max(1, 4 * len(terms)))
        total = arb(0)
        for alpha, cutset, coefficient in terms:
            total += _ball(coefficient) * laws.moment(frozenset(), cutset, alpha)
        return total


def sign_moment4_ball(correlations: Sequence[float], *, tolerance: float = 1e-12) -> arb:
    """``E[sign(u_1) sign(u_2) sign(u_3) sign(u_4)]`` for unit variances and correlations
    ``(r12, r13, r14, r23, r24, r34)``:
    ``sum_(S) (-1)^(4 - |S|) 2^|S| P(u_S > 0)`` (``sign u = 2 1{u > 0} - 1``)."""
    R = [[1.0] * 4 for _ in range(4)]
    for (i, j), r in zip(itertools.combinations(range(4), 2), correlations, strict=True):
        R[i][j] = R[j][i] = float(r)
    with _precision(PRECISION):
        total = arb(0)
        for size in range(5):
            for S in itertools.combinations(range(4), size):
                block = [[arb(R[i][j]) for j in S] for i in S]
                p = _orthant([arb(0)] * size, block, tolerance / 16) if S else arb(1)
                total += (-1) ** (4 - size) * 2**size * p
        return total


def upper_bound(x: arb) -> float:
    """A float at least ``|x|`` for every point of the ball ``x``."""
    return math.nextafter(float(x.abs_upper()), math.inf)
