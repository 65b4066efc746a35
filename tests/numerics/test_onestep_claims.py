"""The one-step claims at the quick budget, and the command."""

import json
from pathlib import Path

import pytest

from featcheck.numerics.claims import load
from featcheck.numerics.claims.base import Status, run_claim
from featcheck.numerics.cli import main

EXPECTED = {
    # finite-size: weak predicted spikes stay inside the bulk (see docs/one-step.md)
    "onestep.spike-count": {Status.VIOLATED},
    # a reading of a summary of the paper; our derivation predicts uninformative spikes
    "onestep.null-target-no-spike": {Status.VIOLATED},
    "onestep.gradient-overlap": {Status.HOLDS},
    "onestep.spike-directions": {Status.HOLDS, Status.INCONCLUSIVE},
    "onestep.training-surrogate": {Status.HOLDS, Status.INCONCLUSIVE},
    "onestep.hermite-model": {Status.HOLDS, Status.INCONCLUSIVE},
    "onestep.hermite-curves": {Status.HOLDS},
    "onestep.linear-grid": {Status.HOLDS},
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_quick_status(claim_id, tmp_path):
    evidence = run_claim(load()[claim_id], "quick", 0, tmp_path)
    assert evidence.status in EXPECTED[claim_id], evidence.to_json()
    assert evidence.checks
    assert [p.name for p in evidence.figures] and all(p.is_file() for p in evidence.figures)


#: claim -> kind of statement; model A's full text was not consulted (abstract, summary)
PROVENANCE = {
    "onestep.spike-count": "reading",
    "onestep.null-target-no-spike": "reading",
    "onestep.spike-directions": "derived",
    "onestep.gradient-overlap": "derived",
    "onestep.training-surrogate": "reading",
    "onestep.hermite-model": "printed",
    "onestep.hermite-curves": "printed",
    "onestep.linear-grid": "printed",
    "onestep.b-gradient": "derived",
    "onestep.mixture-structure": "reading",
}


def test_provenance_kinds_and_derivation_documents():
    claims = {i: c for i, c in load().items() if i.startswith("onestep.")}
    assert {i: c.provenance.kind for i, c in claims.items()} == PROVENANCE
    root = Path(__file__).resolve().parents[2]
    for c in claims.values():
        if c.provenance.kind == "derived":
            assert (root / c.provenance.derivation).is_file(), c.id
        assert "paper is wrong" not in c.statement


def test_command_json_keys(capsys):
    code = main(
        [
            "onestep",
            "--activation",
            "tanh",
            "--alpha",
            "0.3",
            "--dim",
            "120",
            "--samples",
            "120",
            "--width",
            "120",
            "--json",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    for key in (
        "predicted_spikes",
        "measured_spikes",
        "singular_values",
        "bulk_edge",
        "alignments",
        "train_error",
        "test_error",
        "hermite_model",
        "gradient_overlap",
    ):
        assert key in payload
    code = main(
        [
            "onestep",
            "--activation",
            "relu",
            "--beta",
            "0.6",
            "--weight",
            "0.5",
            "--dim",
            "60",
            "--samples",
            "60",
            "--width",
            "60",
            "--json",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["hermite_model"]["degree"] == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["--alpha", "0.25"],
        ["--alpha", "0.6"],
        ["--beta", "0.5", "--weight", "0.5"],
        ["--beta", "0.6"],
        ["--alpha", "0.3", "--dim", "10"],
        ["--alpha", "0.3", "--data", "mixture"],
    ],
)
def test_command_bad_input_exits_2(argv, capsys):
    assert main(["onestep", "--activation", "tanh", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err
