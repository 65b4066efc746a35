"""Model B spike exponents and the spike prediction by mechanism (featcheck.theory.onestep)."""

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.theory.errors import DomainError
from featcheck.theory.onestep import (
    BOUNDARY_TOLERANCE,
    mixed_exponent,
    predict_spikes_b,
    spread_exponent,
    step_exponent,
)

fractions = st.fractions(min_value=0, max_value=1, max_denominator=200)


@settings(max_examples=25, deadline=None)
@given(fractions.filter(lambda b: 0 < b < 1), fractions, st.integers(1, 12))
def test_exponents_reduce_to_the_paper_thresholds(beta, weight, j):
    b, a = (
        sp.Rational(beta.numerator, beta.denominator),
        sp.Rational(weight.numerator, weight.denominator),
    )
    # spread term of degree j separates iff beta (1 - alpha) > (j-1)/j; at alpha = 0 this is
    # Theorem 4's beta > (j-1)/j
    assert (spread_exponent(b, a, j) > 0) == (b * (1 - a) > sp.Rational(j - 1, j))
    # learning-rate term iff beta alpha > (2j-1)/(2j)
    assert (step_exponent(b, a, j) > 0) == (b * a > sp.Rational(2 * j - 1, 2 * j))
    # a product with at least one factor of each kind never separates for beta < 1
    for i in range(1, j):
        assert mixed_exponent(b, a, i, j - i) < 0
    assert mixed_exponent(b, a, j, 0) == spread_exponent(b, a, j)
    assert mixed_exponent(b, a, 0, j) == step_exponent(b, a, j)


@settings(max_examples=20, deadline=None)
@given(
    st.floats(0.02, 0.9),
    st.floats(0, 1),
    st.sampled_from(["relu", "tanh", "z + (z^2 - 1)/2"]),
    st.integers(0, 2),
)
def test_prediction_counts_present_terms(beta, weight, activation, directions):
    p = predict_spikes_b(activation, beta, weight, directions=directions)
    b, a = sp.Rational(repr(beta)), sp.Rational(repr(weight))
    expected = 0
    for j in range(1, 60):
        spread = spread_exponent(b, a, j)
        step = step_exponent(b, a, j)
        zero = {"relu": j % 2 == 1 and j > 1, "tanh": j % 2 == 0}.get(activation, j > 2)
        if zero:
            continue
        if spread > 0 and abs(float(spread)) > BOUNDARY_TOLERANCE:
            expected += directions
        if step > 0 and abs(float(step)) > BOUNDARY_TOLERANCE:
            expected += 1
    assert p.count == expected
    assert all(t.mechanism != "mixed" or not t.present for t in p.terms)


def test_paper_settings_have_only_data_spread_spikes():
    # beta = 0.74, alpha = 1/2: theta = n^0.37; only degree 1 separates (exponent 37/200),
    # although L(beta) = 3; the step (beta alpha = 0.37 < 1/2) adds no spike
    p = predict_spikes_b("relu", 0.74, 0.5, directions=2)
    assert [(t.mechanism, t.degree) for t in p.present] == [("spread", 1)]
    assert p.present[0].exponent == sp.Rational(37, 200) and p.count == 2
    # all learning rate: a degree-1 step spike; the fixed-size data spike is at its boundary
    q = predict_spikes_b("tanh", 0.74, 1.0, directions=1)
    assert [(t.mechanism, t.degree) for t in q.present] == [("step", 1)]
    assert [(t.mechanism, t.degree) for t in q.undetermined] == [("spread", 1)]
    # no rank-one gradient without mu_1: only data-spread terms
    r = predict_spikes_b("he(2)", 0.9, 0.9, directions=1)
    assert {t.mechanism for t in r.present} <= {"spread"}


def test_rank_multiplies_spread_terms_by_monomials():
    p = predict_spikes_b("relu", 0.8, 0.0, directions=2, rank=3)
    # degrees 1, 2, 4 present for relu at beta (1 - alpha) = 0.8 (j < 5, mu_3 = 0)
    assert p.count == 2 * (3 + 6 + 15)


@pytest.mark.parametrize("beta, weight", [(1.0, 0.5), (0.0, 0.5), (0.5, 1.5), (0.5, -0.1)])
def test_bad_parameters(beta, weight):
    with pytest.raises(DomainError):
        predict_spikes_b("relu", beta, weight, directions=1)
