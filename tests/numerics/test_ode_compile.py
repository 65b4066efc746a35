"""Compiling an OdeSystem: exact numbers of any size evaluate in double precision."""

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.numerics.ode import compile_system
from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics import OdeSystem


@settings(max_examples=25, deadline=None)
@given(digits=st.integers(1, 80), numerator=st.integers(1, 10**6))
def test_big_exact_integers_compile_to_their_double_value(digits, numerator):
    # sqrt(n) with n = numerator * 10^digits, and a rational with a huge denominator: the
    # compiled right-hand side equals the exact value to double precision.
    y, v, p = sp.symbols("y v p")
    n = sp.Integer(numerator) * sp.Integer(10) ** digits
    exact = [sp.sqrt(n) * y / sp.sqrt(n + 1), n * p / (3 * n + 1) + v]
    system = OdeSystem("big", (y, v), (p,), tuple(exact), Derivation("big"))
    compiled = compile_system(system)
    value = compiled.rhs(np.array([2.0, 0.5]), (1.5,))
    expected = [float(e.subs({y: 2, v: sp.Rational(1, 2), p: sp.Rational(3, 2)})) for e in exact]
    np.testing.assert_allclose(value, expected, rtol=1e-14)
    jacobian = [[float(sp.sqrt(n) / sp.sqrt(n + 1)), 0.0], [0.0, 1.0]]
    np.testing.assert_allclose(compiled.jacobian(np.array([2.0, 0.5]), (1.5,)), jacobian)
