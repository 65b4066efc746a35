"""Lemma 1 and the reduced gradient: the population logistic loss on ``span(w, v)``.

With ``l(s) = ln(1 + exp(-s))`` and a rotation-invariant law,
``grad L(w) = G(rho) w/rho - (c0/pi) v``; the flows of the linear predictor (``N = 1``) and
of the induced flow (7) of a depth-``N`` network follow, in ``(rho, theta)`` and in
``(rho, zeta)``.  Each function returns a sympy expression computed here, not transcribed;
:mod:`featcheck.theory.linear.derivation` turns them into a document.
"""

from __future__ import annotations

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics import OdeSystem
from featcheck.theory.errors import DomainError
from featcheck.theory.linear.symbols import G, N, c0, phi, rho, s, t, theta, zeta


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


class RadialK(sp.Function):
    """``K(rho) = E[|X| sigmoid(-rho |X|)] = c0/pi - G(rho)``, a function of the data law.

    It has no elementary closed form for the sphere or the Gaussian; numeric values come
    from the caller (``featcheck.numerics.linear.simulate.DataLaw.K`` is passed to
    ``compile_system`` under the name ``RadialK``).  Its derivative is
    :class:`RadialKDerivative`.
    """

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return RadialKDerivative(self.args[0])

    def _latex(self, printer, exp=None) -> str:
        out = rf"K\!\left({printer._print(self.args[0])}\right)"
        return f"{out}^{{{exp}}}" if exp else out


class RadialKDerivative(sp.Function):
    """``K'(rho) = -E[X^2 sigmoid(rho |X|) sigmoid(-rho |X|)]`` (numeric values from the
    caller, as for :class:`RadialK`)."""

    nargs = 1

    def _latex(self, printer, exp=None) -> str:
        out = rf"K'\!\left({printer._print(self.args[0])}\right)"
        return f"{out}^{{{exp}}}" if exp else out


def flow_system(depth: int, c0_value: sp.Expr | None = None) -> OdeSystem:
    """The flow of depth ``depth`` in ``(rho, zeta)`` as an :class:`OdeSystem`.

    ``zeta = 2 artanh(cos theta)``, so ``cos theta = tanh(zeta/2) = 1 - 2/(1 + e^zeta)`` and,
    by the chain rule on the ``theta`` equation of :func:`reduced_odes`,
    ``d zeta/dt = (2/(1 - cos^2 theta)) d cos(theta)/dt
    = d(2 artanh(cos theta))/d theta * d theta/dt``.  Substituting ``cos theta`` and
    ``G = c0/pi - K`` into the ``rho`` equation gives

        d rho/dt  = N rho^(2-2/N) (K(rho) - (2 c0/pi) / (1 + e^zeta)),
        d zeta/dt = (2 c0/pi) rho^(1-2/N),

    both computed here from :func:`reduced_odes` and checked against these forms.  In
    ``zeta`` the factor ``1 - cos theta = 2/(1 + e^zeta)`` stays accurate far below machine
    epsilon.  ``K`` is :class:`RadialK`, whose numeric implementation the caller passes to
    ``compile_system(..., namespace=)``.  ``c0`` is the parameter ``c_0``, or the exact
    value ``c0_value`` (for example from ``c0_closed_form``) substituted.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise DomainError(f"the depth must be an integer >= 1, got {depth!r}")
    d = sp.Integer(depth)
    odes = reduced_odes(d)
    out = Derivation(
        f"Flow of depth {depth} in (rho, zeta)",
        "zeta = 2 artanh(cos theta); the (rho, theta) equations of the reduced flow rewritten.",
    )
    # d zeta/dt by the chain rule from the theta equation
    dzeta = sp.simplify(sp.diff(2 * sp.atanh(sp.cos(theta)), theta) * odes["theta"])
    pull = 2 * c0 / sp.pi
    expected_zeta = pull * rho ** (1 - 2 / d)
    if sp.simplify(sp.powsimp(dzeta - expected_zeta, force=True)) != 0:  # pragma: no cover
        raise AssertionError("the zeta equation does not follow from the theta equation")
    if sp.simplify(sp.powsimp(dzeta - odes["zeta"], force=True)) != 0:  # pragma: no cover
        raise AssertionError("the zeta equation differs from reduced_odes")
    half_angle = 1 - 2 / (1 + sp.exp(zeta))
    if sp.simplify((sp.tanh(zeta / 2) - half_angle).rewrite(sp.exp)) != 0:  # pragma: no cover
        raise AssertionError("tanh(zeta/2) = 1 - 2/(1 + e^zeta) fails")
    drho = odes["rho"].subs(sp.cos(theta), half_angle).subs(G(rho), c0 / sp.pi - RadialK(rho))
    drive = RadialK(rho) - pull / (1 + sp.exp(zeta))
    expected_rho = d * rho ** (2 - 2 / d) * drive
    if sp.simplify(drho - expected_rho) != 0:  # pragma: no cover
        raise AssertionError("the rho equation does not follow from reduced_odes")
    out.add(
        "Angle in logit scale",
        [sp.Eq(zeta, 2 * sp.atanh(sp.cos(theta))), sp.Eq(sp.cos(theta), half_angle)],
        "cos(theta) = tanh(zeta/2) = 1 - 2/(1 + e^zeta), so 1 - cos(theta) = 2 sigmoid(-zeta).",
    )
    out.add(
        "Angular equation",
        sp.Eq(sp.Derivative(zeta, t), expected_zeta),
        "Chain rule: d zeta/dt = d(2 artanh(cos theta))/d theta * d theta/dt = "
        "(-2/sin theta) * (-(c0/pi) sin(theta) rho^(1-2/N)).",
    )
    out.add(
        "Norm equation",
        sp.Eq(sp.Derivative(rho, t), expected_rho),
        "Substitute cos(theta) = 1 - 2/(1 + e^zeta) and G = c0/pi - K into the rho equation.",
    )
    rhs = (expected_rho, expected_zeta)
    parameters: tuple[sp.Symbol, ...] = (c0,)
    if c0_value is not None:
        rhs = tuple(e.subs(c0, sp.sympify(c0_value)) for e in rhs)
        parameters = ()
    return OdeSystem(
        f"linear flow, depth {depth}",
        (rho, zeta),
        parameters,
        rhs,
        out,
        notes=[
            "K has no closed form: compile with namespace= implementations of RadialK "
            "and RadialKDerivative"
        ],
    )
