"""Invariants of the learner variants' overlap equations, at random admissible overlaps.

* spherical and normalized: ``dQ_kk/dt = 0`` identically (not only at ``Q_kk = 1``), for
  online SGD and gradient flow;
* preconditioned: ``s_k = w_k^T Sigma w_k`` is conserved (the step ``Sigma^-1 grad`` of a
  0-homogeneous loss is Sigma-orthogonal to ``w_k``; online SGD rescales away the second-order
  growth);
* plain: neither holds (the checks can fail).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import featcheck.numerics.committee.evaluation  # noqa: F401  (numeric backends of the symbols)
from featcheck.numerics.ode import compile_system
from featcheck.theory.committee.model import committee_model
from featcheck.theory.committee.overlap_ode import derive_ode

ERF = "erf(z/sqrt(2))"


def _ode(variant: str, algorithm: str):
    return derive_ode(
        committee_model(
            student_activation=ERF,
            student_width=2,
            teacher_activation=ERF,
            teacher_width=1,
            algorithm=algorithm,
            learning_rate="1/2",
            variant=variant,
            Q0=[[1, 0], [0, 1]],
            M0=[[0], [0]],
            covariance="spiked",
            kappa=[2],
            spike_overlaps=[["3/5"]],
            S0=[[0], [0]],
        )
    )


def _random_states(ode, rng, count=5):
    """Overlaps of random w_1, w_2 with u = (0.6, 0.8, 0, ...) and theta = e_1."""
    n = 6
    U = np.zeros(n)
    U[:2] = (0.6, 0.8)
    theta = np.eye(n)[0]
    for _ in range(count):
        W = rng.standard_normal((2, n)) * rng.uniform(0.5, 1.3, size=(2, 1)) / np.sqrt(n)
        Q, M, S = W @ W.T, W @ U, W @ theta
        values = {"Q_11": Q[0, 0], "Q_12": Q[0, 1], "Q_22": Q[1, 1], "M_11": M[0],
                  "M_21": M[1], "S_11": S[0], "S_21": S[1]}  # fmt: skip
        yield np.array([values[str(s)] for s in ode.system.state]), Q, S


def _rates(ode, state):
    compiled = compile_system(ode.system)
    p = compiled.parameters(ode.parameter_values)
    return dict(zip((str(s) for s in ode.system.state), compiled.rhs(state, p), strict=True))


@pytest.mark.parametrize("variant", ["spherical", "normalized", "plain"])
@pytest.mark.parametrize("algorithm", ["online-sgd", "gradient-flow"])
def test_spherical_variants_conserve_every_norm(variant, algorithm):
    ode = _ode(variant, algorithm)
    largest = 0.0
    for state, _, _ in _random_states(ode, np.random.default_rng(1)):
        rates = _rates(ode, state)
        largest = max(largest, abs(rates["Q_11"]), abs(rates["Q_22"]))
    if variant == "plain":
        assert largest > 1e-3
    else:
        assert largest < 1e-12


@pytest.mark.parametrize("variant", ["preconditioned", "plain"])
@pytest.mark.parametrize("algorithm", ["online-sgd", "gradient-flow"])
def test_preconditioned_learner_conserves_the_sigma_norm(variant, algorithm):
    ode = _ode(variant, algorithm)
    kappa = 2
    largest = 0.0
    for state, _, S in _random_states(ode, np.random.default_rng(2)):
        rates = _rates(ode, state)
        for k in (1, 2):
            # s_k = Q_kk + kappa S_k1^2 (alpha = 1)
            ds = rates[f"Q_{k}{k}"] + 2 * kappa * S[k - 1] * rates[f"S_{k}1"]
            largest = max(largest, abs(ds))
    if variant == "plain":
        assert largest > 1e-3
    else:
        assert largest < 1e-12


def test_normalized_gradient_is_orthogonal_to_w():
    """f_k(w_k) = 0 for the normalized student: its Q_kk rate has no first-order part, so the
    gradient-flow Q_kk equation is exactly zero before any renormalisation."""
    ode = _ode("preconditioned", "gradient-flow")
    ode_n = _ode("normalized", "gradient-flow")
    for state, _, _ in _random_states(ode_n, np.random.default_rng(3), count=3):
        rates = _rates(ode_n, state)
        assert abs(rates["Q_11"]) < 1e-12
    assert sp.Symbol("eta", positive=True) in ode.system.parameters
