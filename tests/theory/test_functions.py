"""The catalogue, symmetry detection, switching points and square-integrability."""

import pytest
import sympy as sp

from featcheck.theory.errors import NotSquareIntegrableError, UnknownFunctionError
from featcheck.theory.functions import CATALOGUE_EXAMPLES, parse_function, z


@pytest.mark.parametrize("name", CATALOGUE_EXAMPLES)
def test_every_catalogue_example_parses(name):
    function = parse_function(name)
    assert function.expr.free_symbols <= {z}


@pytest.mark.parametrize(
    ("name", "points"),
    [
        ("relu", [0]),
        ("relu(z+1/2)", [sp.Rational(-1, 2)]),
        ("max(z,0)-max(z-1,0)", [0, 1]),
        ("tanh", []),
        ("abs(z^2-1)", [-1, 1]),
    ],
)
def test_switching_points(name, points):
    assert list(parse_function(name).breakpoints) == points


@pytest.mark.parametrize(
    ("name", "symmetry"),
    [
        ("tanh", (-1, None)),
        ("sigmoid", (0, None)),
        ("softplus", (None, 1)),
        ("abs", (None, -1)),
        ("z^3 + z^2", (2, 3)),
        ("relu", (None, 1)),
    ],
)
def test_symmetry_of_even_and_odd_parts(name, symmetry):
    # relu(z) = |z|/2 + z/2: its odd part is the polynomial z/2 (degree 1).
    assert parse_function(name).symmetry == symmetry


@pytest.mark.parametrize("text", ["exp(z^2)", "exp(z^2/4)", "1/z", "1/abs(z)^(3/4)", "log(z)"])
def test_not_square_integrable_is_rejected(text):
    with pytest.raises(NotSquareIntegrableError):
        parse_function(text)


@pytest.mark.parametrize("text", ["exp(z^2/8)", "log(abs(z))", "abs(z)^(-1/4)", "z^5*exp(-z)"])
def test_square_integrable_is_accepted(text):
    parse_function(text)


def test_unknown_name_lists_the_catalogue():
    with pytest.raises(UnknownFunctionError, match="catalogue names"):
        parse_function("gelu")


def test_scaled_function():
    assert parse_function("relu").scaled(2).expr == sp.Max(2 * z, 0)


def test_hermite_shorthand_names():
    assert parse_function("he3").expr == parse_function("he(3)").expr == z**3 - 3 * z
    assert parse_function("h2").expr == parse_function("h(2)").expr
    assert parse_function("-h4 + 2*he1").expr == (-parse_function("h(4)").expr + 2 * z)
