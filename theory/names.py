"""Names and bounds that the command line offers, defined without sympy or mpmath.

Building ``featcheck``'s argument parser needs the choices of a few options (the
learners, the flows, the data laws, ...) but none of the mathematics behind them. They
are defined here, once, and the theory modules import them from here: importing this
module loads nothing but the standard library, whereas the packages that use them
(``theory.dynamics``, ``theory.exponents``, ``theory.linear``) import sympy on their
first line.
"""

from __future__ import annotations

#: Hermite bases: ``c_k = E[f h_k]`` (orthonormal) and ``mu_k = E[f He_k]`` (monic).
BASES = ("normalized", "monic")
#: Largest degree of a Hermite expansion.
MAX_DEGREE = 2000

#: Conventions of the spiked covariance: ``(I + kappa theta theta^T)/(1 + kappa)`` and
#: ``I + kappa theta theta^T``.
CONVENTIONS = ("unit", "ba")

#: The spiked single-index flows.
FLOWS = ("plain", "normalized", "preconditioned")

#: Learners whose sample-complexity exponent :mod:`featcheck.theory.exponents` predicts.
ISOTROPIC_LEARNERS = ("online", "smoothed", "csq", "kernel")
SPIKED_LEARNERS = ("spiked-online", "spiked-batch")
LEARNERS = (*ISOTROPIC_LEARNERS, *SPIKED_LEARNERS, "rho0")
#: What preconditioning's gain is measured against.
GAIN_COMPARATORS = ("isotropic", "normalized")

#: Data laws of the linear networks and the largest dimension of their exact side.
LAWS = ("sphere", "gaussian")
MAX_DIM = 10_000
