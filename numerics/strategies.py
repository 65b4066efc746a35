"""Hypothesis strategies for property tests of feature-learning results.

Import these in your own test suite::

    from hypothesis import given
    from featcheck.numerics import strategies as fs

    @given(fs.hermite_links())
    def test_my_identity(link):
        ...

Every strategy draws real inputs (exact rational coefficients, catalogue
functions with random parameters, correlations, dimensions) and shrinks
towards simple ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp
from hypothesis import strategies as st

from featcheck.theory.functions import CATALOGUE_EXAMPLES, Function, hermite_he, parse_function, z


@dataclass(frozen=True)
class HermiteLink:
    """A link ``f = sum_k a_k He_k`` with known exact monic coefficients ``mu_k = k! a_k``."""

    function: Function
    weights: tuple[sp.Rational, ...]

    @property
    def degree(self) -> int:
        return len(self.weights) - 1

    @property
    def information_exponent(self) -> int | None:
        return next((k for k, a in enumerate(self.weights) if k >= 1 and a != 0), None)

    def monic(self, k: int) -> sp.Expr:
        return sp.factorial(k) * self.weights[k] if k <= self.degree else sp.Integer(0)


def rationals(max_numerator: int = 12, max_denominator: int = 6) -> st.SearchStrategy:
    """Small exact rationals, as sympy numbers."""
    return st.builds(
        lambda p, q: sp.Rational(p, q),
        st.integers(-max_numerator, max_numerator),
        st.integers(1, max_denominator),
    )


@st.composite
def hermite_links(
    draw,
    max_degree: int = 6,
    min_information_exponent: int = 1,
) -> HermiteLink:
    """Random links ``sum_k a_k He_k`` with rational weights and a non-zero top weight.

    The weights below ``min_information_exponent`` (except ``a_0``) are zero, so the
    link's information exponent is at least that value.
    """
    degree = draw(st.integers(max(min_information_exponent, 1), max_degree))
    weights = []
    for k in range(degree + 1):
        if 1 <= k < min_information_exponent:
            weights.append(sp.Integer(0))
        elif k == degree:
            weights.append(draw(rationals().filter(lambda r: r != 0)))
        else:
            weights.append(draw(rationals()))
    expr = sp.expand(sum(a * hermite_he(k) for k, a in enumerate(weights)))
    name = " + ".join(f"({a})*he({k})" for k, a in enumerate(weights) if a != 0) or "0"
    return HermiteLink(Function(expr, name), tuple(weights))


def catalogue_functions() -> st.SearchStrategy[Function]:
    """Functions from the catalogue (ReLU with biases, tanh, sign, erf, polynomials, ...)."""
    return st.sampled_from(CATALOGUE_EXAMPLES).map(parse_function)


def relu_with_bias(max_bias: int = 3) -> st.SearchStrategy[Function]:
    """``max(z + b, 0)`` with a random rational bias ``b``."""
    return st.fractions(-max_bias, max_bias, max_denominator=8).map(
        lambda b: parse_function(f"relu(z + {Fraction(b)})")
    )


@st.composite
def multi_index_links(draw, indices: int = 3, max_terms: int = 4, max_degree: int = 3) -> str:
    """A polynomial link of ``z1, ..., z{indices}`` as a committee model's ``link`` takes it
    (``"z1 + 2*z1*z3"``): one to ``max_terms`` monomials of degree one to ``max_degree``
    with coefficients ``+-1, +-2``, never zero."""
    fields = [sp.Symbol(f"z{i + 1}") for i in range(indices)]
    link = sp.Integer(0)
    while link == 0:
        terms = draw(st.integers(1, max_terms))
        link = sp.Add(
            *(
                draw(st.sampled_from([-2, -1, 1, 2]))
                * sp.Mul(*draw(st.lists(st.sampled_from(fields), min_size=1, max_size=max_degree)))
                for _ in range(terms)
            )
        )
    return sp.sstr(link)


def correlations(open_interval: bool = False) -> st.SearchStrategy[float]:
    """Correlations ``rho`` in ``[-1, 1]`` (or the open interval)."""
    bound = 1 - 1e-6 if open_interval else 1.0
    return st.floats(-bound, bound, allow_nan=False)


def scales() -> st.SearchStrategy[sp.Rational]:
    """Positive rational standard deviations ``sigma`` in ``[1/8, 4]``."""
    return st.fractions(Fraction(1, 8), 4, max_denominator=8).map(
        lambda q: sp.Rational(q.numerator, q.denominator)
    )


def dimensions(min_value: int = 3, max_value: int = 4096) -> st.SearchStrategy[int]:
    """Ambient dimensions ``d``, shrinking towards small ones."""
    return st.integers(min_value, max_value)


__all__ = [
    "HermiteLink",
    "catalogue_functions",
    "correlations",
    "dimensions",
    "hermite_links",
    "rationals",
    "relu_with_bias",
    "scales",
    "z",
]
