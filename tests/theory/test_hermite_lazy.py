"""Normalized coefficients: values in mpmath, exact forms built only when read."""

import pickle

import mpmath
import pytest
import sympy as sp

from featcheck.theory import hermite
from featcheck.theory.hermite import (
    Coefficient,
    Quantity,
    hermite_coefficients,
    inverse_sqrt_factorial,
    sqrt_factorial,
)

DEGREES = [*range(0, 41), 53, 97, 100, 199, 200, 211, 500, 1000, 2000]


@pytest.mark.parametrize("k", DEGREES)
def test_sqrt_factorial_is_sympys_canonical_form(k):
    root = sp.sqrt(sp.factorial(k))
    assert sp.srepr(sqrt_factorial(k)) == sp.srepr(root)
    assert sp.srepr(inverse_sqrt_factorial(k)) == sp.srepr(1 / root)


def _old_conversion(c: Coefficient, digits: int) -> tuple[sp.Expr | None, mpmath.mpf]:
    """The normalized coefficient as the eager sympy product computed it."""
    factor = 1 / sp.sqrt(sp.factorial(c.degree))
    with mpmath.workdps(digits + 10):
        value = c.value * mpmath.mpf(sp.N(factor, mpmath.mp.dps + 10))
    return (None if c.exact is None else c.exact * factor), value


@pytest.mark.parametrize(
    ("function", "max_degree", "digits"),
    [
        ("relu", 200, 30),
        ("abs", 40, 30),
        ("sign", 41, 50),
        ("relu(z+1/2)", 25, 30),
        ("exp(-z^2)", 30, 40),
        ("erf(z)", 31, 30),
        ("z*exp(-z^2/2)", 25, 30),
        ("z^5 - 2*z^2 + 1", 7, 20),
        ("tanh", 15, 20),
    ],
)
def test_normalized_coefficients_match_the_eager_conversion(function, max_degree, digits):
    monic = hermite_coefficients(function, max_degree, basis="monic", digits=digits)
    normalized = hermite_coefficients(function, max_degree, digits=digits)
    for mu, c in zip(monic.coefficients, normalized.coefficients, strict=True):
        exact, value = _old_conversion(mu, digits)
        assert mpmath.nstr(c.value, digits) == mpmath.nstr(value, digits)
        if exact is None:
            assert c.exact is None
        else:
            assert sp.srepr(c.exact) == sp.srepr(exact), (function, c.degree)


def test_exact_forms_are_built_only_when_read(monkeypatch):
    built = []
    build = hermite._ScaledBySqrtFactorial.build

    def counted(self):
        built.append(self.degree)
        return build(self)

    monkeypatch.setattr(hermite._ScaledBySqrtFactorial, "build", counted)
    expansion = hermite_coefficients("relu", 120)
    assert all(c.is_exact for c in expansion.coefficients)
    values = [c.value for c in expansion.coefficients]
    assert built == []
    with mpmath.workdps(40):
        assert mpmath.almosteq(values[2], 1 / (2 * mpmath.sqrt(mpmath.pi)), rel_eps=1e-30)
    first = expansion[100].exact
    assert built == [100]
    assert expansion[100].exact is first and built == [100]  # kept once built


def test_a_quantity_stays_frozen_hashable_and_comparable():
    q = Quantity(sp.Rational(1, 2), mpmath.mpf("0.5"), mpmath.mpf(0))
    assert q.exact == sp.Rational(1, 2) and q.is_exact
    with pytest.raises(AttributeError):
        q.exact = sp.Integer(1)  # type: ignore[misc]
    lazy = hermite_coefficients("relu", 30)[17]
    eager = Coefficient(lazy.exact, lazy.value, lazy.error, degree=17)
    other = hermite_coefficients("relu", 30)[17]
    assert lazy == eager and hash(lazy) == hash(eager) == hash(other)
    assert len({lazy, eager, other}) == 1
    assert Coefficient(None, mpmath.mpf(1), mpmath.mpf(0)).exact is None


def test_a_lazy_coefficient_pickles_and_converts_back():
    c = hermite_coefficients("relu", 40)[33]
    restored = pickle.loads(pickle.dumps(c))
    assert restored == c
    monic = hermite.convert_coefficient(hermite_coefficients("relu", 40)[33], "normalized", "monic")
    assert sp.simplify(monic.exact - hermite_coefficients("relu", 40, basis="monic")[33].exact) == 0
