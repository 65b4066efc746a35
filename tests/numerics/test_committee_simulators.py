"""Online SGD of committee models: programs, the exact reduced simulator, the full-d oracle."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from featcheck.numerics.committee.dynamics import integrate_committee, simulate_committee
from featcheck.numerics.committee.programs import compile_programs, evaluate
from featcheck.numerics.committee.simulators import (
    initial_vectors,
    simulate_full,
    simulate_reduced,
    snapshot_steps,
)
from featcheck.numerics.strategies import catalogue_functions
from featcheck.theory.committee.model import committee_model
from featcheck.theory.errors import InputError, NumericalError
from featcheck.theory.functions import z

ERF = "erf(z/sqrt(2))"


@settings(max_examples=20)
@given(catalogue_functions(), st.floats(-6, 6))
def test_programs_evaluate_like_numpy(function, x):
    expressions = [function.expr, sp.diff(function.expr, z)]
    programs = compile_programs(expressions, [z])
    for p, expr in enumerate(expressions):
        if expr.has(sp.DiracDelta):
            continue
        reference = sp.lambdify(z, expr, [{"erf": special.erf}, "numpy"])(x)
        value = evaluate(programs, p, [x])
        assert value == pytest.approx(float(reference), rel=1e-12, abs=1e-12)


def test_programs_refuse_unknown_functions():
    with pytest.raises(InputError, match="not supported"):
        compile_programs([sp.gamma(z)], [z])


def _model(K, M, eta="1", **kwargs):
    rng = np.random.default_rng(K * 10 + M)
    n = K + M
    B = rng.standard_normal((n, n + 2)) / np.sqrt(n + 2)
    omega = B @ B.T
    omega[K:, K:] = np.eye(M)  # unit, orthogonal teacher vectors
    base = dict(
        student_activation=ERF,
        student_width=K,
        teacher_activation=ERF,
        teacher_width=M,
        Q0=np.round(omega[:K, :K] + 0.3 * np.eye(K), 6).tolist(),
        M0=np.round(omega[:K, K:] * 0.5, 6).tolist(),
        learning_rate=eta,
    )
    return committee_model(**(base | kwargs))


def test_snapshot_steps_round_and_sort():
    steps, t = snapshot_steps([2.0, 0.0, 0.51], 10)
    assert steps.tolist() == [0, 5, 20] and t.tolist() == [0.0, 0.5, 2.0]
    with pytest.raises(InputError):
        snapshot_steps([-1.0], 10)


def test_reduced_results_do_not_depend_on_threads_and_start_at_the_initial_overlaps():
    model = _model(2, 2)
    one = simulate_reduced(model, dim=50, replicas=5, times=[0, 1, 2], seed=7, threads=1)
    two = simulate_reduced(model, dim=50, replicas=5, times=[0, 1, 2], seed=7, threads=2)
    assert np.array_equal(one.Q, two.Q) and np.array_equal(one.M, two.M)
    Q0 = np.array([[float(v) for v in row] for row in model.initial.Q])
    assert np.array_equal(one.Q[:, 0], np.broadcast_to(Q0, one.Q[:, 0].shape))
    other = simulate_reduced(model, dim=50, replicas=5, times=[0, 1, 2], seed=8)
    assert not np.array_equal(one.Q, other.Q)
    # replica r's stream does not depend on how many replicas run
    fewer = simulate_reduced(model, dim=50, replicas=3, times=[0, 1, 2], seed=7)
    assert np.array_equal(fewer.Q, one.Q[:3])


def test_full_dimensional_start_has_the_initial_overlaps():
    model = _model(3, 2)
    W, U = initial_vectors(model, 40)
    omega = np.array([[float(v) for v in row] for row in model.omega0])
    assert np.allclose(np.vstack([W, U]) @ np.vstack([W, U]).T, omega, atol=1e-12)


@pytest.mark.parametrize(("K", "M"), [(1, 1), (2, 1), (2, 3)])
def test_reduced_and_full_simulations_have_the_same_law(K, M):
    """Two-sample Kolmogorov-Smirnov tests on every overlap at two times, in a small
    dimension where the fluctuations (and the eta^2 |x|^2 term) are large; Bonferroni at
    level 1e-3 over all the tests of this case."""
    model = _model(K, M)
    d, replicas, times = 12, 2000, [0.5, 1.0]
    reduced = simulate_reduced(model, dim=d, replicas=replicas, times=times, seed=1)
    full = simulate_full(model, dim=d, replicas=replicas, times=times, seed=2)
    # every overlap (Q's upper triangle, M and, under a spike, S) at every time
    a, b = reduced.states(K, M), full.states(K, M)
    pairs = [(a[i, :, j], b[i, :, j]) for i in range(a.shape[0]) for j in range(len(times))]
    p_values = [stats.ks_2samp(a, b).pvalue for a, b in pairs]
    assert min(p_values) > 1e-3 / len(pairs), min(p_values)
    # and the statistics do move: the overlaps at t = 1 are not those at t = 0
    assert np.abs(reduced.Q[:, 1].mean(0) - reduced.Q[:, 0].mean(0)).max() > 0.01


def test_reduced_simulation_follows_the_ode_in_high_dimension():
    model = _model(2, 2, eta="1/2")
    times = [0.5, 1.0, 2.0]
    ode = integrate_committee(model, times=times)
    run = simulate_committee(model, dim=4000, replicas=40, times=times, seed=3)
    for j in range(len(times)):
        lo, hi = np.array(run.band["Q"])[j]
        target = np.array(ode.Q[j])
        slack = 2.0 / 4000  # the O(1/d) bias of the mean
        assert np.all(target >= lo - slack) and np.all(target <= hi + slack)
        lo_e, hi_e = run.band["generalization_error"][j]
        assert lo_e - slack <= ode.generalization_error[j] <= hi_e + slack


def test_blow_up_is_a_numerical_error_not_bad_input():
    model = _model(1, 1, eta="10", student_activation="z", teacher_activation="z")
    with pytest.raises(NumericalError, match="blows up"):
        simulate_reduced(model, dim=20, replicas=2, times=[50], seed=0)
    with pytest.raises(NumericalError, match="blows up"):
        simulate_full(model, dim=20, replicas=2, times=[50], seed=0)


def test_gradient_flow_models_are_not_simulated():
    with pytest.raises(InputError, match="online SGD"):
        simulate_reduced(_model(1, 1, algorithm="gradient-flow"), dim=10, replicas=1, times=[1])


def test_sizes_are_checked_before_allocating():
    model = _model(1, 1)
    with pytest.raises(InputError, match="GiB"):
        simulate_reduced(model, dim=10**4, replicas=10**5, times=np.linspace(0, 1, 10**4))
    with pytest.raises(InputError, match="at least K \\+ M"):
        simulate_reduced(model, dim=1, replicas=1, times=[1])
    with pytest.raises(InputError, match="exceed the limit"):
        simulate_committee(model, dim=10**6, replicas=10**4, t_max=10**3)
