"""Online SGD with the correlation loss ``-y yhat``: the exact reduced simulator against the
full-d oracle, in law, for several variants with and without a spike, and the square loss's
numbers unchanged by the option."""

from __future__ import annotations

import numpy as np
import pytest
from committee_vectors import vector_model
from scipy import stats

from featcheck.numerics.claims.rules import Level
from featcheck.numerics.committee.simulators import simulate_full, simulate_reduced


def _model(variant, K, M, kappa=(), eta="1", trained=False, loss="correlation", noise=0):
    """``loss=None`` leaves the model's default loss."""
    return vector_model(
        variant, K, M, kappa, eta=eta, trained=trained, loss=loss, noise=noise, seed_offset=7
    )


# (variant, K, M, kappa, trained, noise): K = M = 1 and K = 2, with and without a spike, every
# variant, a trained second layer and label noise (which enters the correlation loss's delta)
CASES = [
    ("plain", 1, 1, (), False, 0),
    ("normalized", 1, 1, (3.0,), False, 0),
    ("preconditioned", 1, 1, (), False, "1/2"),
    ("plain", 2, 1, (3.0, -0.5), True, 0),
    ("spherical", 2, 1, (), False, 0),
    ("preconditioned", 2, 2, (3.0,), True, 0),
]
IDS = [
    "-".join([c[0], f"K{c[1]}M{c[2]}", f"R{len(c[3])}"] + ["a"] * c[4] + ["noise"] * bool(c[5]))
    for c in CASES
]

KS_DIM, KS_REPLICAS, KS_TIMES = 10, 2000, [0.5, 1.0]
# large steps in the smallest dimension d = K + M + R + 1, two and four steps, where the
# second-order terms of the exact update are of the size of the first-order ones
BIG_ETA, BIG_REPLICAS, BIG_STEPS = "2", 4000, [2, 4]


def _tested(case) -> list[int]:
    """The entries of ``SimulationRun.states`` that move: all but the diagonal of ``Q`` for
    the variants that keep it fixed."""
    variant, K, M, kappa, trained, _ = case
    diagonal = [i for i, (k, o) in enumerate(zip(*np.triu_indices(K), strict=True)) if k == o]
    size = K * (K + 1) // 2 + K * M + K * len(kappa) + (K if trained else 0)
    # s_k = alpha Q_kk under isotropic data, which the preconditioned learner keeps fixed
    held = variant in ("spherical", "normalized") or (variant == "preconditioned" and not kappa)
    fixed = diagonal if held else []
    return [i for i in range(size) if i not in fixed]


# One family over every KS test of this file (Bonferroni).
FAMILY = Level(
    alpha=1e-3, tests=sum(len(_tested(c)) for c in CASES) * (len(KS_TIMES) + len(BIG_STEPS))
)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reduced_and_full_correlation_loss_simulations_have_the_same_law(case):
    """Two-sample KS on every moving overlap (and second-layer weight) at two times in
    dimension 10 (c = eta/d = 1/10) and after two and four steps at d = K + M + R + 1 with
    eta = 2 (c about 1/2); both simulators are exact at any d >= K + M + R."""
    variant, K, M, kappa, trained, noise = case
    rows = _tested(case)
    small = K + M + len(kappa) + 1
    big_times = [steps / small for steps in BIG_STEPS]
    for eta, dim, replicas, times in (
        ("1", KS_DIM, KS_REPLICAS, KS_TIMES),
        (BIG_ETA, small, BIG_REPLICAS, big_times),
    ):
        model = _model(variant, K, M, kappa, eta=eta, trained=trained, noise=noise)
        reduced = simulate_reduced(model, dim=dim, replicas=replicas, times=times, seed=11)
        full = simulate_full(model, dim=dim, replicas=replicas, times=times, seed=12)
        a, b = reduced.states(K, M), full.states(K, M)
        p_values = [
            stats.ks_2samp(a[i, :, j], b[i, :, j]).pvalue for i in rows for j in range(len(times))
        ]
        assert min(p_values) > FAMILY.per_test_alpha, (eta, min(p_values))
        # the overlaps do move between the two times, so the test has something to compare
        assert np.abs(a[rows, :, 1].mean(1) - a[rows, :, 0].mean(1)).max() > 0.02


@pytest.mark.parametrize("simulate", [simulate_reduced, simulate_full])
def test_the_correlation_loss_moves_the_student_differently_from_the_square_loss(simulate):
    """Same seed, same random numbers: the two losses give different overlaps (the option is
    not ignored), and the square loss gives exactly what a model without the option gives."""
    runs = {}
    for loss in ("square", "correlation", None):
        model = _model("plain", 2, 1, (3.0,), trained=True, loss=loss)
        runs[loss] = simulate(model, dim=20, replicas=3, times=[1.0], seed=3).states(2, 1)
    assert np.array_equal(runs["square"], runs[None])
    assert np.abs(runs["square"] - runs["correlation"]).max() > 1e-3
