"""Majorants on a strip: ``|f(x + i eta)| <= U(|x|)`` at drawn complex points, for drawn
integrands and widths; and integrands without a majorant are refused."""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from featcheck.theory.committee.expectations import slot_symbols
from featcheck.theory.committee.majorants import NotCertifiable, strip_analysis
from featcheck.theory.functions import ALLOWED_FUNCTIONS

Y = slot_symbols(3)
sigmoid = ALLOWED_FUNCTIONS["sigmoid"]
softplus = ALLOWED_FUNCTIONS["softplus"]


def _integrands():
    a, b, c = Y
    return [
        sp.tanh(a) ** 2,
        a * sp.tanh(2 * a) - a * sp.tanh(2 * a) ** 3,
        sp.tanh(a) * sp.tanh(b - a / 2) * c**2,
        (1 - sp.tanh(a) ** 2) * (1 - sp.tanh(b) ** 2) * sp.tanh(c),
        sp.erf(a / sp.sqrt(2)) * sp.erf(b) * sp.exp(-(c**2) / 2),
        sp.exp(-(a**2) - a * b - b**2) * sp.erf(c - a),
        sp.expand(sigmoid(a) ** 2 * sigmoid(b) * b),
        sp.expand(sigmoid(a) * (1 - sigmoid(a)) * a),
        sp.sin(a) * sp.cos(b + c) + 3 * a * b - 1,
        sp.expand(softplus(a) * softplus(b - c) ** 2),
        sp.expand(sp.diff(softplus(a), a) * softplus(a) * sp.diff(softplus(b), b) * c),
        sp.expand(sp.diff(softplus(a), a) ** 2 * softplus(b)),
    ]


INTEGRANDS = _integrands()


def _majorant_value(majorant, x):
    return sum(
        c * math.prod(abs(xi) ** k for xi, k in zip(x, alpha, strict=True))
        for alpha, c in majorant.items()
    )


@given(
    index=st.integers(0, len(INTEGRANDS) - 1),
    scale=st.floats(0.05, 0.999),
    spread=st.lists(st.floats(0.2, 1.0), min_size=3, max_size=3),
    points=st.lists(
        st.tuples(
            st.lists(st.floats(-6, 6), min_size=3, max_size=3),
            st.lists(st.floats(-1, 1), min_size=3, max_size=3),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_majorant_bounds_the_integrand_on_the_strip(index, scale, spread, points):
    f = INTEGRANDS[index]
    analysis = strip_analysis(f, 3)
    # the widest admissible widths along the direction `spread`, times `scale`
    reaches = [
        lim.bound / sum(w * s for w, s in zip(lim.weights, spread, strict=True))
        for lim in analysis.limits
        if any(lim.weights)
    ]
    reach = min(reaches, default=1.5)
    beta = [scale * reach * s for s in spread]
    assert analysis.admissible(beta)
    majorant = analysis.majorant(beta)
    assert all(c >= 0 for c in majorant.values())
    evaluate = sp.lambdify(Y, f, modules="mpmath")
    # the drawn points, each also pushed to the edges of the strip, and the corners over 0
    corners = [[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
    edges = [(x, [math.copysign(1.0, ti) for ti in t]) for x, t in points]
    for x, t in [*points, *edges, *(([0.0] * 3, c) for c in corners)]:
        with mpmath.workdps(30):
            z = [mpmath.mpc(xi, ti * bi) for xi, ti, bi in zip(x, t, beta, strict=True)]
            value = abs(evaluate(*z))
        assert value <= _majorant_value(majorant, x) * (1 + 1e-12) + 1e-300


def test_tanh_majorant_is_attained_at_the_pole_side():
    # |tanh(i w)| = tan(w) and the majorant is 1/cos(w): both blow up as w -> pi/2, and the
    # majorant is not below the value
    analysis = strip_analysis(sp.tanh(Y[0]), 1)
    for w in (0.5, 1.0, 1.5, 1.57):
        assert math.tan(w) <= analysis.majorant([w])[(0,)] <= 1 / math.cos(w) + 1e-15
    assert not analysis.admissible([math.pi / 2])


@pytest.mark.parametrize(
    "integrand",
    [
        sp.Heaviside(Y[0] + sp.Rational(1, 2)) * Y[0],
        sp.Abs(Y[0]),
        sp.log(2 + sp.exp(Y[0])),
        sp.exp(Y[0]) / (1 + sp.exp(2 * Y[0])),
        1 / Y[0],
        1 / (1 + Y[0] ** 2),
        1 / (1 - sp.exp(Y[0])),
        sp.exp(Y[0]),
        sp.tanh(Y[0] ** 2),
        sp.sqrt(1 + Y[0] ** 2),
        sp.exp(Y[0] ** 2),
    ],
)
def test_integrands_without_a_majorant_are_refused(integrand):
    with pytest.raises(NotCertifiable):
        strip_analysis(integrand, 1)


def _check_points(f, beta, xs, ts):
    majorant = strip_analysis(f, 3).majorant(beta)
    evaluate = sp.lambdify(Y, f, modules="mpmath")
    worst = 0.0
    for x in xs:
        for t in ts:
            with mpmath.workdps(30):
                z = [mpmath.mpc(xi, ti * bi) for xi, ti, bi in zip(x, t, beta, strict=True)]
                value = float(abs(evaluate(*z)))
            bound = _majorant_value(majorant, x)
            assert value <= bound * (1 + 1e-12), (f, beta, x, t, value, bound)
            worst = max(worst, value / bound)
    return worst


@pytest.mark.parametrize("index", range(len(INTEGRANDS)))
def test_majorant_at_the_edges_of_the_widest_strips(index):
    """Corners of the strip over a grid of real points, for strips up to the widest
    admissible: the majorant holds, and it is not loose by orders of magnitude somewhere."""
    f = INTEGRANDS[index]
    analysis = strip_analysis(f, 3)
    reach = min(
        (lim.bound / sum(lim.weights) for lim in analysis.limits if any(lim.weights)),
        default=2.0,
    )
    xs = [[a, b, c] for a in (-2.0, 0.0, 0.7, 6.0) for b in (0.0, 1.3, 6.0) for c in (-0.4, 0.0)]
    ts = [[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
    tightest = 0.0
    for scale in (0.3, 0.7, 0.95, 0.999):
        tightest = max(tightest, _check_points(f, [scale * reach] * 3, xs, ts))
    assert tightest > 1e-3
