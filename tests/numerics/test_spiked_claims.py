"""Each spiked claim at the quick budget, with the status it honestly has."""

import pytest

import featcheck.numerics.claims.spiked  # noqa: F401  (registers the claims)
from featcheck.numerics.claims.base import REGISTRY, Status, run_claim

EXPECTED = {
    "spiked.reduction": Status.HOLDS,
    "spiked.plain-fails": Status.HOLDS,
    "spiked.threshold": Status.HOLDS,
    # Sigma = I + kappa theta theta^T: the flow fails above the predicted threshold too
    "spiked.threshold-ba": Status.VIOLATED,
    "spiked.preconditioned": Status.HOLDS,
    "spiked.preconditioned-empirical": Status.HOLDS,
    "spiked.finite-size": Status.HOLDS,
    "spiked.algorithm1": Status.HOLDS,
}


def test_every_spiked_claim_is_listed():
    assert {k for k in REGISTRY if k.startswith("spiked.")} == set(EXPECTED)


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_quick(claim_id, tmp_path):
    evidence = run_claim(REGISTRY[claim_id], "quick", 0, tmp_path)
    assert evidence.status == EXPECTED[claim_id], evidence.to_json()
    assert evidence.figures and all(p.exists() for p in evidence.figures)
    if EXPECTED[claim_id] == Status.VIOLATED:
        assert evidence.to_json()["counterexample"] is not None
