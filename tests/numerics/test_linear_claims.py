"""Each linear-network claim at the quick budget, with the status it honestly has."""

import importlib
from pathlib import Path

import pytest

from featcheck.numerics.claims.base import REGISTRY, Status, run_claim

importlib.import_module("featcheck.numerics.claims.linear")

EXPECTED = {
    "linear.lemma1": Status.HOLDS,
    "linear.lemma3": Status.HOLDS,
    "linear.lemma4.lower": Status.HOLDS,
    "linear.lemma4.upper": Status.HOLDS,
    "linear.theorem1.before-T": Status.HOLDS,
    "linear.theorem1.after-T": Status.VIOLATED,  # A2 = 4 c0/sqrt(0.6 pi) is too large
    "linear.theorem1.norm-rate": Status.HOLDS,
    "linear.theorem2": Status.HOLDS,
    "linear.theorem3": Status.HOLDS,
    "linear.theorem5.before-T": Status.VIOLATED,  # alpha = 2 c0/pi is too large
    "linear.theorem5.after-T": Status.VIOLATED,  # exponent 2 - 2/N instead of 1 - 2/N
    "linear.theorem5.upper": Status.HOLDS,
    "linear.derived.theorem1.after-T": Status.HOLDS,
    "linear.derived.theorem5.before-T": Status.HOLDS,
    "linear.derived.theorem5.after-T": Status.HOLDS,
    "linear.rate.linear": Status.VIOLATED,  # the exponent is 2/3, not 1/2
    "linear.rate.deep": Status.VIOLATED,  # the exponent is 2N/(N+2), not 1
    "linear.derived.rate": Status.HOLDS,
    "linear.figure1": Status.HOLDS,
}


ROOT = Path(__file__).resolve().parents[2]


def test_every_linear_claim_is_listed():
    assert {c for c in REGISTRY if c.startswith("linear.")} == set(EXPECTED)


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_provenance_kind(claim_id):
    provenance = REGISTRY[claim_id].provenance
    assert provenance.paper is not None and provenance.paper.authors == "Lin, Sun, Zhang"
    if claim_id.startswith("linear.derived."):
        assert provenance.kind == "derived"
        assert (ROOT / provenance.derivation).is_file(), provenance.derivation
    elif claim_id.startswith("linear.rate.") or claim_id == "linear.theorem1.norm-rate":
        assert provenance.kind == "reading"  # an Omega read as Theta; 0.6 read as 2 sup N(w)
    else:
        assert provenance.kind == "printed"


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_status_at_quick_budget(claim_id, tmp_path):
    evidence = run_claim(REGISTRY[claim_id], "quick", 0, tmp_path)
    assert evidence.status == EXPECTED[claim_id], (
        evidence.error,
        evidence.to_json()["counterexample"],
    )
    if evidence.status == Status.VIOLATED:
        assert evidence.to_json()["counterexample"] is not None
        # the figure of a violated claim shows the measurements that violate it
        assert evidence.figures and all(path.exists() for path in evidence.figures)
    if claim_id == "linear.figure1":
        assert evidence.figures and evidence.figures[0].exists()
