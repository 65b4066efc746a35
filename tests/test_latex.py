"""Every ``--format tex`` document compiles with ``pdflatex -halt-on-error``.

One fresh document per family of ``featcheck derive``, every committed
``docs/derivations/*.tex``, and a check that each committed one is what its generator
writes today. Without ``pdflatex`` the compiling tests skip (on Debian:
``apt-get install texlive-latex-base``), except when the environment variable ``CI``
is set: CI installs it, so there they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from featcheck.numerics.cli import main

DERIVATIONS = Path(__file__).resolve().parent.parent / "docs" / "derivations"

#: ``featcheck derive`` arguments (without ``--format tex``) of one document per family
FAMILIES = {
    "hermite": ["hermite", "relu(z+1/2)", "--max-degree", "6"],
    "hermite-numeric": ["hermite", "tanh", "--max-degree", "4"],
    "spiked": ["spiked", "--flow", "plain", "--link", "he(3)"],
    "exponent": ["exponent", "--learner", "spiked-online", "--effective-dimension"],
    "preconditioning-gain": ["preconditioning-gain", "--comparator", "normalized"],
    "onestep": ["onestep", "--activation", "relu"],
    "linear": ["linear", "--data", "gaussian", "--dim", "3", "--depth", "2"],
    "committee": ["ode", "saad-solla"],
    "committee-spiked-variant": ["ode", "spiked-normalized"],
}

#: the committed LaTeX documents and the ``featcheck derive`` arguments that write them
COMMITTED = {
    "linear-sphere-d2-depth4.tex": ["linear", "--data", "sphere", "--dim", "2", "--depth", "4"],
}


def derive_tex(args: list[str], capsys) -> str:
    capsys.readouterr()
    assert main(["derive", *args, "--format", "tex"]) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def pdflatex() -> str:
    found = shutil.which("pdflatex")
    if found is None:
        reason = "pdflatex not found (Debian: apt-get install texlive-latex-base)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must install it", pytrace=False)
        pytest.skip(reason)
    return found


def compile_tex(pdflatex: str, text: str, directory: Path) -> None:
    source = directory / "document.tex"
    source.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [pdflatex, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape", source.name],
        cwd=directory,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0 or not (directory / "document.pdf").is_file():
        log = (directory / "document.log").read_text(errors="replace").splitlines()
        errors = ["\n".join(log[i : i + 3]) for i, line in enumerate(log) if line.startswith("!")]
        pytest.fail(
            f"pdflatex exited with {result.returncode}:\n" + "\n".join(errors or log[-30:]),
            pytrace=False,
        )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fresh_document_compiles(family, pdflatex, tmp_path, capsys):
    compile_tex(pdflatex, derive_tex(FAMILIES[family], capsys), tmp_path)


COMMITTED_TEX = sorted(p.name for p in DERIVATIONS.glob("*.tex"))


@pytest.mark.parametrize("name", COMMITTED_TEX)
def test_committed_document_compiles(name, pdflatex, tmp_path):
    compile_tex(pdflatex, (DERIVATIONS / name).read_text(encoding="utf-8"), tmp_path)


@pytest.mark.parametrize("name", COMMITTED_TEX)
def test_committed_document_is_what_its_generator_writes(name, capsys):
    assert name in COMMITTED, f"docs/derivations/{name}: name its generator in COMMITTED"
    assert (DERIVATIONS / name).read_text(encoding="utf-8") == derive_tex(COMMITTED[name], capsys)


def test_prose_is_escaped_and_markdown_is_unchanged():
    from featcheck.theory.derivation import Derivation

    doc = Derivation("a_1 < b^2", "Run `featcheck derive` for |x| ~ 100% & $x_1^2$ {#}.")
    assert doc.to_markdown() == (
        "# a_1 < b^2\n\nRun `featcheck derive` for |x| ~ 100% & $x_1^2$ {#}.\n"
    )
    tex = doc.to_latex()
    assert r"\title{a\_1 \ensuremath{<} b\^{}2}" in tex
    assert (
        r"Run \texttt{featcheck derive} for \ensuremath{|}x\ensuremath{|} \~{} 100\% \& "
        r"$x_1^2$ \{\#\}." in tex
    )


def test_every_special_character_of_prose_compiles(pdflatex, tmp_path):
    from featcheck.theory.derivation import _TEX_ESCAPES, Derivation

    specials = "".join(_TEX_ESCAPES)  # with one unmatched dollar sign: all prose
    prose = specials.replace("$", "")  # with inline math and code
    doc = Derivation(f"title {specials}", f"summary {prose} `code {prose}` and $x^2$")
    doc.add(f"step {prose} $y$", "x_1^2 < 1", f"because {specials}", f"source {prose}")
    tex = doc.to_latex()
    assert r"\$" in tex and "$x^2$" in tex and "$y$" in tex
    compile_tex(pdflatex, tex, tmp_path)
