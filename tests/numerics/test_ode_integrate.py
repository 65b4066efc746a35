"""``integrate``: caller-supplied events, method and tolerances, dense output."""

import math
import warnings

import numpy as np
import pytest
import sympy as sp

from featcheck.numerics.ode import compile_system, integrate
from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics import OdeSystem

x, v, w = sp.symbols("x v omega")


def _oscillator():
    """``x'' = -omega^2 x``: ``x = cos(omega t)``, ``v = -omega sin(omega t)`` from (1, 0)."""
    system = OdeSystem(
        "oscillator", (x, v), (w,), (v, -(w**2) * x), Derivation("oscillator"), {"rho": x}
    )
    return compile_system(system)


def _crossing(direction, terminal=False):
    def event(_t, y):
        return y[0]

    event.direction = direction
    event.terminal = terminal
    return event


def _plain(**options):
    return {"escape_observable": None, "convergence_tol": None, "blowup": math.inf, **options}


@pytest.mark.parametrize(("direction", "first"), [(-1, 0.5), (1, 1.5)])
def test_caller_events_are_returned_with_times_and_states(direction, first):
    omega = 2.0
    trajectory = integrate(
        _oscillator(), [1.0, 0.0], {"omega": omega}, 7.0, events=[_crossing(direction)], **_plain()
    )
    # x = cos(2t) crosses zero at t = (k + 1/2) pi/2, downwards for even k
    expected = np.arange(first, 7.0 * omega / math.pi, 2.0) * math.pi / omega
    assert len(trajectory.event_times) == 1
    np.testing.assert_allclose(trajectory.event_times[0], expected, rtol=1e-9)
    states = trajectory.event_states[0]
    assert states.shape == (len(expected), 2)
    np.testing.assert_allclose(states[:, 0], 0.0, atol=1e-9)
    np.testing.assert_allclose(states[:, 1], -omega * np.sin(omega * expected), rtol=1e-8)


def test_events_keep_their_order_and_builtin_events_still_work():
    # The escape observable rho = x reaching -1/2 (upwards) and two caller events.
    escape = integrate(
        _oscillator(),
        [-1.0, 0.0],
        {"omega": 1.0},
        3.0,
        escape_level=-0.5,
        convergence_tol=None,
        events=[_crossing(1), _crossing(-1)],
    )
    # x = -cos(t): -1/2 at t = pi/3, zero (upwards) at pi/2; no downward crossing before 3
    assert escape.escape_time == pytest.approx(math.pi / 3, rel=1e-8)
    np.testing.assert_allclose(escape.event_times[0], [math.pi / 2], rtol=1e-9)
    assert escape.event_times[1].size == 0 and escape.event_states[1].shape == (0, 2)


def test_a_terminal_event_stops_the_integration_without_padding_t_eval():
    t_eval = np.linspace(0, 3, 31)
    trajectory = integrate(
        _oscillator(),
        [1.0, 0.0],
        {"omega": 1.0},
        3.0,
        t_eval=t_eval,
        events=[_crossing(-1, terminal=True)],
        **_plain(),
    )
    assert trajectory.event_times[0][0] == pytest.approx(math.pi / 2, rel=1e-9)
    # the times of t_eval up to the event, not padded with a constant state to t = 3
    np.testing.assert_array_equal(trajectory.t, t_eval[t_eval <= math.pi / 2])
    assert trajectory.y.shape == (2, len(trajectory.t))
    np.testing.assert_allclose(trajectory.y[0], np.cos(trajectory.t), atol=1e-8)
    assert trajectory.dense is None  # t_eval given, no dense output asked for


@pytest.mark.parametrize("method", ["DOP853", "RK45", "Radau", "LSODA"])
def test_method_tolerances_and_dense_output(method):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. solve_ivp's "jac has no effect" for RK methods
        trajectory = integrate(
            _oscillator(),
            [1.0, 0.0],
            {"omega": 1.5},
            6.0,
            method=method,
            rtol=1e-11,
            atol=1e-13,
            dense_output=True,
            **_plain(),
        )
    times = np.linspace(0, 6, 97)
    values = trajectory.dense(times)
    assert values.shape == (2, len(times))
    np.testing.assert_allclose(values[0], np.cos(1.5 * times), atol=1e-8)
    # a looser tolerance gives a visibly larger error (the tolerances reach solve_ivp)
    loose = integrate(
        _oscillator(),
        [1.0, 0.0],
        {"omega": 1.5},
        6.0,
        method=method,
        rtol=1e-4,
        atol=1e-6,
        dense_output=True,
        **_plain(),
    )
    error = np.abs(loose.dense(times)[0] - np.cos(1.5 * times)).max()
    assert error > 100 * np.abs(values[0] - np.cos(1.5 * times)).max()


def test_start_at_a_fixed_point_reports_empty_caller_events():
    trajectory = integrate(
        _oscillator(), [0.0, 0.0], {"omega": 1.0}, 2.0, events=[_crossing(1)], dense_output=True
    )
    assert trajectory.converged_time == 0.0
    assert trajectory.event_times[0].size == 0
    np.testing.assert_array_equal(trajectory.dense(np.array([0.5, 1.5])), np.zeros((2, 2)))
