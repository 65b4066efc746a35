"""The committed spiked-flow documents are what ``featcheck derive spiked`` writes today."""

from pathlib import Path

import pytest

from featcheck.numerics.cli import main
from featcheck.theory.dynamics.spiked.escape import DOCUMENTS as ESCAPE_DOCUMENTS

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "derivations"

#: committed document -> the arguments of ``featcheck derive spiked`` that write it
GENERATOR = {
    "spiked-normalized-relu-he3.md": ["--flow", "normalized", "--link", "he(3)"],
    "spiked-normalized-relu-he4.md": ["--flow", "normalized", "--link", "he(4)"],
    "spiked-plain-relu-he3.md": ["--flow", "plain", "--link", "he(3)"],
    "spiked-plain-relu-he4.md": ["--flow", "plain", "--link", "he(4)"],
    "spiked-plain-relu-minus-h4.md": ["--flow", "plain", "--link=-h(4)"],
    "spiked-plain-relu-minus-h4-ba.md": ["--flow", "plain", "--link=-h(4)", "--convention", "ba"],
    "spiked-plain-zabsz-he3.md": ["--flow", "plain", "--activation", "z*abs(z)", "--link", "he(3)"],
    "spiked-preconditioned-relu-he3.md": ["--flow", "preconditioned", "--link", "he(3)"],
    "spiked-preconditioned-relu-he4.md": ["--flow", "preconditioned", "--link", "he(4)"],
    "spiked-preconditioned-relu-minus-h4.md": ["--flow", "preconditioned", "--link=-h(4)"],
}


def test_every_committed_spiked_document_has_its_generator():
    committed = {path.name for path in DOCS.glob("spiked-*.md")} - set(ESCAPE_DOCUMENTS)
    assert committed == set(GENERATOR)


@pytest.mark.parametrize("name", sorted(GENERATOR))
def test_committed_document_is_the_generator_output(name, tmp_path, capsys):
    target = tmp_path / name
    assert main(["derive", "spiked", *GENERATOR[name], "-o", str(target)]) == 0
    assert capsys.readouterr().out == f"wrote {target}\n"
    assert (DOCS / name).read_text(encoding="utf-8") == target.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(GENERATOR))
def test_documents_cite_the_paper_or_featcheck_only(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    assert "arXiv 2309.03843" in text
    for internal in ("reference ", "spiked-single-index", ".md ["):
        assert internal not in text, internal
