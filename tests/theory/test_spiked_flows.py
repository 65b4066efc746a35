"""Exact derivation of the plain, normalized and preconditioned flows."""

import pytest
import sympy as sp

from featcheck.theory.dynamics.spiked import recovery_condition, s1, s2, spiked_flow
from featcheck.theory.dynamics.spiked.checks import max_abs_at_random
from featcheck.theory.dynamics.spiked.flows import two_variable_residual
from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.functions import parse_function
from featcheck.theory.models import a, b, c, kappa, m, rho


@pytest.mark.parametrize("flow", ["plain", "normalized", "preconditioned"])
@pytest.mark.parametrize("convention", ["unit", "ba"])
def test_derivation_self_checks_are_at_working_precision(flow, convention):
    derived = spiked_flow(flow, "relu", "-h(4)", convention=convention)
    assert derived.checks
    for label, value in derived.checks.items():
        assert value < 1e-30, label
    text = derived.derivation.to_markdown()
    assert "Closure in the summary statistics" in text
    assert "Condition for recovery" in text


def test_two_variable_comparison_detects_a_wrong_closure():
    derived = spiked_flow("normalized", "relu", "-h(4)")
    rates = list(derived.general.rhs)
    on_state = {s1: (1 + kappa * a**2) / (1 + kappa), s2: (b + kappa * c * a) / (1 + kappa)}
    assert two_variable_residual(derived.risk.expr, on_state, rates) < 1e-30
    rates[0] = rates[0] + (c - a * b) * sp.Rational(1, 1000)
    assert two_variable_residual(derived.risk.expr, on_state, rates) > 1e-6


def test_normalized_aligned_equation_is_the_closed_form():
    derived = spiked_flow("normalized", "relu", "-h(4)")
    psi = derived.risk.series.psi(rho)
    ref = (1 - rho**2) * (1 + kappa - kappa * rho**2) ** 2 / (1 + kappa) * sp.diff(psi, rho)
    assert max_abs_at_random(derived.aligned.rhs[0] - ref, [rho, kappa]) < 1e-30


def test_preconditioned_invariant_and_isotropic_reduction():
    derived = spiked_flow("preconditioned", "relu", "he(2)")
    (rate,) = derived.general.invariant_rates().values()
    assert max_abs_at_random(rate, [a, b, sp.Symbol("q", positive=True), kappa, c]) < 1e-30
    r = sp.Symbol("r", positive=True)
    psi = derived.risk.series.psi(rho)
    assert sp.simplify(derived.aligned.rhs[0] - (1 - rho**2) * sp.diff(psi, rho) / r**2) == 0


@pytest.mark.parametrize(
    ("convention", "eigenvalue", "exponent"),
    [("unit", -kappa / (2 * (1 + kappa)), sp.Rational(2, 3)), ("ba", -kappa / 2, 1)],
)
def test_relu_failure_analysis_matches_the_leading_order_formula(convention, eigenvalue, exponent):
    failure = spiked_flow("plain", "relu", "-h(4)", convention=convention).failure
    assert sp.simplify(failure.equator_eigenvalue - eigenvalue) == 0
    assert failure.threshold_exponent == exponent
    assert failure.relu_agrees == "at leading order as kappa -> oo"
    # predicted kappa_c solves the asymptotic balance B kappa^-gamma = d^(-(s-2)/2)
    d = 10**6
    kc = failure.predicted_threshold(d)
    lhs = float(failure.asymptotic_constant) * kc ** (-float(failure.gamma))
    assert lhs == pytest.approx(d**-1.0, rel=1e-12)


def test_failure_analysis_for_a_degree_two_homogeneous_student():
    failure = spiked_flow("plain", "z*abs(z)", "he(3)").failure
    assert sp.simplify(failure.equator_eigenvalue + 6 * kappa / (1 + kappa) ** 2) == 0
    assert failure.threshold_exponent == sp.Rational(1, 3)
    assert failure.relu_agrees is None  # the leading-order formula is for ReLU only


def test_plain_fixed_point_at_u_loses_stability_for_large_kappa():
    aligned = spiked_flow("plain", "relu", "-h(4)").aligned
    top = next(fp for fp in aligned.fixed_points if fp.location[m] == 1)
    assert top.stable_at({kappa: 0.5}) is True
    assert top.stable_at({kappa: 1000}) is False
    equator = next(fp for fp in aligned.fixed_points if fp.location[m] == 0)
    assert equator.stable_at({kappa: 0.1}) is True


@pytest.mark.parametrize(("link", "reason"), [("he(3)", "= 0"), ("he(4)", "< 0")])
def test_recovery_condition_reported_when_it_fails(link, reason):
    cond = recovery_condition(parse_function("relu"), parse_function(link))
    assert not cond.holds
    assert reason in cond.message
    derived = spiked_flow("normalized", "relu", link)
    assert "FAILS" in derived.derivation.to_markdown()


def test_bad_flow_inputs():
    with pytest.raises(InputError, match="unknown flow"):
        spiked_flow("fast", "relu", "he(2)")
    with pytest.raises(DomainError, match="normalized or preconditioned"):
        spiked_flow("plain", "max(z, 0)*tanh(z)", "he(2)")  # kinked, not piecewise polynomial
    with pytest.raises(DomainError, match="truncation"):
        spiked_flow("normalized", "relu", "tanh", max_degree=0)
