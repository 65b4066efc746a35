"""Committed derivation documents are what the code generates today."""

import re
from pathlib import Path

import pytest

from featcheck.theory.dynamics.spiked.escape import DOCUMENTS as ESCAPE_DOCUMENTS
from featcheck.theory.dynamics.spiked.escape import equator_escape
from featcheck.theory.functions import parse_function
from featcheck.theory.hermite_derivation import hermite_derivation
from featcheck.theory.linear import linear_derivation

DOCS = Path(__file__).resolve().parent.parent / "docs" / "derivations"
LINEAR_NAME = re.compile(r"linear-(?P<law>sphere|gaussian)-d(?P<dim>\d+)-depth(?P<depth>\d+)\.md")


@pytest.mark.parametrize(
    ("name", "function"), [("relu", "relu"), ("relu-bias-half", "relu(z+1/2)"), ("tanh", "tanh")]
)
def test_hermite_derivations_are_current(name, function):
    expected = hermite_derivation(parse_function(function), 8).to_markdown()
    assert (DOCS / f"hermite-{name}.md").read_text() == expected


@pytest.mark.parametrize("name", sorted(ESCAPE_DOCUMENTS))
def test_spiked_escape_derivations_are_current(name):
    activation, link = ESCAPE_DOCUMENTS[name]
    expected = equator_escape(activation, link).derivation.to_markdown()
    assert (DOCS / name).read_text(encoding="utf-8") == expected


def test_every_spiked_and_linear_document_has_a_generator():
    """Spiked flows: tests/theory/test_spiked_derivations.py (featcheck derive spiked) and
    the escape documents above; linear networks: tests/theory/test_linear_derivations.py."""
    spiked = {p.name for p in DOCS.glob("spiked-*.md")}
    assert set(ESCAPE_DOCUMENTS) <= spiked
    for path in DOCS.glob("linear-*.md"):
        assert LINEAR_NAME.fullmatch(path.name), path.name


@pytest.mark.parametrize("path", sorted(DOCS.glob("linear-*.md")), ids=lambda p: p.name)
def test_linear_derivations_are_current(path):
    match = LINEAR_NAME.fullmatch(path.name)
    assert match, f"{path.name} does not name its law, dimension and depth"
    law, dim, depth = match["law"], int(match["dim"]), int(match["depth"])
    expected = linear_derivation(law, dim, depth).to_markdown()
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.name} is stale: featcheck derive linear --data {law} --dim {dim} "
        f"--depth {depth} -o docs/derivations/{path.name}"
    )


def test_committee_spiked_derivation_is_current():
    from featcheck.theory.committee.document import derivation_document
    from featcheck.theory.committee.model import load_model

    expected = derivation_document(load_model("spiked-single-index")).to_markdown()
    assert (DOCS / "committee-spiked-single-index.md").read_text() == expected
