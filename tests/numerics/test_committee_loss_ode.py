"""The correlation loss and the rescaled preconditioned step: the exact reduced simulation of
online SGD follows the derived overlap ODE (replica means within a t-interval plus a 2/d bias
allowance, at d = 2000 and 8000, as for the other learner variants)."""

from __future__ import annotations

import numpy as np
import pytest
from committee_vectors import vector_model
from scipy import stats

from featcheck.numerics.claims.rules import Level
from featcheck.numerics.committee.simulators import simulate_reduced
from featcheck.numerics.ode import compile_system, integrate
from featcheck.theory.committee.overlap_ode import derive_ode

DIMS, REPLICAS, TIMES = (2000, 8000), 100, [0.5, 1.0, 2.0]

# (variant, loss, K, spiked): the correlation loss plain, spherical and normalized, and the
# rescaled preconditioned step with both losses
CASES = [
    ("plain", "correlation", 1, True),
    ("spherical", "correlation", 2, False),
    ("normalized", "correlation", 2, True),
    ("preconditioned", "square", 1, True),
    ("preconditioned", "correlation", 2, True),
]
IDS = [f"{v}-{loss}-K{K}" + ("-spiked" if s else "") for v, loss, K, s in CASES]


def _model(variant, loss, K, spiked):
    return vector_model(
        variant, K, 1, (2.0,) if spiked else (), eta="1/2", loss=loss, seed_offset=3
    )


def _moving(model):
    """Rows of the state that move (the spherical variants hold Q_kk = 1)."""
    K = model.K
    diagonal = [i for i, (k, o) in enumerate(zip(*np.triu_indices(K), strict=True)) if k == o]
    fixed = diagonal if model.learner.spherical else []
    size = len(derive_ode(model).system.state)
    return [i for i in range(size) if i not in fixed]


FAMILY = Level(
    alpha=1e-3,
    tests=sum(len(_moving(_model(*c))) for c in CASES) * len(TIMES) * len(DIMS),
)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reduced_simulation_follows_the_ode(case):
    model = _model(*case)
    ode = derive_ode(model)
    compiled = compile_system(ode.system)
    y0 = [float(v) for v in ode.initial_state]
    target = integrate(
        compiled, y0, ode.parameter_values, max(TIMES), escape_observable=None,
        convergence_tol=None, t_eval=np.array(TIMES),
    ).y  # fmt: skip
    rows = _moving(model)
    quantile = stats.t.ppf(1 - FAMILY.per_test_alpha / 2, REPLICAS - 1)
    moved = np.abs(target[rows][:, -1] - np.asarray(y0)[rows]).max()
    assert moved > 0.02, "the test needs overlaps that move"
    for d in DIMS:
        run = simulate_reduced(model, dim=d, replicas=REPLICAS, times=TIMES, seed=5)
        states = run.states(model.K, model.M)[rows]
        mean = states.mean(axis=1)
        half = quantile * states.std(axis=1, ddof=1) / np.sqrt(REPLICAS)
        gap = np.abs(mean - target[rows])
        assert np.all(gap <= half + 2.0 / d), (d, gap.max(), (gap - half).max())


def test_the_two_losses_give_different_equations():
    """The check above can tell the losses apart: their right-hand sides differ."""
    a = derive_ode(_model("plain", "square", 1, True))
    b = derive_ode(_model("plain", "correlation", 1, True))
    ca, cb = compile_system(a.system), compile_system(b.system)
    y = np.array([float(v) for v in a.initial_state])
    ra = ca.rhs(y, ca.parameters(a.parameter_values))
    rb = cb.rhs(y, cb.parameters(b.parameter_values))
    assert np.abs(ra - rb).max() > 0.05
