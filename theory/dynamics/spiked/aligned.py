r"""One-variable reductions of the flows for an aligned spike (``u = theta``, ``c = 1``).

With ``c = 1`` the admissible set is ``a = b``, so each flow closes in one variable:

* ``plain``: the overlap ``m = <w, u>``, ``dm/dt`` from the closure with ``a = b = m``
  (the identity ``da/dt = db/dt`` on ``a = b`` is checked);
* ``normalized``: the whitened overlap ``rho = m sqrt(1 + kappa) / sqrt(1 + kappa m^2)``
  obeys ``d rho/dt = (1 - rho^2)(1 + kappa - kappa rho^2)^2 / (1 + kappa) psi'(rho)``;
* ``preconditioned``: for every ``c``, ``v = Sigma^(1/2) w / r`` follows the isotropic
  spherical flow, ``d rho/dt = (1 - rho^2) psi'(rho) / r^2``, with
  ``r = ||Sigma^(1/2) w||`` conserved.

Each identity is checked at random admissible points (:mod:`.checks`).  The fixed points of
the one-variable equation at ``x = -1, 0, 1`` are listed with their linearisation.
"""

from __future__ import annotations

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics import FixedPoint, OdeSystem
from featcheck.theory.dynamics.spiked.checks import max_abs_at_random, numerically_zero, tidy
from featcheck.theory.dynamics.spiked.frame import q, r
from featcheck.theory.dynamics.spiked.risk import RiskModel
from featcheck.theory.models import SpikedCovariance, a, b, c, kappa, m, rho


def aligned_reduction(
    flow: str,
    risk: RiskModel,
    cov: SpikedCovariance,
    rates: list[sp.Expr],
    rho_general: sp.Expr,
    derivation: Derivation,
) -> tuple[OdeSystem, dict[str, float]]:
    """The one-variable system for ``u = theta`` and the residuals of its checks."""
    checks: dict[str, float] = {}
    aligned_sub = {c: 1, b: m, a: m}
    if flow == "plain":
        rhs = tidy(rates[0].subs(aligned_sub), 150)
        checks["aligned a = b invariant"] = max_abs_at_random(
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
        system.fixed_points = fixed_points_1d(system, m)
        return system, checks
    series = risk.series
    dpsi = sp.diff(series.psi(rho), rho)
    if flow == "normalized":
        rhs_m = rates[0].subs(aligned_sub)
        rho_m = sp.simplify(rho_general.subs(aligned_sub))
        # change of variable m -> rho, m = rho / sqrt(1 + kappa - kappa rho^2)
        m_of_rho = rho / sp.sqrt(1 + kappa - kappa * rho**2)
        chain = (sp.diff(rho_m, m) * rhs_m).subs(m, m_of_rho)
        target = (1 - rho**2) * (1 + kappa - kappa * rho**2) ** 2 / (1 + kappa) * dpsi
        checks["aligned rho equation"] = max_abs_at_random(chain - target, [rho, kappa])
        rhs = sp.expand(target)
        overlap = m_of_rho
        params = (kappa,)
        text = (
            "rho(m) = m sqrt(1+kappa)/sqrt(1+kappa m^2); d rho/dt = rho'(m) dm/dt rewritten "
            "in rho agrees with the closed form (1 - rho^2)(1 + kappa - kappa rho^2)^2/"
            f"(1 + kappa) psi'(rho) to {checks['aligned rho equation']:.1e} at random points."
        )
    else:
        sub = {c: 1, b: m, a: m}
        rho_mq = rho_general.subs(sub)
        chain = sp.diff(rho_mq, m) * rates[0].subs(sub) + sp.diff(rho_mq, q) * rates[2].subs(sub)
        r2_expr = (cov.alpha * (q + kappa * a**2)).subs(sub)
        target = (1 - rho_mq**2) * dpsi.subs(rho, rho_mq) / r2_expr
        checks["aligned rho equation"] = max_abs_at_random(chain - target, [m, q, kappa])
        rhs_general = (
            (1 - rho_general**2) * dpsi.subs(rho, rho_general) / (cov.alpha * (q + kappa * a**2))
        )
        chain_general = sum(
            sp.diff(rho_general, s_) * rate for s_, rate in zip((a, b, q), rates, strict=True)
        )
        checks["whitened overlap equation (any c)"] = max_abs_at_random(
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
    system.fixed_points = fixed_points_1d(system, rho)
    return system, checks


def fixed_points_1d(system: OdeSystem, x: sp.Symbol) -> list[FixedPoint]:
    """The fixed points among ``x = 1, -1, 0`` with their exact eigenvalue (the slope)."""
    rhs = system.rhs[0]
    slope = sp.diff(rhs, x)
    points = []
    for name, value in (("x = 1", 1), ("x = -1", -1), ("equator x = 0", 0)):
        at = rhs.subs(x, value)
        if at != 0 and not numerically_zero(at, sorted(at.free_symbols, key=str)):
            continue
        eig = tidy(slope.subs(x, value), 150)
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
