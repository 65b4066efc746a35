"""Claims: a prediction from theory, a measurement from numerics, an agreement rule.

A claim is a function decorated with :func:`claim`; it receives a
:class:`ClaimContext` (budget, seeded random generator, figure directory) and
returns :class:`Evidence` built from :class:`Check` objects.  The status is
``holds`` when every check passes, ``violated`` when one fails (its numbers
become the counterexample), ``inconclusive`` when the measurement cannot decide
and ``error`` when the claim raised.
"""

from __future__ import annotations

import inspect
import math
import re
import time
import traceback
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from featcheck.numerics.claims.provenance import Provenance
from featcheck.numerics.jsonable import finite_plain, plain
from featcheck.numerics.names import BUDGETS as BUDGETS  # re-exported: the budgets of a claim
from featcheck.theory.errors import InputError, NumericalError

T = TypeVar("T")


class Status(StrEnum):
    HOLDS = "holds"
    VIOLATED = "violated"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


@dataclass
class Check:
    """One comparison of a predicted number with a measured one.

    ``passed`` is decided by the rule that built the check; ``tolerance`` is the
    allowed distance it used (an error bound or a confidence half-width).  A check
    that passed but could not have failed at this size (``decidable=False``) makes
    the claim inconclusive rather than holding.
    """

    label: str
    predicted: Any
    measured: Any
    tolerance: Any
    passed: bool
    inputs: dict[str, Any] = field(default_factory=dict)
    decidable: bool = True

    @property
    def ratio(self) -> float:
        """``|measured - predicted| / tolerance`` (how close to failing; > 1 fails)."""
        try:
            gap = abs(float(self.measured) - float(self.predicted))
            tol = float(self.tolerance)
        except (TypeError, ValueError):
            return 0.0 if self.passed else math.inf
        if tol == 0:
            return 0.0 if gap == 0 else math.inf
        return gap / tol

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "predicted": plain(self.predicted),
            "measured": plain(self.measured),
            "tolerance": plain(self.tolerance),
            "passed": self.passed,
            "inputs": plain(self.inputs),
        }


def within(label: str, predicted: float, measured: float, tolerance: float, **inputs: Any) -> Check:
    """Agreement rule ``|measured - predicted| <= tolerance``."""
    passed = bool(abs(float(measured) - float(predicted)) <= float(tolerance))
    return Check(label, float(predicted), float(measured), float(tolerance), passed, inputs)


def contains(label: str, predicted: float, low: float, high: float, **inputs: Any) -> Check:
    """Agreement rule: the prediction lies in the measured interval ``[low, high]``."""
    passed = bool(low <= predicted <= high)
    return Check(label, float(predicted), [float(low), float(high)], None, passed, inputs)


def holds_if(label: str, condition: bool, predicted: Any, measured: Any, **inputs: Any) -> Check:
    """A qualitative rule (a sign, an ordering, a count)."""
    return Check(label, predicted, measured, None, bool(condition), inputs)


@dataclass
class Evidence:
    """What a claim returns; the runner fills in identity, timing and status."""

    checks: list[Check] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    inconclusive: bool = False
    claim_id: str = ""
    provenance: Provenance | None = None
    statement: str = ""
    status: Status = Status.HOLDS
    seconds: float = 0.0
    error: str = ""

    @property
    def source(self) -> str:
        """The provenance as one line (empty before the runner fills it in)."""
        return self.provenance.citation if self.provenance else ""

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def extend(self, checks: Iterable[Check]) -> None:
        self.checks.extend(checks)

    def add_figure(self, path: Path | None) -> None:
        """Attach a saved figure; ``None`` (figures not wanted) is ignored."""
        if path is not None:
            self.figures.append(path)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def worst(self) -> Check | None:
        """The failing check, or else the one closest to failing."""
        if self.failures:
            return self.failures[0]
        numeric = [c for c in self.checks if c.tolerance is not None]
        return max(numeric or self.checks, key=lambda c: c.ratio, default=None)

    def decide(self) -> Status:
        if self.error:
            return Status.ERROR
        if self.failures:
            return Status.VIOLATED
        if self.inconclusive or not self.checks or not all(c.decidable for c in self.checks):
            return Status.INCONCLUSIVE
        return Status.HOLDS

    def to_json(self) -> dict[str, Any]:
        worst = self.worst
        failing = self.failures
        return {
            "id": self.claim_id,
            "source": self.source,
            "provenance": self.provenance.to_json() if self.provenance else None,
            "statement": self.statement,
            "status": str(self.status),
            "predicted": plain(worst.predicted) if worst else None,
            "measured": plain(worst.measured) if worst else None,
            "tolerance": plain(worst.tolerance) if worst else None,
            "counterexample": failing[0].to_json() if failing else None,
            "checks": [c.to_json() for c in self.checks],
            "n_checks": len(self.checks),
            "n_failed": len(failing),
            "details": plain(self.details),
            "figures": [str(p) for p in self.figures],
            "note": self.note,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class ClaimContext:
    """What a claim may use: the budget, its own random stream, a figure directory."""

    budget: str
    seed: int
    claim_id: str
    figure_dir: Path | None = None

    @property
    def full(self) -> bool:
        return self.budget == "full"

    def pick(self, *, quick: T, full: T) -> T:
        """The value for this run's budget: ``ctx.pick(quick=1_000, full=100_000)``."""
        return full if self.full else quick

    def seed_sequence(self) -> np.random.SeedSequence:
        """A stream that depends on the seed and the claim id only (not on run order)."""
        return np.random.SeedSequence(self.seed, spawn_key=(zlib.crc32(self.claim_id.encode()),))

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed_sequence())

    def figure_path(self, name: str) -> Path | None:
        """Where to save a figure, or None when figures are not wanted."""
        if self.figure_dir is None:
            return None
        self.figure_dir.mkdir(parents=True, exist_ok=True)
        return self.figure_dir / f"{self.claim_id}.{name}.png"


@dataclass(frozen=True)
class Claim:
    """A registered statement: its id, where it comes from, what it says, how it is run."""

    id: str
    provenance: Provenance
    statement: str
    run: Callable[[ClaimContext], Evidence]

    @property
    def source(self) -> str:
        return self.provenance.citation

    @property
    def module(self) -> str:
        """The module that defines the claim's function."""
        return getattr(self.run, "__module__", "?")

    @property
    def definition(self) -> tuple[str, str]:
        """Where the claim's function is defined: ``(file, qualified name)``; for code run
        in ``__main__`` (a notebook, a script) ``("__main__", qualified name)``, so that
        re-running a cell re-registers the same definition."""
        qualname = getattr(self.run, "__qualname__", repr(self.run))
        if self.module == "__main__":
            return ("__main__", qualname)
        try:
            where = inspect.getsourcefile(self.run) or self.module
        except TypeError:
            where = self.module
        return (str(Path(where).resolve()) if where != self.module else where, qualname)


REGISTRY: dict[str, Claim] = {}

_ID = re.compile(r"[A-Za-z0-9]+([._-][A-Za-z0-9]+)*")


def claim(id: str, *, provenance: Provenance, statement: str):
    """Register the decorated function as the claim ``id``.

    The function takes a :class:`ClaimContext` and returns :class:`Evidence`.
    Registering an id again from the same definition (same module and qualified name,
    as when a notebook cell or a claims file is run twice) replaces the earlier claim;
    an id already taken by a different definition is an :class:`InputError`.
    """
    if not isinstance(id, str) or not _ID.fullmatch(id):
        raise InputError(
            f"claim id {id!r} must be letters and digits joined by '.', '_' or '-' "
            "(for example 'mypaper.theorem2')"
        )
    if not isinstance(provenance, Provenance):
        raise InputError(f"claim {id!r}: provenance must be a featcheck Provenance")

    def register(function: Callable[[ClaimContext], Evidence]):
        new = Claim(id, provenance, statement, function)
        old = REGISTRY.get(id)
        if old is not None and old.definition != new.definition:
            raise InputError(
                f"claim id {id!r} is defined twice: by {old.definition[1]} in "
                f"{old.definition[0]} and by {new.definition[1]} in {new.definition[0]}"
            )
        REGISTRY[id] = new
        return function

    return register


def run_claim(c: Claim, budget: str, seed: int, figure_dir: Path | None = None) -> Evidence:
    """Run one claim and fill in its status; an exception becomes status ``error``."""
    start = time.perf_counter()
    context = ClaimContext(budget, seed, c.id, figure_dir)
    try:
        evidence = c.run(context)
    except Exception as exc:  # a broken claim is reported, never hidden
        evidence = Evidence(error=f"{type(exc).__name__}: {exc}")
        evidence.details["traceback"] = traceback.format_exc(limit=6)
    if not isinstance(evidence, Evidence):
        evidence = Evidence(
            error=f"the claim returned {type(evidence).__name__}, not featcheck Evidence"
        )
    evidence.claim_id, evidence.provenance, evidence.statement = c.id, c.provenance, c.statement
    if not evidence.error:
        try:  # a NaN or an infinity in the evidence is a broken measurement, not a finding
            record = {"checks": [c.to_json() for c in evidence.checks]}
            finite_plain({**record, "details": evidence.details}, "evidence")
        except NumericalError as exc:  # reported by its field; the values are not kept
            evidence.error = f"the claim's evidence is not finite: {exc}"
            evidence.checks, evidence.details = [], {}
    evidence.seconds = time.perf_counter() - start
    evidence.status = evidence.decide()
    return evidence
