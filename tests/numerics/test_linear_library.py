"""The library form of ``featcheck linear`` and ``featcheck check-bound``."""

import json
import math

import numpy as np
import pytest

from featcheck.numerics.linear.bounds import BoundCheck, check_bound
from featcheck.numerics.linear.trajectory import LinearFlowResult, linear_flow
from featcheck.theory.errors import InputError


def test_linear_flow_trajectory_bounds_and_json():
    result = linear_flow(t_max=6.0, points=7)
    assert isinstance(result, LinearFlowResult)
    turning_time = result.T
    assert turning_time == pytest.approx(2.4487, rel=1e-3)
    assert result.c0 == 1.0 and result.init == (0.6, -0.8)
    traj = result.trajectory
    assert len(traj.t) == len(traj.zeta) == 7
    # zeta = -2 ln tan(theta/2), i.e. cos(theta) = tanh(zeta/2)
    assert np.allclose(np.tanh(np.array(traj.zeta) / 2), traj.cos_theta, rtol=0, atol=1e-14)
    assert traj.zeta[0] == pytest.approx(-2 * math.log(math.tan(math.acos(-0.8) / 2)))
    assert result.bounds["theorem1.before-T"].status == "holds"
    assert result.bounds["theorem1.after-T"].status == "violated"
    payload = json.loads(json.dumps(result.to_json()))
    assert set(payload) == {"law", "dim", "c0", "depth", "init", "T", "trajectory", "bounds"}
    assert set(payload["trajectory"]) == {"t", "cos_theta", "zeta", "norm", "loss"}
    assert payload["bounds"]["theorem1.before-T"]["values"][-1] is None  # outside t <= T


def test_zeta_keeps_the_angle_after_cos_theta_rounds_to_one():
    result = linear_flow(depth=4, t_max=60.0, points=7)
    cos, zeta = result.trajectory.cos_theta, result.trajectory.zeta
    assert cos[-2] == cos[-1] == 1.0  # no information left in cos(theta)
    assert 38 < zeta[-2] < zeta[-1]  # but the angle still decreases


def test_depth_two_has_no_printed_flow_bound_and_depth_four_has_five():
    assert linear_flow(depth=2, t_max=1.0, points=2).bounds == {}
    assert len(linear_flow(depth=4, t_max=1.0, points=2).bounds) == 5


def test_linear_flow_with_sgd_is_reproducible_by_seed():
    kwargs = dict(depth=1, t_max=0.2, points=3, sgd=True, steps=200, batch=100, replicas=3)
    first, second = linear_flow(seed=3, **kwargs), linear_flow(seed=3, **kwargs)
    other = linear_flow(seed=4, **kwargs)
    assert first.sgd == second.sgd and first.sgd != other.sgd
    assert first.sgd.t == (0.0, 0.1, 0.2)
    assert "sgd" in first.to_json() and first.to_json()["sgd"]["seed"] == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seed": -1, "sgd": True},
        {"points": 1},
        {"init": (1.0, 2.0, 3.0)},
        {"init": (0.0, 0.0)},
        {"depth": 0},
        {"law": "cube"},
        {"dim": 1},
        {"t_max": -1.0},
        {"sgd": True, "lr": 0.0},
        {"sgd": True, "replicas": 0},
    ],
)
def test_linear_flow_rejects_bad_input(kwargs):
    with pytest.raises(InputError):
        linear_flow(**kwargs)


def test_check_bound_finds_the_tightest_named_constant():
    result = check_bound(
        inequality="zeta >= -2*log(tan(theta0/2)) + k*t/rho0",
        constant=("k", 1.0),
        window="before-T",
        theta_range=(2.0, 3.0),
        grid=2,
        search=0,
        t_max=6.0,
    )
    assert isinstance(result, BoundCheck) and not result.holds
    # before T the norm decreases, so the bound holds exactly for k <= 2 c0/pi
    assert result.check.tightest_constant == pytest.approx(2 / math.pi, rel=2e-3)
    payload = json.loads(json.dumps(result.to_json()))
    assert payload["status"] == "violated" and payload["constant"] == "k"
    assert payload["printed_constant"] == 1.0
    assert payload["inequality"].startswith("zeta >=")


def test_check_bound_of_a_true_inequality_holds():
    result = check_bound(inequality="zeta >= -2*log(tan(theta0/2))", grid=2, search=0, t_max=5.0)
    assert result.holds and result.check.tightest_scale is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rho_range": (2.0, 1.0)},
        {"theta_range": (0.0, 1.0)},
        {"theta_range": (1.0, 4.0)},
        {"grid": 0},
        {"search": -1},
        {"constant": ("k", 0.0)},
        {"constant": ("k", math.inf)},
        {"window": "sometimes"},
    ],
)
def test_check_bound_rejects_bad_input(kwargs):
    with pytest.raises(InputError):
        check_bound(inequality="cos_theta >= -1", **kwargs)
