"""Lemma 1 and the reduced gradient: the population logistic loss on ``span(w, v)``.

With ``l(s) = ln(1 + exp(-s))`` and a rotation-invariant law,
``grad L(w) = G(rho) w/rho - (c0/pi) v``; the flows of the linear predictor (``N = 1``) and
of the induced flow (7) of a depth-``N`` network follow, in ``(rho, theta)`` and in
``(rho, zeta)``.  Each function returns a sympy expression computed here, not transcribed;
:mod:`featcheck.theory.linear.derivation` turns them into a document.
"""

from __future__ import annotations

import sympy as sp

from featcheck.theory.linear.symbols import G, N, c0, phi, rho, s, theta


def logistic_derivative(arg: sp.Expr) -> sp.Expr:
    """``l'(s) = -1 / (1 + exp(s))``."""
    return -1 / (1 + sp.exp(arg))


def label_identity() -> sp.Expr:
    """``y l'(y s) - l'(s) - [y = -1]`` for ``y = -1``; zero (for ``y = 1`` it is trivial)."""
    return sp.simplify(-logistic_derivative(-s) - logistic_derivative(s) - 1)


def reduced_gradient() -> dict[str, sp.Expr]:
    """Components of ``grad L`` in the orthonormal frame ``e1 = w/rho``, ``e2`` with
    ``v = cos(theta) e1 + sin(theta) e2``; proved in :func:`reduction_derivation`."""
    return {
        "e1": G(rho) - c0 * sp.cos(theta) / sp.pi,
        "e2": -c0 * sp.sin(theta) / sp.pi,
    }


def label_flip_integrals() -> dict[str, sp.Expr]:
    """``(1/2pi) int_{y=-1} (cos phi, sin phi) d phi`` for ``v`` at angle ``theta`` from ``e1``."""
    lo, hi = theta + sp.pi / 2, theta + 3 * sp.pi / 2
    return {
        "cos": sp.simplify(sp.integrate(sp.cos(phi), (phi, lo, hi)) / (2 * sp.pi)),
        "sin": sp.simplify(sp.integrate(sp.sin(phi), (phi, lo, hi)) / (2 * sp.pi)),
    }


def lemma1_drift() -> sp.Expr:
    """``-(v - (wbar.v) wbar)^T grad L = -sin(theta) * (grad L)_{e2}``."""
    return sp.simplify(-sp.sin(theta) * reduced_gradient()["e2"])


def cartesian_flow(depth: int | sp.Expr = 1) -> dict[str, sp.Expr]:
    """Time derivatives of ``rho`` and ``cos(theta)`` computed in Cartesian coordinates.

    ``w = rho (sin a, cos a)``, ``v = (0, 1)`` so ``theta = a``; the induced flow (7) is
    ``dw/dt = -rho^(2-2/N) (g + (N-1) wbar wbar^T g)`` with ``g = G wbar - (c0/pi) v``.
    """
    a = sp.Symbol("a", positive=True)
    w = sp.Matrix([rho * sp.sin(a), rho * sp.cos(a)])
    v = sp.Matrix([0, 1])
    wbar = w / rho
    g = G(rho) * wbar - c0 / sp.pi * v
    dw = -(rho ** (2 - 2 / sp.sympify(depth))) * (g + (depth - 1) * wbar * (wbar.T * g)[0])
    drho = sp.simplify((wbar.T * dw)[0])
    # d/dt <v, w>/rho = (v - cos wbar)^T dw / rho
    dcos = sp.simplify(((v - sp.cos(a) * wbar).T * dw)[0] / rho)
    return {"rho": drho.subs(a, theta), "cos_theta": sp.simplify(dcos.subs(a, theta))}


def reduced_odes(depth: int | sp.Expr = N) -> dict[str, sp.Expr]:
    """The ODEs of ``(rho, theta)`` and ``(rho, zeta)`` for depth ``N`` (``N = 1``: linear).

    ``d rho/dt = N rho^(2-2/N) (c0 cos(theta)/pi - G(rho))``,
    ``d cos(theta)/dt = (c0 sin^2(theta)/pi) rho^(1-2/N)``,
    ``d zeta/dt = (2 c0/pi) rho^(1-2/N)``.
    """
    d = sp.sympify(depth)
    return {
        "rho": d * rho ** (2 - 2 / d) * (c0 * sp.cos(theta) / sp.pi - G(rho)),
        "cos_theta": c0 * sp.sin(theta) ** 2 / sp.pi * rho ** (1 - 2 / d),
        "theta": -c0 * sp.sin(theta) / sp.pi * rho ** (1 - 2 / d),
        "zeta": 2 * c0 / sp.pi * rho ** (1 - 2 / d),
    }


def norm_rate() -> sp.Expr:
    """``N(w) = -w^T grad L = rho (c0 cos(theta)/pi - G(rho))``."""
    return rho * (c0 * sp.cos(theta) / sp.pi - G(rho))


def asymptotic_exponents(depth: int | sp.Expr = N) -> dict[str, sp.Expr]:
    """Power laws of the reduced flow after ``T``: ``rho ~ t^p``, ``zeta ~ t^beta``.

    For large ``rho``, ``c0/pi - G(rho) = K(rho) ~ k rho^(-2)`` (``k = 2 f_X(0)``) and
    ``cos(theta) -> 1`` exponentially fast in ``zeta``, so :func:`reduced_odes` becomes
    ``d rho/dt = N k rho^(-2/N)``.  The ansatz ``rho = A t^p`` balances both sides iff
    ``p - 1 = -2 p/N``; then ``d zeta/dt = (2 c0/pi) rho^(1-2/N) ~ t^(p (1-2/N))`` integrates
    to ``zeta ~ t^beta``, ``beta = 1 + p (1 - 2/N) = 2N/(N+2)``, and
    ``-ln(1 - cos theta) = zeta - ln 2 + o(1)`` grows with the same exponent.
    """
    d = sp.sympify(depth)
    t, p, amplitude, k = sp.symbols("t p A k", positive=True)
    odes = reduced_odes(d)
    drho = odes["rho"].subs(sp.cos(theta), 1).subs(G(rho), c0 / sp.pi - k / rho**2)
    ansatz = amplitude * t**p
    balance = sp.expand_power_base(
        sp.powsimp(sp.diff(ansatz, t) / drho.subs(rho, ansatz), force=True), force=True
    )
    exponent_of_t = sp.simplify(sp.expand_log(sp.log(balance), force=True).diff(t) * t)
    p_value = sp.solve(sp.Eq(exponent_of_t, 0), p)[0]
    dzeta = odes["zeta"].subs(rho, ansatz.subs(p, p_value))
    beta = sp.simplify(sp.expand_log(sp.log(dzeta), force=True).diff(t) * t + 1)
    return {"rho": sp.simplify(p_value), "zeta": beta}
