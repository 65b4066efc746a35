"""The committed linear-network derivation documents are what the generator writes today.

Regenerate one with ``featcheck derive linear --data LAW --dim D --depth N -o
docs/derivations/linear-LAW-dD-depthN.md``.
"""

import re
from pathlib import Path

import pytest

from featcheck.theory.linear import linear_derivation

DOCS = Path(__file__).resolve().parents[2] / "docs" / "derivations"
NAME = re.compile(r"linear-(?P<law>sphere|gaussian)-d(?P<dim>\d+)-depth(?P<depth>\d+)\.md")
COMMITTED = sorted(DOCS.glob("linear-*.md"))


def test_the_documents_cited_by_the_claims_are_committed():
    names = {path.name for path in COMMITTED}
    assert {"linear-sphere-d2-depth4.md", "linear-gaussian-d3-depth1.md"} <= names


@pytest.mark.parametrize("path", COMMITTED, ids=lambda path: path.name)
def test_committed_linear_derivation_is_current(path):
    match = NAME.fullmatch(path.name)
    assert match, f"{path.name} does not name its law, dimension and depth"
    law, dim, depth = match["law"], int(match["dim"]), int(match["depth"])
    expected = linear_derivation(law, dim, depth).to_markdown()
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.name} is stale: featcheck derive linear --data {law} --dim {dim} "
        f"--depth {depth} -o {path.relative_to(DOCS.parents[1])}"
    )
