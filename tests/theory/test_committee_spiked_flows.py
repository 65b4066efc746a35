"""The spiked single-index flows are instances of the committee engine: the engine's
overlap equations equal the flows' right-hand sides, derived by another route."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.theory.committee.spiked_flows import (
    admissible_state,
    instance_rates,
    spiked_flow_model,
)
from featcheck.theory.errors import InputError

PAIRS = [("z**3 - z + z**2/2", "he(3, z) + he(2, z)/2"), ("relu", "he(2, z) + he(4, z)/2")]


def _rational(x: float) -> sp.Rational:
    return sp.Rational(round(x * 10**6), 10**6)


@st.composite
def points(draw, preconditioned: bool):
    """``(kappa, c, a, b, q)`` of unit (or norm-sqrt(q)) vectors w, u, theta: the Gram
    matrix [[q, b, a], [b, 1, c], [a, c, 1]] is positive definite."""
    kappa = draw(st.floats(0.05, 30.0))
    c = draw(st.floats(-0.95, 0.95))
    q = draw(st.floats(0.3, 3.0)) if preconditioned else 1.0
    a, b = admissible_state(c, q, draw(st.floats(-0.95, 0.95)), draw(st.floats(-0.9, 0.9)))
    return tuple(_rational(v) for v in (kappa, c, a, b, q))


@pytest.mark.parametrize("flow", ["plain", "normalized", "preconditioned"])
@pytest.mark.parametrize("convention", ["ba", "unit"])
@pytest.mark.parametrize("pair", PAIRS, ids=["polynomial", "relu"])
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_engine_reproduces_the_spiked_flows(flow, convention, pair, data):
    kappa, c, a, b, q = data.draw(points(flow == "preconditioned"))
    ours, theirs = instance_rates(
        flow, *pair, convention=convention, kappa=kappa, c=c, a=a, b=b, q=q
    )
    assert len(ours) == len(theirs) == (3 if flow == "preconditioned" else 2)
    for x, y in zip(ours, theirs, strict=True):
        assert abs(x - y) <= 1e-12 * max(1, abs(y)), (x, y)


def test_a_wrong_sign_is_seen():
    """The comparison can fail: flipping the link's sign changes the flows' rates."""
    point = dict(
        convention="ba", kappa=3, c=sp.Rational(1, 2), a=sp.Rational(1, 5), b=sp.Rational(1, 4)
    )
    ours, _ = instance_rates("plain", "relu", "z + he(2, z)", **point)
    _, theirs = instance_rates("plain", "relu", "-z - he(2, z)", **point)
    assert max(abs(x - y) for x, y in zip(ours, theirs, strict=True)) > 1e-3


def test_spherical_variants_need_unit_norm():
    with pytest.raises(InputError, match="unit sphere"):
        spiked_flow_model(
            "normalized", "relu", "he(2, z)", convention="ba", kappa=2, c=0, a=0, b=0, q=2
        )
