"""Linear predictors and deep linear networks under rotation-invariant data (exact part).

Setting (Lin, Sun, Zhang, NeurIPS 2021): labels ``y = sgn(<v, x>)`` with ``||v|| = 1``,
logistic loss ``l(s) = ln(1 + exp(-s))``, population loss ``L(w) = E l(y <w, x>)`` for a
law of ``x`` invariant under every orthogonal map.  Write ``rho = ||w||``, ``theta`` the
angle between ``w`` and ``v``, ``X = <e, x>`` the one-dimensional marginal and
``R = ||x_2||`` the radius of the two-dimensional marginal.  The reduction proved in
:func:`reduction_derivation` is

    grad L(w) = G(rho) w / rho - (c0 / pi) v,    c0 = E R,
    G(rho) = (1/2) E[ |X| tanh(rho |X| / 2) ] = c0/pi - K(rho),
    K(rho) = E[ |X| sigmoid(-rho |X|) ],
    L(w) = (c0 rho / pi)(1 - cos theta) + E ln(1 + exp(-rho |X|)).

The flows are written in ``(rho, zeta)`` with ``zeta = 2 artanh(cos theta) =
-2 ln tan(theta/2)``, the logit scale in which every bound of the paper is linear.

Modules: :mod:`~featcheck.theory.linear.symbols` (the sympy symbols),
:mod:`~featcheck.theory.linear.laws` (data laws, marginals, ``c0``),
:mod:`~featcheck.theory.linear.reduction` (Lemma 1, the reduced gradient, the ODEs and
the flow in ``(rho, zeta)`` as an ``OdeSystem``),
:mod:`~featcheck.theory.linear.bounds` (the printed bounds) and
:mod:`~featcheck.theory.linear.derivation` (the documents of ``featcheck derive linear``).
"""

from __future__ import annotations

from featcheck.theory.linear.bounds import (
    SIX_TENTHS,
    PrintedBound,
    gd_sum,
    logistic_form,
    printed_bounds,
)
from featcheck.theory.linear.derivation import (
    bounds_derivation,
    c0_derivation,
    closed_form_steps,
    linear_derivation,
    reduction_derivation,
)
from featcheck.theory.linear.laws import (
    LAWS,
    MAX_DIM,
    c0_by_integration,
    c0_closed_form,
    check_law,
    one_dim_density,
    radius_density,
)
from featcheck.theory.linear.reduction import (
    RadialK,
    RadialKDerivative,
    asymptotic_exponents,
    cartesian_flow,
    flow_system,
    label_flip_integrals,
    label_identity,
    lemma1_drift,
    logistic_derivative,
    norm_rate,
    reduced_gradient,
    reduced_odes,
)
from featcheck.theory.linear.symbols import (
    G,
    K,
    N,
    S_n,
    T,
    c0,
    delta,
    n,
    phi,
    r,
    rho,
    rho0,
    rhoT,
    s,
    t,
    theta,
    theta0,
    thetaT,
    x,
    zeta,
)

__all__ = [
    "LAWS",
    "MAX_DIM",
    "SIX_TENTHS",
    "G",
    "K",
    "N",
    "PrintedBound",
    "RadialK",
    "RadialKDerivative",
    "S_n",
    "T",
    "asymptotic_exponents",
    "bounds_derivation",
    "c0",
    "c0_by_integration",
    "c0_closed_form",
    "c0_derivation",
    "cartesian_flow",
    "check_law",
    "closed_form_steps",
    "delta",
    "flow_system",
    "gd_sum",
    "label_flip_integrals",
    "label_identity",
    "lemma1_drift",
    "linear_derivation",
    "logistic_derivative",
    "logistic_form",
    "n",
    "norm_rate",
    "one_dim_density",
    "phi",
    "printed_bounds",
    "r",
    "radius_density",
    "reduced_gradient",
    "reduced_odes",
    "reduction_derivation",
    "rho",
    "rho0",
    "rhoT",
    "s",
    "t",
    "theta",
    "theta0",
    "thetaT",
    "x",
    "zeta",
]
