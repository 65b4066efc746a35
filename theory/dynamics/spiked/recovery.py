r"""When a flow can leave the equator toward ``u``: the sign condition and the escape time.

Near the equator ``rho = 0`` the correlation function ``psi_{phi,g}(rho)`` is dominated by
its first non-zero term ``c_s(phi) c_s(g) rho^s``, with ``s`` the information exponent of
the link ``g`` (Ben Arous, Gheissari, Jagannath 2021; Mousavi-Hosseini, Wu, Suzuki, Erdogdu
2023).  The drift toward ``u`` is ``s c_s(phi) c_s(g) rho^(s-1)`` (times a positive factor),
so recovery from a small overlap needs ``c_s(phi) c_s(g) > 0``; for ``s = 1`` the equator
is not a fixed point at all.  For the normalized and preconditioned flows the leading term
also gives the time to leave ``rho_0``: ``d rho/dt ~ K s p rho^(s-1)`` with
``p = c_s(phi) c_s(g)`` integrates to ``T ~ rho_0^(-(s-2)) / ((s-2) s p K)`` for ``s >= 3``
and ``T ~ log(1/rho_0) / (2 p K)`` for ``s = 2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics.spiked.correlation import coefficient_expr
from featcheck.theory.dynamics.spiked.frame import r
from featcheck.theory.dynamics.spiked.risk import RiskModel
from featcheck.theory.functions import Function
from featcheck.theory.hermite import hermite_coefficients, information_exponent
from featcheck.theory.models import kappa, rho


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


def recovery_condition(
    activation: Function, link: Function, max_degree: int = 12
) -> RecoveryCondition:
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


def add_escape_steps(derivation: Derivation, flow: str, risk: RiskModel) -> None:
    """The leading drift near ``rho = 0`` and the time to leave ``rho_0`` (normalized and
    preconditioned flows)."""
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
        time = 1 / (p * factor)
    derivation.add(
        "Escape from the equator",
        [sp.Eq(sp.Symbol(r"\dot\rho"), lead), sp.Eq(sp.Symbol("T"), time)],
        f"Leading term near rho = 0 (degree s = {s} of psi), and the time to leave "
        "rho0 at leading order (derived here by integrating the leading term). "
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
    )
