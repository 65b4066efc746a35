"""Model B (Demir and Dogan 2025): the spikes of the updated features, by mechanism.

Notation of the paper: dimension ``n``, width ``k``, strength ``beta`` and weight
``alpha`` with ``eta = n^(beta alpha)`` and spike size ``theta = n^(beta (1 - alpha))``.
A rank-one term of degree ``j`` made of ``i`` data-spread and ``j - i`` learning-rate
factors grows over the bulk like ``n^e`` (:func:`mixed_exponent`); it separates iff
``e > 0`` and ``mu_j(sigma(b .)) != 0``.  These exponents are featcheck's derivation
(``featcheck derive onestep``), not statements of the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from featcheck.theory.errors import DomainError
from featcheck.theory.functions import FunctionLike, as_function
from featcheck.theory.hermite import hermite_coefficients
from featcheck.theory.onestep.coefficients import (
    BOUNDARY_TOLERANCE,
    DegreeStatus,
    coefficient_status,
    exact_rational,
)
from featcheck.theory.onestep.hermite_b import rational_scale


def spread_exponent(beta, weight, degree: int) -> sp.Rational:
    r"""Model B: the degree-``j`` data-spread spike over the bulk grows like ``n^e``,
    ``e = 1/2 - j (1 - beta (1 - alpha)) / 2``.

    A component ``I + theta gamma gamma^T`` (``theta = n^(beta (1 - alpha))``) puts
    ``s (gamma^T z) (F gamma)`` in every pre-activation, ``s = sqrt(1 + theta)``,
    entries ``~ sqrt(theta / n)``; the ``j``-th Taylor term of ``sigma`` is the
    rank-one matrix ``(mu_j/j!) s^j g^{o j} ((F gamma)^{o j})^T / sqrt(k)`` of norm
    ``~ sqrt(m) (theta/n)^{j/2}`` against a bulk of order one.
    """
    b, a = exact_rational(beta, "beta"), exact_rational(weight, "weight")
    return sp.Rational(1, 2) - degree * (1 - b * (1 - a)) / 2


def step_exponent(beta, weight, degree: int) -> sp.Rational:
    r"""Model B: the degree-``j`` learning-rate spike grows like ``n^e``,
    ``e = 1/2 - j (1 - beta alpha)``.

    The gradient is ``mu_1 (w/sqrt(k)) c_hat^T`` plus a smaller part (``w ~ N(0, I/k)``),
    so the step moves pre-activations by ``eta mu_1 (w_i/sqrt(k)) (x . c_hat)``,
    entries ``~ eta / k``; the ``j``-th term ``(mu_j/j!) (eta mu_1)^j (X c_hat)^{o j}
    ((w/sqrt(k))^{o j})^T / sqrt(k)`` has norm ``~ sqrt(m) eta^j k^{-j}``.
    """
    b, a = exact_rational(beta, "beta"), exact_rational(weight, "weight")
    return sp.Rational(1, 2) - degree * (1 - b * a)


def mixed_exponent(beta, weight, spread: int, step: int) -> sp.Rational:
    """Model B: a product of ``spread`` data-spread and ``step`` learning-rate factors."""
    b, a = exact_rational(beta, "beta"), exact_rational(weight, "weight")
    return sp.Rational(1, 2) - spread * (1 - b * (1 - a)) / 2 - step * (1 - b * a)


@dataclass(frozen=True)
class SpikeTermB:
    """Model B: one family of rank-one terms of the updated features (degree ``spread + step``)."""

    mechanism: str  # "spread", "step" or "mixed"
    spread: int
    step: int
    exponent: sp.Rational
    multiplicity: int  # number of rank-one terms of this kind
    coefficient: DegreeStatus

    @property
    def degree(self) -> int:
        return self.spread + self.step

    @property
    def boundary(self) -> bool:
        return abs(float(self.exponent)) <= BOUNDARY_TOLERANCE

    @property
    def present(self) -> bool:
        return self.exponent > 0 and not self.boundary and self.coefficient.counts


@dataclass(frozen=True)
class SpikePredictionB:
    """Model B: which rank-one terms separate from the bulk of ``sigma(X F_1^T)/sqrt(k)``."""

    beta: sp.Rational
    weight: sp.Rational
    directions: int  # distinct spike subspaces of the data (0 isotropic, 1, 2 mixture)
    rank: int
    terms: tuple[SpikeTermB, ...]  # every term with a non-negative exponent

    @property
    def present(self) -> tuple[SpikeTermB, ...]:
        return tuple(t for t in self.terms if t.present)

    @property
    def count(self) -> int:
        return sum(t.multiplicity for t in self.present)

    @property
    def undetermined(self) -> tuple[SpikeTermB, ...]:
        """Terms at a boundary (exponent 0) or with an unresolved coefficient."""
        return tuple(
            t
            for t in self.terms
            if (t.boundary and t.coefficient.status != "zero")
            or (t.exponent > 0 and t.coefficient.status == "unresolved")
        )


def predict_spikes_b(
    activation: FunctionLike,
    beta: float,
    weight: float,
    *,
    directions: int,
    rank: int = 1,
    scale: float = 1.0,
    digits: int = 30,
) -> SpikePredictionB:
    """Model B: the spikes of the updated features, by mechanism and degree.

    Terms of degree ``j`` are products of ``i`` data-spread factors and ``j - i``
    learning-rate factors, exponent :func:`mixed_exponent`; a term is present iff
    its exponent is positive and ``mu_j(sigma(b .)) != 0`` (step terms also need
    ``mu_1 != 0``, the gradient's rank-one part).  Multiplicity: ``directions``
    times the number of degree-``i`` monomials in ``rank`` spike coordinates for
    spread terms, one for step terms.  For ``beta < 1`` mixed terms never
    separate (their exponent is below ``1/2 - (1-beta(1-alpha))/2 - (1-beta alpha)
    < 0``); they are listed when their exponent is non-negative.
    """
    b, a = exact_rational(beta, "beta"), exact_rational(weight, "weight")
    if not (0 < b < 1):
        raise DomainError(f"beta must lie in (0, 1), got {beta}")
    if not (0 <= a <= 1):
        raise DomainError(f"weight alpha must lie in [0, 1], got {weight}")
    if directions < 0 or rank < 1:
        raise DomainError("need directions >= 0 and rank >= 1")
    sigma = as_function(activation)
    # spread terms stop at j >= 1/(1 - beta(1 - alpha)), step terms at j >= 1/(2(1 - beta alpha))
    max_degree = int(sp.floor(1 / (1 - b))) + 1
    expansion = hermite_coefficients(
        sigma.scaled(rational_scale(float(scale))), max_degree, basis="monic", digits=digits
    )
    status = {
        j: DegreeStatus(j, expansion[j], coefficient_status(expansion[j]))
        for j in range(1, max_degree + 1)
    }
    mu1 = status[1]
    terms = []
    for j in range(1, max_degree + 1):
        for i in range(j + 1):
            if i > 0 and directions == 0:
                continue
            exponent = mixed_exponent(b, a, i, j - i)
            if exponent < 0 and abs(float(exponent)) > BOUNDARY_TOLERANCE:
                continue
            coefficient = status[j]
            if i < j and not mu1.counts:  # no rank-one gradient: no step factor
                coefficient = DegreeStatus(
                    j, expansion[j], "zero" if mu1.status == "zero" else "unresolved"
                )
            mechanism = "spread" if i == j else "step" if i == 0 else "mixed"
            multiplicity = (directions * int(sp.binomial(rank + i - 1, i))) if i else 1
            terms.append(SpikeTermB(mechanism, i, j - i, exponent, multiplicity, coefficient))
    return SpikePredictionB(b, a, directions, rank, tuple(terms))
