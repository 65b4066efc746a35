"""The preconditioned population flow with an estimated covariance."""

import numpy as np
import pytest

from featcheck.numerics.ode import integrate
from featcheck.numerics.spiked.population import preconditioned_with_estimate
from featcheck.numerics.spiked.scaled_integrals import compile_flow
from featcheck.theory.dynamics.spiked import spiked_flow
from featcheck.theory.errors import DomainError


def test_population_preconditioner_follows_the_whitened_isotropic_flow():
    t = np.linspace(0.0, 2.0, 21)
    run = preconditioned_with_estimate(
        "relu",
        "-h(4)",
        d=12,
        kappa=5.0,
        c=0.4,
        t_eval=t,
        unlabeled=None,
        replicas=1,
        seed=0,
        init=(0.2, 0.5),
    )
    assert np.abs(run.r / run.r[:, :1] - 1).max() < 1e-7  # ||Sigma^(1/2) w|| conserved
    iso = compile_flow(spiked_flow("preconditioned", "relu", "-h(4)").aligned)
    ref = integrate(
        iso,
        [run.rho[0, 0]],
        {"kappa": 5.0, "r": run.r[0, 0]},
        t[-1],
        t_eval=t,
        escape_observable=None,
        convergence_tol=None,
    )
    np.testing.assert_allclose(run.rho[0], ref.y[0], atol=1e-7)
    assert run.rho[0, -1] - run.rho[0, 0] > 0.05  # the overlap actually moved


def test_estimated_preconditioner_is_closer_with_more_samples():
    t = np.linspace(0.0, 1.0, 11)
    model = dict(d=16, kappa=9.0, c=0.6, t_eval=t)
    pop = preconditioned_with_estimate("relu", "he(2)", unlabeled=None, replicas=1, seed=0, **model)
    rms = []
    for n_prime in (64, 4096):
        run = preconditioned_with_estimate(
            "relu", "he(2)", unlabeled=n_prime, replicas=8, seed=3, **model
        )
        assert run.rho.shape == (8, len(t))
        rms.append(np.sqrt(np.mean((run.rho - pop.rho) ** 2)))
    assert 0 < rms[1] < rms[0] / 3  # expected ratio about 8 (n'^(-1/2))


def test_too_few_unlabeled_samples_is_an_error():
    with pytest.raises(DomainError, match="n' > d"):
        preconditioned_with_estimate(
            "relu",
            "he(2)",
            d=20,
            kappa=1.0,
            c=0.5,
            t_eval=np.array([0, 1.0]),
            unlabeled=20,
            replicas=2,
            seed=0,
        )
