r"""The plain, normalized and preconditioned flows of one neuron, assembled and derived.

Three flows of ``w`` for the model of Mousavi-Hosseini, Wu, Suzuki, Erdogdu (2023), each
closed exactly in the summary statistics ``a = <w, theta>``, ``b = <w, u>``:

* ``plain``: ``dw/dt = -(I - w w^T) grad R(w)``, ``R(w) = 1/2 E[phi(<w,x>)^2] - E[phi(<w,x>) y]``;
* ``normalized``: the same for the student ``phi(<w,x>/||Sigma^(1/2) w||)``, whose risk is
  ``-psi(rho) + const``;
* ``preconditioned``: ``dw/dt = -Sigma^(-1) grad L(w)`` with ``L = -psi(rho(w))``, not
  projected; ``r = ||Sigma^(1/2) w||`` is conserved and ``q = ||w||^2`` joins the state.

Method (each step is recorded in the :class:`Derivation`): the risk as a function of
``s1 = w^T Sigma w`` and ``s2 = w^T Sigma u`` (:mod:`.risk`), so
``grad R = 2 R_{s1} Sigma w + R_{s2} Sigma u``; vectors as coefficients on the frame
``(w, theta, u)`` (:mod:`.frame`); the inner products with ``theta``, ``u`` and ``w`` give
``da/dt``, ``db/dt``, ``dq/dt``.  The spherical closure is checked against the gradient on
the sphere of ``F(a, b) = R`` restricted to ``||w|| = 1``,
``da/dt = -[F_a (1 - a^2) + F_b (c - a b)]``, ``db/dt = -[F_a (c - a b) + F_b (1 - b^2)]``.
Then come the aligned reduction (:mod:`.aligned`), the failure analysis of the plain flow
(:mod:`.failure`) or the escape time of the others, and the recovery condition
(:mod:`.recovery`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics import OdeSystem
from featcheck.theory.dynamics.spiked.aligned import aligned_reduction
from featcheck.theory.dynamics.spiked.checks import max_abs_at_random
from featcheck.theory.dynamics.spiked.correlation import DEFAULT_MAX_DEGREE
from featcheck.theory.dynamics.spiked.failure import (
    FailureAnalysis,
    add_failure_steps,
    failure_analysis,
)
from featcheck.theory.dynamics.spiked.frame import apply_power, combine, dot, q, vector
from featcheck.theory.dynamics.spiked.recovery import (
    RecoveryCondition,
    add_escape_steps,
    recovery_condition,
)
from featcheck.theory.dynamics.spiked.risk import RiskModel, risk_model, s1, s2, sigma
from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.functions import Function, FunctionLike, as_function
from featcheck.theory.models import SpikedCovariance, a, b, c, check_convention, kappa
from featcheck.theory.names import FLOWS

SOURCE = "Mousavi-Hosseini, Wu, Suzuki, Erdogdu, NeurIPS 2023 (arXiv 2309.03843)"


def check_flow(flow: str) -> None:
    """Raise :class:`InputError` unless ``flow`` is one of :data:`FLOWS`."""
    if flow not in FLOWS:
        raise InputError(f"unknown flow {flow!r}: use one of {', '.join(FLOWS)}")


@dataclass
class SpikedFlow:
    """One flow for one activation, link and convention, with its reductions and analysis.

    ``general``: the system in ``(a, b)`` (``(a, b, q)`` when preconditioned), ``kappa`` and
    ``c`` symbolic; ``aligned``: its one-variable reduction for ``u = theta``;
    ``failure``: the failure analysis (plain flow only); ``checks``: the residuals of the
    identities checked at random points (40 digits).
    """

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
    risk = risk_model(flow, phi, g, cov, max_degree)
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
            "document, a composite Gauss-Legendre rule in "
            "featcheck.numerics.spiked.scaled_integrals).",
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
    w_vec, u_vec = vector(w=1), vector(u=1)
    q_state = q if flow == "preconditioned" else sp.Integer(1)
    grad = combine(
        (2 * r1_, apply_power(cov, 1, w_vec, q_state)),
        (r2_, apply_power(cov, 1, u_vec, q_state)),
    )
    if flow == "preconditioned":
        velocity = combine((-1, apply_power(cov, -1, grad, q_state)))
        derivation.add(
            "Preconditioning",
            (
                r"\dot w = -\Sigma^{-1}\nabla L,\quad \Sigma^{-1} v = \alpha^{-1}"
                r"\big(v - \tfrac{\kappa}{1+\kappa}\langle\theta, v\rangle\theta\big)"
            ),
            "No projection: ||w|| moves, so q = ||w||^2 joins the state.",
        )
    else:
        along = dot(w_vec, grad, q_state)
        velocity = combine((-1, grad), (along, w_vec))
        derivation.add(
            "Projection on the tangent space of the sphere",
            r"\dot w = -(I - w w^{T})\nabla R",
            "On ||w|| = 1 the inner products come from the Gram matrix of (w, theta, u).",
        )
    on_state = {s1: alpha * (q_state + kappa * a**2)}
    on_state[s2] = cov.cross()
    rates = [
        dot(vector(theta=1), velocity, q_state),
        dot(u_vec, velocity, q_state),
    ]
    if flow == "preconditioned":
        rates.append(2 * dot(w_vec, velocity, q_state))
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
        checks["two-variable (a, b) formula"] = two_variable_residual(risk.expr, on_state, rates)
        derivation.add(
            "Check against the two-variable formula",
            r"\dot a = -[F_a(1-a^2) + F_b(c-ab)],\quad \dot b = -[F_a(c-ab) + F_b(1-b^2)]",
            "The gradient on the sphere of F(a, b) = R restricted to ||w|| = 1 (chain rule "
            "through a = <w, theta>, b = <w, u>, then the projection). Largest difference at "
            f"6 random points, 40 digits: {checks['two-variable (a, b) formula']:.1e}.",
        )
    else:
        rate = sp.diff(on_state[s1], q) * rates[2] + sp.diff(on_state[s1], a) * rates[0]
        checks["invariant rate"] = max_abs_at_random(rate, [a, b, q, kappa, c])
        derivation.add(
            "Conserved quantity",
            sp.Eq(sp.Symbol(r"\frac{d}{dt}\|\Sigma^{1/2} w\|^2"), sp.Integer(0)),
            "grad L is orthogonal to Sigma w (L is 0-homogeneous), so "
            "d/dt w^T Sigma w = -2 <Sigma w, Sigma^(-1) grad L> = -2 <w, grad L> = 0. "
            f"Largest |rate| of the derived system at random points: "
            f"{checks['invariant rate']:.1e}.",
        )
    aligned, aligned_checks = aligned_reduction(flow, risk, cov, rates, rho_general, derivation)
    checks |= aligned_checks
    failure = None
    if flow == "plain":
        homogeneity = risk.scaled.homogeneity if risk.scaled else None
        relu_like = homogeneity == 1 and sp.simplify(risk.scaled.second_moment - sigma**2 / 2) == 0
        failure = failure_analysis(aligned.rhs[0], cov, cond, relu_like)
        add_failure_steps(derivation, failure, cov)
    else:
        add_escape_steps(derivation, flow, risk)
    derivation.add(
        "Condition for recovery",
        None if cond.c_s_phi is None else sp.Eq(sp.Symbol("c_s g_s"), cond.product),
        ("HOLDS: " if cond.holds else "FAILS: ") + cond.message,
    )
    return SpikedFlow(
        flow, phi, g, convention, general, aligned, cond, risk, derivation, failure, checks
    )


def two_variable_residual(
    risk_expr: sp.Expr, on_state: dict[sp.Symbol, sp.Expr], rates: list[sp.Expr]
) -> float:
    """Largest difference between ``rates`` and the gradient on the sphere of ``F(a, b)``.

    ``F(a, b)`` is the risk with ``s1``, ``s2`` replaced by ``on_state`` (unit ``w``):
    ``da/dt = -[F_a (1 - a^2) + F_b (c - a b)]``, ``db/dt = -[F_a (c - a b) + F_b (1 - b^2)]``.
    """
    f_ab = risk_expr.subs(on_state)
    fa, fb = sp.diff(f_ab, a), sp.diff(f_ab, b)
    expected = [-(fa * (1 - a**2) + fb * (c - a * b)), -(fa * (c - a * b) + fb * (1 - b**2))]
    return max(
        max_abs_at_random(x - y, [a, b, c, kappa]) for x, y in zip(rates, expected, strict=True)
    )
