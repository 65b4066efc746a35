"""Random starts and hitting times in the committee simulators: a start uniform on the sphere
drawn exactly in the overlaps, and the first step at which an overlap reaches a threshold,
the reduced simulator against the full-d oracle."""

from __future__ import annotations

import numpy as np
import pytest
from committee_vectors import vector_model
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from featcheck.numerics.claims.rules import Level
from featcheck.numerics.committee.simulators import (
    Hitting,
    _setup,
    fixed_frame,
    simulate_full,
    simulate_reduced,
    uniform_start,
)
from featcheck.theory.errors import InputError

# (variant, K, M, kappa, convention, overlap watched)
CASES = [
    ("spherical", 1, 1, (3.0,), "unit", "whitened"),
    ("normalized", 2, 1, (3.0,), "ba", "whitened"),
    ("preconditioned", 2, 1, (3.0, -0.5), "ba", "u"),
    ("plain", 2, 2, (), "ba", "u"),
]
IDS = [f"{c[0]}-K{c[1]}M{c[2]}R{len(c[3])}" for c in CASES]
DIM, REPLICAS = 12, 4000
# start: every entry of the state; hits: one test per case
LEVEL = Level(
    alpha=1e-3, tests=sum(c[1] * (c[1] + 1) // 2 + c[1] * (c[2] + len(c[3])) + 1 for c in CASES)
)


def _model(case):
    variant, K, M, kappa, convention, _ = case
    return vector_model(variant, K, M, kappa, convention=convention, eta="1")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_uniform_start_and_hitting_times_agree_with_the_full_simulator(case):
    model = _model(case)
    K, M = model.K, model.M
    hitting = Hitting(0.6, overlap=case[5])
    runs = [
        simulate(
            model,
            dim=DIM,
            replicas=REPLICAS,
            times=[0, 0.5],
            seed=seed,
            start="uniform",
            hitting=hitting,
            until=40,
        )
        for simulate, seed in ((simulate_reduced, 1), (simulate_full, 2))
    ]
    a, b = (run.states(K, M)[:, :, 0] for run in runs)
    moving = [i for i in range(len(a)) if a[i].std() > 1e-9]
    p_values = [stats.ks_2samp(a[i], b[i]).pvalue for i in moving]
    # a censored replica (-1) counts as later than every hit
    hits = [np.where(run.hits < 0, np.iinfo(np.int64).max, run.hits) for run in runs]
    p_values.append(stats.ks_2samp(*hits).pvalue)
    assert min(p_values) > LEVEL.per_test_alpha, p_values
    for run in runs:
        assert (run.hits >= 0).mean() > 0.9  # most replicas hit within t = 40 here
        # a replica stopped before t = 0.5 has no snapshot there, the others have one
        stopped = (run.hits >= 0) & (run.hits < 0.5 * DIM)
        assert np.isnan(run.Q[stopped, 1]).all() and np.isfinite(run.Q[~stopped, 1]).all()
        assert 0 < stopped.mean() < 1


def test_uniform_start_has_the_sphere_s_moments():
    """For ``w`` uniform on the unit sphere of ``R^d`` and a unit ``u``, ``E <w, u>^2 = 1/d``;
    for two independent students ``E Q_12^2 = 1/d``: 99.9% intervals from 20000 replicas."""
    model = vector_model("spherical", 2, 1)
    run = simulate_reduced(model, dim=DIM, replicas=20000, times=[0], seed=3, start="uniform")
    for values in (run.M[:, 0, 0, 0] ** 2, run.Q[:, 0, 0, 1] ** 2):
        half = stats.norm.ppf(1 - 5e-4) * values.std(ddof=1) / np.sqrt(values.size)
        assert abs(values.mean() - 1 / DIM) <= half
    assert np.abs(np.diagonal(run.Q[:, 0], axis1=1, axis2=2) - 1).max() <= 1e-12


def test_a_replica_runs_on_to_its_hit_when_it_does_not_stop():
    model = vector_model("spherical", 1, 1)
    hitting = Hitting(0.9, stop=False)
    run = simulate_reduced(
        model,
        dim=20,
        replicas=50,
        times=[0, 0.1],
        seed=4,
        start="uniform",
        hitting=hitting,
        until=200,
    )
    assert np.isfinite(run.Q).all()  # no snapshot is lost to a hit
    assert (run.hits > 0.1 * 20).all()  # the hits come after the last snapshot


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (dict(start="random"), "unknown start"),
        (dict(until=5.0), "Hitting rule"),
        (dict(hitting=Hitting(0.5), until=float("nan")), "run length"),
    ],
)
def test_bad_run_options_are_input_errors(arguments, message):
    model = vector_model("spherical", 1, 1)
    with pytest.raises(InputError, match=message):
        simulate_reduced(model, dim=10, replicas=2, times=[1.0], **arguments)


@pytest.mark.parametrize(("threshold", "overlap"), [(0.0, "u"), (1.5, "u"), (0.5, "sigma")])
def test_bad_hitting_rules_are_input_errors(threshold, overlap):
    with pytest.raises(InputError):
        Hitting(threshold, overlap=overlap)


@settings(max_examples=40, deadline=None)
@given(
    K=st.integers(1, 3),
    M=st.integers(1, 3),
    R=st.integers(0, 2),
    extra=st.integers(0, 5000),
    variant=st.sampled_from(["plain", "spherical", "normalized", "preconditioned"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_uniform_starts_are_valid_states(K, M, R, extra, variant, seed):
    """Drawn teachers and spikes (random directions, strengths in (-1, 30)) and dimensions
    from ``K + M + R``: the uniform start's Gram matrix of ``(W, U, Theta)`` is positive
    semi-definite, each student has unit norm (``s_k = 1`` when preconditioned)."""
    rng = np.random.default_rng(seed)
    kappa = tuple(float(k) for k in rng.uniform(-0.9, 30.0, R))
    model = vector_model(variant, K, M, kappa, seed_offset=int(rng.integers(1000)))
    setup = _setup(model)
    dim = K + M + R + extra
    Q, Mm, S = uniform_start(setup, fixed_frame(setup), dim, rng)
    gram = np.block(
        [
            [Q, Mm, S],
            [Mm.T, setup.P, setup.T],
            [S.T, setup.T.T, np.eye(R)],
        ]
    )
    assert np.linalg.eigvalsh(gram).min() >= -1e-10
    norms = np.diag(Q)
    if variant == "preconditioned":
        norms = setup.alpha * (norms + (S**2) @ setup.kappa)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-12)
