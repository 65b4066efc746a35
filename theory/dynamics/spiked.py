r"""Gradient flows of a single neuron under a ``(kappa, theta)``-spiked covariance.

Three flows of ``w`` for the model of :mod:`featcheck.theory.models` (Mousavi-Hosseini, Wu, Suzuki,
Erdogdu 2023), each closed exactly in the summary statistics ``a = <w, theta>``,
``b = <w, u>``:

* ``plain``: ``dw/dt = -(I - w w^T) grad R(w)``, ``R(w) = 1/2 E[phi(<w,x>)^2] - E[phi(<w,x>) y]``;
* ``normalized``: the same for the student ``phi(<w,x>/||Sigma^(1/2) w||)``, whose risk is
  ``-psi(rho) + const``;
* ``preconditioned``: ``dw/dt = -Sigma^(-1) grad L(w)`` with ``L = -psi(rho(w))``, not
  projected; ``r = ||Sigma^(1/2) w||`` is conserved and ``q = ||w||^2`` joins the state.

Method (each step is recorded in the :class:`Derivation`): the risk is written as a function
of ``s1 = w^T Sigma w`` and ``s2 = w^T Sigma u`` (an extension off the sphere), so
``grad R = 2 R_{s1} Sigma w + R_{s2} Sigma u``; vectors are kept as coefficients in the frame
``(w, theta, u)`` with Gram matrix ``[[q, a, b], [a, 1, c], [b, c, 1]]``; ``Sigma`` and
``Sigma^(-1)`` act on the frame exactly; the inner products with ``theta``, ``u`` and ``w``
give ``da/dt``, ``db/dt``, ``dq/dt``.  The result is compared with the reference's
two-variable formula ``da/dt = -[F_a (1 - a^2) + F_b (c - a b)]``, ``db/dt = ...``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

import mpmath
import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics import FixedPoint, OdeSystem
from featcheck.theory.dynamics.series import (
    DEFAULT_MAX_DEGREE,
    CorrelationSeries,
    ScaledActivation,
    ScaledIntegral,
    coefficient_expr,
    correlation_series,
    mp_namespace,
)
from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.functions import Function, FunctionLike, as_function
from featcheck.theory.hermite import hermite_coefficients, information_exponent
from featcheck.theory.models import SpikedCovariance, a, b, c, check_convention, d, kappa, m, rho

FLOWS = ("plain", "normalized", "preconditioned")
SOURCE = "Mousavi-Hosseini, Wu, Suzuki, Erdogdu, NeurIPS 2023 (arXiv 2309.03843)"

q = sp.Symbol("q", positive=True)  # ||w||^2 (the preconditioned flow leaves the sphere)
r = sp.Symbol("r", positive=True)  # ||Sigma^(1/2) w||, conserved by the preconditioned flow
s1 = sp.Symbol("s_1", positive=True)  # w^T Sigma w
s2 = sp.Symbol("s_2", real=True)  # w^T Sigma u
sigma = sp.Symbol("sigma", positive=True)

_FRAME = ("w", "theta", "u")


def check_flow(flow: str) -> None:
    if flow not in FLOWS:
        raise InputError(f"unknown flow {flow!r}: use one of {', '.join(FLOWS)}")


# ----------------------------------------------------------------------------
# Frame algebra: vectors as coefficients on (w, theta, u)


def _gram(q_: sp.Expr) -> dict[tuple[str, str], sp.Expr]:
    g = {("w", "w"): q_, ("w", "theta"): a, ("w", "u"): b, ("theta", "theta"): 1}
    g |= {("theta", "u"): c, ("u", "u"): 1}
    return g | {(j, i): v for (i, j), v in g.items()}


def _dot(x: dict[str, sp.Expr], y: dict[str, sp.Expr], q_: sp.Expr) -> sp.Expr:
    g = _gram(q_)
    return sp.Add(*[x[i] * y[j] * g[(i, j)] for i in x for j in y])


def _vec(**coeffs: sp.Expr) -> dict[str, sp.Expr]:
    return {k: sp.sympify(coeffs.get(k, 0)) for k in _FRAME}


def _add(*terms: tuple[sp.Expr, dict[str, sp.Expr]]) -> dict[str, sp.Expr]:
    return {k: sp.Add(*[s * v[k] for s, v in terms]) for k in _FRAME}


def _apply_power(cov: SpikedCovariance, p: int, v: dict[str, sp.Expr], q_: sp.Expr):
    """``Sigma^p v = alpha^p (v + ((1+kappa)^p - 1) <theta, v> theta)``."""
    scale, spike = cov.power(p)
    along = _dot(_vec(theta=1), v, q_)
    return _add((scale, v), (scale * spike * along, _vec(theta=1)))


# ----------------------------------------------------------------------------
# Risk as a function of s1 = w^T Sigma w and s2 = w^T Sigma u


@dataclass(frozen=True)
class RecoveryCondition:
    """``c_s(phi) c_s(g) > 0`` with ``s`` the information exponent of the link."""

    s: int | None
    c_s_phi: sp.Expr | None
    g_s: sp.Expr | None
    holds: bool
    message: str

    @property
    def product(self) -> sp.Expr | None:
        return None if self.c_s_phi is None else self.c_s_phi * self.g_s


def recovery_condition(activation: Function, link: Function, max_degree: int = 12):
    """Whether ``w`` can move toward ``u`` from a small overlap: ``c_s(phi) g_s > 0``."""
    exponent = information_exponent(hermite_coefficients(link, max_degree))
    s = exponent.value
    if s is None:
        return RecoveryCondition(
            None, None, None, False, f"the link has no non-zero c_k(g), k <= {max_degree}"
        )
    cs = coefficient_expr(hermite_coefficients(activation, s)[s])
    gs = coefficient_expr(hermite_coefficients(link, s)[s])
    product = float(sp.N(cs * gs))
    if s == 1 or product > 0:
        how = "s = 1: the drift at the equator is non-zero" if s == 1 else "holds"
        return RecoveryCondition(s, cs, gs, True, f"c_{s}(phi) g_{s} = {product:.6g} > 0: {how}")
    why = (
        f"c_{s}({activation.name}) = 0, so the flow has no drift of order {s} toward u"
        if cs == 0 or abs(float(sp.N(cs))) == 0
        else f"c_{s}({activation.name}) g_{s} = {product:.6g} < 0, so the drift near the "
        "equator points away from u"
    )
    return RecoveryCondition(
        s,
        cs,
        gs,
        False,
        f"recovery needs c_s(phi) g_s > 0 with s = {s} the information exponent of "
        f"{link.name}; here {why}. Choose an activation whose c_{s} has the sign of g_{s}",
    )


@dataclass
class RiskModel:
    """The risk of one flow as an expression in ``s1``, ``s2`` (and its ingredients)."""

    flow: str
    expr: sp.Expr
    series: CorrelationSeries | None
    link_coefficients: tuple[sp.Expr, ...] = ()
    scaled: ScaledActivation | None = None
    truncation: str = ""


def _risk(
    flow: str, activation: Function, link: Function, cov: SpikedCovariance, max_degree: int
) -> RiskModel:
    sigma_u = sp.sqrt(cov.sigma_u2(c))
    corr = s2 / (sigma_u * sp.sqrt(s1))
    if flow != "plain":
        series = correlation_series(activation, link, max_degree)
        note = (
            "exact (a polynomial on one side)"
            if series.exact
            else f"truncated at degree {series.max_degree}; |remainder of psi| <= "
            f"|rho|^{series.max_degree + 1} * {series.tail_bound:.3g} (Parseval)"
        )
        return RiskModel(flow, -series.psi(corr), series, truncation=note)
    scaled = ScaledActivation(activation, sigma)
    degrees = [
        sp.Poly(f.expr, sp.Symbol("z", real=True)).degree()
        for f in (activation, link)
        if f.is_polynomial
    ]
    degree = min(degrees) if degrees else max_degree
    link_exp = hermite_coefficients(link, degree)
    g = tuple(coefficient_expr(ck) for ck in link_exp.coefficients)
    sw = sp.sqrt(s1)
    correlation_part = sp.Add(
        *[scaled.coefficient(k).subs(sigma, sw) * gk * corr**k for k, gk in enumerate(g) if gk]
    )
    expr = scaled.second_moment.subs(sigma, sw) / 2 - correlation_part
    if degrees:
        note = "exact (a polynomial on one side)"
    else:
        _, tail_g = link_exp.parseval_tail()
        note = (
            f"truncated at degree {degree}; |remainder| <= |rho|^{degree + 1} "
            f"sqrt(T_g T_phi(sigma_w)), T_g = {float(tail_g):.3g}, "
            "T_phi(sigma) = E[phi(sigma Z)^2] - sum_{k<=K} c_k(phi(sigma .))^2"
        )
    return RiskModel(flow, expr, None, g, scaled, note)


# ----------------------------------------------------------------------------
# Failure analysis of the aligned plain flow


@dataclass
class FailureAnalysis:
    """Equator stability, the unstable point ``m*`` and the threshold on ``kappa``.

    ``taylor[j]`` is the coefficient of ``m^j`` of ``dm/dt`` at ``m = 0`` (exact in kappa).
    ``mstar_power`` is ``m*^(s-2) = -lambda_1 / lambda_(s-1)`` (two-term balance, s >= 3).
    ``threshold_equation``: ``m*(kappa) = d^(-1/2)``; failure from ``m0 = d^(-1/2)`` iff
    ``m*(kappa) > d^(-1/2)``.  Large-kappa asymptotics ``m*^(s-2) ~ B kappa^(-gamma)`` give
    ``kappa_c ~ (B d^((s-2)/2))^(1/gamma) = prefactor * d^exponent``.
    """

    s: int | None
    taylor: dict[int, sp.Expr] = field(default_factory=dict)
    equator_eigenvalue: sp.Expr | None = None
    mstar_power: sp.Expr | None = None
    reference_mstar_power: sp.Expr | None = None
    reference_agrees: str | None = None
    gamma: sp.Expr | None = None
    asymptotic_constant: sp.Expr | None = None
    threshold_exponent: sp.Expr | None = None
    threshold_prefactor: sp.Expr | None = None
    threshold_equation: sp.Eq | None = None
    notes: list[str] = field(default_factory=list)

    def mstar(self, kappa_value: float) -> float | None:
        if self.mstar_power is None or self.s is None:
            return None
        value = float(sp.N(self.mstar_power.subs(kappa, kappa_value)))
        return value ** (1 / (self.s - 2)) if value > 0 else None

    def predicted_threshold(self, d_value: float) -> float | None:
        if self.threshold_prefactor is None:
            return None
        return float(self.threshold_prefactor) * float(d_value) ** float(self.threshold_exponent)


def _tidy(expr: sp.Expr, limit: int = 300) -> sp.Expr:
    """``simplify`` for expressions small enough that it is quick; others are left alone."""
    if expr.has(ScaledIntegral):  # simplify would evaluate the numeric integrals repeatedly
        return expr
    return sp.simplify(expr) if sp.count_ops(expr) <= limit else expr


def _taylor(expr: sp.Expr, x: sp.Symbol, order: int) -> dict[int, sp.Expr]:
    out, current = {}, expr
    for j in range(order + 1):
        out[j] = _tidy(current.subs(x, 0) / sp.factorial(j), 600)
        current = sp.diff(current, x)
    return out


def _failure_analysis(
    rhs_m: sp.Expr, cov: SpikedCovariance, cond: RecoveryCondition, relu_like: bool
) -> FailureAnalysis:
    s = cond.s
    if s is None:
        return FailureAnalysis(None, notes=["the link has no detectable information exponent"])
    taylor = _taylor(rhs_m, m, max(s - 1, 1))
    out = FailureAnalysis(s, taylor, equator_eigenvalue=taylor[1])
    if taylor[0] != 0:
        out.notes.append("s = 1: m = 0 is not a fixed point, the flow leaves the equator")
        return out
    if s == 2:
        out.notes.append("s = 2: the equator is stable iff lambda_1 < 0 (constants decide)")
        return out
    lam1, lam_s = taylor[1], taylor[s - 1]
    if lam_s == 0:
        out.notes.append(f"the coefficient of m^{s - 1} vanishes: no escape drift")
        return out
    ratio = sp.simplify(-lam1 / lam_s)
    probes = [float(sp.N(ratio.subs(kappa, k))) for k in (sp.Rational(1, 10), 1, 10, 1000)]
    if not all(p > 0 for p in probes):
        out.notes.append(
            f"no unstable point m* > 0: the term of order m^{s - 1} does not push away from "
            "the equator (c_s(phi) g_s <= 0), so every small start is attracted to m = 0"
        )
        return out
    out.mstar_power = ratio
    out.threshold_equation = sp.Eq(ratio, d ** (-sp.Rational(s - 2, 2)))
    if ratio.has(ScaledIntegral):
        out.notes.append(
            "V(sigma) and c_k(phi(sigma .)) have no closed form for this activation: m*(kappa) "
            "is exact as an expression in them and evaluated numerically, but the large-kappa "
            "asymptotics (the power law kappa_c ~ d^exponent) are not derived symbolically; "
            "solve the threshold equation numerically"
        )
        return out
    if relu_like and cond.product is not None:
        power = sp.Rational(s + 1, 2) if cov.convention == "unit" else sp.Rational(s, 2)
        ref = kappa / (2 * s * cond.product * (1 + kappa) ** power)
        out.reference_mstar_power = ref
        difference = sp.simplify(ratio - ref)
        if difference == 0 or _numerically_zero(difference, [kappa]):
            out.reference_agrees = "exactly"
        elif sp.limit(ratio / ref, kappa, sp.oo) == 1:
            out.reference_agrees = "at leading order as kappa -> oo"
            out.notes.append(
                "the exact coefficient of m^(s-1) also contains O(kappa) terms (curvature of "
                "the repulsion and the factor 1 - m^2) that the reference's formula drops; "
                "the two agree at leading order in 1/kappa"
            )
        else:
            out.reference_agrees = "no"
    try:
        gamma = sp.limit(-kappa * sp.diff(ratio, kappa) / ratio, kappa, sp.oo)
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover - sympy limits
        gamma = None
    if gamma is None or not gamma.is_finite or not gamma.is_positive:
        out.notes.append(
            "m*(kappa) does not decay like a power of kappa; no power-law threshold "
            f"(limit of -kappa d log m*^(s-2)/d kappa: {gamma})"
        )
        return out
    constant = sp.simplify(sp.limit(ratio * kappa**gamma, kappa, sp.oo))
    out.gamma, out.asymptotic_constant = gamma, constant
    out.threshold_exponent = sp.Rational(s - 2, 2) / gamma
    out.threshold_prefactor = sp.simplify(constant ** (1 / gamma))
    return out


def _numerically_zero(expr: sp.Expr, symbols: list[sp.Symbol], trials: int = 4) -> bool:
    rng = random.Random(12345)
    for _ in range(trials):
        point = {s_: sp.Rational(rng.randint(1, 400), rng.randint(1, 40)) for s_ in symbols}
        if abs(sp.N(expr.subs(point), 40)) > 1e-25:
            return False
    return True


# ----------------------------------------------------------------------------
# The three flows


@dataclass
class SpikedFlow:
    """One flow for one activation, link and convention, with its reductions and analysis."""

    flow: str
    activation: Function
    link: Function
    convention: str
    general: OdeSystem
    aligned: OdeSystem
    recovery: RecoveryCondition
    risk: RiskModel
    derivation: Derivation
    failure: FailureAnalysis | None = None
    checks: dict[str, float] = field(default_factory=dict)


def spiked_flow(
    flow: str,
    activation: FunctionLike,
    link: FunctionLike,
    *,
    convention: str = "unit",
    max_degree: int = DEFAULT_MAX_DEGREE,
) -> SpikedFlow:
    """Derive the ``flow`` for ``phi = activation``, ``g = link`` with kappa and c symbolic.

    Results are cached per (flow, activation, link, convention, max_degree).
    """
    check_flow(flow)
    check_convention(convention)
    if not isinstance(max_degree, int) or not 1 <= max_degree <= 60:
        raise DomainError(f"series truncation degree must be in 1..60, got {max_degree}")
    phi = as_function(activation)
    g = as_function(link)
    return _spiked_flow(flow, phi, g, convention, max_degree)


@lru_cache(maxsize=128)
def _spiked_flow(
    flow: str, phi: Function, g: Function, convention: str, max_degree: int
) -> SpikedFlow:
    cov = SpikedCovariance(kappa, convention)
    alpha = cov.alpha
    risk = _risk(flow, phi, g, cov, max_degree)
    cond = recovery_condition(phi, g, max_degree)

    derivation = Derivation(
        f"The {flow} gradient flow: activation {phi.name}, link {g.name}, convention {convention}",
        summary=(
            f"Derived by featcheck (featcheck.theory.dynamics.spiked) for the model of {SOURCE}. "
            "Every formula below is computed by sympy from the steps before it; kappa "
            "and the alignment c stay symbolic."
        ),
    )
    derivation.add(
        "Data model",
        [
            r"\Sigma = \alpha\,(I + \kappa\, \theta\theta^{T})",
            sp.Eq(sp.Symbol(r"\alpha"), alpha),
            sp.Eq(sp.Symbol(r"\sigma_u^2"), cov.sigma_u2()),
        ],
        f"Convention '{convention}'. Target y = g(<u,x>/sigma_u) + eps, c = <u, theta>.",
        SOURCE,
    )
    step_risk = {
        "plain": "R = 1/2 E[phi(<w,x>)^2] - E[phi(<w,x>) y] + const, with "
        "<w,x> = sqrt(s_1) Z_1 and corr(Z_1, Z_2) = s_2/(sigma_u sqrt(s_1)); the student's "
        "variance moves, so the coefficients of phi(sigma .) enter (exact for piecewise "
        "polynomials).",
        "normalized": "Student phi(<w,x>/||Sigma^(1/2) w||): its pre-activation is N(0,1), "
        "so R = -psi(rho) + const with psi(rho) = sum_k c_k(phi) c_k(g) rho^k (Mehler).",
        "preconditioned": "L = -psi(rho(w)), rho = s_2/(sigma_u sqrt(s_1)), 0-homogeneous in w.",
    }[flow]
    derivation.add(
        "Risk as a function of s_1 = w^T Sigma w and s_2 = w^T Sigma u",
        sp.Eq(sp.Symbol("R"), risk.expr),
        step_risk + f" Series: {risk.truncation}.",
    )
    if risk.scaled is not None and not risk.scaled.closed_form:
        derivation.add(
            "Rescaled activation without closed form",
            [
                r"V(\sigma) = \mathbb{E}\big[\phi(\sigma Z)^2\big]",
                r"c_k(\sigma) = \mathbb{E}\big[\phi(\sigma Z)\,\mathrm{He}_k(Z)\big]/\sqrt{k!}",
                r"\frac{d^j}{d\sigma^j}\,\mathbb{E}[F(\sigma, Z)] = "
                r"\mathbb{E}\big[\partial_\sigma^j F(\sigma, Z)\big]",
            ],
            f"{phi.name} is smooth but not piecewise polynomial: V and c_k are kept as "
            "symbols, their sigma-derivatives defined by differentiating under the integral "
            f"sign (Z ~ N(0,1); c_k = 0 where the symmetry of {phi.name} forces it). Every "
            "step below is exact in these symbols; only their values are numeric "
            "(one-dimensional Gaussian integrals: mpmath.quad in the checks of this "
            "document, a composite Gauss-Legendre rule in featcheck.numerics.scaled_quadrature).",
        )
    r1_, r2_ = sp.diff(risk.expr, s1), sp.diff(risk.expr, s2)
    derivation.add(
        "Euclidean gradient",
        (
            r"\nabla R = 2 R_{s_1} \Sigma w + R_{s_2} \Sigma u,\quad "
            r"\Sigma v = \alpha\,(v + \kappa \langle\theta, v\rangle \theta)"
        ),
        "Chain rule through s_1 and s_2; vectors are written in the frame (w, theta, u).",
    )
    w_vec, u_vec = _vec(w=1), _vec(u=1)
    q_state = q if flow == "preconditioned" else sp.Integer(1)
    grad = _add(
        (2 * r1_, _apply_power(cov, 1, w_vec, q_state)),
        (r2_, _apply_power(cov, 1, u_vec, q_state)),
    )
    if flow == "preconditioned":
        velocity = _add((-1, _apply_power(cov, -1, grad, q_state)))
        derivation.add(
            "Preconditioning",
            (
                r"\dot w = -\Sigma^{-1}\nabla L,\quad \Sigma^{-1} v = \alpha^{-1}"
                r"\big(v - \tfrac{\kappa}{1+\kappa}\langle\theta, v\rangle\theta\big)"
            ),
            "No projection: ||w|| moves, so q = ||w||^2 joins the state.",
        )
    else:
        along = _dot(w_vec, grad, q_state)
        velocity = _add((-1, grad), (along, w_vec))
        derivation.add(
            "Projection on the tangent space of the sphere",
            r"\dot w = -(I - w w^{T})\nabla R",
            "On ||w|| = 1 the inner products come from the Gram matrix of (w, theta, u).",
        )
    on_state = {s1: alpha * (q_state + kappa * a**2)}
    on_state[s2] = cov.cross()
    rates = [
        _dot(_vec(theta=1), velocity, q_state),
        _dot(u_vec, velocity, q_state),
    ]
    if flow == "preconditioned":
        rates.append(2 * _dot(w_vec, velocity, q_state))
    rates = [rate.subs(on_state) for rate in rates]
    state = (a, b, q) if flow == "preconditioned" else (a, b)
    rho_general = cov.cross() / sp.sqrt(on_state[s1] * cov.sigma_u2())
    labels = [sp.Symbol(r"\dot a"), sp.Symbol(r"\dot b"), sp.Symbol(r"\dot q")]
    derivation.add(
        "Closure in the summary statistics",
        [sp.Eq(lbl, rate) for lbl, rate in zip(labels, rates, strict=False)],
        "da/dt = <theta, dw/dt>, db/dt = <u, dw/dt>"
        + (", dq/dt = 2 <w, dw/dt>" if flow == "preconditioned" else "")
        + "; s_1 and s_2 evaluated on the state. The system closes exactly.",
    )
    observables = {"overlap": b, "a": a, "rho": sp.simplify(rho_general)}
    invariants = {}
    if flow == "preconditioned":
        invariants["r^2 = ||Sigma^(1/2) w||^2"] = on_state[s1]
        observables["r"] = sp.sqrt(on_state[s1])
        observables["overlap"] = b / sp.sqrt(q)  # the flow leaves the sphere: cosine
    general = OdeSystem(
        f"{flow} flow in (a, b{', q' if flow == 'preconditioned' else ''})",
        state,
        (kappa, c),
        tuple(rates),
        derivation,
        observables,
        invariants,
        notes=[risk.truncation],
    )
    checks: dict[str, float] = {}
    if flow != "preconditioned":
        checks["reference (a, b) formula"] = _compare_reference(risk.expr, on_state, rates)
        derivation.add(
            "Check against the two-variable formula",
            r"\dot a = -[F_a(1-a^2) + F_b(c-ab)],\quad \dot b = -[F_a(c-ab) + F_b(1-b^2)]",
            f"F(a, b) = R on the sphere. Largest difference at 6 random points, 40 digits: "
            f"{checks['reference (a, b) formula']:.1e}.",
            "reference spiked-single-index.md [derived]",
        )
    else:
        rate = sp.diff(on_state[s1], q) * rates[2] + sp.diff(on_state[s1], a) * rates[0]
        checks["invariant rate"] = _max_abs_at_random(rate, [a, b, q, kappa, c])
        derivation.add(
            "Conserved quantity",
            sp.Eq(sp.Symbol(r"\frac{d}{dt}\|\Sigma^{1/2} w\|^2"), sp.Integer(0)),
            "grad L is orthogonal to Sigma w (L is 0-homogeneous), so "
            "d/dt w^T Sigma w = -2 <Sigma w, Sigma^(-1) grad L> = -2 <w, grad L> = 0. "
            f"Largest |rate| of the derived system at random points: "
            f"{checks['invariant rate']:.1e}.",
        )
    aligned, aligned_checks = _aligned(flow, risk, cov, rates, rho_general, derivation)
    checks |= aligned_checks
    failure = None
    if flow == "plain":
        homogeneity = risk.scaled.homogeneity if risk.scaled else None
        relu_like = homogeneity == 1 and sp.simplify(risk.scaled.second_moment - sigma**2 / 2) == 0
        failure = _failure_analysis(aligned.rhs[0], cov, cond, relu_like)
        _describe_failure(derivation, failure, cov)
    else:
        _describe_escape(derivation, flow, risk, cond)
    derivation.add(
        "Condition for recovery",
        None if cond.c_s_phi is None else sp.Eq(sp.Symbol("c_s g_s"), cond.product),
        ("HOLDS: " if cond.holds else "FAILS: ") + cond.message,
    )
    return SpikedFlow(
        flow, phi, g, convention, general, aligned, cond, risk, derivation, failure, checks
    )


def _max_abs_at_random(expr: sp.Expr, symbols: list[sp.Symbol], trials: int = 6) -> float:
    """``max |expr|`` over random admissible points, evaluated in mpmath at 40 digits."""
    rng = random.Random(2023)
    function = sp.lambdify(symbols, expr, modules=[mp_namespace(expr), "mpmath"])
    worst = mpmath.mpf(0)
    with mpmath.workdps(40):
        for _ in range(trials):
            point = _random_state(rng)
            args = [mpmath.mpf(sp.N(point[s_.name], 50)) for s_ in symbols]
            worst = max(worst, abs(function(*args)))
    return float(worst)


def _random_state(rng: random.Random) -> dict[str, sp.Expr]:
    """A random admissible point: ``a^2 + b^2 - 2abc <= 1 - c^2`` holds for a unit ``w``."""
    cc = sp.Rational(rng.randint(-9, 9), 10)
    aa = sp.Rational(rng.randint(-8, 8), 10)
    # b = c a + t sqrt((1 - a^2)(1 - c^2)) with |t| < 1
    t = sp.Rational(rng.randint(-9, 9), 10)
    bb = cc * aa + t * sp.sqrt((1 - aa**2) * (1 - cc**2))
    return {
        "a": aa,
        "b": bb,
        "c": cc,
        "kappa": sp.Rational(rng.randint(1, 300), rng.randint(1, 10)),
        "q": sp.Rational(rng.randint(5, 30), 10),
        "m": sp.Rational(rng.randint(-9, 9), 10),
        "rho": sp.Rational(rng.randint(-9, 9), 10),
        "r": sp.Rational(rng.randint(3, 30), 10),
    }


def _compare_reference(risk_expr, on_state, rates) -> float:
    f_ab = risk_expr.subs(on_state)
    fa, fb = sp.diff(f_ab, a), sp.diff(f_ab, b)
    ref = [-(fa * (1 - a**2) + fb * (c - a * b)), -(fa * (c - a * b) + fb * (1 - b**2))]
    return max(_max_abs_at_random(x - y, [a, b, c, kappa]) for x, y in zip(rates, ref, strict=True))


def _aligned(flow, risk, cov, rates, rho_general, derivation):
    """The one-variable reductions for ``u = theta`` (``c = 1``)."""
    checks: dict[str, float] = {}
    aligned_sub = {c: 1, b: m, a: m}
    if flow == "plain":
        rhs = _tidy(rates[0].subs(aligned_sub), 150)
        checks["aligned a = b invariant"] = _max_abs_at_random(
            (rates[0] - rates[1]).subs(aligned_sub), [m, kappa]
        )
        rho_m = sp.simplify(rho_general.subs(aligned_sub))
        system = OdeSystem(
            "aligned plain flow in m",
            (m,),
            (kappa,),
            (rhs,),
            derivation,
            {"overlap": m, "rho": rho_m},
        )
        derivation.add(
            "Aligned reduction (u = theta, c = 1, a = b = m)",
            [sp.Eq(sp.Symbol(r"\dot m"), rhs), sp.Eq(rho, rho_m)],
            "da/dt = db/dt on a = b (checked at random points: "
            f"{checks['aligned a = b invariant']:.1e}), so m = <w, u> closes alone.",
        )
        system.fixed_points = _fixed_points_1d(system, m)
        return system, checks
    series = risk.series
    dpsi = sp.diff(series.psi(rho), rho)
    if flow == "normalized":
        rhs_m = rates[0].subs(aligned_sub)
        rho_m = sp.simplify(rho_general.subs(aligned_sub))
        # change of variable m -> rho, m = rho / sqrt(1 + kappa - kappa rho^2)
        m_of_rho = rho / sp.sqrt(1 + kappa - kappa * rho**2)
        chain = (sp.diff(rho_m, m) * rhs_m).subs(m, m_of_rho)
        ref = (1 - rho**2) * (1 + kappa - kappa * rho**2) ** 2 / (1 + kappa) * dpsi
        checks["aligned rho equation"] = _max_abs_at_random(chain - ref, [rho, kappa])
        rhs = sp.expand(ref)
        overlap = m_of_rho
        params = (kappa,)
        text = (
            "rho(m) = m sqrt(1+kappa)/sqrt(1+kappa m^2); d rho/dt = rho'(m) dm/dt rewritten "
            "in rho agrees with the reference form (1 - rho^2)(1 + kappa - kappa rho^2)^2/"
            f"(1 + kappa) psi'(rho) to {checks['aligned rho equation']:.1e} at random points."
        )
    else:
        sub = {c: 1, b: m, a: m}
        rho_mq = rho_general.subs(sub)
        chain = sp.diff(rho_mq, m) * rates[0].subs(sub) + sp.diff(rho_mq, q) * rates[2].subs(sub)
        r2_expr = (cov.alpha * (q + kappa * a**2)).subs(sub)
        ref = (1 - rho_mq**2) * dpsi.subs(rho, rho_mq) / r2_expr
        checks["aligned rho equation"] = _max_abs_at_random(chain - ref, [m, q, kappa])
        rhs_general = (
            (1 - rho_general**2) * dpsi.subs(rho, rho_general) / (cov.alpha * (q + kappa * a**2))
        )
        chain_general = sum(
            sp.diff(rho_general, s_) * rate for s_, rate in zip((a, b, q), rates, strict=True)
        )
        checks["whitened overlap equation (any c)"] = _max_abs_at_random(
            chain_general - rhs_general, [a, b, c, q, kappa]
        )
        rhs = sp.expand((1 - rho**2) * dpsi / r**2)
        # with u = theta: <w, u> = m = rho r / sqrt(alpha (1 + kappa)) and
        # ||w||^2 = r^2 / alpha - kappa m^2; the overlap reported is the cosine
        m_expr = rho * r / sp.sqrt(cov.alpha * (1 + kappa))
        overlap = m_expr / sp.sqrt(r**2 / cov.alpha - kappa * m_expr**2)
        params = (kappa, r)
        text = (
            "v = Sigma^(1/2) w / r follows the isotropic spherical flow: for any c, "
            "d rho/dt = (1 - rho^2) psi'(rho) / r^2 with r = ||Sigma^(1/2) w|| conserved "
            f"(checked at random points: {checks['whitened overlap equation (any c)']:.1e}). "
            "In the aligned case <w, u> = rho r / sqrt(alpha (1 + kappa)); the overlap "
            "reported for this flow is the cosine <w, u>/||w||."
        )
    system = OdeSystem(
        f"aligned {flow} flow in rho",
        (rho,),
        params,
        (rhs,),
        derivation,
        {"overlap": overlap, "rho": rho},
    )
    derivation.add(
        "Aligned reduction in the whitened overlap rho",
        sp.Eq(sp.Symbol(r"\dot\rho"), rhs),
        text,
    )
    system.fixed_points = _fixed_points_1d(system, rho)
    return system, checks


def _fixed_points_1d(system: OdeSystem, x: sp.Symbol) -> list[FixedPoint]:
    rhs = system.rhs[0]
    slope = sp.diff(rhs, x)
    points = []
    for name, value in (("x = 1", 1), ("x = -1", -1), ("equator x = 0", 0)):
        at = rhs.subs(x, value)
        if at != 0 and not _numerically_zero(at, sorted(at.free_symbols, key=str)):
            continue
        eig = _tidy(slope.subs(x, value), 150)
        if eig == 0:
            stability = "degenerate (zero linearisation): decided by the first non-zero term"
            condition = None
        else:
            stability = "stable iff the eigenvalue is negative"
            condition = sp.StrictLessThan(eig, 0)
            if eig.is_negative:
                stability, condition = "stable", sp.true
            elif eig.is_positive:
                stability, condition = "unstable", sp.false
        points.append(
            FixedPoint(
                name.replace("x", str(x)), {x: sp.Integer(value)}, (eig,), stability, condition
            )
        )
    return points


def _describe_failure(derivation: Derivation, f: FailureAnalysis, cov: SpikedCovariance) -> None:
    if f.s is None:
        derivation.add("Failure analysis", None, " ".join(f.notes))
        return
    lam = [sp.Eq(sp.Symbol(rf"\lambda_{{{j}}}"), v) for j, v in f.taylor.items()]
    derivation.add(
        "Expansion at the equator",
        lam,
        f"dm/dt = sum_j lambda_j m^j near m = 0 (exact Taylor coefficients, s = {f.s}). "
        "lambda_1 is the eigenvalue of the equator: the term 1/2 E[phi^2] pushes toward "
        "m = 0 as soon as kappa > 0.",
    )
    if f.mstar_power is None:
        derivation.add("Unstable point", None, " ".join(f.notes) or "not applicable")
        return
    text = (
        "Balance of lambda_1 m and lambda_(s-1) m^(s-1): the equator attracts every start "
        "with m0 < m*. "
    )
    if f.reference_agrees is not None:
        text += (
            "DISAGREES with the reference formula; the derivation above is used."
            if f.reference_agrees == "no"
            else "Agrees with the reference formula kappa/(2 s c_s g_s (1+kappa)^((s+1)/2)) "
            f"(unit) or kappa/(2 s c_s g_s (1+kappa)^(s/2)) (ba) {f.reference_agrees}. "
            + " ".join(f.notes)
        )
    else:
        text += "(The reference states this formula for a ReLU student only.)"
    derivation.add(
        "Unstable point m*",
        [sp.Eq(sp.Symbol(r"m_*^{s-2}"), f.mstar_power)]
        + (
            [sp.Eq(sp.Symbol(r"m_{*,\mathrm{ref}}^{s-2}"), f.reference_mstar_power)]
            if f.reference_mstar_power is not None
            else []
        ),
        text,
        "reference spiked-single-index.md [derived]",
    )
    if f.threshold_exponent is not None:
        derivation.add(
            "Threshold on kappa",
            [
                f.threshold_equation,
                sp.Eq(sp.Symbol(r"\gamma"), f.gamma),
                sp.Eq(sp.Symbol(r"\kappa_c"), f.threshold_prefactor * d**f.threshold_exponent),
            ],
            f"A random start has m0 ~ d^(-1/2); it fails iff m*(kappa) > d^(-1/2). For large "
            f"kappa, m*^(s-2) ~ B kappa^(-gamma), so failure iff kappa << kappa_c "
            f"(convention {cov.convention}; the reference: d^((s-2)/(s-1)) for unit, d for ba "
            "with a ReLU student). The equation also has a small root: at kappa -> 0 the "
            "repulsion vanishes and the flow succeeds.",
        )
    else:
        derivation.add("Threshold on kappa", f.threshold_equation, " ".join(f.notes))


def _describe_escape(derivation, flow, risk, cond) -> None:
    series = risk.series
    s = series.leading_degree
    if s is None:
        derivation.add("Escape from the equator", None, "psi has no term of degree >= 1.")
        return
    p = series.product(s)
    factor = (1 + kappa) if flow == "normalized" else 1 / r**2
    lead = factor * s * p * rho ** (s - 1)
    rho0 = sp.Symbol(r"\rho_0")
    if s >= 3:
        time = rho0 ** (-(s - 2)) / ((s - 2) * s * p * factor)
    elif s == 2:
        time = sp.log(1 / rho0) / (2 * p * factor)
    else:
        time = sp.log(1 / rho0) * 0 + 1 / (p * factor)
    derivation.add(
        "Escape from the equator",
        [sp.Eq(sp.Symbol(r"\dot\rho"), lead), sp.Eq(sp.Symbol("T"), time)],
        f"Leading term near rho = 0 (degree s = {s} of psi), and the time to leave "
        "rho0 at leading order. "
        + (
            "No repulsive term: the equator is unstable iff c_s g_s > 0. "
            if flow == "normalized"
            else "The isotropic flow with time rescaled by 1/r^2. "
        )
        + (
            "Start rho0 ~ sqrt((1+kappa)/(d+kappa)) from a uniform w0 (aligned case)."
            if flow == "normalized"
            else ""
        ),
        "reference spiked-single-index.md [derived]",
    )
