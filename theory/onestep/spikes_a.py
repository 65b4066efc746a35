"""Model A (Moniri, Lee, Hassani, Dobriban 2024): the spikes of the updated features.

With ``eta = n^alpha``, the ``k``-th Taylor term of the updated features is a rank-one
matrix whose operator norm over the bulk grows like ``n^(k alpha - (k-1)/2)``
(:func:`spike_exponent`); it separates iff ``alpha > (k-1)/(2k)`` (:func:`spike_threshold`)
and ``mu_k(sigma) != 0``.  :func:`predict_spikes` combines both.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from featcheck.theory.errors import DomainError
from featcheck.theory.functions import FunctionLike, as_function
from featcheck.theory.hermite import hermite_coefficients
from featcheck.theory.onestep.coefficients import (
    DegreeStatus,
    at_integer,
    coefficient_status,
    exact_rational,
)


def spike_threshold(k: int) -> sp.Rational:
    """Model A: the degree-``k`` spike separates from the bulk iff ``alpha > (k-1)/(2k)``."""
    if k < 1:
        raise DomainError(f"spike degree must be at least 1, got {k}")
    return sp.Rational(k - 1, 2 * k)


def spike_count(alpha: float | sp.Rational) -> int:
    """Model A: ``l(alpha)``, the number of degrees ``k >= 1`` with ``(k-1)/(2k) < alpha``.

    Defined for ``alpha`` in ``(0, 1/2)`` away from the thresholds ``(k-1)/(2k)``
    (at a threshold the spike strength stays of the order of the bulk and the
    count is not determined by the scaling argument).
    """
    a = exact_rational(alpha, "alpha")
    if not (0 < a < sp.Rational(1, 2)):
        raise DomainError(f"alpha must lie in (0, 1/2), got {alpha}")
    # (k-1)/(2k) < a  <=>  k < 1/(1 - 2a)
    bound = 1 / (1 - 2 * a)
    if at_integer(bound):
        bound = sp.Integer(round(float(bound)))
        raise DomainError(
            f"alpha = {a} is the threshold (k-1)/(2k) of degree k = {bound}: the spike "
            "count is undefined there; move alpha off the threshold"
        )
    return int(sp.ceiling(bound)) - 1


def spike_exponent(alpha: float, k: int) -> float:
    """Model A: ``k alpha - (k-1)/2``, the exponent of the degree-``k`` spike-to-bulk ratio."""
    return k * alpha - (k - 1) / 2


@dataclass(frozen=True)
class SpikePrediction:
    """Model A: which spikes the updated feature matrix carries at step exponent ``alpha``."""

    alpha: sp.Rational
    unrestricted: int  # l(alpha)
    degrees: tuple[DegreeStatus, ...]  # k = 1 .. l(alpha)
    mu1_activation: DegreeStatus
    mu1_target: DegreeStatus

    @property
    def spike_degrees(self) -> tuple[int, ...]:
        """Degrees ``k <= l(alpha)`` whose spike is present (``mu_k(sigma)`` provably non-zero)."""
        if not self.mu1_activation.counts:
            return ()
        return tuple(s.degree for s in self.degrees if s.counts)

    @property
    def count(self) -> int:
        return len(self.spike_degrees)

    @property
    def informative(self) -> bool:
        """The spikes carry the target direction iff ``mu_1(sigma*) != 0``."""
        return self.mu1_target.counts

    @property
    def unresolved(self) -> tuple[int, ...]:
        return tuple(s.degree for s in self.degrees if s.status == "unresolved")


def predict_spikes(
    activation: FunctionLike, target: FunctionLike, alpha: float, *, digits: int = 30
) -> SpikePrediction:
    """Model A: ``l(alpha)`` restricted to ``mu_k(sigma) != 0``, with the status of each degree.

    ``mu_k`` are monic Hermite coefficients from
    :func:`featcheck.theory.hermite.hermite_coefficients`,
    exact where the foundation is exact; a numeric coefficient within its error
    bound of zero is ``unresolved`` and not counted (reported separately).
    """
    sigma = as_function(activation)
    star = as_function(target)
    l_alpha = spike_count(alpha)
    expansion = hermite_coefficients(sigma, l_alpha, basis="monic", digits=digits)
    degrees = tuple(
        DegreeStatus(k, expansion[k], coefficient_status(expansion[k]))
        for k in range(1, l_alpha + 1)
    )
    target_mu1 = hermite_coefficients(star, 1, basis="monic", digits=digits)[1]
    return SpikePrediction(
        exact_rational(alpha, "alpha"),
        l_alpha,
        degrees,
        degrees[0],
        DegreeStatus(1, target_mu1, coefficient_status(target_mu1)),
    )


def spike_strength(
    mu_k: float, mu_1: float, k: int, eta: float, beta_hat_norm: float, n: int, width: int
) -> float:
    """Model A: typical operator norm of the degree-``k`` rank-one term.

    ``|mu_k|/k! |eta mu_1|^k ||(X beta_hat)^{o k}|| ||a^{o k}||`` with
    ``E||(X beta_hat)^{o k}||^2 = n ||beta_hat||^{2k} (2k-1)!!`` and
    ``E||a^{o k}||^2 = N (2k-1)!! N^{-k}`` for ``a ~ N(0, I_N/N)``.
    """
    double_factorial = float(sp.factorial2(2 * k - 1))
    return (
        abs(mu_k)
        / float(sp.factorial(k))
        * abs(eta * mu_1) ** k
        * beta_hat_norm**k
        * double_factorial
        * (n**0.5)
        * width ** ((1 - k) / 2)
    )


def projected_strength(
    mu_k: float, mu_1: float, k: int, eta: float, beta_hat_norm: float, n: int, width: int
) -> float:
    """Model A: typical strength of the degree-``k`` spike along its normalised Hermite feature.

    The degree-``k`` Taylor term ``(mu_k/k!) (eta mu_1)^k (X beta_hat)^{o k} (a^{o k})^T``
    projected on the unit vectors ``h_k = He_k(u)/||He_k(u)||`` (``u = X beta_hat/||beta_hat||``
    on fresh data, so ``u ~ N(0, I_n)``) and ``a^{o k}/||a^{o k}||``:
    ``<h_k, u^{o k}> -> sqrt(n k!)`` because ``E[He_k(Z) Z^k] = k!`` and ``E[He_k(Z)^2] = k!``,
    so the strength is ``|mu_k|/sqrt(k!) |eta mu_1|^k ||beta_hat||^k sqrt(n) ||a^{o k}||`` with
    ``E||a^{o k}||^2 = N (2k-1)!! N^{-k}`` for ``a ~ N(0, I_N/N)``.  The raw monomial
    ``u^{o k}`` also has components along ``He_{k-2}, He_{k-4}, ...``, which belong to the
    lower-degree spikes: :func:`spike_strength` counts them, this function does not.
    It scales like ``eta^k`` and ``N^((1-k)/2)``.
    """
    if k < 1:
        raise DomainError(f"spike degree must be at least 1, got {k}")
    double_factorial = float(sp.factorial2(2 * k - 1))
    return (
        abs(mu_k)
        / float(sp.factorial(k)) ** 0.5
        * abs(eta * mu_1 * beta_hat_norm) ** k
        * n**0.5
        * (width * double_factorial) ** 0.5
        * width ** (-k / 2)
    )
