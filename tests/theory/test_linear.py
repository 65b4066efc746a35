"""Exact part of the linear-network results: c0, Lemma 1, the flows, the printed bounds."""

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.theory import linear as th
from featcheck.theory.errors import DomainError


@settings(max_examples=12, deadline=None)
@given(dim=st.integers(min_value=2, max_value=14))
def test_c0_of_the_sphere_agrees_by_two_routes(dim):
    closed = th.c0_closed_form("sphere", dim)
    assert sp.simplify(closed - th.c0_by_integration("sphere", dim)) == 0


def test_c0_known_values():
    assert th.c0_closed_form("sphere", 2) == 1
    assert sp.simplify(th.c0_closed_form("sphere", 3) - sp.pi / 4) == 0
    assert sp.simplify(th.c0_closed_form("gaussian", 9) - sp.sqrt(sp.pi / 2)) == 0
    assert sp.simplify(th.c0_by_integration("gaussian", 2) - sp.sqrt(sp.pi / 2)) == 0


@pytest.mark.parametrize(("law", "dim"), [("sphere", 1), ("cube", 3), ("gaussian", 10**6)])
def test_bad_laws_are_rejected(law, dim):
    with pytest.raises(DomainError):
        th.c0_closed_form(law, dim)


def test_lemma1_is_derived_not_assumed():
    assert th.label_identity() == 0
    flips = th.label_flip_integrals()
    assert sp.simplify(flips["sin"] + sp.sin(th.theta) / sp.pi) == 0
    assert sp.simplify(flips["cos"] + sp.cos(th.theta) / sp.pi) == 0
    drift = th.lemma1_drift()
    assert sp.simplify(drift - th.c0 * sp.sin(th.theta) ** 2 / sp.pi) == 0
    assert th.rho not in drift.free_symbols


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 7])
def test_cartesian_induced_flow_matches_the_reduced_odes(depth):
    flow, reduced = th.cartesian_flow(depth), th.reduced_odes(depth)
    for key in ("rho", "cos_theta"):
        assert sp.simplify(sp.powsimp(flow[key] - reduced[key], force=True)) == 0


def test_zeta_equation_is_the_cos_equation():
    reduced = th.reduced_odes(th.N)
    # zeta = 2 artanh(cos theta): d zeta/dt = 2 (d cos/dt) / (1 - cos^2)
    lhs = 2 * reduced["cos_theta"] / (1 - sp.cos(th.theta) ** 2)
    assert sp.simplify(lhs - reduced["zeta"]) == 0


def test_logit_forms_equal_the_printed_right_sides():
    for bound in th.printed_bounds().values():
        if bound.logit is None:
            continue
        difference = bound.rhs - (1 - 2 / (sp.exp(bound.logit) + 1))
        assert sp.simplify(difference.rewrite(sp.exp)) == 0, bound.id


def test_derived_after_T_constant_matches_the_flow_at_T():
    """The derived Theorem 1 bound has the flow's slope d zeta/dt = 2 c0/(pi rho_T) at t = T;
    the printed one exceeds zeta_T at t = T."""
    bound = th.printed_bounds()["theorem1.after-T"]
    derived = bound.logit.subs(
        {sp.Symbol(k): v for k, v in {**bound.constants, **bound.derived}.items()}
    )
    slope = sp.diff(derived, th.t).subs(th.t, th.T)
    assert sp.simplify(slope - 2 * th.c0 / (sp.pi * th.rhoT)) == 0
    printed = bound.logit.subs({sp.Symbol(k): v for k, v in bound.constants.items()})
    excess = sp.simplify(printed.subs(th.t, th.T) + 2 * sp.log(sp.tan(th.thetaT / 2)))
    assert excess.subs({th.c0: 1, th.rhoT: 1, th.thetaT: 1}).evalf() > 0


def test_derived_theorem5_exponent_matches_the_comparison():
    bound = th.printed_bounds()["theorem5.before-T"]
    values = {**bound.constants, **bound.derived}
    logit = bound.logit.subs({sp.Symbol(k): v for k, v in values.items()})
    slope0 = sp.diff(logit, th.t).subs(th.t, 0)
    # the comparison rate at t = 0: (2 c0/pi) rho_0^(1 - 2/N)
    target = 2 * th.c0 / sp.pi * th.rho0 ** (1 - 2 / th.N)
    assert sp.simplify(sp.powsimp(slope0 - target, force=True)) == 0


def test_gd_sum_matches_its_definition():
    etas = [sp.Rational(1, 2), sp.Rational(1, 3), sp.Integer(1)]
    A = sp.Integer(2)
    sums = th.gd_sum(etas, A)
    expected = etas[0] / sp.sqrt(A + etas[0] ** 2) + etas[1] / sp.sqrt(
        A + etas[0] ** 2 + etas[1] ** 2
    )
    assert sp.simplify(sums[2] - expected) == 0
    assert sums[0] == 0


def test_derivation_document_renders():
    doc = th.linear_derivation("gaussian", 3, 4)
    text = doc.to_markdown()
    assert "Lemma 1" in text and "Theorem 5" in text
    assert "derived reading" in text
    assert doc.to_latex().startswith(r"\documentclass")


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 7])
def test_flow_system_is_the_reduced_odes_in_rho_zeta(depth):
    # Back to (rho, theta): zeta = 2 artanh(cos theta), K = c0/pi - G.  The rho equation
    # must become reduced_odes' exactly, and d zeta/dt must equal the chain rule applied
    # to reduced_odes' theta equation.
    system = th.flow_system(depth)
    assert system.state == (th.rho, th.zeta) and system.parameters == (th.c0,)
    odes = th.reduced_odes(depth)
    back = {th.zeta: (2 * sp.atanh(sp.cos(th.theta))).rewrite(sp.log)}
    drho = system.rhs[0].subs(back).subs(th.RadialK(th.rho), th.c0 / sp.pi - th.G(th.rho))
    assert sp.simplify(drho - odes["rho"]) == 0
    chain = sp.diff(2 * sp.atanh(sp.cos(th.theta)), th.theta) * odes["theta"]
    assert sp.simplify(sp.powsimp(system.rhs[1] - chain, force=True)) == 0
    assert sp.simplify(sp.powsimp(system.rhs[1] - odes["zeta"], force=True)) == 0


@settings(max_examples=20, deadline=None)
@given(
    depth=st.integers(1, 6),
    log_rho=st.floats(-3, 3),
    theta=st.floats(0.01, 3.13),
    g=st.floats(0, 1),
    c=st.floats(0.2, 2),
)
def test_flow_system_agrees_with_the_reduced_odes_at_random_points(depth, log_rho, theta, g, c):
    # Numbers for rho, theta, c0 and the value G(rho): the two forms give the same rates.
    rho_value = sp.exp(sp.Float(log_rho, 30))
    system = th.flow_system(depth)
    zeta_value = 2 * sp.atanh(sp.cos(sp.Float(theta, 30)))
    values = {th.rho: rho_value, th.c0: sp.Float(c, 30)}
    k_value = sp.Float(c, 30) / sp.pi - sp.Float(g, 30)
    flow = [
        sp.N(e.subs(th.RadialK(th.rho), k_value).subs({**values, th.zeta: zeta_value}), 25)
        for e in system.rhs
    ]
    odes = th.reduced_odes(depth)
    on_theta = {**values, th.theta: sp.Float(theta, 30)}
    drho = sp.N(odes["rho"].subs(th.G(th.rho), sp.Float(g, 30)).subs(on_theta), 25)
    dtheta = sp.N(odes["theta"].subs(on_theta), 25)
    # d zeta/dt = -2/sin(theta) * d theta/dt
    dzeta = sp.N(-2 / sp.sin(sp.Float(theta, 30)) * dtheta, 25)
    assert abs(flow[0] - drho) <= 1e-18 * (1 + abs(drho))
    assert abs(flow[1] - dzeta) <= 1e-18 * (1 + abs(dzeta))


def test_flow_system_with_exact_c0_and_bad_depths():
    system = th.flow_system(3, th.c0_closed_form("sphere", 3))
    assert system.parameters == ()
    assert th.c0 not in set().union(*(e.free_symbols for e in system.rhs))
    assert sp.simplify(system.rhs[1] - sp.Rational(1, 2) * th.rho ** sp.Rational(1, 3)) == 0
    # K's derivative is the second function, so the Jacobian is closed
    assert system.jacobian()[0, 0].has(th.RadialKDerivative(th.rho))
    for depth in (0, -1, 2.0, True):
        with pytest.raises(DomainError):
            th.flow_system(depth)
