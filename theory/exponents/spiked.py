"""Sample-complexity exponents under a spiked covariance, and their symbolic consistency.

Data ``x ~ N(0, Sigma)``, ``Sigma = (I_d + kappa theta theta^T)/(1 + kappa)`` with
``kappa = d^r2``, target direction ``u`` with ``c = <u, theta> = d^(-r1)``.  In whitened
coordinates ``z = Sigma^(-1/2) x ~ N(0, I_d)`` preconditioned online SGD is isotropic
spherical SGD started from the whitened overlap ``rho0 ~ d^(e_rho)``
(:mod:`featcheck.theory.exponents.rho0`) instead of ``d^(-1/2)``.  Substituting ``rho0``
in the isotropic mechanism gives, with a prefactor ``D``:

* ``spiked-online`` (convention A, one fresh sample per step, drift against noise):
  ``n ~ D rho0^(-2 max(s - 2, 0))``, times ``log(1/rho0)`` at ``s = 2``;
* ``spiked-batch``  (convention B, gradient flow on ``n`` reused samples, uniform
  concentration ``sqrt(D/n) < rho0^(s-1)``): ``n ~ D rho0^(-2 (s - 1))``;

so ``e = e_D - 2 q e_rho`` with ``q = max(s - 2, 0)`` (A) or ``q = s - 1`` (B).  The
prefactor is the ambient dimension ``D = d`` (``e_D = 1``) or, with
``effective_dimension``, ``D = d/kappa`` (``e_D = 1 - r2``): a modelling choice kept as a
switch.

:func:`consistency_checks` verifies, symbolically, continuity across the regime
boundaries ``r2 = r1`` and ``r2 = 2 r1``, the isotropic value at ``r2 = 0``
(``max(1, s - 1)`` for A, ``s`` for B) and that the limit ``r2 -> 1`` does not depend
on ``s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from featcheck.theory.errors import DomainError
from featcheck.theory.exponents.isotropic import isotropic_online_exponent
from featcheck.theory.exponents.prediction import Prediction, Regime, d, r1, r2, s
from featcheck.theory.exponents.rho0 import RHO0_REGIMES, rho0_derivation, rho0_exponent

CONVENTIONS = ("A", "B")
#: Exponents are affine in ``s`` from ``s = 3`` on, so agreement at ``s = 1..CHECKED_S``
#: (``CHECKED_S >= 5``) is agreement for every ``s``.
CHECKED_S = 6


def _escape_power(convention: str) -> sp.Expr:
    if convention not in CONVENTIONS:
        raise DomainError(f"unknown counting convention {convention!r}: use 'A' or 'B'")
    return sp.Max(s - 2, 0) if convention == "A" else s - 1


def spiked_exponent(convention: str, effective_dimension: bool = False) -> sp.Expr:
    """``e`` of ``n ~ D rho0^(-2 q)``: ``q = max(s-2, 0)`` (A) or ``q = s-1`` (B).

    ``D = d`` (exponent 1), or ``D = d/kappa`` (exponent ``1 - r2``) with
    ``effective_dimension``.
    """
    q = _escape_power(convention)
    prefactor = 1 - r2 if effective_dimension else sp.Integer(1)
    return sp.piecewise_fold(prefactor - 2 * q * rho0_exponent())


def spiked_prediction(convention: str, effective_dimension: bool = False) -> Prediction:
    """The spiked prediction of one counting convention, with its derivation and checks."""
    q = _escape_power(convention)
    learner = "spiked-online" if convention == "A" else "spiked-batch"
    prefactor = 1 - r2 if effective_dimension else sp.Integer(1)
    regimes = []
    for rr in RHO0_REGIMES[:3]:
        e = sp.simplify(prefactor - 2 * q * rr.exponent)
        log_factor = sp.Piecewise((sp.log(d), sp.Eq(s, 2)), (1, True)) if convention == "A" else 1
        regimes.append(Regime(rr.name, rr.condition, e, sp.sympify(log_factor)))
    exponent = spiked_exponent(convention, effective_dimension)
    der = rho0_derivation()
    der.title = f"Spiked covariance, convention {convention} ({learner})"
    der.summary = (
        "Exponent of the sample complexity with x ~ N(0, (I + kappa theta theta^T)/(1 + kappa)), "
        "kappa = d^r2, c = <u, theta> = d^(-r1), obtained by substituting the initial whitened "
        "overlap rho0 for d^(-1/2) in the isotropic mechanism."
    )
    rho, eta = sp.symbols("rho eta", positive=True)
    rho0 = sp.Symbol("rho_0", positive=True)
    der.add(
        "Drift near zero (whitened coordinates)",
        r"\mathbb{E}[\rho_{t+1} - \rho_t] \approx \eta\, s\, c_s(g)\, c_s(\phi)\, \rho^{s-1}",
        "With preconditioning, v = Sigma^(1/2) w / ||Sigma^(1/2) w|| follows isotropic spherical "
        "SGD on z = Sigma^(-1/2) x ~ N(0, I_d) toward v* = Sigma^(1/2) u / ||Sigma^(1/2) u||.",
    )
    if convention == "A":
        der.add(
            "Drift versus noise (online counting)",
            [
                sp.StrictLessThan(eta, rho ** (s - 2) / sp.Symbol("D")),
                sp.Eq(sp.Symbol("n"), sp.Symbol("D") * rho0 ** (-2 * sp.Max(s - 2, 0))),
            ],
            "As in the isotropic case, one fresh sample per step: the largest admissible step is "
            "rho^(s-2)/D and the escape time is rho0^(-(s-2)).  The drift-versus-martingale "
            "condition n >> rho0^(-2(s-1)) is weaker because rho0^2 d >= 1.",
        )
    else:
        der.add(
            "Uniform concentration (full-batch counting)",
            [
                sp.StrictLessThan(sp.sqrt(sp.Symbol("D") / sp.Symbol("n")), rho0 ** (s - 1)),
                sp.Eq(sp.Symbol("n"), sp.Symbol("D") * rho0 ** (-2 * (s - 1))),
            ],
            "Gradient flow on n reused samples: the empirical gradient deviates from the "
            "population one by ~ sqrt(D/n) uniformly over the sphere; it must stay below the "
            "drift rho0^(s-1) at the start.",
        )
    der.add(
        "Prefactor",
        sp.Eq(sp.Symbol("D"), d / d**r2 if effective_dimension else d),
        "Effective dimension d/kappa (the bulk noise is damped by 1/(1+kappa)), a modelling "
        "choice kept as a switch."
        if effective_dimension
        else "The ambient dimension d (the effective-dimension variant d/kappa is a switch).",
    )
    der.add(
        "Exponent",
        sp.Eq(sp.Symbol("e"), exponent),
        "e = e_D - 2 q e_rho with q = "
        + ("max(s - 2, 0)" if convention == "A" else "s - 1")
        + " and e_rho from the four regimes.",
    )
    if convention == "A":
        der.add(
            "Logarithmic factor",
            sp.Eq(sp.Symbol("n(s=2)"), sp.Symbol("D") * sp.log(1 / rho0)),
            "At s = 2 the escape is exponential, T ~ log(1/rho0), which is ~ (1 - r2)/2 log d "
            "in regime (iii) and log d otherwise.",
        )
    valid = sp.And(s >= 1, r1 >= 0, r1 <= sp.Rational(1, 2), r2 >= 0, r2 <= 1)
    prediction = Prediction(
        learner,
        exponent,
        tuple(regimes),
        der,
        "achieved",
        convention,
        effective_dimension,
        valid,
    )
    for check in consistency_checks(prediction):
        der.add(check.name, check.statement, "holds" if check.holds else "FAILS")
    return prediction


@dataclass(frozen=True)
class ConsistencyCheck:
    """One symbolic check of a spiked prediction: its name, the statement, whether it holds."""

    name: str
    statement: sp.Basic
    holds: bool


def _same(expr_a: sp.Expr, expr_b: sp.Expr) -> bool:
    """Equal for every s = 1..CHECKED_S (symbolically in the remaining symbols)."""
    return all(
        sp.simplify(sp.piecewise_fold((expr_a - expr_b).subs(s, k))) == 0
        for k in range(1, CHECKED_S + 1)
    )


def consistency_checks(prediction: Prediction) -> list[ConsistencyCheck]:
    """Continuity across the regime boundaries, the isotropic limit, the ``r2 -> 1`` limit.

    Continuity: the pieces on both sides of ``r2 = r1`` and ``r2 = 2 r1`` agree
    on the boundary (as functions of ``s`` and ``r1``).  Isotropic limit: at
    ``r2 = 0`` the exponent equals the isotropic one (``max(1, s-1)`` for A,
    ``s`` for B).  ``r2 -> 1``: the limit does not depend on ``s``.
    """
    pieces = [rg.exponent for rg in prediction.regimes]
    out = []
    for left, right, boundary, label in (
        (pieces[0], pieces[1], r1, "r2 = r1"),
        (pieces[1], pieces[2], 2 * r1, "r2 = 2 r1"),
    ):
        gap = sp.simplify(left.subs(r2, boundary) - right.subs(r2, boundary))
        out.append(ConsistencyCheck(f"Continuity at {label}", sp.Eq(gap, 0), gap == 0))
    at_zero = prediction.exponent.subs(r2, 0)  # d/kappa = d at r2 = 0 as well
    isotropic = isotropic_online_exponent() if prediction.convention == "A" else s
    # r1 in (0, 1/2] puts r2 = 0 in regime (i); r1 = 0 puts it in regime (iii)
    holds = all(
        _same(at_zero.subs(r1, value), isotropic)
        for value in (sp.Integer(0), sp.Rational(1, 4), sp.Rational(1, 2))
    )
    out.append(
        ConsistencyCheck(
            "Isotropic limit at r2 = 0", sp.Eq(sp.Symbol("e(r_2=0)"), isotropic), bool(holds)
        )
    )
    limit = sp.simplify(pieces[2].subs(r2, 1))
    out.append(
        ConsistencyCheck(
            "Limit r2 -> 1 is independent of s",
            sp.Eq(sp.Symbol("e(r_2 -> 1)"), limit),
            not limit.has(s),
        )
    )
    return out
