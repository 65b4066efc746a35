"""Committed derivation documents are what the code generates today."""

from pathlib import Path

import pytest

from featcheck.theory.functions import parse_function
from featcheck.theory.hermite_derivation import hermite_derivation

DOCS = Path(__file__).resolve().parent.parent / "docs" / "derivations"


@pytest.mark.parametrize(
    ("name", "function"), [("relu", "relu"), ("relu-bias-half", "relu(z+1/2)"), ("tanh", "tanh")]
)
def test_hermite_derivations_are_current(name, function):
    expected = hermite_derivation(parse_function(function), 8).to_markdown()
    assert (DOCS / f"hermite-{name}.md").read_text() == expected


def test_committee_spiked_derivation_is_current():
    from featcheck.theory.committee.document import derivation_document
    from featcheck.theory.committee.model import load_model

    expected = derivation_document(load_model("spiked-single-index")).to_markdown()
    assert (DOCS / "committee-spiked-single-index.md").read_text() == expected
