"""The exact Hermite engine against known closed forms, and its properties."""

import mpmath
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from featcheck.numerics import strategies as fs
from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.functions import Function, hermite_he, parse_function, z
from featcheck.theory.hermite import (
    convert_coefficient,
    hermite_coefficients,
    information_exponent,
    second_moment,
)


def test_hermite_polynomials_follow_the_recurrence_and_orthogonality():
    assert hermite_he(4) == z**4 - 6 * z**2 + 3
    expansion = hermite_coefficients(
        Function(hermite_he(5) * hermite_he(3), "He5 He3"), 10, basis="monic"
    )
    # E[He_5 He_3 He_k]: the linearisation coefficients of He_5 He_3, e.g. k = 8 gives 8!.
    assert expansion[8].exact == sp.factorial(8)
    assert expansion[0].exact == 0


@pytest.mark.parametrize(
    ("k", "printed"),
    [(2, "0.28209479177"), (4, "-0.08143375198"), (6, "0.04460310290"), (8, "-0.02980170169")],
)
def test_relu_decimals_from_the_reference(k, printed):
    assert float(hermite_coefficients("relu", 8)[k].value) == pytest.approx(
        float(printed), abs=6e-12
    )


def test_relu_low_coefficients_are_exact():
    relu = hermite_coefficients("relu", 3)
    assert relu[0].exact == 1 / sp.sqrt(2 * sp.pi)
    assert relu[1].exact == sp.Rational(1, 2)
    assert relu[3].exact == 0
    assert relu.second_moment.exact == sp.Rational(1, 2)


def test_tanh_to_thirty_digits():
    tanh = hermite_coefficients("tanh", 5, basis="monic", digits=30)
    printed = {
        1: "0.605705509602158825583540227556",
        3: "-0.363595376280974149497967856470",
        5: "0.685173793508918887590599531643",
    }
    with mpmath.workdps(40):
        for k, text in printed.items():
            assert abs(tanh[k].value - mpmath.mpf(text)) <= tanh[k].error + mpmath.mpf("5e-31")
            assert tanh[k].error < mpmath.mpf("1e-29")
    assert tanh.method == "numeric"
    assert all(tanh[k].exact == 0 for k in (0, 2, 4))


def test_erf_has_a_closed_form():
    erf = hermite_coefficients("erf", 3, basis="monic")
    assert sp.simplify(erf[1].exact - 2 / sp.sqrt(3 * sp.pi)) == 0
    assert sp.simplify(erf.second_moment.exact - 2 / sp.pi * sp.asin(sp.Rational(2, 3))) == 0


@given(fs.hermite_links(max_degree=7))
def test_exact_coefficients_recover_a_random_hermite_combination(link):
    expansion = hermite_coefficients(link.function, link.degree + 2, basis="monic")
    assert expansion.method == "exact"
    for c in expansion.coefficients:
        assert c.exact == link.monic(c.degree)


@given(fs.hermite_links(max_degree=6))
def test_parseval_is_exact_for_polynomials(link):
    expansion = hermite_coefficients(link.function, link.degree)
    assert (
        sp.simplify(sum(c.exact**2 for c in expansion.coefficients) - expansion.second_moment.exact)
        == 0
    )


@given(fs.hermite_links(max_degree=6), st.sampled_from(["normalized", "monic"]))
def test_basis_conversion_round_trip(link, basis):
    expansion = hermite_coefficients(link.function, link.degree, basis=basis)
    other = "monic" if basis == "normalized" else "normalized"
    back = expansion.in_basis(other).in_basis(basis)
    for a, b in zip(expansion.coefficients, back.coefficients, strict=True):
        assert sp.simplify(a.exact - b.exact) == 0


def test_conversion_of_a_numeric_coefficient_scales_its_error():
    c = hermite_coefficients("tanh", 3)[3]
    monic = convert_coefficient(c, "normalized", "monic")
    assert abs(monic.value - c.value * mpmath.sqrt(6)) < 1e-25
    assert abs(monic.error - c.error * mpmath.sqrt(6)) < 1e-40


@given(fs.hermite_links(max_degree=5, min_information_exponent=1))
def test_information_exponent_of_a_random_link(link):
    result = information_exponent(hermite_coefficients(link.function, link.degree + 1))
    assert result.value == link.information_exponent
    assert result.certain == (result.value is not None)


@given(fs.relu_with_bias())
def test_relu_with_bias_closed_form(function):
    b = function.expr.subs(z, 0)  # relu(z+b) at 0 is max(b, 0)
    expansion = hermite_coefficients(function, 6, basis="monic")
    bias = sp.nsimplify(function.breakpoints[0]) * -1
    phi = sp.exp(-(bias**2) / 2) / sp.sqrt(2 * sp.pi)
    for k in range(2, 7):
        predicted = sp.hermite_prob(k - 2, -bias) * phi
        assert abs(sp.N(predicted - expansion[k].exact, 40)) < 1e-35
    assert b == max(bias, 0)


def test_numeric_zero_makes_the_exponent_uncertain():
    # c_1 of tanh(z) - 0.60570550960215882558354 z is about 4e-24: within the error at 12
    # digits (so counted as zero, without proof), resolved at 30 digits.
    function = parse_function("tanh(z) - 0.60570550960215882558354*z")
    coarse = information_exponent(hermite_coefficients(function, 5, digits=12))
    assert coarse.value == 3 and not coarse.certain
    fine = information_exponent(hermite_coefficients(function, 5, digits=30))
    assert fine.value == 1 and fine.certain


def test_all_zero_coefficients_leave_the_exponent_undetermined():
    result = information_exponent(hermite_coefficients("he(6)", 4))
    assert result.value is None and "s > 4" in result.reason


def test_second_moment_of_a_piecewise_function():
    assert second_moment("step").exact == sp.Rational(1, 2)
    assert second_moment("abs").exact == 1


def test_relu_to_degree_200_is_exact_and_fast_enough_to_use():
    relu = hermite_coefficients("relu", 200)
    assert relu.method == "exact" and relu[199].exact == 0
    low, high = relu.parseval_tail()
    assert 0 < low <= high < 1e-3


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_degree": -1}, DomainError),
        ({"basis": "physicists"}, InputError),
        ({"digits": 1}, DomainError),
    ],
)
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        hermite_coefficients("relu", **{"max_degree": 3, **kwargs})
