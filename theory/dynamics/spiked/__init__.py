r"""Gradient flows of a single neuron under a ``(kappa, theta)``-spiked covariance.

Mousavi-Hosseini, Wu, Suzuki, Erdogdu, "Gradient-Based Feature Learning under Structured
Data", NeurIPS 2023, arXiv 2309.03843.  Inputs ``x ~ N(0, Sigma)`` with
``Sigma = alpha (I + kappa theta theta^T)``, target ``y = g(<u, x>/||Sigma^(1/2) u||) + eps``,
alignment ``c = <u, theta>``, student ``phi(<w, x>)`` (:mod:`featcheck.theory.models`).
Three flows of ``w`` (plain spherical, normalized student, preconditioned by
``Sigma^(-1)``) close exactly in ``a = <w, theta>``, ``b = <w, u>`` (and ``q = ||w||^2``).

One module per piece of the mathematics:

* :mod:`.correlation`: ``psi_{phi,g}(rho) = sum_k c_k(phi) c_k(g) rho^k`` with its remainder
  bound;
* :mod:`.scaled`: the coefficients of ``phi(sigma .)`` as functions of ``sigma`` (exact for
  piecewise polynomials, :class:`ScaledIntegral` symbols for smooth activations);
* :mod:`.frame`: vectors as coefficients on ``(w, theta, u)`` and ``Sigma^p`` acting on them;
* :mod:`.risk`: the risk of each flow as a function of ``w^T Sigma w`` and ``w^T Sigma u``;
* :mod:`.recovery`: the condition ``c_s(phi) c_s(g) > 0`` and the escape time;
* :mod:`.failure`: equator, unstable point ``m*`` and threshold of the aligned plain flow;
* :mod:`.aligned`: the one-variable reductions for ``u = theta``;
* :mod:`.checks`: 40-digit spot checks at random admissible points;
* :mod:`.flows`: :func:`spiked_flow`, which assembles the derivation.
"""

from featcheck.theory.dynamics.spiked.correlation import (
    DEFAULT_MAX_DEGREE,
    CorrelationSeries,
    correlation_series,
)
from featcheck.theory.dynamics.spiked.failure import FailureAnalysis
from featcheck.theory.dynamics.spiked.flows import (
    FLOWS,
    SOURCE,
    SpikedFlow,
    check_flow,
    spiked_flow,
)
from featcheck.theory.dynamics.spiked.frame import q, r
from featcheck.theory.dynamics.spiked.recovery import RecoveryCondition, recovery_condition
from featcheck.theory.dynamics.spiked.risk import RiskModel, s1, s2, sigma
from featcheck.theory.dynamics.spiked.scaled import ScaledActivation, ScaledIntegral

__all__ = [
    "DEFAULT_MAX_DEGREE",
    "FLOWS",
    "SOURCE",
    "CorrelationSeries",
    "FailureAnalysis",
    "RecoveryCondition",
    "RiskModel",
    "ScaledActivation",
    "ScaledIntegral",
    "SpikedFlow",
    "check_flow",
    "correlation_series",
    "q",
    "r",
    "recovery_condition",
    "s1",
    "s2",
    "sigma",
    "spiked_flow",
]
