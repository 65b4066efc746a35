"""The predicted exponent of one learner at one point, as a JSON-ready result.

:func:`exponent` evaluates :func:`featcheck.theory.exponents.predict` at an information
exponent ``s`` and, for the spiked learners and ``rho0``, at the scalings ``r1``
(alignment ``c = d^(-r1)``) and ``r2`` (spike ``kappa = d^r2``), and adds the symbolic
consistency checks of the spiked predictions.  It is what ``featcheck exponent`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from featcheck.numerics.jsonable import JsonResult
from featcheck.theory.errors import DomainError
from featcheck.theory.exponents import SPIKED_LEARNERS, consistency_checks, predict


@dataclass(frozen=True)
class ExponentReport(JsonResult):
    """A prediction at a point: ``n(d) ~ log_factor * d^exact`` (``rho0 ~ d^exact``).

    ``s`` is None for ``rho0``; ``r1`` and ``r2`` are None for the isotropic learners;
    ``consistency`` (spiked learners only) maps each symbolic check to whether it holds.
    """

    learner: str
    s: int | None
    r1: float | None
    r2: float | None
    exact: sp.Expr
    value: float
    regime: str
    log_factor: sp.Expr
    bound: str
    convention: str | None
    effective_dimension: bool
    piecewise: sp.Expr
    consistency: dict[str, bool] | None = None

    @property
    def sample_complexity(self) -> str:
        """``n(d)`` as text, e.g. ``d*log(d)``; ``rho0 ~ d**(-3/8)`` for ``rho0``."""
        if self.learner == "rho0":
            return "rho0 ~ " + sp.sstr(sp.Symbol("d") ** self.exact)
        return sp.sstr(self.log_factor * sp.Symbol("d", positive=True) ** self.exact)

    def to_json(self) -> dict[str, Any]:
        out = {
            "learner": self.learner,
            "s": self.s,
            "r1": self.r1,
            "r2": self.r2,
            "exponent": sp.sstr(self.exact),
            "value": self.value,
            "regime": self.regime,
            "log_factor": sp.sstr(self.log_factor),
            "sample_complexity": self.sample_complexity,
            "bound": self.bound,
            "convention": self.convention,
            "effective_dimension": self.effective_dimension,
            "piecewise": sp.sstr(self.piecewise),
        }
        if self.consistency is not None:
            out["consistency"] = dict(self.consistency)
        return out


def exponent(
    *,
    learner: str,
    s: int | None = None,
    r1: float | None = None,
    r2: float | None = None,
    effective_dimension: bool = False,
) -> ExponentReport:
    """The predicted exponent of ``learner`` (one of :data:`~featcheck.theory.exponents.LEARNERS`).

    ``s`` is required except for ``rho0``; ``r1`` and ``r2`` apply to the spiked learners
    and ``rho0`` only, and default to 0 there.  ``effective_dimension`` (spiked learners)
    takes the prefactor ``d/kappa`` instead of ``d``.  Raises
    :class:`~featcheck.theory.errors.DomainError` outside the domain of the prediction.
    """
    spiked = learner in SPIKED_LEARNERS or learner == "rho0"
    prediction = predict(learner, effective_dimension)  # checks the learner first
    if not spiked and (r1 is not None or r2 is not None):
        raise DomainError(f"r1 and r2 apply to spiked learners and rho0, not to {learner!r}")
    if s is None and learner != "rho0":
        raise DomainError(f"the {learner} exponent needs the information exponent s")
    r1_value = 0.0 if r1 is None else r1
    r2_value = 0.0 if r2 is None else r2
    value = prediction.at(1 if s is None else s, r1_value, r2_value)
    consistency = None
    if learner in SPIKED_LEARNERS:
        consistency = {c.name: c.holds for c in consistency_checks(prediction)}
    return ExponentReport(
        learner=learner,
        s=None if learner == "rho0" else s,
        r1=r1_value if spiked else None,
        r2=r2_value if spiked else None,
        exact=value.exact,
        value=value.value,
        regime=value.regime,
        log_factor=value.log_factor,
        bound=value.bound,
        convention=value.convention or None,
        effective_dimension=effective_dimension,
        piecewise=prediction.exponent,
        consistency=consistency,
    )
