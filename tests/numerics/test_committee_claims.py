"""Each committee claim at the quick budget, with the status it honestly has."""

from pathlib import Path

import pytest

import featcheck.numerics.claims.committee  # noqa: F401  (registers the claims)
from featcheck.numerics.claims.base import REGISTRY, Status, run_claim

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    "committee.closed-forms": Status.HOLDS,
    "committee.saad-solla.plateau-height": Status.HOLDS,
    "committee.saad-solla.plateau-length": Status.HOLDS,
    "committee.saad-solla.simulations": Status.HOLDS,
    "committee.reduced-vs-full": Status.HOLDS,
}
#: about ten seconds or more each at the quick budget
SLOW = {
    "committee.closed-forms",
    "committee.saad-solla.plateau-height",
    "committee.saad-solla.simulations",
}


def test_every_committee_claim_is_listed_and_its_derivation_exists():
    assert {k for k in REGISTRY if k.startswith("committee.")} == set(EXPECTED)
    for claim_id in EXPECTED:
        provenance = REGISTRY[claim_id].provenance
        if provenance.kind == "derived":
            assert (ROOT / provenance.derivation).is_file(), provenance.derivation


@pytest.mark.parametrize(
    "claim_id",
    [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in sorted(EXPECTED)],
)
def test_claim_quick(claim_id, tmp_path):
    evidence = run_claim(REGISTRY[claim_id], "quick", 0, tmp_path)
    assert evidence.status == EXPECTED[claim_id], evidence.to_json()
    assert evidence.figures and all(p.exists() for p in evidence.figures)
