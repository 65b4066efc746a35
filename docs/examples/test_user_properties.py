"""A worked example of a user's property-test suite built on featcheck's strategies.

Run it with ``pytest docs/examples``.  Each test states an identity from the
theory of Gaussian feature learning and lets hypothesis search for a
counterexample among random links.
"""

import sympy as sp
from hypothesis import given, settings

from featcheck.numerics import strategies as fs
from featcheck.theory.gaussian import mehler, rho
from featcheck.theory.hermite import hermite_coefficients, information_exponent


@settings(max_examples=20, deadline=None)
@given(fs.hermite_links(max_degree=5, min_information_exponent=2))
def test_links_built_with_a_gap_have_information_exponent_at_least_two(link):
    s = information_exponent(hermite_coefficients(link.function, link.degree))
    assert s.certain and s.value >= 2


@settings(max_examples=20, deadline=None)
@given(fs.hermite_links(max_degree=4), fs.hermite_links(max_degree=4))
def test_mehler_kernel_is_symmetric_in_its_two_functions(f, g):
    assert (
        sp.expand(
            mehler(f.function, g.function).closed_form - mehler(g.function, f.function).closed_form
        )
        == 0
    )


@settings(max_examples=20, deadline=None)
@given(fs.hermite_links(max_degree=4))
def test_kernel_at_one_is_the_second_moment(f):
    kernel = mehler(f.function, f.function)
    moment = hermite_coefficients(f.function, 0).second_moment.exact
    assert sp.simplify(kernel.closed_form.subs(rho, 1) - moment) == 0
