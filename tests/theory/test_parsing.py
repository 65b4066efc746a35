"""The safe parser: accepted grammar, round trips, and hostile input."""

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from featcheck.theory.errors import ParseError, UnsafeExpressionError
from featcheck.theory.functions import ALLOWED_CONSTANTS, ALLOWED_FUNCTIONS, parse_function, z
from featcheck.theory.parsing import parse_expression


def parse(text):
    return parse_expression(
        text, variables={"z": z}, functions=ALLOWED_FUNCTIONS, constants=ALLOWED_CONSTANTS
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("z^3 - 3*z", z**3 - 3 * z),
        ("z**2/2", z**2 / 2),
        ("0.1*z", sp.Rational(1, 10) * z),
        ("relu(z - 1)", sp.Max(z - 1, 0)),
        ("-(z+1)^2", -((z + 1) ** 2)),
        ("exp(-z^2/2)*pi", sp.pi * sp.exp(-(z**2) / 2)),
        ("he(3)", z**3 - 3 * z),
        ("h(2)", (z**2 - 1) / sp.sqrt(2)),
        ("max(z, 0) - min(z, 1)", sp.Max(z, 0) - sp.Min(z, 1)),
    ],
)
def test_accepted_expressions(text, expected):
    assert sp.simplify(parse(text) - expected) == 0


# Text and sympy built side by side: parsing the text must give the expression.
_leaves = st.one_of(
    st.just(("z", z)),
    st.integers(-9, 9).map(lambda n: (f"({n})", sp.Integer(n))),
    st.fractions(-4, 4, max_denominator=5).map(
        lambda q: (f"({q.numerator}/{q.denominator})", sp.Rational(q.numerator, q.denominator))
    ),
)
_unary = {"tanh": sp.tanh, "erf": sp.erf, "abs": sp.Abs, "relu": lambda x: sp.Max(x, 0)}


def _extend(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
        lambda t: (
            f"({t[0][0]} {t[1]} {t[2][0]})",
            {"+": sp.Add, "-": lambda a, b: a - b, "*": sp.Mul}[t[1]](t[0][1], t[2][1]),
        )
    )
    call = st.tuples(st.sampled_from(sorted(_unary)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", _unary[t[0]](t[1][1]))
    )
    power = st.tuples(children, st.integers(0, 4)).map(
        lambda t: (f"({t[0][0]})^{t[1]}", t[0][1] ** t[1])
    )
    return st.one_of(binary, call, power)


@given(st.recursive(_leaves, _extend, max_leaves=8))
def test_round_trip_text_to_expression(pair):
    text, expected = pair
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "z.__class__",
        "z.real",
        "(lambda: 1)()",
        "[z for z in range(3)]",
        "open('x')",
        "eval('1')",
        "exec",
        "globals()",
        "z if z else 1",
        "z[0]",
        "'abc'",
        "f'{z}'",
        "z and 1",
        "tanh(z, x=1)",
        "z**10**10",
        "9**9**9",
        "z" + "+z" * 600,
        "tanh(" * 60 + "z" + ")" * 60,
        "10**100",
        "123456789012345678901234567890",
        "import os",
        "z; 1",
        "z := 1",
    ],
)
def test_hostile_strings_are_rejected(text):
    with pytest.raises(ParseError):
        parse(text)


def test_unsafe_is_reported_as_unsafe():
    with pytest.raises(UnsafeExpressionError, match="double underscores"):
        parse("__import__('os')")
    with pytest.raises(UnsafeExpressionError, match="attribute"):
        parse("z.real")
    with pytest.raises(UnsafeExpressionError, match="exponent"):
        parse("z**10**10")


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_parse_error(text):
    try:
        result = parse(text)
    except ParseError:
        return
    assert isinstance(result, sp.Basic)


def test_catalogue_names_and_expressions_agree():
    assert parse_function("relu").expr == parse_function("relu(z)").expr
    assert parse_function("tanh").expr == sp.tanh(z)


@pytest.mark.parametrize(
    "text",
    ["z # + 1", "cos_theta >= 2 # <= 5", "z; 1", "z % 2", "z @ z", "z | 1", "~z", "z!", "zé"],
)
def test_characters_outside_the_grammar_are_refused(text):
    with pytest.raises(UnsafeExpressionError, match="not allowed in expressions"):
        parse(text)
