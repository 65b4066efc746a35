"""Online SGD under a spiked input covariance: the reduced simulator and the full-d oracle."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from featcheck.numerics.committee.dynamics import integrate_committee, simulate_committee
from featcheck.numerics.committee.simulators import (
    initial_frame,
    simulate_full,
    simulate_reduced,
)
from featcheck.theory.committee.model import committee_model
from featcheck.theory.errors import InputError

ERF = "erf(z/sqrt(2))"


def _model(K, M, kappa=(3.0,), eta="1"):
    """Initial overlaps of actual vectors: W, U, Theta with orthonormal spikes."""
    R = len(kappa)
    rng = np.random.default_rng(100 * K + 10 * M + R)
    n = K + M + R
    Theta = np.eye(n + 2)[:R]
    U = rng.standard_normal((M, n + 2)) / np.sqrt(n + 2)
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    W = 0.6 * rng.standard_normal((K, n + 2)) / np.sqrt(n + 2)
    return committee_model(
        student_activation=ERF,
        student_width=K,
        teacher_activation=ERF,
        teacher_width=M,
        teacher_overlaps=np.round(U @ U.T, 8).tolist(),
        learning_rate=eta,
        Q0=np.round(W @ W.T, 8).tolist(),
        M0=np.round(W @ U.T, 8).tolist(),
        covariance="spiked",
        kappa=list(kappa),
        spike_overlaps=np.round(U @ Theta.T, 8).tolist(),
        S0=np.round(W @ Theta.T, 8).tolist(),
    )


def test_full_dimensional_start_has_the_initial_gram_matrix():
    model = _model(2, 1, kappa=(3.0, 0.5))
    W, U, Theta = initial_frame(model, 30)
    gram = np.array([[float(v) for v in row] for row in model.gram0])
    vectors = np.vstack([W, U, Theta])
    assert np.allclose(vectors @ vectors.T, gram, atol=1e-12)


def test_reduced_spiked_results_do_not_depend_on_threads():
    model = _model(2, 1)
    one = simulate_reduced(model, dim=40, replicas=4, times=[0, 1], seed=5, threads=1)
    two = simulate_reduced(model, dim=40, replicas=4, times=[0, 1], seed=5, threads=2)
    assert one.S is not None and one.S.shape == (4, 2, 2, 1)
    assert np.array_equal(one.Q, two.Q) and np.array_equal(one.S, two.S)
    S0 = np.array([[float(v) for v in row] for row in model.initial.S])
    assert np.array_equal(one.S[:, 0], np.broadcast_to(S0, one.S[:, 0].shape))


@pytest.mark.parametrize(("K", "M", "kappa"), [(1, 1, (3.0,)), (2, 1, (3.0, -0.5))])
def test_reduced_and_full_spiked_simulations_have_the_same_law(K, M, kappa):
    """Two-sample Kolmogorov-Smirnov tests on every overlap (Q, M, S) at two times in a small
    dimension; Bonferroni at level 1e-3 over the tests of this case."""
    model = _model(K, M, kappa)
    d, replicas, times = 12, 2000, [0.5, 1.0]
    reduced = simulate_reduced(model, dim=d, replicas=replicas, times=times, seed=1)
    full = simulate_full(model, dim=d, replicas=replicas, times=times, seed=2)
    # every overlap (Q's upper triangle, M and, under a spike, S) at every time
    a, b = reduced.states(K, M), full.states(K, M)
    pairs = [(a[i, :, j], b[i, :, j]) for i in range(a.shape[0]) for j in range(len(times))]
    p_values = [stats.ks_2samp(a, b).pvalue for a, b in pairs]
    assert min(p_values) > 1e-3 / len(pairs), min(p_values)
    assert np.abs(reduced.S[:, 1].mean(0) - reduced.S[:, 0].mean(0)).max() > 0.01


def test_the_spike_changes_the_law_the_simulator_samples():
    """The same overlaps with kappa = 3 and with kappa = 0 give different laws of S at
    d = 12 (KS at level 1e-3): the simulator does not ignore the spike."""
    spiked, flat = _model(1, 1, (3.0,)), _model(1, 1, (0.0,))
    a = simulate_reduced(spiked, dim=12, replicas=2000, times=[1.0], seed=1)
    b = simulate_reduced(flat, dim=12, replicas=2000, times=[1.0], seed=1)
    assert stats.ks_2samp(a.S[:, 0, 0, 0], b.S[:, 0, 0, 0]).pvalue < 1e-3


def test_reduced_spiked_simulation_follows_the_ode_in_high_dimension():
    model = _model(1, 1, eta="1/2")
    times = [1.0, 2.0]
    ode = integrate_committee(model, times=times)
    replicas = 30
    run = simulate_committee(model, dim=4000, replicas=replicas, times=times, seed=3)
    assert run.S is not None and ode.S is not None
    # the run's bands are 95% t-intervals and four of them are checked: each is widened to a
    # family level of 1e-3 (Bonferroni), so that no particular seed has to be lucky
    widen = stats.t.ppf(1 - 1e-3 / 8, replicas - 1) / stats.t.ppf(0.975, replicas - 1)
    slack = 2.0 / 4000  # the O(1/d) bias of the mean
    for j in range(len(times)):
        for band, target in (
            (np.array(run.band["S"])[j], np.array(ode.S[j])),
            (np.array(run.band["generalization_error"][j]), ode.generalization_error[j]),
        ):
            centre, half = (band[0] + band[1]) / 2, widen * (band[1] - band[0]) / 2
            assert np.all(np.abs(target - centre) <= half + slack)


def test_the_dimension_must_hold_the_spikes():
    with pytest.raises(InputError, match=r"K \+ M \+ R = 3"):
        simulate_reduced(_model(1, 1), dim=2, replicas=1, times=[1.0])
