"""The linear-network derivation documents cited by the claims are committed.

That each committed document is what the generator writes today is checked in
``tests/test_committed_derivations.py``; regenerate one with ``featcheck derive linear
--data LAW --dim D --depth N -o docs/derivations/linear-LAW-dD-depthN.md``.
"""

from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "derivations"
COMMITTED = sorted(DOCS.glob("linear-*.md"))


def test_the_documents_cited_by_the_claims_are_committed():
    names = {path.name for path in COMMITTED}
    assert {"linear-sphere-d2-depth4.md", "linear-gaussian-d3-depth1.md"} <= names
