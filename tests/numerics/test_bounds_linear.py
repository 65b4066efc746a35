"""The bound checker: it finds violations that exist and none where a bound is true."""

import math

import numpy as np
import pytest

from featcheck.numerics.linear.bounds import (
    DescentFamily,
    FlowFamily,
    check_descent_bound,
    check_flow_bound,
    check_printed,
    descent_margins,
    parse_user_bound,
    user_flow_bound,
)
from featcheck.numerics.linear.simulate import DataLaw
from featcheck.theory.errors import DomainError, ParseError, UnsafeExpressionError
from featcheck.theory.linear import printed_bounds

SMALL = FlowFamily([DataLaw()], [1], grid=2, t_max=8.0)


def test_true_bound_holds_and_false_bound_is_caught():
    true = user_flow_bound("zeta >= -2*log(tan(theta0/2))")  # the angle only improves
    result = check_flow_bound(true, SMALL, optimise_evaluations=0)
    assert result.holds
    false = user_flow_bound("norm <= rho0")  # fails after the norm turns
    result = check_flow_bound(false, SMALL, optimise_evaluations=5)
    assert not result.holds
    assert result.worst.margin < -0.01
    assert result.worst.time > 0


def test_tightest_constant_of_a_user_bound():
    # zeta >= zeta_0 + k t / rho0 holds before T exactly when k <= 2 c0/pi (rho <= rho0)
    bound = user_flow_bound(
        "zeta >= -2*log(tan(theta0/2)) + k*t/rho0", "before-T", constant=("k", 1.0)
    )
    family = FlowFamily([DataLaw()], [1], theta_range=(2.0, 3.0), grid=2, t_max=6.0)
    result = check_flow_bound(bound, family, optimise_evaluations=0)
    assert not result.holds
    assert result.tightest_scale == pytest.approx(2 / math.pi, rel=2e-3)


def test_theorem1_after_T_is_violated_with_the_derived_constant_as_tightest():
    result = check_printed("theorem1.after-T", SMALL, optimise_evaluations=0)
    assert not result.holds
    assert result.tightest_scale == pytest.approx(1 / math.sqrt(math.pi), rel=1e-3)
    derived = check_printed("theorem1.after-T", SMALL, derived=True, optimise_evaluations=0)
    assert derived.holds


def test_printed_bound_that_is_correct_holds():
    assert check_printed("theorem1.before-T", SMALL, optimise_evaluations=0).holds


def test_descent_margins_start_at_zero_and_theorem2_holds_on_a_small_family():
    bound = printed_bounds()["theorem2"]
    law = DataLaw()
    rho0, theta0 = np.array([0.5, 2.0]), np.array([2.0, 2.8])
    out = descent_margins(bound, law, rho0, theta0, np.full((2, 50), 0.2))
    assert np.allclose(out["margin"][0], 0, atol=1e-12)
    family = DescentFamily(grid=2, steps=60, schedules=(("constant", 0.3, None),))
    assert check_descent_bound(bound, law, family, optimise_evaluations=0).holds


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("cos_theta + 1", ParseError),
        ("open('x') >= 1", UnsafeExpressionError),
        ("cos_theta >= secret", UnsafeExpressionError),
        ("cos_theta >= ", ParseError),
    ],
)
def test_bad_user_inequalities(text, error):
    with pytest.raises(error):
        parse_user_bound(text)


def test_bad_constant_name_and_window():
    with pytest.raises(UnsafeExpressionError):
        parse_user_bound("cos_theta >= t", "t")
    with pytest.raises(DomainError):
        user_flow_bound("cos_theta >= 0", "sometimes")
