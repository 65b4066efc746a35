"""Every committed one-step derivation document is what the generator writes today.

Regenerate with ``featcheck derive onestep --activation A --link T --alpha 0.355
-o docs/derivations/onestep-NAME.md`` (the arguments of :data:`GENERATED`).
"""

from pathlib import Path

import pytest

from featcheck.theory.onestep import onestep_derivation

DOCS = Path(__file__).resolve().parents[2] / "docs" / "derivations"

#: committed document -> the arguments of onestep_derivation that generate it
GENERATED = {
    "onestep-relu.md": {"activation": "relu", "target": "tanh", "alpha": 0.355},
    "onestep-tanh.md": {"activation": "tanh", "target": "tanh", "alpha": 0.355},
    "onestep-null-target.md": {"activation": "relu", "target": "he(2)", "alpha": 0.355},
}


def test_every_committed_document_has_a_generator():
    assert {p.name for p in DOCS.glob("onestep-*.md")} == set(GENERATED)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_committed_document_equals_the_generator_output(name):
    expected = onestep_derivation(**GENERATED[name]).to_markdown()
    assert (DOCS / name).read_text(encoding="utf-8") == expected
