"""Exact inputs and the status of a Hermite coefficient, shared by models A and B.

A spike of degree ``k`` needs ``mu_k(sigma) != 0``; :func:`coefficient_status` decides
that from a :class:`~featcheck.theory.hermite.Coefficient` (exact, or numeric with an
error bound).  :func:`exact_rational` turns user input into an exact rational, so that
thresholds such as ``alpha = (k-1)/(2k)`` are compared exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.hermite import Coefficient


def exact_rational(value: float | int | sp.Rational | Fraction, name: str) -> sp.Rational:
    """An exact rational from user input (floats by their shortest decimal form)."""
    if isinstance(value, sp.Rational):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise DomainError(f"{name} must be finite, got {value}")
        return sp.Rational(repr(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, int):
        return sp.Integer(value)
    raise InputError(f"{name} must be a number, got {value!r}")


#: Inputs this close (relatively) to a boundary are treated as the boundary: a float such
#: as 0.6666666666666666 stands for 2/3.
BOUNDARY_TOLERANCE = 1e-9


def at_integer(x: sp.Rational) -> bool:
    """Whether ``x`` is an integer, up to :data:`BOUNDARY_TOLERANCE` (relative)."""
    return bool(x.is_integer) or abs(float(x) - round(float(x))) <= BOUNDARY_TOLERANCE * float(x)


@dataclass(frozen=True)
class DegreeStatus:
    """Whether ``mu_k(sigma)`` is non-zero: ``nonzero``, ``zero`` (exact) or ``unresolved``."""

    degree: int
    coefficient: Coefficient
    status: str

    @property
    def counts(self) -> bool:
        return self.status == "nonzero"


def coefficient_status(c: Coefficient) -> str:
    """``zero`` only when exactly zero; ``nonzero`` when exact non-zero or beyond its error."""
    if c.is_exact:
        return "zero" if c.exact == 0 else "nonzero"
    return "nonzero" if abs(c.value) > c.error else "unresolved"
