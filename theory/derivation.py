"""Derivation documents: ordered steps of exact statements with their reasons.

A :class:`Derivation` records how an exact object was obtained.  Each step has a
title, a statement (a sympy expression, equation or a list of them), a
justification in words and, where it comes from the literature, a source.  It
renders to Markdown with LaTeX math and to a stand-alone LaTeX file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sympy as sp

Statement = sp.Basic | sp.Eq | Sequence[sp.Basic] | str | None


@dataclass(frozen=True)
class Step:
    """One step of a derivation."""

    title: str
    statement: Statement
    justification: str = ""
    source: str = ""


def _latex_lines(statement: Statement) -> list[str]:
    if statement is None:
        return []
    if isinstance(statement, str):
        return [statement]
    if isinstance(statement, sp.Basic):
        return [sp.latex(statement)]
    return [line for item in statement for line in _latex_lines(item)]


@dataclass
class Derivation:
    """An ordered list of :class:`Step` objects with a title and a summary."""

    title: str
    summary: str = ""
    steps: list[Step] = field(default_factory=list)

    def add(
        self,
        title: str,
        statement: Statement = None,
        justification: str = "",
        source: str = "",
    ) -> Derivation:
        """Append a step and return the derivation (so calls can be chained)."""
        self.steps.append(Step(title, statement, justification, source))
        return self

    def extend(self, steps: Iterable[Step]) -> Derivation:
        self.steps.extend(steps)
        return self

    def to_markdown(self) -> str:
        """Markdown with ``$$ ... $$`` display math (renders on GitHub and in Pandoc)."""
        out = [f"# {self.title}", ""]
        if self.summary:
            out += [self.summary, ""]
        for number, step in enumerate(self.steps, start=1):
            out += [f"## {number}. {step.title}", ""]
            for line in _latex_lines(step.statement):
                out += ["$$", line, "$$", ""]
            if step.justification:
                out += [step.justification, ""]
            if step.source:
                out += [f"*Source:* {step.source}", ""]
        return "\n".join(out).rstrip() + "\n"

    def to_latex(self) -> str:
        """A stand-alone LaTeX document (``pdflatex`` compiles it as is)."""
        out = [
            r"\documentclass{article}",
            r"\usepackage[utf8]{inputenc}",
            r"\usepackage{amsmath,amssymb}",
            r"\usepackage[margin=2.5cm]{geometry}",
            r"\allowdisplaybreaks",
            rf"\title{{{_tex_text(self.title)}}}",
            r"\date{}",
            r"\begin{document}",
            r"\maketitle",
        ]
        if self.summary:
            out.append(_tex_text(self.summary))
        for step in self.steps:
            out.append(rf"\section{{{_tex_text(step.title)}}}")
            for line in _latex_lines(step.statement):
                out += [r"\begin{equation*}", line, r"\end{equation*}"]
            if step.justification:
                out.append(_tex_text(step.justification))
            if step.source:
                out.append(rf"\par\emph{{Source:}} {_tex_text(step.source)}")
        out.append(r"\end{document}")
        return "\n".join(out) + "\n"

    def render(self, fmt: str) -> str:
        """Render as ``md`` or ``tex``."""
        if fmt == "md":
            return self.to_markdown()
        if fmt == "tex":
            return self.to_latex()
        from featcheck.theory.errors import InputError

        raise InputError(f"unknown derivation format {fmt!r}: use 'md' or 'tex'")


#: Prose characters that LaTeX treats specially, as they print in the default (OT1)
#: encoding: ``<``, ``>`` and ``|`` exist there only as math symbols.
_TEX_ESCAPES = {
    "\\": r"\ensuremath{\backslash}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "^": r"\^{}",
    "~": r"\~{}",
    "<": r"\ensuremath{<}",
    ">": r"\ensuremath{>}",
    "|": r"\ensuremath{|}",
    "$": r"\$",
}


def _tex_escape(text: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in text)


def _tex_prose(text: str) -> str:
    """Prose outside math: ``code`` in typewriter type, every special character escaped."""
    pieces = text.split("`")
    if len(pieces) % 2 == 0:  # an unmatched backquote is a character, not markup
        return _tex_escape(text)
    return "".join(
        _tex_escape(piece) if i % 2 == 0 else rf"\texttt{{{_tex_escape(piece)}}}"
        for i, piece in enumerate(pieces)
    )


def _tex_text(text: str) -> str:
    """Prose for LaTeX: inline ``$...$`` math is kept as it is, the rest is escaped."""
    parts = text.split("$")
    if len(parts) % 2 == 0:  # an unmatched dollar sign: no math, all prose
        return _tex_prose(text)
    return "$".join(part if i % 2 else _tex_prose(part) for i, part in enumerate(parts))
