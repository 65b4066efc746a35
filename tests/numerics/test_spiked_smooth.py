"""The plain flow for smooth activations (tanh, sigmoid, softplus): Gaussian integrals of
``phi(sigma .)`` without closed form, evaluated numerically inside the right-hand side."""

import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featcheck.numerics.cli import main
from featcheck.numerics.ode import compile_system
from featcheck.numerics.spiked.gradient_oracles import quadrature_rates
from featcheck.numerics.spiked.scaled_integrals import (
    compile_flow,
    evaluate,
    quadrature_error,
    system_namespace,
)
from featcheck.theory.dynamics.spiked import spiked_flow
from featcheck.theory.dynamics.spiked.scaled import ScaledActivation, scaled_integral
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import parse_function
from featcheck.theory.hermite import hermite_coefficients

SIGMAS = (sp.Rational(1, 5), sp.Integer(1), sp.Rational(7, 2))


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus"])
def test_scaled_integrals_match_the_certified_hermite_engine(name):
    phi = parse_function(name)
    for s in SIGMAS:
        certified = hermite_coefficients(phi.scaled(s), 4, digits=20)
        sv = float(s)
        got = evaluate(scaled_integral(phi, "V", 0, 0), np.array([sv]))[0]
        ref = certified.second_moment
        assert abs(got - float(ref.value)) <= 1e-12 + float(ref.error)
        for k in range(5):
            expected = certified[k]
            if phi.vanishes_by_symmetry(k):
                assert ScaledActivation(phi, sp.Symbol("s", positive=True)).coefficient(k) == 0
                continue
            got = evaluate(scaled_integral(phi, "c", k, 0), np.array([sv]))[0]
            assert abs(got - float(expected.value)) <= 1e-12 + float(expected.error), (s, k)
        assert quadrature_error(scaled_integral(phi, "c", 3, 2), sv) < 1e-12


def test_sigma_derivative_is_the_derivative_of_the_certified_values():
    # d c_3(phi(sigma .))/d sigma by a central difference of certified values (error O(h^2))
    phi, s, h = parse_function("tanh"), sp.Rational(3, 4), sp.Rational(1, 1000)
    plus = hermite_coefficients(phi.scaled(s + h), 3, digits=20)[3].value
    minus = hermite_coefficients(phi.scaled(s - h), 3, digits=20)[3].value
    difference = float((plus - minus) / (2 * h))
    derivative = evaluate(scaled_integral(phi, "c", 3, 1), float(s))
    assert derivative == pytest.approx(difference, abs=1e-6)
    assert abs(derivative) > 1e-2  # not a vacuous comparison


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kappa=st.floats(0.0, 50.0),
    c=st.floats(-0.95, 0.95),
    a=st.floats(-0.9, 0.9),
    t=st.floats(-0.95, 0.95),
)
def test_plain_tanh_rhs_equals_quadrature_of_the_population_gradient(kappa, c, a, t):
    phi, g = parse_function("tanh"), parse_function("-he(3) + h(1)")
    b = c * a + t * np.sqrt((1 - a * a) * (1 - c * c))
    compiled = compile_flow(spiked_flow("plain", phi, g).general)
    reduced = compiled.rhs(np.array([a, b]), (kappa, c))
    quad, err = quadrature_rates("plain", phi, g, kappa=kappa, c=c, a=a, b=b, nodes=(160, 60))
    assert err < 1e-9
    np.testing.assert_allclose(reduced, quad, rtol=0, atol=1e-8)


def test_compile_system_names_the_integrals_it_cannot_evaluate():
    system = spiked_flow("plain", "tanh", "-he(3)").aligned
    with pytest.raises(DomainError, match="phiscaled_V"):
        compile_system(system)  # no namespace: the scaled integrals have no numpy form
    compiled = compile_system(system, namespace=system_namespace(system))
    assert np.isfinite(compiled.rhs(np.array([0.3]), (2.0,))).all()
    assert compile_flow(system) is compiled  # one compilation per system and namespace


def test_tanh_derivation_checks_and_says_what_is_numeric():
    derived = spiked_flow("plain", "tanh", "-he(3)")
    assert derived.checks["two-variable (a, b) formula"] < 1e-30
    text = derived.derivation.to_markdown()
    assert "no closed form" in text
    assert derived.failure.threshold_exponent is None  # not claimed symbolically
    # m* = -lambda_1/lambda_2 is an expression in V'(sigma_0) and c_3(sigma_0),
    # sigma_0 = 1/sqrt(1 + kappa).  For tanh, phi' = 1 - phi^2 gives
    # phi''' = -2 (phi'^2 + phi phi''), so by Stein sqrt(6) c_3(sigma) = sigma^3 E[phi'''] =
    # -sigma^2 V'(sigma) and m* = kappa / (6 (1 + kappa)) exactly: an independent check of
    # the numeric evaluation of the symbols.
    for k in (0.5, 3.0, 50.0):
        assert derived.failure.mstar(k) == pytest.approx(k / (6 * (1 + k)), rel=1e-12)


def test_flow_command_with_tanh(capsys):
    argv = ["flow", "plain", "--activation", "tanh", "--link=-he(3)", "--dim", "10000"]
    assert main([*argv, "--kappa", "100", "--json"]) == 0
    spiked = json.loads(capsys.readouterr().out)
    assert abs(spiked["final_overlap"]) < 1e-6  # the equator attracts m0 = 0.01
    stable = [fp["location"] for fp in spiked["fixed_points"] if fp["stable"]]
    assert any(abs(x) < 1e-9 for x in stable)
    assert main([*argv, "--kappa", "0", "--json"]) == 0
    isotropic = json.loads(capsys.readouterr().out)
    assert isotropic["final_overlap"] > 0.99 and isotropic["escape_time"] is not None


def test_kinked_activation_without_polynomial_pieces_is_refused():
    sigma = sp.Symbol("sigma", positive=True)
    with pytest.raises(DomainError, match="kinks"):
        ScaledActivation(parse_function("max(z, 0)*tanh(z)"), sigma).second_moment  # noqa: B018
