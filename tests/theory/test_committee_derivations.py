"""The committed derivation documents of the example models are what the code generates."""

from pathlib import Path

import pytest

from featcheck.theory.committee.document import derivation_document
from featcheck.theory.committee.model import EXAMPLES, example_path, load_model

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", EXAMPLES)
def test_committed_committee_derivation_is_current(name):
    model = load_model(DOCS / "examples" / f"{name}.toml")
    expected = derivation_document(model).to_markdown()
    assert (DOCS / "derivations" / f"committee-{name}.md").read_text() == expected


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_load_by_name(name):
    assert example_path(name) == DOCS / "examples" / f"{name}.toml"
    assert load_model(name).name == name
