"""Predicted sample-complexity exponents as exact sympy expressions.

A sample complexity ``n ~ d^e`` (up to the stated logarithmic factor) is quoted by
its exponent ``e``, a :class:`sympy.Piecewise` in the information exponent ``s`` and
the spike scalings ``r1`` (alignment ``c = <u, theta> = d^(-r1)``) and ``r2`` (spike
``kappa = d^r2`` of ``Sigma = (I + kappa theta theta^T)/(1 + kappa)``), with a
:class:`~featcheck.theory.derivation.Derivation`.  One module per piece of mathematics:

* :mod:`~featcheck.theory.exponents.prediction`: :class:`Prediction`, :class:`Regime`,
  :class:`Evaluation` and the symbols ``s, r1, r2, d``;
* :mod:`~featcheck.theory.exponents.isotropic`: the isotropic table (online SGD
  ``max(1, s - 1)`` with ``log d`` at ``s = 2``, smoothed loss ``max(1, s/2)``, CSQ
  ``s/2``, kernels ``p``);
* :mod:`~featcheck.theory.exponents.rho0`: the initial whitened overlap
  ``rho0 ~ d^(e_rho)`` and its four regimes;
* :mod:`~featcheck.theory.exponents.spiked`: ``n ~ D rho0^(-2 max(s-2, 0))``
  (convention A) and ``n ~ D rho0^(-2(s-1))`` (convention B), ``D = d`` or ``d/kappa``,
  with their symbolic consistency checks;
* :mod:`~featcheck.theory.exponents.gain`: the exponent of the sample ratio of a
  comparator over preconditioned online SGD;
* :mod:`~featcheck.theory.exponents.learners`: :func:`predict`.

Example::

    >>> from featcheck.theory.exponents import predict
    >>> predict("spiked-online").at(3, 0.25, 0.7).exact
    13/10
"""

from featcheck.theory.exponents.gain import (
    GainPrediction,
    preconditioning_gain,
    sample_exponents,
)
from featcheck.theory.exponents.isotropic import isotropic_online_exponent
from featcheck.theory.exponents.learners import predict
from featcheck.theory.exponents.prediction import (
    Evaluation,
    Prediction,
    Regime,
    d,
    r1,
    r2,
    s,
)
from featcheck.theory.exponents.rho0 import (
    RHO0_REGIMES,
    rho0_exponent,
    rho0_prediction,
    whitened_overlap_formula,
)
from featcheck.theory.exponents.spiked import (
    ConsistencyCheck,
    consistency_checks,
    spiked_exponent,
    spiked_prediction,
)
from featcheck.theory.names import GAIN_COMPARATORS, ISOTROPIC_LEARNERS, LEARNERS, SPIKED_LEARNERS

__all__ = [
    "GAIN_COMPARATORS",
    "ISOTROPIC_LEARNERS",
    "LEARNERS",
    "RHO0_REGIMES",
    "SPIKED_LEARNERS",
    "ConsistencyCheck",
    "Evaluation",
    "GainPrediction",
    "Prediction",
    "Regime",
    "consistency_checks",
    "d",
    "isotropic_online_exponent",
    "preconditioning_gain",
    "predict",
    "r1",
    "r2",
    "rho0_exponent",
    "rho0_prediction",
    "s",
    "sample_exponents",
    "spiked_exponent",
    "spiked_prediction",
    "whitened_overlap_formula",
]
