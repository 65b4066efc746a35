"""The committee claims: registered with their provenance, the rules they apply, one smoke run.

Every claim runs once at the quick budget in ``featcheck verify`` (continuous integration)."""

from pathlib import Path

import numpy as np

from featcheck.numerics.claims import rules
from featcheck.numerics.claims.base import REGISTRY, Evidence, Status, run_claim
from featcheck.numerics.claims.committee import _distance, saad_solla
from featcheck.numerics.committee.dynamics import integrate_committee
from featcheck.numerics.committee.simulators import simulate_reduced

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    "committee.closed-forms": Status.HOLDS,
    "committee.saad-solla.plateau-height": Status.HOLDS,
    "committee.saad-solla.plateau-length": Status.HOLDS,
    "committee.saad-solla.simulations": Status.HOLDS,
    "committee.biased-relu.simulations": Status.HOLDS,
    "committee.biased-relu.two-units": Status.HOLDS,
    "committee.reduced-vs-full": Status.HOLDS,
    "committee.spiked.simulations": Status.HOLDS,
    "committee.spiked.kappa-zero": Status.HOLDS,
    "committee.spiked.flow-instances": Status.HOLDS,
    "committee.spiked.two-index-normalization": Status.HOLDS,
    "committee.spiked.growing-strength": Status.HOLDS,
}


def test_every_committee_claim_is_listed_and_its_derivation_exists():
    assert {k for k in REGISTRY if k.startswith("committee.")} == set(EXPECTED)
    for claim_id in EXPECTED:
        provenance = REGISTRY[claim_id].provenance
        if provenance.kind == "derived":
            assert (ROOT / provenance.derivation).is_file(), provenance.derivation


def test_plateau_length_claim_runs_and_draws_its_figure(tmp_path):
    # One whole claim as a smoke test; every claim runs once in `featcheck verify`.
    claim_id = "committee.saad-solla.plateau-length"
    evidence = run_claim(REGISTRY[claim_id], "quick", 0, tmp_path)
    assert evidence.status == EXPECTED[claim_id], evidence.to_json()
    assert evidence.figures and all(p.exists() for p in evidence.figures)


def test_distance_to_the_ode_shrinks_by_the_convergence_rule():
    # The rule the simulations claim applies, on the reduced simulator at small sizes:
    # the distance to the ODE over t <= 2 shrinks with d at a rate near -1/2.
    model = saad_solla(2)
    times = np.arange(0, 3, 1.0)
    ode = integrate_committee(model, times=times)
    dims = [100, 400, 1600]
    distances = [
        _distance(
            simulate_reduced(model, dim=d, replicas=40, times=times, seed=i),
            np.array(ode.Q),
            np.array(ode.M),
        )
        for i, d in enumerate(dims)
    ]
    checks = rules.convergence(
        "distance", dims, distances, gap=np.mean, level=rules.Level(0.01, 2),
        rng=np.random.default_rng(0), rate=-0.5,
    )  # fmt: skip
    assert Evidence(checks=checks).decide() is Status.HOLDS, [c.to_json() for c in checks]
