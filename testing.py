"""Run featcheck claims inside a pytest suite.

::

    import featcheck
    from featcheck.testing import assert_claim_holds

    @featcheck.claim("mythesis.lemma2", provenance=..., statement="...")
    def lemma2(ctx: featcheck.ClaimContext) -> featcheck.Evidence:
        ...

    def test_lemma2():
        assert_claim_holds(lemma2)

A violated claim fails the test with its counterexample; a claim that errors fails
with its exception; an inconclusive one fails too, saying that the measurement could
not decide, unless ``inconclusive="skip"`` is given (then the test is skipped with the
reason). pytest is needed only when a claim does not hold.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from featcheck.numerics.claims import load
from featcheck.numerics.claims.base import REGISTRY, Claim, Evidence, Status, run_claim
from featcheck.numerics.report import describe_check

__all__ = ["ClaimFailed", "ClaimInconclusive", "assert_claim_holds", "find_claim"]


class ClaimFailed(AssertionError):
    """A claim was violated or raised; the message holds the counterexample."""

    def __init__(self, message: str, evidence: Evidence) -> None:
        super().__init__(message)
        self.evidence = evidence


class ClaimInconclusive(AssertionError):
    """The measurement could not decide whether the claim holds."""

    def __init__(self, message: str, evidence: Evidence) -> None:
        super().__init__(message)
        self.evidence = evidence


def find_claim(claim: Claim | str | Callable) -> Claim:
    """The registered claim given as a :class:`Claim`, its id, or its decorated function."""
    if isinstance(claim, Claim):
        return claim
    if isinstance(claim, str):
        if claim not in REGISTRY:
            load()  # featcheck's own claims and those of installed packages
        try:
            return REGISTRY[claim]
        except KeyError:
            raise LookupError(
                f"no claim {claim!r} is registered: import the module that defines it first"
            ) from None
    for registered in REGISTRY.values():
        if registered.run is claim:
            return registered
    raise LookupError(f"{claim!r} is not a registered claim (decorate it with featcheck.claim)")


def assert_claim_holds(
    claim: Claim | str | Callable,
    *,
    budget: str = "quick",
    seed: int = 0,
    figure_dir: Path | None = None,
    inconclusive: Literal["fail", "skip"] = "fail",
) -> Evidence:
    """Run ``claim`` and return its evidence if it holds; otherwise fail the test.

    ``budget`` and ``seed`` are those of ``featcheck verify``: the same seed gives the
    same numbers. The failure message names the claim, its status, its source and every
    failing check with its inputs (the counterexample).
    """
    found = find_claim(claim)
    evidence = run_claim(found, budget, seed, figure_dir)
    if evidence.status == Status.HOLDS:
        return evidence
    header = f"claim {found.id} is {evidence.status} (budget {budget}, seed {seed})"
    lines = [header, f"  statement: {found.statement}", f"  source: {found.source}"]
    if evidence.status == Status.ERROR:
        lines.append(f"  error: {evidence.error}")
        lines.append(str(evidence.details.get("traceback", "")))
    for check in evidence.failures:
        lines.append(f"  counterexample: {describe_check(check)}")
        if check.inputs:
            lines.append("    at " + ", ".join(f"{k}={v}" for k, v in check.inputs.items()))
    if evidence.status == Status.INCONCLUSIVE:
        undecided = [c for c in evidence.checks if not c.decidable]
        lines.append(
            "  the measurement could not decide"
            + (f" ({len(undecided)} undecidable checks)" if undecided else "")
            + (f": {evidence.note}" if evidence.note else "")
        )
    message = "\n".join(lines)
    if evidence.status == Status.INCONCLUSIVE:
        if inconclusive == "skip":
            import pytest

            pytest.skip(message)
        raise ClaimInconclusive(message, evidence)
    raise ClaimFailed(message, evidence)
