"""The general fixed-point search: from the slow points of a trajectory, for every model."""

from __future__ import annotations

import numpy as np
import pytest

from featcheck.numerics.claims.committee import biased_relu
from featcheck.numerics.committee import fixed_points as fp
from featcheck.numerics.committee.dynamics import integrate_committee
from featcheck.numerics.committee.fixed_points import (
    admissible,
    find_fixed_points,
    free_coordinates,
)
from featcheck.numerics.ode import compile_system, integrate
from featcheck.theory.committee.model import committee_model, load_model
from featcheck.theory.committee.overlap_ode import derive_ode

ERF = "erf(z/sqrt(2))"


def _trajectory(ode, t_max: float, points: int = 2001) -> np.ndarray:
    compiled = compile_system(ode.system)
    y0 = np.array([float(v) for v in ode.initial_state])
    grid = np.linspace(0.0, t_max, points)
    run = integrate(
        compiled,
        y0,
        ode.parameter_values,
        t_max,
        t_eval=grid,
        escape_observable=None,
        convergence_tol=None,
    )
    return run.y


def _spiked_plateau_model():
    """K = M = 2 erf under a weak spike (kappa = 0.3), both teacher units at 0.3 to it, a
    small nearly symmetric start as in saad-solla: a plateau no symmetric search covers."""
    return committee_model(
        student_activation=ERF,
        student_width=2,
        teacher_activation=ERF,
        teacher_width=2,
        learning_rate="1/2",
        Q0=[[0.2, 0], [0, 0.2]],
        M0=[["2e-3", "1e-3"], ["1e-3", "1.5e-3"]],
        covariance="spiked",
        kappa=["3/10"],
        spike_overlaps=[["3/10"], ["3/10"]],
        S0=[["1e-3"], ["2e-3"]],
        name="spiked-plateau",
    )


def test_general_search_finds_the_saad_solla_plateau_and_teacher():
    ode = derive_ode(load_model("saad-solla"))
    symmetric, _ = find_fixed_points(ode)
    general, note = find_fixed_points(ode, _trajectory(ode, 500.0), symmetric=False)
    assert "slow points" in note
    kinds = sorted(p.kind for p in general)
    assert kinds == ["teacher", "visited"]
    plateau = next(p for p in general if p.kind == "visited")
    expected = next(
        p for p in symmetric if p.kind == "symmetric" and p.escape_rate < 0.032
    )  # the plateau the trajectory visits (eps_g = 0.0146448, rate 0.03162)
    assert plateau.stability == "unstable"
    assert plateau.generalization_error == pytest.approx(expected.generalization_error, 1e-9)
    assert plateau.escape_rate == pytest.approx(expected.escape_rate, 1e-6)
    assert np.allclose(plateau.state(), expected.state(), atol=1e-8)
    teacher = next(p for p in general if p.kind == "teacher")
    assert teacher.generalization_error == 0 and teacher.stability == "stable"
    assert max(e.real for e in teacher.eigenvalues) == pytest.approx(-0.02209, abs=5e-5)


def test_the_merged_list_of_saad_solla_is_the_symmetric_one():
    ode = derive_ode(load_model("saad-solla"))
    before, _ = find_fixed_points(ode)
    after, _ = find_fixed_points(ode, _trajectory(ode, 500.0))
    assert [p.kind for p in after] == ["symmetric", "symmetric", "teacher"]
    assert [p.to_json() for p in after] == [p.to_json() for p in before]


def test_spiked_single_index_teacher_point_from_the_trajectory(monkeypatch):
    ode = derive_ode(load_model("spiked-single-index"))
    y = _trajectory(ode, 200.0)
    points, _ = find_fixed_points(ode, y)
    assert [p.kind for p in points] == ["teacher"]
    # without the candidate, the search from the trajectory's end finds the same point
    monkeypatch.setattr(fp, "teacher_candidates", lambda ode: [])
    (found,) = find_fixed_points(ode, y)[0]
    assert found.kind == "visited"
    for point in (points[0], found):
        assert np.allclose(point.Q, [[1.0]], atol=1e-9) and np.allclose(point.M, [[1.0]], atol=1e-9)
        assert np.allclose(point.S, [[0.5]], atol=1e-9)
        assert point.generalization_error == 0
        assert point.stability == "stable" and point.escape_rate is None
        assert max(e.real for e in point.eigenvalues) == pytest.approx(-0.05254, abs=5e-5)


def test_normalized_teacher_is_found_by_its_residual_without_spurious_zero_eigenvalue():
    """spiked-normalized: teacher erf(z/sqrt(7/2)) differs from the student's activation, and
    Q_11 = 1 is held fixed: two eigenvalues (M_11, S_11), both clearly negative."""
    ode = derive_ode(load_model("spiked-normalized"))
    assert free_coordinates(ode).tolist() == [1, 2]
    points, _ = find_fixed_points(ode)
    (teacher,) = points
    assert teacher.kind == "teacher" and teacher.generalization_error == 0
    assert np.allclose([teacher.Q[0][0], teacher.M[0][0], teacher.S[0][0]], [1, 1, 0.5])
    assert len(teacher.eigenvalues) == 2
    assert max(e.real for e in teacher.eigenvalues) < -0.1
    assert teacher.stability == "stable"


def test_spherical_variant_keeps_q_kk_fixed_and_finds_its_plateau():
    """Plain student on the sphere (sympy does not cancel the Q_kk rows to zero here)."""
    model = committee_model(
        student_activation=ERF,
        student_width=2,
        teacher_activation=ERF,
        teacher_width=2,
        learning_rate="1/2",
        variant="spherical",
        Q0=[[1, 0], [0, 1]],
        M0=[["2e-3", "1e-3"], ["1e-3", "1.5e-3"]],
    )
    ode = derive_ode(model)
    assert free_coordinates(ode).tolist() == [1, 3, 4, 5, 6]
    result = integrate_committee(model, times=[0, 100, 500])
    assert [p.kind for p in result.fixed_points] == ["symmetric", "teacher"]
    for point in result.fixed_points:
        assert np.allclose(np.diag(point.Q), 1.0, atol=1e-12)
        assert len(point.eigenvalues) == 5
        assert min(abs(e) for e in point.eigenvalues) > 1e-3  # no spurious zero
    plateau = result.fixed_points[0]
    assert plateau.stability == "unstable"
    assert plateau.generalization_error == pytest.approx(0.0261616, abs=1e-6)
    assert result.plateau is not None
    assert result.escape_time == pytest.approx(329.86, abs=0.1)


def test_plateau_under_a_spike_has_an_escape_time():
    model = _spiked_plateau_model()
    times = np.arange(0.0, 400.0, 0.25)
    result = integrate_committee(model, times=times)
    visited = [p for p in result.fixed_points if p.kind == "visited"]
    assert len(visited) == 1 and visited[0].stability == "unstable"
    plateau = result.plateau
    assert plateau is not None and plateau.escape_rate == visited[0].escape_rate
    assert plateau.generalization_error == pytest.approx(0.0148925, abs=1e-6)
    assert plateau.distance < 0.05
    # the trajectory sits at the plateau's error, then falls below half of it
    eps = np.array(result.generalization_error)
    at = int(np.argmin(np.abs(times - plateau.closest_time)))
    assert eps[at] == pytest.approx(plateau.generalization_error, rel=0.02)
    crossing = times[at:][eps[at:] <= plateau.generalization_error / 2][0]
    assert result.escape_time is not None
    assert crossing - 0.25 <= result.escape_time <= crossing
    assert 200 < result.escape_time < 280


def _linear_model():
    """K = 2 linear units learning one linear direction by gradient flow: the zeros are
    M_1 + M_2 = 1, Q_11 + Q_12 = M_1, Q_12 + Q_22 = M_2, most of them not overlaps of vectors."""
    return committee_model(
        student_activation="z",
        student_width=2,
        teacher_activation="z",
        teacher_width=1,
        algorithm="gradient-flow",
        Q0=[[1, 0], [0, 1]],
        M0=[[0], [0]],
    )


def test_a_zero_with_a_non_admissible_gram_matrix_is_rejected():
    ode = derive_ode(_linear_model())
    compiled = compile_system(ode.system)
    p = compiled.parameters(ode.parameter_values)
    # state: Q_11, Q_12, Q_22, M_11, M_21
    bad = np.array([2.0, 0.0, -1.0, 2.0, -1.0])  # Q_22 < 0
    good = np.array([1.0, 0.0, 0.0, 1.0, 0.0])  # w_1 = u, w_2 = 0
    for state in (bad, good):
        assert np.abs(compiled.rhs(state, p)).max() < 1e-15
    assert not admissible(ode, bad) and admissible(ode, good)
    found, _ = find_fixed_points(ode, seeds=[bad], symmetric=False)
    assert found == []
    found, _ = find_fixed_points(ode, seeds=[good], symmetric=False)
    assert len(found) == 1 and np.allclose(found[0].state(), good)
    assert found[0].stability == "degenerate"  # a line of zeros through it


def test_zeros_equal_up_to_a_permutation_of_student_units_are_merged():
    ode = derive_ode(_linear_model())
    one = np.array([1.0, 0.0, 0.0, 1.0, 0.0])
    other = np.array([0.0, 0.0, 1.0, 0.0, 1.0])  # w_2 = u, w_1 = 0
    found, _ = find_fixed_points(ode, seeds=[one, other], symmetric=False)
    assert len(found) == 1


def test_slow_points_are_the_plateau_and_the_end():
    ode = derive_ode(load_model("saad-solla"))
    compiled = compile_system(ode.system)
    p = compiled.parameters(ode.parameter_values)
    y = fp.speed_sample(_trajectory(ode, 500.0))
    seeds = fp.slow_points(y, compiled.rhs(y, p))
    assert np.array_equal(seeds[-1], y[:, -1])
    errors = [float(compiled.observable("generalization_error", s, p)) for s in seeds[:-1]]
    assert any(abs(e - 0.0146) < 5e-4 for e in errors)


def test_points_at_infinity_and_the_teacher_found_twice_are_not_reported():
    """erf, ``K = M = 1``: the symmetric root finder also ends at ``Q ~ 1e36`` (the right-hand
    side decays there) and at the teacher; the list is the teacher alone.  For ``tanh`` the
    symmetric zero near the teacher (within the quadrature error) is the teacher too."""
    for activation in (ERF, "tanh(z)"):
        model = committee_model(
            student_activation=activation,
            student_width=1,
            teacher_activation=activation,
            teacher_width=1,
            learning_rate="1/2",
            Q0=[[0.5]],
            M0=[[0.1]],
        )
        ode = derive_ode(model)
        points, _ = find_fixed_points(ode)
        assert [p.kind for p in points] == ["teacher"], [(p.kind, p.Q) for p in points]
        assert points[0].Q == [[1.0]] and points[0].generalization_error == 0.0
    assert not admissible(ode, np.array([1.7e36, 1.2e18]))


def test_boundary_jacobian_is_the_exact_one_at_an_analytic_teacher():
    """At the teacher of Saad and Solla's erf committee (K = M = 2) the Gram matrix of
    (W, U) is singular; the one-sided differences along admissible directions, with
    Richardson's step halving, reproduce the Jacobian of the closed-form right-hand side."""
    ode = derive_ode(load_model("saad-solla"))
    compiled = compile_system(ode.system)
    p = compiled.parameters(ode.parameter_values)
    teacher = np.array([float(v) for v in fp.teacher_candidates(ode)[0]])
    assert np.abs(compiled.rhs(teacher, p)).max() < 1e-14
    h = fp.BOUNDARY_STEP
    estimate = 2 * fp.boundary_jacobian(ode, compiled, p, teacher, h / 2) - fp.boundary_jacobian(
        ode, compiled, p, teacher, h
    )
    free = fp.free_coordinates(ode)
    exact = compiled.jacobian(teacher, p)[np.ix_(free, free)]
    assert np.abs(estimate - exact).max() < 1e-4 * np.abs(exact).max()


def test_biased_relu_teacher_is_stable():
    """Biased ReLU, K = M = 2: central differences in the covariance entries step out of the
    admissible overlaps at the teacher (two positive eigenvalues came out); along admissible
    directions every eigenvalue is negative, the largest about -0.055, beyond the spread
    between the two steps."""
    ode = derive_ode(biased_relu(width=2))
    compiled = compile_system(ode.system)
    p = compiled.parameters(ode.parameter_values)
    teacher = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    eigenvalues, zero = fp._stability(ode, compiled, teacher, p)
    assert zero < 1e-2
    assert eigenvalues[0].real < -zero
