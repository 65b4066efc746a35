"""What a predicted exponent is: a piecewise expression, its regimes, and its evaluation.

A sample complexity ``n ~ L(d) d^e`` is quoted by its exponent ``e`` and its
logarithmic factor ``L`` (``1`` or ``log d``).  Every prediction is a
:class:`sympy.Piecewise` in the information exponent ``s`` (a whole number
``>= 1``) and, for the spiked model
``Sigma = (I_d + kappa theta theta^T)/(1 + kappa)``, the scalings ``r1`` and
``r2`` of the alignment ``c = <u, theta> = d^(-r1)`` and of the spike
``kappa = d^r2``.  Its pieces are listed as :class:`Regime` objects (a name, the
condition on ``(s, r1, r2)``, the exponent there), and :meth:`Prediction.at`
evaluates it exactly at a point, checking that the table and the ``Piecewise``
agree there.

Domain: ``r1`` in ``[0, 1/2]`` (the alignment of a direction with a random one
is at least ``d^(-1/2)``), ``r2`` in ``[0, 1]`` (a spike beyond ``d`` makes the
overlap of order one); the initial overlap ``rho0`` alone is also defined for
``r2`` in ``(1, 2]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.errors import DomainError
from featcheck.theory.names import SPIKED_LEARNERS

s = sp.Symbol("s", positive=True, integer=True)
r1 = sp.Symbol("r_1", nonnegative=True)
r2 = sp.Symbol("r_2", nonnegative=True)
d = sp.Symbol("d", positive=True)


#: The spike scalings: alignment ``c = d^(-r1)``, spike ``kappa = d^r2``.
R1_RANGE = (sp.Integer(0), sp.Rational(1, 2))
R2_RANGE = (sp.Integer(0), sp.Integer(1))
#: ``rho0`` alone is also defined for a spike beyond ``d`` (regime iv).
R2_RANGE_RHO0 = (sp.Integer(0), sp.Integer(2))
MAX_S = 50


@dataclass(frozen=True)
class Regime:
    """One piece of a piecewise prediction: a name, its condition and its value."""

    name: str
    condition: sp.Basic
    exponent: sp.Expr
    log_factor: sp.Expr = sp.S.One


@dataclass
class Prediction:
    """A predicted exponent: ``n ~ log_factor * d^exponent``.

    ``bound`` says what kind of rate it is: ``"achieved"`` (an algorithm's sample
    complexity), ``"lower bound"``, or ``"order"`` (the order of magnitude of a
    quantity that is not a sample count, such as ``rho0``).
    """

    learner: str
    exponent: sp.Expr
    regimes: tuple[Regime, ...]
    derivation: Derivation
    bound: str
    convention: str = ""
    effective_dimension: bool = False
    valid: sp.Basic = sp.true
    notes: list[str] = field(default_factory=list)

    def at(self, s_value: int, r1_value=0, r2_value=0) -> Evaluation:
        """The prediction at a point; :class:`DomainError` outside its validity."""
        point = _point(self, s_value, r1_value, r2_value)
        if self.valid.subs(point) is not sp.true:
            where = f"s = {s_value}"
            if self.learner in SPIKED_LEARNERS or self.learner == "rho0":
                where += f", r1 = {r1_value}, r2 = {r2_value}"
            raise DomainError(
                f"the {self.learner} exponent is not defined at {where}: it needs {self.valid}"
            )
        for regime in self.regimes:
            if regime.condition.subs(point) is sp.true:
                exact = sp.simplify(regime.exponent.subs(point))
                check = sp.simplify(self.exponent.subs(point))
                if exact != check:  # the table and the Piecewise agree
                    raise AssertionError(f"regime table disagrees with Piecewise at {point}")
                return Evaluation(
                    self.learner,
                    exact,
                    float(exact),
                    regime.name,
                    regime.log_factor.subs(point),
                    self.bound,
                    self.convention,
                    self.effective_dimension,
                )
        raise DomainError(f"no regime of {self.learner} covers {point}")


@dataclass(frozen=True)
class Evaluation:
    """A prediction at one point ``(s, r1, r2)``: the exact exponent, its regime and factor."""

    learner: str
    exact: sp.Expr
    value: float
    regime: str
    log_factor: sp.Expr
    bound: str
    convention: str
    effective_dimension: bool

    def sample_complexity(self) -> sp.Expr:
        """``n(d) = log_factor * d^exponent`` as an expression in ``d``."""
        return self.log_factor * d**self.exact


def rational(value, name: str) -> sp.Rational:
    """``value`` (an int, float, decimal string, Fraction or sympy number) as an exact rational.

    Floats are read through their shortest decimal form, so ``0.1`` is ``1/10``.
    """
    try:
        if isinstance(value, sp.Rational):
            out = value
        elif isinstance(value, sp.Basic):
            out = sp.Rational(str(sp.N(value, 17))) if value.is_number else sp.nan
        else:
            out = sp.Rational(Fraction(str(value)))
    except (ValueError, TypeError):
        raise DomainError(f"{name} must be a number, got {value!r}") from None
    if not out.is_rational:
        raise DomainError(f"{name} must be rational or a decimal, got {value!r}")
    return out


def whole_s(s_value) -> sp.Integer:
    """The information exponent as a sympy integer; :class:`DomainError` unless in ``1..MAX_S``."""
    if isinstance(s_value, bool) or int(s_value) != s_value or s_value < 1:
        raise DomainError(f"the information exponent s must be a whole number >= 1, got {s_value}")
    if s_value > MAX_S:
        raise DomainError(f"s = {s_value} is above the supported maximum {MAX_S}")
    return sp.Integer(int(s_value))


def _point(prediction: Prediction, s_value, r1_value, r2_value) -> dict:
    s_exact = whole_s(s_value)
    a, b = rational(r1_value, "r1"), rational(r2_value, "r2")
    r2_range = R2_RANGE_RHO0 if prediction.learner == "rho0" else R2_RANGE
    if not R1_RANGE[0] <= a <= R1_RANGE[1]:
        raise DomainError(f"r1 = {r1_value} is outside [0, 1/2] (alignment c = d^(-r1))")
    if not r2_range[0] <= b <= r2_range[1]:
        raise DomainError(
            f"r2 = {r2_value} is outside [{r2_range[0]}, {r2_range[1]}] (spike kappa = d^r2)"
        )
    return {s: s_exact, r1: a, r2: b}
