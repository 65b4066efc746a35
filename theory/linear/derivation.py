"""The derivation documents of ``featcheck derive linear``: c0, the reduction, the bounds."""

from __future__ import annotations

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.errors import InputError
from featcheck.theory.linear.bounds import logistic_form, printed_bounds
from featcheck.theory.linear.laws import (
    c0_by_integration,
    c0_closed_form,
    one_dim_density,
    radius_density,
)
from featcheck.theory.linear.reduction import (
    cartesian_flow,
    label_flip_integrals,
    label_identity,
    lemma1_drift,
    logistic_derivative,
    reduced_gradient,
    reduced_odes,
)
from featcheck.theory.linear.symbols import G, K, N, c0, phi, r, rho, s, t, theta, x, zeta


def c0_derivation(law: str, dim: int) -> Derivation:
    """Steps deriving ``c0`` for one law, checked by two routes."""
    closed = c0_closed_form(law, dim)
    integrated = c0_by_integration(law, dim)
    if sp.simplify(closed - integrated) != 0:  # pragma: no cover - would be a sympy bug
        raise AssertionError(f"c0 routes disagree: {closed} vs {integrated}")
    out = Derivation(f"c0 for the {law} law in dimension {dim}")
    density = radius_density(law, dim)
    if density is None:
        out.add("Radius of the 2-D marginal", sp.Eq(sp.Symbol("R"), 1), "On U(S^1), R = 1.")
    else:
        out.add(
            "Density of R = ||x_2||",
            sp.Eq(sp.Symbol("f_R"), density[0]),
            "Gaussian: Rayleigh. Sphere, d >= 3: (x_1, x_2) has density "
            "(d-2)/(2 pi) (1 - r^2)^((d-4)/2) on the unit disc.",
        )
        out.add("Integral", sp.Eq(c0, sp.Integral(r * density[0], (r, *density[1]))))
    out.add(
        "Value",
        sp.Eq(c0, closed),
        "Checked against the closed form sqrt(pi) Gamma(d/2)/(2 Gamma((d+1)/2)) for the "
        "sphere and sqrt(pi/2) for the Gaussian.",
    )
    mean_abs = sp.integrate(
        2 * x * one_dim_density(law, dim), (x, 0, 1 if law == "sphere" else sp.oo)
    )
    out.add(
        "Consistency with the 1-D marginal: E|X| = 2 c0 / pi",
        sp.Eq(sp.Symbol("E|X|"), sp.nsimplify(sp.simplify(mean_abs))),
        "E|X| = E[R |cos phi|] = c0 * 2/pi since the angle of x_2 is uniform and independent of R.",
    )
    if sp.simplify(mean_abs - 2 * closed / sp.pi) != 0:  # pragma: no cover
        raise AssertionError("E|X| != 2 c0 / pi")
    return out


def reduction_derivation(depth: int | None = None) -> Derivation:
    """Lemma 1, the reduced gradient, the ODEs and (for ``depth``) Lemma 3, step by step.

    Each identity shown is computed by sympy here, not transcribed.
    """
    out = Derivation(
        "Population logistic loss under a rotation-invariant law: reduction to span(w, v)",
        "Lin, Sun, Zhang (2021), Lemma 1, eq. (2), eq. (7), Lemma 3. Every identity below "
        "is computed by sympy.",
    )
    f = logistic_derivative
    out.add(
        "Gradient",
        sp.Eq(sp.Symbol(r"\nabla L(w)"), sp.Symbol(r"E[\ell'(y\langle w,x\rangle)\, y\, x]")),
        "With l(s) = ln(1 + e^{-s}), l'(s) = -1/(1 + e^s).",
    )
    out.add(
        "Label identity",
        sp.Eq(-f(-s) - f(s) - 1, label_identity(), evaluate=False),
        "For y = -1: y l'(y s) = l'(s) + 1; for y = 1 trivially y l'(y s) = l'(s). Hence "
        "y l'(y s) = l'(s) + [y = -1].",
    )
    odd = sp.simplify(sp.sin(phi) * f(r * sp.cos(phi)) + sp.sin(-phi) * f(r * sp.cos(-phi)))
    out.add(
        "Symmetric part vanishes along e2",
        sp.Eq(sp.Symbol("h(phi) + h(-phi)"), odd),
        "In the frame e1 = w/||w||, e2 (v = cos(theta) e1 + sin(theta) e2), x_2 = R (cos phi, "
        "sin phi) with phi uniform and independent of R. h(phi) = sin(phi) l'(rho R cos phi) "
        "is odd, so E[R sin(phi) l'(rho R cos phi)] = 0; components outside the plane vanish "
        "by the reflection that fixes the plane.",
    )
    flips = label_flip_integrals()
    out.add(
        "Label-flip half-plane",
        [
            sp.Eq(sp.Symbol(r"\frac{1}{2\pi}\int_{y=-1}\cos\phi\,d\phi"), flips["cos"]),
            sp.Eq(sp.Symbol(r"\frac{1}{2\pi}\int_{y=-1}\sin\phi\,d\phi"), flips["sin"]),
        ],
        "y = -1 exactly for phi in (theta + pi/2, theta + 3 pi/2).",
    )
    grad = reduced_gradient()
    out.add(
        "Reduced gradient",
        [sp.Eq(sp.Symbol("g_1"), grad["e1"]), sp.Eq(sp.Symbol("g_2"), grad["e2"])],
        "g_1 = E[R cos(phi) l'(rho R cos phi)] + c0 * (-cos(theta)/pi) where the first term "
        "equals G(rho) = (1/2) E[|X| tanh(rho |X|/2)] (pair phi with phi + pi); g_2 = c0 * "
        "(-sin(theta)/pi). Equivalently grad L(w) = G(rho) w/rho - (c0/pi) v.",
    )
    out.add(
        "Lemma 1",
        sp.Eq(sp.Symbol(r"-(v - \cos\theta\,\bar w)\cdot\nabla L"), lemma1_drift()),
        "v - cos(theta) e1 = sin(theta) e2. The drift does not depend on ||w||: Lemma 1 holds "
        "as printed, for every rotation-invariant law, with c0 = E||x_2||.",
        "Lin, Sun, Zhang (2021), Lemma 1",
    )
    out.add(
        "Loss in the plane",
        sp.Eq(
            sp.Symbol("L(w)"),
            c0 * rho / sp.pi * (1 - sp.cos(theta)) + sp.Symbol(r"E\ln(1 + e^{-\rho |X|})"),
        ),
        "From l(y s) = l(s) + [y = -1] s and l(s) + l(-s) = 2 ln(2 cosh(s/2)) = |s| + "
        "2 ln(1 + e^{-|s|}); d/d rho of it gives g_1, consistent with the gradient.",
    )
    out.add(
        "G and K",
        [
            sp.Eq(G(rho), sp.Symbol(r"\tfrac12 E[|X|\tanh(\rho|X|/2)]")),
            sp.Eq(K(rho), c0 / sp.pi - G(rho)),
            sp.Eq(K(rho), sp.Symbol(r"E[|X|\,\sigma(-\rho|X|)]")),
        ],
        "E|X| = 2 c0/pi. K decreases from c0/pi at rho = 0 to 0; for large rho, "
        "K(rho) ~ 2 f_X(0)/rho^2 with f_X the density of X.",
    )
    flow1 = cartesian_flow(1)
    expected1 = reduced_odes(1)
    for key in ("rho", "cos_theta"):
        if sp.simplify(flow1[key] - expected1[key]) != 0:  # pragma: no cover
            raise AssertionError(f"linear flow mismatch in {key}")
    out.add(
        "Linear predictor: ODEs",
        [
            sp.Eq(sp.Derivative(rho, t), expected1["rho"]),
            sp.Eq(sp.Derivative(sp.cos(theta), t), expected1["cos_theta"]),
            sp.Eq(sp.Derivative(zeta, t), expected1["zeta"]),
            sp.Eq(zeta, -2 * sp.log(sp.tan(theta / 2))),
        ],
        "Computed from dw/dt = -grad L in Cartesian coordinates. zeta = 2 artanh(cos theta), "
        "so cos(theta) = tanh(zeta/2) and 1 - cos(theta) = 2/(e^zeta + 1). "
        "N(w) = -w^T grad L = rho (c0 cos(theta)/pi - G(rho)).",
        "eq. (2) and Lemma 1",
    )
    d = sp.Integer(depth) if depth is not None else N
    flow = cartesian_flow(d)
    expected = reduced_odes(d)
    for key in ("rho", "cos_theta"):
        if sp.simplify(sp.powsimp(flow[key] - expected[key], force=True)) != 0:
            raise AssertionError(f"deep flow mismatch in {key}")  # pragma: no cover
    out.add(
        f"Deep linear network (depth {d}): induced flow and Lemma 3",
        [
            sp.Eq(sp.Derivative(rho, t), expected["rho"]),
            sp.Eq(sp.Derivative(sp.cos(theta), t), expected["cos_theta"]),
            sp.Eq(sp.Derivative(zeta, t), expected["zeta"]),
        ],
        "From eq. (7), dw_e/dt = -||w_e||^(2-2/N) (g + (N-1) wbar wbar^T g), valid for the "
        "balanced initialisation (6). The angular equation is Lemma 3 (eq. 8), as printed. "
        "rho increases exactly when N(w_e) > 0, as for the linear predictor.",
        "eq. (7) (Arora, Cohen, Hazan 2018), Lemma 3",
    )
    if depth is not None and depth >= 1:
        out.extend(closed_form_steps(int(depth)).steps)
    return out


def closed_form_steps(depth: int) -> Derivation:
    """What can be solved in closed form: the angular equation once ``rho(t)`` is known."""
    out = Derivation("closed forms")
    out.add(
        "Angle given the norm",
        sp.Eq(
            zeta,
            sp.Symbol("zeta_0")
            + 2
            * c0
            / sp.pi
            * sp.Integral(
                sp.Function("rho")(sp.Symbol("s")) ** (1 - sp.Rational(2, depth)),
                (sp.Symbol("s"), 0, t),
            ),
        ),
        "The zeta equation has a right side free of theta, so zeta is an integral of the "
        "norm. The norm equation involves G, which has no elementary closed form for the "
        "sphere or the Gaussian; it is integrated numerically.",
    )
    if depth == 2:
        out.add(
            "Depth 2",
            sp.Eq(zeta, sp.Symbol("zeta_0") + 2 * c0 * t / sp.pi),
            "For N = 2 the exponent 1 - 2/N vanishes: 1 - cos(theta) = 2/(exp(zeta) + 1) "
            "decays exactly exponentially, for every initialisation.",
        )
    out.add(
        "Asymptotic rate (our derivation, not in the paper)",
        [
            r"\rho(t) = \Theta\left(t^{N/(N+2)}\right)",
            r"\zeta(t) = \Theta\left(t^{2N/(N+2)}\right)",
        ],
        "For large rho, K(rho) ~ 2 f_X(0)/rho^2 and 1 - cos(theta) is exponentially small, "
        "so d rho^(2/N)/dt = 2 N(w) ~ 4 f_X(0)/rho, giving rho^(1+2/N) ~ 2(N+2) f_X(0) t "
        "and zeta ~ t^(1 + (N-2)/(N+2)). So -ln(1 - cos theta) grows like t^(2/3) for "
        "N = 1 and like t^(4/3) for N = 4: faster than the exp(-Theta(sqrt t)) and "
        "exponential rates stated in the paper, which are lower bounds on the speed.",
    )
    return out


def bounds_derivation(law: str = "sphere", dim: int = 2) -> Derivation:
    """Every printed bound, our derivation of it and where the constants differ."""
    value = c0_closed_form(law, dim)
    out = Derivation(
        "Theorems 1, 2, 3, 5 and Lemma 4: the bounds as printed and as derived",
        f"Constants as printed in Lin, Sun, Zhang (NeurIPS 2021); c0 = {sp.sstr(value)} for the "
        f"{law} law in dimension {dim}. All bounds on cos(theta) have the form "
        "1 - 2/(exp(X) + 1) = tanh(X/2), i.e. zeta >= X.",
    )
    for bound in printed_bounds().values():
        out.add(f"{bound.source}: as printed", bound.inequality())
        if bound.logit is not None:
            check = sp.simplify((bound.rhs - logistic_form(bound.logit)).rewrite(sp.exp))
            out.add(
                f"{bound.source}: logit form",
                sp.Rel(zeta, bound.logit, bound.relation),
                f"rhs - (1 - 2/(exp(X)+1)) simplifies to {sp.sstr(check)}.",
            )
        for title, text in bound.derivation:
            out.add(f"{bound.source}: {title}", None, text)
        if bound.derived:
            out.add(f"{bound.source}: derived reading", bound.inequality(derived=True))
    return out


def linear_derivation(law: str = "sphere", dim: int = 2, depth: int = 4) -> Derivation:
    """The whole document for ``featcheck derive linear``."""
    if depth < 1:
        raise InputError(f"the depth must be at least 1, got {depth}")
    out = Derivation(
        "Directional convergence of linear networks under spherically symmetric data",
        "Lin, Sun, Zhang (NeurIPS 2021). Reduction of the population loss, c0, the flows of "
        "the linear predictor and of the depth-N induced flow, and every printed bound with "
        "its derivation. Generated by `featcheck derive linear`.",
    )
    out.extend(c0_derivation(law, dim).steps)
    out.extend(reduction_derivation(depth).steps)
    out.extend(bounds_derivation(law, dim).steps)
    return out
