"""The initial whitened overlap ``rho0`` of a random start under a spiked covariance.

Data ``x ~ N(0, Sigma)``, ``Sigma = (I_d + kappa theta theta^T)/(1 + kappa)``, target
direction ``u`` with ``||u|| = 1`` and ``c = <u, theta>``; a start ``w0`` uniform on
the Euclidean sphere.  The whitened overlap is

    rho0 = w0^T Sigma u / (||Sigma^(1/2) w0|| ||Sigma^(1/2) u||)
         = (c (1 + kappa) a0 + sqrt(1 - c^2) b_perp) / sqrt((1 + kappa a0^2)(1 + kappa c^2))

with ``a0 = <w0, theta>`` and ``b_perp = <w0, theta_perp>``, both of order ``d^(-1/2)``.
With ``kappa = d^r2`` and ``c = d^(-r1)``, ``rho0 ~ d^(e_rho)`` where

* (i)   ``r2 < r1``:            ``e_rho = -1/2`` (the spike does not help);
* (ii)  ``r1 <= r2 < 2 r1``:    ``e_rho = r2 - r1 - 1/2``;
* (iii) ``2 r1 <= r2 <= 1``:    ``e_rho = (r2 - 1)/2``;
* (iv)  ``r2 > 1``:             ``e_rho = 0`` (``rho0 -> sign(a0)``).

:func:`whitened_overlap_formula` re-derives the closed form from the Gram matrix of
``(w0, theta, u)``; :func:`rho0_prediction` carries the regimes and the derivation.
"""

from __future__ import annotations

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.exponents.prediction import Prediction, Regime, r1, r2


def whitened_overlap_formula() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Re-derive ``rho0`` from the Gram matrix of ``(w0, theta, u)``.

    Returns ``(derived, factored, difference)``: the overlap computed from
    ``w^T Sigma u / (||Sigma^(1/2) w|| ||Sigma^(1/2) u||)``, the factored closed form
    of the module docstring, and the simplified difference of their squares (zero
    when they agree).
    """
    a0, bp = sp.symbols("a_0 b_perp", real=True)
    kappa = sp.Symbol("kappa", positive=True)
    c = sp.Symbol("c", positive=True)
    # coordinates in the orthonormal basis (theta, theta_perp, rest); ||w0|| = 1
    theta = sp.Matrix([1, 0])
    u = sp.Matrix([c, sp.sqrt(1 - c**2)])
    w = sp.Matrix([a0, bp])  # the rest of w0 is orthogonal to theta and u
    sigma = (sp.eye(2) + kappa * theta * theta.T) / (1 + kappa)
    rest = 1 - a0**2 - bp**2  # |w0 outside span(theta, u)|^2, bulk variance 1/(1+kappa)
    w_sigma_w = (w.T * sigma * w)[0] + rest / (1 + kappa)
    derived = (w.T * sigma * u)[0] / sp.sqrt(w_sigma_w * (u.T * sigma * u)[0])
    factored = (c * (1 + kappa) * a0 + sp.sqrt(1 - c**2) * bp) / sp.sqrt(
        (1 + kappa * a0**2) * (1 + kappa * c**2)
    )
    difference = sp.simplify(sp.radsimp(derived**2 - factored**2))
    return derived, factored, difference


RHO0_REGIMES = (
    Regime("(i) r2 < r1: no gain", r2 < r1, -sp.Rational(1, 2)),
    Regime("(ii) r1 <= r2 < 2 r1", sp.And(r1 <= r2, r2 < 2 * r1), r2 - r1 - sp.Rational(1, 2)),
    Regime("(iii) 2 r1 <= r2 <= 1", sp.And(2 * r1 <= r2, r2 <= 1), (r2 - 1) / 2),
    Regime("(iv) r2 > 1: rho0 of order 1", r2 > 1, sp.Integer(0)),
)


def rho0_exponent() -> sp.Expr:
    """``e_rho`` with ``rho0 ~ d^(e_rho)`` (a Piecewise in ``r1, r2``)."""
    return sp.Piecewise(*[(r.exponent, r.condition) for r in RHO0_REGIMES])


def rho0_derivation() -> Derivation:
    """The derivation of the four regimes (also the first steps of the spiked predictions)."""
    derived, _, difference = whitened_overlap_formula()
    out = Derivation(
        "Initial whitened overlap under a spike",
        "Order of magnitude of rho0 for w0 uniform on the sphere, kappa = d^r2, c = d^(-r1).",
    )
    out.add(
        "Whitened overlap from the Gram matrix",
        sp.Eq(sp.Symbol("rho_0"), derived),
        "In the orthonormal basis (theta, theta_perp) with u = c theta + sqrt(1-c^2) theta_perp, "
        "a0 = <w0, theta>, b_perp = <w0, theta_perp>; the rest of w0 lies in the bulk, "
        "where Sigma has eigenvalue 1/(1+kappa).",
    )
    out.add(
        "Factored form",
        sp.Eq(sp.Symbol("rho_{Gram}^2") - sp.Symbol("rho_{factored}^2"), difference),
        "The factored form (c (1 + kappa) a0 + sqrt(1 - c^2) b_perp) / "
        "sqrt((1 + kappa a0^2)(1 + kappa c^2)) uses ||w0|| = 1, so that "
        "(1 + kappa) ||Sigma^(1/2) w0||^2 = 1 + kappa a0^2.  Squares compared after "
        "simplification (both have the sign of the numerator). "
        + ("They agree." if difference == 0 else "THEY DISAGREE: trust the Gram-matrix form."),
    )
    out.add(
        "Orders of magnitude",
        [
            r"|c\,(1+\kappa)\,a_0| \sim d^{r_2 - r_1 - 1/2}",
            r"|b_\perp| \sim d^{-1/2}",
            r"1 + \kappa a_0^2 \sim 1 + d^{r_2 - 1}",
            r"1 + \kappa c^2 = 1 + d^{r_2 - 2 r_1}",
        ],
        "a0, b_perp ~ N(0, 1/d); kappa = d^r2; c = d^(-r1).  The spike term wins in the "
        "numerator iff r2 > r1; the denominator factors exceed 1 iff r2 > 1 and r2 > 2 r1.",
    )
    out.add(
        "Four regimes",
        sp.Eq(sp.Symbol("e_rho"), rho0_exponent()),
        "Dividing the dominant numerator term by the dominant denominator term in each case; "
        "in regime (iv) both are d^(r2 - r1 - 1/2) and rho0 -> sign(a0).",
    )
    return out


def rho0_prediction() -> Prediction:
    """The order of ``rho0`` as a :class:`Prediction` (``s`` plays no role; evaluate at 1)."""
    valid = sp.And(r1 >= 0, r1 <= sp.Rational(1, 2), r2 >= 0)
    return Prediction(
        "rho0", rho0_exponent(), RHO0_REGIMES, rho0_derivation(), "order", "", False, valid
    )
