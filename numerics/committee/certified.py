r"""Certified values of Gaussian integrals without closed form: the trapezoidal rule on a strip.

For ``E[f(y)]``, ``y ~ N(0, C)``, write ``y = L xi`` (``L L^T = C``, ``xi ~ N(0, I_n)``) and
``F(xi) = f(L xi) prod_j phi(xi_j)``.  The tensor trapezoidal rule with step ``h``,
``T_h = h^n sum_(k in Z^n) F(h k)``, has by Poisson summation the error
``T_h - I = sum_(m != 0) Fhat(2 pi m / h)``.  If ``F`` is analytic in the tube
``|Im xi_j| < a`` and ``M = sup_(|b_j| <= a) int |F(xi + i b)| d xi`` is finite, shifting each
coordinate's contour by ``-+ i a`` gives ``|Fhat(omega)| <= M exp(-a sum_j |omega_j|)``, so

    |T_h - I| <= M (coth(pi a / h)^n - 1)

(Trefethen and Weideman, SIAM Review 56, 385 (2014), Theorem 5.1, in one dimension; the tensor
form sums the same geometric series in every coordinate).  ``M`` is bounded with the majorant
``U`` of :mod:`featcheck.theory.committee.majorants`: ``|phi(xi_j + i b_j)| = phi(xi_j)
exp(b_j^2/2)`` and the fields' imaginary parts are at most ``beta_k = a sum_j |L_kj|``, so
``M <= exp(n a^2/2) E[U(|y|)]``, and ``E prod_k |y_k|^alpha_k <= prod_k
(E|y_k|^N)^(alpha_k/N)`` (Hölder, ``N = |alpha|``) with ``E|y_k|^N = C_kk^(N/2) 2^(N/2)
Gamma((N+1)/2)/sqrt(pi)``.

The rule keeps the nodes with ``|k_j| <= K``.  Outside that box ``|f(L xi)| <= U_0(|L xi|)``
(the majorant at zero width) ``<= sum_N p_N ||xi||_inf^N`` and ``||xi||_inf^N <= sum_j
|xi_j|^N``; the one-dimensional lattice sums are bounded by integrals (``s^N phi(s)`` decreases
for ``s > sqrt(N)``; a unimodal sum exceeds its integral by at most ``h`` times its maximum),
which gives the truncation bound of :func:`_truncation`.  Rounding adds ``gamma_P
sum |w f| + 4 (ops + 1) u sum w U_0`` (``P`` points, ``u`` the unit roundoff, ``ops`` the
integrand's operation count, each numpy function within 4 ulp).

:func:`certified_trapezoid` chooses ``a`` (a fraction of the widest admissible strip), ``h``
and ``K`` for a target tolerance; :func:`certified_quadrature` certifies the value ``Q`` the
ODEs use: ``|Q - I| <= |Q - T_h| + |T_h - I|``.  Every figure is
a bound, not an estimate; an integrand without a majorant (a kink, a step) raises
:class:`~featcheck.theory.committee.majorants.NotCertifiable`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
from flint import arb
from scipy import special

from featcheck.numerics.committee.evaluation import (
    _gauss_hermite,
    covariance_stack,
    gaussian_integral,
    integrand_function,
    polynomial_tail,
    quadrature_error,
    sign_moment4,
    tail_root,
    tensor_rule,
    tensor_sums,
    whitening_roots,
)
from featcheck.numerics.committee.orthants import (
    piecewise_polynomial_mean,
    sign_moment4_ball,
    upper_bound,
)
from featcheck.theory.committee.expectations import (
    GaussianIntegral,
    GaussianIntegralDerivative,
    SignMoment4,
)
from featcheck.theory.committee.majorants import NotCertifiable, strip_analysis
from featcheck.theory.errors import InputError

#: Largest number of rule points a certificate may evaluate, and the smallest tolerance a
#: certificate may aim at (rounding in double precision is of that order).
MAX_POINTS = 1 << 24
MIN_TOLERANCE = 1e-14
#: Fractions of the widest admissible strip tried (an unconstrained strip: these widths).
STRIP_FRACTIONS = (0.3, 0.45, 0.6, 0.75, 0.85, 0.92)
FREE_WIDTHS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
UNIT_ROUNDOFF = np.finfo(float).eps / 2

__all__ = [
    "Certified",
    "NotCertifiable",
    "certified_piecewise",
    "certified_quadrature",
    "certified_sign_moment4",
    "certified_trapezoid",
]


@dataclass(frozen=True)
class Certified:
    """``value`` with ``|value - E[f(y)]| <= bound``; ``method`` names the rule, ``parts`` the
    bound's terms (aliasing, truncation, rounding, rule difference)."""

    value: float
    bound: float
    method: str
    parts: dict[str, float]


def _absolute_moment(variance: float, N: int) -> float:
    """``E|y|^N`` for ``y ~ N(0, variance)``."""
    return variance ** (N / 2) * 2 ** (N / 2) * math.gamma((N + 1) / 2) / math.sqrt(math.pi)


def _majorant_mean(majorant: dict, C: np.ndarray) -> float:
    """An upper bound on ``E[U(|y|)]``, ``y ~ N(0, C)`` (Hölder on each monomial)."""
    total = 0.0
    variances = np.diag(C)
    for alpha, c in majorant.items():
        N = sum(alpha)
        term = c
        if N:
            for k, a in enumerate(alpha):
                if a:
                    term *= _absolute_moment(float(variances[k]), N) ** (a / N)
        total += term
    return total


def _half_line(N: int, R: float) -> float:
    """``int_R^inf s^N phi(s) ds``."""
    a = (N + 1) / 2
    return 2 ** (N / 2 - 1) * special.gammaincc(a, R * R / 2) * math.gamma(a) / math.sqrt(math.pi)


def _truncation(
    majorant0: dict, row_norms: np.ndarray, n: int, h: float, K: int, soft: int = 0
) -> float:
    """Bound on ``h^n sum_(k outside the box) |F(h k)|``, or ``inf`` when ``R = K h`` is too
    small for the monotonicity argument.

    With ``soft`` further coordinates ``xi_s`` integrated exactly (a polynomial tail), ``F``
    is ``phi(xi) E_s[f]``: with ``|y_k| <= row_norms_k max(|xi|_inf, |xi_s|_inf)`` and
    ``max(u, v)^N <= u^N + v^N``, ``E_s |xi_s|_inf^N <= soft E|z|^N`` adds
    ``p_N soft E|z|^N`` to the constant term for each degree ``N >= 1``."""
    R = K * h
    degree: dict[int, float] = {}
    for alpha, c in majorant0.items():
        N = sum(alpha)
        degree[N] = degree.get(N, 0.0) + c * float(np.prod(row_norms ** np.array(alpha)))
    if soft:
        extra = sum(p * soft * _absolute_moment(1.0, N) for N, p in degree.items() if N)
        degree[0] = degree.get(0, 0.0) + extra
    if max(degree) > R * R:
        return math.inf
    S0 = 1.0 + h / math.sqrt(2 * math.pi)
    t0 = 2 * _half_line(0, R)
    total = 0.0
    for N, p in degree.items():
        if N == 0:
            total += p * n * t0 * S0 ** (n - 1)
            continue
        tN = 2 * _half_line(N, R)
        peak = N ** (N / 2) * math.exp(-N / 2) / math.sqrt(2 * math.pi)
        mN = 2 * (_half_line(N, 0.0) + h * peak)
        total += p * (n * tN * S0 ** (n - 1) + n * (n - 1) * t0 * mN * S0 ** max(n - 2, 0))
    return total


def _aliasing(M: float, a: float, h: float, n: int) -> float:
    """``M (coth(pi a/h)^n - 1)``, with ``coth x - 1 = 2/(e^(2x) - 1)`` computed without
    cancellation."""
    x = 2 * math.pi * a / h
    excess = 2 * math.exp(-x) / -math.expm1(-x)
    return M * math.expm1(n * math.log1p(excess))


def _step_for(M: float, a: float, n: int, target: float) -> float:
    """The largest ``h`` with ``M (coth(pi a/h)^n - 1) <= target``."""
    eps = math.expm1(math.log1p(target / M) / n)
    x = 0.5 * math.log1p(2 / eps)
    return math.pi * a / x


def _plan(
    cls: type,
    L: np.ndarray,
    C: np.ndarray,
    tolerance: float,
    hard: int | None = None,
    tail_points: int = 1,
):
    """``(a, h, K, aliasing, truncation)`` with the fewest points, or ``None``.

    With a polynomial tail (the coordinates after the first ``hard`` of
    :func:`~featcheck.numerics.committee.evaluation.tail_root` integrated exactly by
    Gauss-Hermite, ``tail_points`` points), the trapezoid covers the hard coordinates only:
    the shifted contours move those (``beta`` from their columns of ``L``), ``M`` bounds the
    integral over them of ``|phi(xi + i eta) E_s f|``, ``<= e^(n a^2/2) E[U]`` as before with ``n``
    the hard coordinates, and the truncation counts the tail's coordinates as in
    :func:`_truncation`."""
    analysis = strip_analysis(cls.integrand, cls.slots)
    n = L.shape[1] if hard is None else hard
    soft = L.shape[1] - n
    full_norms = np.abs(L).sum(axis=1)
    row_norms = np.abs(L[:, :n]).sum(axis=1)
    widest = math.inf
    for limit in analysis.limits:
        reach = float(np.dot(limit.weights, row_norms))
        if reach > 0:
            widest = min(widest, limit.bound / reach)
    widths = FREE_WIDTHS if math.isinf(widest) else [f * widest for f in STRIP_FRACTIONS]
    majorant0 = analysis.majorant([0.0] * cls.slots)
    best = None
    for a in widths:
        beta = a * row_norms
        if not analysis.admissible(beta):
            continue
        M = math.exp(n * a * a / 2) * _majorant_mean(analysis.majorant(beta), C)
        if M == 0.0:
            M = 1e-300
        h = _step_for(M, a, n, tolerance / 2)
        aliasing = _aliasing(M, a, h, n)
        K = max(1, math.ceil(math.sqrt(max(sum(al) for al in majorant0)) / h))
        while (truncation := _truncation(majorant0, full_norms, n, h, K, soft)) > tolerance / 2:
            K += 1
            if (2 * K + 1) ** n * tail_points > MAX_POINTS:
                break
        if (2 * K + 1) ** n * tail_points > MAX_POINTS:
            continue
        if best is None or K / h < best[2] / best[1]:
            best = (a, h, K, aliasing, truncation)
    return best


def _covariance(cls: type, entries) -> np.ndarray:
    """The one covariance of ``entries`` (upper triangle), checked."""
    m = cls.slots
    if len(entries) != m * (m + 1) // 2:
        raise InputError(f"expected {m * (m + 1) // 2} covariance entries, got {len(entries)}")
    C = covariance_stack(cls, [float(e) for e in entries])[0][0]
    if not np.all(np.isfinite(C)) or np.linalg.eigvalsh(C)[0] < -1e-12 * max(1.0, np.abs(C).max()):
        raise InputError("the covariance must be finite and positive semi-definite")
    return C


def check_tolerance(tolerance: float) -> None:
    """A certificate's target tolerance must be in ``[MIN_TOLERANCE, 1)``."""
    if not (math.isfinite(tolerance) and MIN_TOLERANCE <= tolerance < 1):
        raise InputError(
            f"the quadrature tolerance must be in [{MIN_TOLERANCE:g}, 1), got {tolerance!r}"
        )


def certified_trapezoid(cls: type, *entries, tolerance: float = 1e-9) -> Certified:
    """``E[cls.integrand(y)]`` by the tensor trapezoidal rule with a rigorous error bound.

    The plan aims at ``tolerance``; when that would need more than :data:`MAX_POINTS` points
    the tolerance is relaxed tenfold until a plan fits, and ``bound`` says what was reached.
    """
    check_tolerance(tolerance)
    C = _covariance(cls, entries)
    L, hard, tail_rule = _root(cls, C)
    tail_points = len(tail_rule[0]) ** (cls.slots - hard)
    target = tolerance
    plan = _plan(cls, L, C, target, hard, tail_points)
    while plan is None and target < 1.0:
        target *= 10
        plan = _plan(cls, L, C, target, hard, tail_points)
    if plan is None:
        raise NotCertifiable(f"{cls.integrand}: no trapezoid plan within {MAX_POINTS} points")
    a, h, K, aliasing, truncation = plan
    x = h * np.arange(-K, K + 1)
    w = h * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    soft = cls.slots - hard
    xs = [x] * hard + [tail_rule[0]] * soft
    ws = [w] * hard + [tail_rule[1]] * soft
    value, absolute, majorised = tensor_sums(_rows(cls), L, xs, ws)
    rounding = _rounding(cls, len(x) ** hard * tail_points, absolute, majorised)
    parts = {"aliasing": aliasing, "truncation": truncation, "rounding": rounding}
    method = f"tensor trapezoid, step {h:.4g}, {len(x)} nodes per dimension, strip {a:.3g}"
    if soft:
        method = (
            f"trapezoid over {hard} coordinates, step {h:.4g}, {len(x)} nodes each, strip "
            f"{a:.3g}; {soft} polynomial fields: {len(tail_rule[0])} Gauss-Hermite (exact)"
        )
    return Certified(value, sum(parts.values()), method, parts)


def _root(cls: type, C: np.ndarray) -> tuple[np.ndarray, int, tuple[np.ndarray, np.ndarray]]:
    """``(L, hard, tail rule)``: the root of ``C`` the evaluation uses, the number of its
    coordinates the trapezoid covers and the Gauss-Hermite rule of the others (a
    :func:`~featcheck.numerics.committee.evaluation.polynomial_tail`), or all of them."""
    tail = polynomial_tail(cls)
    if tail is None:
        return whitening_roots(C[None])[0], cls.slots, (np.zeros(1), np.ones(1))
    return tail_root(C, tail), tail.hard, _gauss_hermite(tail.nodes)


def _rows(cls: type):
    """``y -> (f(y), |f(y)|, U_0(|y|))`` for :func:`tensor_sums`."""
    f = integrand_function(cls)
    majorant0 = strip_analysis(cls.integrand, cls.slots).majorant([0.0] * cls.slots)
    exponents = np.array(list(majorant0), dtype=float).reshape(len(majorant0), cls.slots)
    coefficients = np.array(list(majorant0.values()))

    def rows(y: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            values = np.broadcast_to(f(*y.T), (len(y),)).astype(float)
        powers = np.prod(np.abs(y)[:, None, :] ** exponents[None], axis=2)
        return np.stack([values, np.abs(values), powers @ coefficients])

    return rows


def _rounding(cls: type, points: int, absolute: float, majorised: float) -> float:
    u = UNIT_ROUNDOFF
    gamma = points * u / (1 - points * u)
    ops = int(sp.count_ops(cls.integrand))
    return gamma * absolute + 4 * (ops + 1) * u * majorised


def certified_quadrature(
    cls: type, *entries, nodes: int | None = None, tolerance: float = 1e-9
) -> Certified:
    """The value the compiled ODEs use (:func:`~featcheck.numerics.committee.evaluation.
    gaussian_integral`: the strip rule, or tensor Gauss-Hermite with ``nodes`` per dimension
    when given or when the integrand is entire), with a rigorous error bound
    ``|Q - T_h| + |T_h - I|`` (plus the rounding of ``Q``)."""
    C = _covariance(cls, entries)
    L = _root(cls, C)[0]
    xs, ws, rule = tensor_rule(cls, L, nodes)
    trapezoid = certified_trapezoid(cls, *entries, tolerance=tolerance)
    value = float(gaussian_integral(cls, *entries, nodes=nodes))
    _, absolute, majorised = tensor_sums(_rows(cls), L, xs, ws)
    parts = dict(trapezoid.parts)
    parts["rule difference"] = abs(value - trapezoid.value)
    parts["rounding"] += _rounding(cls, math.prod(len(x) for x in xs), absolute, majorised)
    return Certified(value, sum(parts.values()), f"{rule}, against the {trapezoid.method}", parts)


def certified_piecewise(cls: type, *entries, tolerance: float = 1e-9) -> Certified:
    """The value the compiled ODEs use for an integrand that is a polynomial between the
    kinks of steps of single fields (the Gauss-Legendre rule cut at the kinks), with a
    rigorous error bound: ``|Q - mid| + rad`` for the Arb ball ``mid +- rad`` that contains
    the exact value (:func:`featcheck.numerics.committee.orthants.piecewise_polynomial_mean`).
    """
    check_tolerance(tolerance)
    C = _covariance(cls, entries)
    value = float(gaussian_integral(cls, *entries))
    exact = piecewise_polynomial_mean(cls.integrand, cls.slots, C, tolerance=tolerance / 10)
    return _against(value, exact, "Gauss-Legendre cut at the kinks")


def certified_sign_moment4(*correlations, tolerance: float = 1e-9) -> Certified:
    """:func:`~featcheck.numerics.committee.evaluation.sign_moment4` (Gauss-Legendre over
    Plackett's integral) with a rigorous error bound, against the moment's expression by
    orthant probabilities enclosed in an Arb ball
    (:func:`featcheck.numerics.committee.orthants.sign_moment4_ball`)."""
    check_tolerance(tolerance)
    r = [float(c) for c in correlations]
    if len(r) != 6 or not all(math.isfinite(c) and abs(c) <= 1 for c in r):
        raise InputError("expected six correlations in [-1, 1]")
    value = float(sign_moment4(*r))
    exact = sign_moment4_ball(r, tolerance=tolerance / 10)
    return _against(value, exact, "Gauss-Legendre over Plackett's integral")


def _against(value: float, exact, rule: str) -> Certified:
    """``value`` certified by a ball containing the exact value."""
    difference = upper_bound(arb(value) - exact.mid())
    radius = upper_bound(exact.rad())
    parts = {"rule difference": difference, "enclosure": radius}
    return Certified(
        value,
        math.nextafter(difference + radius, math.inf),
        f"{rule}, against the exact reduction to orthant probabilities (Arb ball arithmetic)",
        parts,
    )


# ----------------------------------------------------------------------------
# Certificates of a derived ODE at a state


@dataclass(frozen=True)
class StateCertificate:
    """Bounds on the numerical evaluation of an ODE at one state: ``rhs`` (one per state
    component) and ``generalization_error``; ``inf`` where an integral has no certificate
    (``uncertified`` names those integrands)."""

    rhs: tuple[float, ...]
    generalization_error: float
    uncertified: tuple[str, ...]
    #: The same figures with the estimate ``|Q_N - Q_(N/2)|`` standing in for the bound of
    #: each uncertified integral: an estimate, not a bound (``inf`` only for Plackett's
    #: integral and nonlinear occurrences).
    rhs_estimate: tuple[float, ...] = ()
    generalization_error_estimate: float = math.inf


def _linear_coefficient(expr: sp.Expr, symbol: sp.Basic, numeric: set) -> sp.Expr | None:
    """``d expr / d symbol`` when ``expr`` is linear in the numeric symbols, else None."""
    coefficient = sp.diff(expr, symbol)
    if any(coefficient.has(s) for s in numeric):
        return None
    return coefficient


def _label(atom) -> str:
    """How an uncertified integral is named: its integrand, or Plackett's moment."""
    if isinstance(atom, SignMoment4):
        return "SignMoment4"
    return str(type(atom).integrand)


def certify_state(
    ode, state, *, tolerance: float = 1e-8, orthants: bool = True
) -> StateCertificate:
    """Certified bounds on ``|rhs_numeric - rhs|`` and on the generalisation error's numeric
    evaluation at ``state`` (the order of ``ode.system.state``).

    Each :class:`GaussianIntegral` in an expectation is certified at the state's covariance
    by :func:`certified_quadrature` (integrands analytic in a strip) or
    :func:`certified_piecewise` (polynomials between kinks), each :class:`SignMoment4` by
    :func:`certified_sign_moment4`; the bounds are carried to the
    expectations and then to the right-hand sides through their (linear) coefficients,
    ``|sum_i c_i (Q_i - I_i)| <= sum_i |c_i| bound_i``.  Integration error is not included:
    this certifies the equations evaluated, not the solver's steps.  ``orthants=False``
    skips the certificates by orthant probabilities (a second per state, more near a
    singular covariance): those integrals then count as uncertified.
    """
    check_tolerance(tolerance)
    system = ode.system
    if len(state) != len(system.state):
        raise InputError(f"expected {len(system.state)} state values, got {len(state)}")
    values = {s: sp.Float(float(v), 20) for s, v in zip(system.state, state, strict=True)}
    values |= {p: sp.Float(ode.parameter_values[p.name], 20) for p in system.parameters}
    certificates: dict[tuple, float] = {}
    uncertified: set[str] = set()

    def integral_bound(atom) -> np.ndarray:
        """``[certified bound, bound or estimate]`` of one integral at the state."""
        args = tuple(float(sp.N(a.xreplace(values), 20)) for a in atom.args)
        key = (type(atom), args)
        if key not in certificates:
            if isinstance(atom, SignMoment4):
                bound = orthant_bound(atom, args)
            else:
                try:
                    bound = certified_quadrature(type(atom), *args, tolerance=tolerance).bound
                except NotCertifiable:
                    bound = orthant_bound(atom, args)
            if bound is None:
                # Plackett's moment has no estimate either
                estimate = (
                    math.inf
                    if isinstance(atom, SignMoment4)
                    else float(quadrature_error(type(atom), *args))
                )
                certificates[key] = np.array([math.inf, estimate])
                uncertified.add(_label(atom))
            else:
                certificates[key] = np.array([bound, bound])
        return certificates[key]

    def orthant_bound(atom, args) -> float | None:
        """The bound by orthant probabilities, or None (not asked for, or none exists)."""
        if not orthants:
            return None
        try:
            if isinstance(atom, SignMoment4):
                return certified_sign_moment4(*args, tolerance=tolerance).bound
            return certified_piecewise(type(atom), *args, tolerance=tolerance).bound
        except NotCertifiable:
            return None

    unbounded = np.array([math.inf, math.inf])
    expectation_bounds: dict = {}
    for symbol, expectation in ode.expectations.items():
        if expectation.exact:
            expectation_bounds[symbol] = np.zeros(2)
            continue
        expr = sp.sympify(expectation.value).xreplace(ode.substitutions)
        others = expr.atoms(GaussianIntegralDerivative)
        atoms = expr.atoms(GaussianIntegral) | expr.atoms(SignMoment4)
        if others:
            uncertified |= {str(a.func) for a in others}
            expectation_bounds[symbol] = unbounded
            continue
        dummies = {atom: sp.Dummy() for atom in atoms}
        expr = expr.xreplace(dummies)
        total = np.zeros(2)
        for atom, dummy in dummies.items():
            coefficient = _linear_coefficient(expr, dummy, set(dummies.values()))
            if coefficient is None:
                total = unbounded
                uncertified.add(_label(atom))
                break
            c = abs(float(sp.N(coefficient.xreplace(values), 20)))
            if c:
                total = total + c * integral_bound(atom)
        expectation_bounds[symbol] = total

    named = set(ode.expectations)

    def carried(expr: sp.Expr) -> np.ndarray:
        total = np.zeros(2)
        for symbol in expr.free_symbols & named:
            bound = expectation_bounds[symbol]
            if not bound.any():
                continue
            coefficient = _linear_coefficient(expr, symbol, named)
            if coefficient is None:
                return unbounded
            c = abs(float(sp.N(ode.evaluate(coefficient).xreplace(values), 20)))
            if c:
                total = total + c * bound
        return total

    rhs = [carried(r) for r in ode.named_rhs]
    error = carried(ode.named_error)
    return StateCertificate(
        tuple(float(r[0]) for r in rhs),
        float(error[0]),
        tuple(sorted(uncertified)),
        tuple(float(r[1]) for r in rhs),
        float(error[1]),
    )
