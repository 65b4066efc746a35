"""The claim framework, and two Hermite claims at the quick budget as a smoke test (every
claim runs once at the quick budget in ``featcheck verify``, in continuous integration)."""

import json

import pytest

from featcheck.numerics.claims import load, select
from featcheck.numerics.claims.base import (
    REGISTRY,
    Claim,
    Evidence,
    Status,
    contains,
    holds_if,
    run_claim,
    within,
)
from featcheck.numerics.claims.provenance import reading
from featcheck.numerics.jsonable import finite_plain
from featcheck.theory.errors import InputError

TEST_SOURCE = reading(None, "a test")


def _claim(run):
    return Claim("test.claim", TEST_SOURCE, "a statement", run)


def test_rules():
    assert within("x", 1.0, 1.05, 0.1).passed
    assert not within("x", 1.0, 1.2, 0.1).passed
    assert contains("x", 0.5, 0.0, 1.0).passed
    assert not contains("x", 1.5, 0.0, 1.0).passed
    assert not holds_if("x", False, 1, 2).passed


def test_status_follows_the_checks():
    ok = run_claim(_claim(lambda ctx: Evidence([within("a", 1, 1, 0)])), "quick", 0)
    assert ok.status == Status.HOLDS
    bad = run_claim(
        _claim(lambda ctx: Evidence([within("a", 1, 1, 0), within("b", 1, 3, 1)])), "quick", 0
    )
    assert bad.status == Status.VIOLATED
    assert bad.to_json()["counterexample"]["label"] == "b"
    empty = run_claim(_claim(lambda ctx: Evidence()), "quick", 0)
    assert empty.status == Status.INCONCLUSIVE


def test_an_exception_is_an_error_not_a_pass():
    def broken(ctx):
        raise RuntimeError("boom")

    result = run_claim(_claim(broken), "quick", 0)
    assert result.status == Status.ERROR and "boom" in result.error
    json.dumps(result.to_json())


def test_a_non_finite_measurement_is_an_error_not_a_finding():
    def nan_claim(ctx):
        return Evidence(checks=[within("x", 1.0, float("nan"), 0.1)])

    result = run_claim(_claim(nan_claim), "quick", 0)
    assert result.status == Status.ERROR
    assert "non-finite" in result.error and "evidence.checks[0].measured" in result.error
    finite_plain(result.to_json())  # the record itself is finite: verify --json can print it


def test_claim_streams_depend_on_seed_and_id_only():
    def draw(ctx):
        return Evidence([holds_if("draw", True, None, float(ctx.rng().random()))])

    a = run_claim(Claim("x.a", TEST_SOURCE, "", draw), "quick", 3).checks[0].measured
    b = run_claim(Claim("x.a", TEST_SOURCE, "", draw), "quick", 3).checks[0].measured
    c = run_claim(Claim("x.b", TEST_SOURCE, "", draw), "quick", 3).checks[0].measured
    assert a == b != c


def test_selection_by_prefix():
    load()
    assert {c.id for c in select(["hermite"])} >= {"hermite.mehler", "hermite.parseval"}
    with pytest.raises(InputError, match="no claim matches"):
        select(["nonexistent"])


@pytest.mark.parametrize("claim_id", ["hermite.parseval", "hermite.closed-forms"])
def test_hermite_claims_hold_at_the_quick_budget(claim_id, tmp_path):
    result = run_claim(REGISTRY[claim_id], "quick", 0, tmp_path)
    assert result.status == Status.HOLDS, result.to_json()
    assert len(result.checks) >= 5
    for figure in result.figures:
        assert figure.exists() and figure.stat().st_size > 1000
