"""Where a claim comes from, as data: the paper, the place in it, and the kind of statement.

Four kinds of statement are distinguished, because a reader draws different
conclusions from a violation of each:

``printed``
    the paper's statement as printed (a theorem, lemma, equation or figure);
    a violation means the printed statement is contradicted.
``derived``
    a consequence derived in featcheck; the derivation is a document in
    ``docs/derivations/`` (or a function that generates one), named in
    ``derivation``. A violation says the derivation or its measurement is wrong,
    not the paper.
``reading``
    an interpretation of the paper: an ``O(.)`` read as ``Theta(.)``, a rate read
    as tight, a statement taken from a summary rather than the paper's text. A
    violation says the reading is wrong, not the paper.
``open``
    a question the paper leaves open, stated by featcheck as a conjecture and
    measured (exploratory): its status reports what the measurement shows, for the
    sizes and models named in the statement, and says nothing against the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from featcheck.theory.errors import InputError

Kind = Literal["printed", "derived", "reading", "open"]
KINDS: tuple[Kind, ...] = ("printed", "derived", "reading", "open")


@dataclass(frozen=True)
class Paper:
    """A publication: authors, year, title, venue and arXiv identifier (``None`` if none)."""

    authors: str
    year: int
    title: str
    venue: str = ""
    arxiv: str | None = None

    @property
    def short(self) -> str:
        """``"Lin, Sun, Zhang (2021)"``."""
        return f"{self.authors} ({self.year})"


@dataclass(frozen=True)
class Provenance:
    """The source of a claim: ``paper`` (``None`` for a statement of featcheck's own),
    ``where`` in it (theorem, equation, figure), the ``kind`` of statement and, for a
    derived one, the ``derivation`` that produced it."""

    paper: Paper | None
    where: str
    kind: Kind
    derivation: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(
                f"provenance kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        if self.kind == "derived" and not self.derivation:
            raise InputError("a derived claim must name its derivation (document or generator)")
        if not self.where:
            raise InputError("provenance needs 'where': the theorem, equation or figure")

    @property
    def citation(self) -> str:
        """One line for tables and reports, e.g. ``Lin, Sun, Zhang (2021), Theorem 1 [printed]``."""
        paper = self.paper.short if self.paper else "featcheck"
        arxiv = f", arXiv {self.paper.arxiv}" if self.paper and self.paper.arxiv else ""
        derived = f"; derivation: {self.derivation}" if self.derivation else ""
        return f"{paper}{arxiv}, {self.where} [{self.kind}{derived}]"

    def to_json(self) -> dict[str, Any]:
        return {
            "paper": (
                f"{self.paper.authors} ({self.paper.year}), {self.paper.title}"
                + (f", {self.paper.venue}" if self.paper.venue else "")
                if self.paper
                else None
            ),
            "arxiv": self.paper.arxiv if self.paper else None,
            "where": self.where,
            "kind": self.kind,
            "derivation": self.derivation or None,
        }


def printed(paper: Paper | None, where: str) -> Provenance:
    """The paper's statement as printed."""
    return Provenance(paper, where, "printed")


def derived(paper: Paper | None, where: str, derivation: str) -> Provenance:
    """A consequence derived in featcheck; ``derivation`` names its document or generator."""
    return Provenance(paper, where, "derived", derivation)


def reading(paper: Paper | None, where: str) -> Provenance:
    """An interpretation of the paper's statement (say which in the claim's statement)."""
    return Provenance(paper, where, "reading")


def open_question(paper: Paper | None, where: str) -> Provenance:
    """A question the paper leaves open, stated and measured by featcheck (exploratory)."""
    return Provenance(paper, where, "open")


# The papers featcheck covers, and the standard references its identities come from.
MOUSAVI_HOSSEINI_2023 = Paper(
    "Mousavi-Hosseini, Wu, Suzuki, Erdogdu",
    2023,
    "Gradient-Based Feature Learning under Structured Data",
    "NeurIPS 2023",
    "2309.03843",
)
MONIRI_2024 = Paper(
    "Moniri, Lee, Hassani, Dobriban",
    2024,
    "A Theory of Non-Linear Feature Learning with One Gradient Step in Two-Layer Neural Networks",
    "ICML 2024",
    "2310.07891",
)
DEMIR_DOGAN_2025 = Paper(
    "Demir, Dogan",
    2025,
    "Asymptotic Analysis of Two-Layer Neural Networks after One Gradient Step under Gaussian "
    "Mixtures Data with Structure",
    "ICLR 2025",
    "2503.00856",
)
LIN_SUN_ZHANG_2021 = Paper(
    "Lin, Sun, Zhang",
    2021,
    "Faster Directional Convergence of Linear Neural Networks under Spherically Symmetric Data",
    "NeurIPS 2021",
    None,
)
BEN_AROUS_2021 = Paper(
    "Ben Arous, Gheissari, Jagannath",
    2021,
    "Online Stochastic Gradient Descent on Non-Convex Losses from High-Dimensional Inference",
    "JMLR 22",
    "2003.10409",
)
DLMF = Paper(
    "NIST DLMF",
    2024,
    "NIST Digital Library of Mathematical Functions (F. W. J. Olver et al., eds.)",
    "https://dlmf.nist.gov",
    None,
)
SAAD_SOLLA_1995 = Paper(
    "Saad, Solla",
    1995,
    "On-line learning in soft committee machines",
    "Phys. Rev. E 52, 4225",
    None,
)
GOLDT_2019 = Paper(
    "Goldt, Advani, Saxe, Krzakala, Zdeborova",
    2019,
    "Dynamics of stochastic gradient descent for two-layer neural networks in the "
    "teacher-student setup",
    "NeurIPS 2019",
    "1906.08632",
)
