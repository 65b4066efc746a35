r"""Failure analysis of the aligned plain flow: equator, unstable point ``m*``, threshold.

With an aligned spike (``u = theta``, ``c = 1``) the plain spherical flow closes in the
overlap ``m = <w, u>``: ``dm/dt = f(m; kappa)`` (:mod:`featcheck.theory.dynamics.spiked.aligned`).
Mousavi-Hosseini, Wu, Suzuki, Erdogdu (2023) show that this flow can fail to recover ``u``
even though the spike points at it.  featcheck derives the mechanism exactly:

* Taylor expansion at the equator, ``dm/dt = sum_j lambda_j m^j`` (exact in ``kappa``);
  ``lambda_1 < 0`` for ``kappa > 0``: the term ``1/2 E[phi(<w,x>)^2]`` of the risk pushes
  ``w`` away from the high-variance direction;
* for information exponent ``s >= 3`` the first attracting term is ``lambda_(s-1) m^(s-1)``;
  the two-term balance gives the unstable point ``m*^(s-2) = -lambda_1 / lambda_(s-1)``;
* a uniform start has ``m0 ~ d^(-1/2)``, so the flow fails iff ``m*(kappa) > d^(-1/2)``; if
  ``m*^(s-2) ~ B kappa^(-gamma)`` for large ``kappa``, failure holds iff
  ``kappa << kappa_c = (B d^((s-2)/2))^(1/gamma)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics.spiked.checks import numerically_zero, tidy
from featcheck.theory.dynamics.spiked.recovery import RecoveryCondition
from featcheck.theory.dynamics.spiked.scaled import ScaledIntegral
from featcheck.theory.models import SpikedCovariance, d, kappa, m

#: where the failure of the spherical flow is stated (the comparison formula is a reading)
FAILURE_SOURCE = (
    "Mousavi-Hosseini, Wu, Suzuki, Erdogdu (2023), arXiv 2309.03843: failure of the "
    "spherical gradient flow under an aligned spike (the ReLU formula compared with is "
    "featcheck's reading)"
)


@dataclass
class FailureAnalysis:
    """Equator stability, the unstable point ``m*`` and the threshold on ``kappa``.

    ``taylor[j]`` is the coefficient of ``m^j`` of ``dm/dt`` at ``m = 0`` (exact in kappa).
    ``mstar_power`` is ``m*^(s-2) = -lambda_1 / lambda_(s-1)`` (two-term balance, s >= 3).
    ``relu_mstar_power`` is the leading-order ReLU formula
    ``kappa / (2 s c_s g_s (1 + kappa)^((s+1)/2))`` (``unit``; exponent ``s/2`` for ``ba``)
    and ``relu_agrees`` says how the exact value compares with it.
    ``threshold_equation``: ``m*(kappa) = d^(-1/2)``; failure from ``m0 = d^(-1/2)`` iff
    ``m*(kappa) > d^(-1/2)``.  Large-kappa asymptotics ``m*^(s-2) ~ B kappa^(-gamma)`` give
    ``kappa_c ~ (B d^((s-2)/2))^(1/gamma) = prefactor * d^exponent``.
    """

    s: int | None
    taylor: dict[int, sp.Expr] = field(default_factory=dict)
    equator_eigenvalue: sp.Expr | None = None
    mstar_power: sp.Expr | None = None
    relu_mstar_power: sp.Expr | None = None
    relu_agrees: str | None = None
    gamma: sp.Expr | None = None
    asymptotic_constant: sp.Expr | None = None
    threshold_exponent: sp.Expr | None = None
    threshold_prefactor: sp.Expr | None = None
    threshold_equation: sp.Eq | None = None
    notes: list[str] = field(default_factory=list)

    def mstar(self, kappa_value: float) -> float | None:
        """``m*(kappa)`` from the two-term balance (None when there is no ``m* > 0``)."""
        if self.mstar_power is None or self.s is None:
            return None
        value = float(sp.N(self.mstar_power.subs(kappa, kappa_value)))
        return value ** (1 / (self.s - 2)) if value > 0 else None

    def predicted_threshold(self, d_value: float) -> float | None:
        """``kappa_c(d) = prefactor * d^exponent`` (None without a power law)."""
        if self.threshold_prefactor is None:
            return None
        return float(self.threshold_prefactor) * float(d_value) ** float(self.threshold_exponent)


def _taylor(expr: sp.Expr, x: sp.Symbol, order: int) -> dict[int, sp.Expr]:
    out, current = {}, expr
    for j in range(order + 1):
        out[j] = tidy(current.subs(x, 0) / sp.factorial(j), 600)
        current = sp.diff(current, x)
    return out


def failure_analysis(
    rhs_m: sp.Expr, cov: SpikedCovariance, cond: RecoveryCondition, relu_like: bool
) -> FailureAnalysis:
    """Analyse ``dm/dt = rhs_m`` at the equator (``relu_like``: compare with the ReLU formula)."""
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
        relu = kappa / (2 * s * cond.product * (1 + kappa) ** power)
        out.relu_mstar_power = relu
        difference = sp.simplify(ratio - relu)
        if difference == 0 or numerically_zero(difference, [kappa]):
            out.relu_agrees = "exactly"
        elif sp.limit(ratio / relu, kappa, sp.oo) == 1:
            out.relu_agrees = "at leading order as kappa -> oo"
            out.notes.append(
                "the exact coefficient of m^(s-1) also contains O(kappa) terms (curvature of "
                "the repulsion and the factor 1 - m^2) that the ReLU formula drops; the two "
                "agree at leading order in 1/kappa"
            )
        else:
            out.relu_agrees = "no"
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


def add_failure_steps(derivation: Derivation, f: FailureAnalysis, cov: SpikedCovariance) -> None:
    """The expansion at the equator, ``m*`` and the threshold as derivation steps."""
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
    if f.relu_agrees is not None:
        text += (
            "DISAGREES with the leading-order ReLU formula; the derivation above is used."
            if f.relu_agrees == "no"
            else "Agrees with the leading-order ReLU formula kappa/(2 s c_s g_s "
            "(1+kappa)^((s+1)/2)) (unit) or kappa/(2 s c_s g_s (1+kappa)^(s/2)) (ba) "
            f"{f.relu_agrees}. " + " ".join(f.notes)
        )
    else:
        text += "(The leading-order ReLU formula applies to a ReLU student only.)"
    derivation.add(
        "Unstable point m*",
        [sp.Eq(sp.Symbol(r"m_*^{s-2}"), f.mstar_power)]
        + (
            [sp.Eq(sp.Symbol(r"m_{*,\mathrm{ReLU}}^{s-2}"), f.relu_mstar_power)]
            if f.relu_mstar_power is not None
            else []
        ),
        text,
        FAILURE_SOURCE,
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
            f"(convention {cov.convention}; for a ReLU student the paper's failure regime, "
            "as featcheck reads it, is kappa << d^((s-2)/(s-1)) under the unit convention "
            "and kappa << d under Sigma = I + kappa theta theta^T). The equation also has a "
            "small root: at kappa -> 0 the repulsion vanishes and the flow succeeds.",
        )
    else:
        derivation.add("Threshold on kappa", f.threshold_equation, " ".join(f.notes))
