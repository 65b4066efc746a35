"""Linear predictors and deep linear networks under rotation-invariant data (exact part).

Setting (Lin, Sun, Zhang 2021): labels ``y = sgn(<v, x>)`` with ``||v|| = 1``, logistic
loss ``l(s) = ln(1 + exp(-s))``, population loss ``L(w) = E l(y <w, x>)`` for a law of
``x`` invariant under every orthogonal map.  Write ``rho = ||w||``, ``theta`` the angle
between ``w`` and ``v``, ``X = <e, x>`` the one-dimensional marginal and ``R = ||x_2||``
the radius of the two-dimensional marginal.  The reduction proved in
:func:`reduction_derivation` is

    grad L(w) = G(rho) w / rho - (c0 / pi) v,    c0 = E R,
    G(rho) = (1/2) E[ |X| tanh(rho |X| / 2) ] = c0/pi - K(rho),
    K(rho) = E[ |X| sigmoid(-rho |X|) ],
    L(w) = (c0 rho / pi)(1 - cos theta) + E ln(1 + exp(-rho |X|)).

The flows are written in ``(rho, zeta)`` with ``zeta = 2 artanh(cos theta) =
-2 ln tan(theta/2)``, the logit scale in which every bound of the paper is linear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.errors import DomainError, InputError

LAWS = ("sphere", "gaussian")
MAX_DIM = 10_000

# Symbols -------------------------------------------------------------------------------
t = sp.Symbol("t", nonnegative=True)
n = sp.Symbol("n", integer=True, nonnegative=True)
rho = sp.Symbol("rho", positive=True)
theta = sp.Symbol("theta", positive=True)
zeta = sp.Symbol("zeta", real=True)
phi = sp.Symbol("phi", real=True)
r = sp.Symbol("r", positive=True)
x = sp.Symbol("x", real=True)
s = sp.Symbol("s", real=True)
c0 = sp.Symbol("c_0", positive=True)
N = sp.Symbol("N", positive=True, integer=True)
rho0 = sp.Symbol("rho_0", positive=True)
theta0 = sp.Symbol("theta_0", positive=True)
rhoT = sp.Symbol("rho_T", positive=True)
thetaT = sp.Symbol("theta_T", positive=True)
T = sp.Symbol("T", nonnegative=True)
delta = sp.Symbol("delta", positive=True)
S_n = sp.Symbol("S_n", nonnegative=True)
K = sp.Function("K")
G = sp.Function("G")

SIX_TENTHS = sp.Rational(3, 5)  # the paper's 0.6 = 2 x 0.3, with sup N(w) <= 0.3


def check_law(law: str, dim: int) -> None:
    """Reject unknown laws and dimensions outside ``2 <= dim <= MAX_DIM``."""
    if law not in LAWS:
        raise DomainError(f"unknown data law {law!r}: use 'sphere' or 'gaussian'")
    if not isinstance(dim, int) or dim < 2:
        raise DomainError(f"the data dimension must be an integer >= 2, got {dim!r}")
    if dim > MAX_DIM:
        raise DomainError(f"the data dimension {dim} exceeds the supported maximum {MAX_DIM}")


# c0 and the marginals ------------------------------------------------------------------
def radius_density(law: str, dim: int) -> tuple[sp.Expr, tuple[sp.Expr, sp.Expr]] | None:
    """Density of ``R = ||x_2||`` (two-dimensional marginal) and its support.

    ``None`` for the uniform circle ``d = 2``, where ``R = 1``.  For ``U(S^{d-1})`` with
    ``d >= 3`` the pair ``(x_1, x_2)`` has density ``(d-2)/(2 pi) (1 - r^2)^{(d-4)/2}`` on
    the unit disc, so ``R`` has density ``(d-2) r (1-r^2)^{(d-4)/2}``; for ``N(0, I_d)``
    ``R`` is Rayleigh, ``r exp(-r^2/2)``.
    """
    check_law(law, dim)
    if law == "gaussian":
        return r * sp.exp(-(r**2) / 2), (sp.Integer(0), sp.oo)
    if dim == 2:
        return None
    return (dim - 2) * r * (1 - r**2) ** sp.Rational(dim - 4, 2), (sp.Integer(0), sp.Integer(1))


def c0_closed_form(law: str, dim: int) -> sp.Expr:
    """``c0 = E ||x_2||`` in closed form.

    Sphere: ``c0 = (d-2)/2 * B(3/2, (d-2)/2) = sqrt(pi) Gamma(d/2) / (2 Gamma((d+1)/2))``
    (``= 1`` for ``d = 2``, ``pi/4`` for ``d = 3``); Gaussian: ``sqrt(pi/2)`` in every
    dimension.
    """
    check_law(law, dim)
    if law == "gaussian":
        return sp.sqrt(sp.pi / 2)
    d = sp.Integer(dim)
    return sp.simplify(sp.sqrt(sp.pi) * sp.gamma(d / 2) / (2 * sp.gamma((d + 1) / 2)))


def c0_by_integration(law: str, dim: int) -> sp.Expr:
    """``E R`` integrated by sympy from :func:`radius_density` (an independent route)."""
    density = radius_density(law, dim)
    if density is None:
        return sp.Integer(1)
    expr, (low, high) = density
    if law == "gaussian":
        return sp.simplify(sp.integrate(r * expr, (r, low, high)))
    # r = sin(beta) turns the half-integer powers of 1 - r^2 into powers of cos(beta)
    beta = sp.Symbol("beta", positive=True)
    integrand = (dim - 2) * sp.sin(beta) ** 2 * sp.cos(beta) ** (dim - 3)
    return sp.simplify(sp.integrate(integrand, (beta, 0, sp.pi / 2)))


def one_dim_density(law: str, dim: int) -> sp.Expr:
    """Density of ``X = <e, x>`` for a unit vector ``e`` (on ``[-1, 1]`` for the sphere)."""
    check_law(law, dim)
    if law == "gaussian":
        return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)
    d = sp.Integer(dim)
    constant = sp.gamma(d / 2) / (sp.sqrt(sp.pi) * sp.gamma((d - 1) / 2))
    return constant * (1 - x**2) ** sp.Rational(dim - 3, 2)


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


# Lemma 1 and the reduced gradient --------------------------------------------------------
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


# Bounds --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrintedBound:
    """One inequality of the paper, with its constants as printed.

    ``rhs`` uses the constant symbols; ``constants`` maps each to its printed value in the
    initial data (``rho_0, theta_0``, ``rho_T, theta_T, T``, ``c_0``, ``N``). ``logit`` is
    ``X`` with ``rhs = 1 - 2/(exp(X) + 1)`` when the bound is on ``cos(theta)``, so the
    bound reads ``zeta >= X`` (or ``<=``).  ``derived`` lists constants where our
    derivation gives a different value (a corrected reading, checked separately).
    """

    id: str
    source: str
    quantity: str  # "cos_theta" (flow), "norm" (flow), "gd_cos_theta" (gradient descent)
    relation: str  # ">=" or "<="
    rhs: sp.Expr
    constants: dict[str, sp.Expr]
    window: str  # "before-T", "after-T", "all", "gd-until-nonnegative", "gd-all"
    depths: str  # "1" or ">2"
    logit: sp.Expr | None = None
    derived: dict[str, sp.Expr] = field(default_factory=dict)
    key_constant: str = ""
    derivation: tuple[tuple[str, str], ...] = ()

    def symbol(self, name: str) -> sp.Symbol:
        return sp.Symbol(name)

    def rhs_printed(self) -> sp.Expr:
        return self.rhs.subs({sp.Symbol(k): v for k, v in self.constants.items()})

    def rhs_derived(self) -> sp.Expr:
        values = {**self.constants, **self.derived}
        return self.rhs.subs({sp.Symbol(k): v for k, v in values.items()})

    def inequality(self, derived: bool = False) -> sp.Rel:
        lhs = {
            "cos_theta": sp.cos(sp.Function("theta")(t)),
            "norm": sp.Symbol(r"\|w_e(t)\|"),
            "gd_cos_theta": sp.cos(sp.Function("theta")(n)),
        }[self.quantity]
        rhs = self.rhs_derived() if derived else self.rhs_printed()
        return sp.GreaterThan(lhs, rhs) if self.relation == ">=" else sp.LessThan(lhs, rhs)


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name)


def _logistic(X: sp.Expr) -> sp.Expr:
    return 1 - 2 / (sp.exp(X) + 1)


def _zeta_of(angle: sp.Expr) -> sp.Expr:
    return -2 * sp.log(sp.Abs(sp.tan(angle / 2)))


def printed_bounds() -> dict[str, PrintedBound]:
    """Theorems 1, 2, 3, 5 and Lemma 4 as printed (reference ``linear-networks.md``)."""
    A1, B1, A2, B2, C2 = (_sym(k) for k in ("A1", "B1", "A2", "B2", "C2"))
    C1, alpha, D, E, F = (_sym(k) for k in ("C1", "alpha", "D", "E", "F"))
    B, a = _sym("B"), _sym("a")
    bounds = [
        PrintedBound(
            "theorem1.before-T",
            "Theorem 1 (t <= T)",
            "cos_theta",
            ">=",
            _logistic(A1 * t + B1),
            {"A1": 2 * c0 / (sp.pi * rho0), "B1": _zeta_of(theta0)},
            "before-T",
            "1",
            logit=A1 * t + B1,
            key_constant="A1",
            derivation=(
                (
                    "Comparison",
                    "Before T the norm decreases, rho(t) <= rho_0, so d zeta/dt = "
                    "2 c0/(pi rho) >= 2 c0/(pi rho_0) = A1 and zeta(t) >= zeta_0 + A1 t with "
                    "zeta_0 = B1. Our derivation gives the printed constants.",
                ),
            ),
        ),
        PrintedBound(
            "theorem1.after-T",
            "Theorem 1 (t > T)",
            "cos_theta",
            ">=",
            _logistic(A2 * sp.sqrt(t - T + C2) + B2),
            {
                "A2": 4 * c0 / sp.sqrt(SIX_TENTHS * sp.pi),
                "B2": _zeta_of(thetaT) - 4 * c0 * rhoT / (SIX_TENTHS * sp.pi),
                "C2": rhoT**2 / SIX_TENTHS,
            },
            "after-T",
            "1",
            logit=A2 * sp.sqrt(t - T + C2) + B2,
            derived={"A2": 4 * c0 / (sp.sqrt(SIX_TENTHS) * sp.pi)},
            key_constant="A2",
            derivation=(
                (
                    "Norm",
                    "After T, d rho^2/dt = 2 N(w) <= 0.6, so rho(t)^2 <= rho_T^2 + 0.6 (t - T).",
                ),
                (
                    "Comparison",
                    "d zeta/dt = 2 c0/(pi rho) >= 2 c0 / (pi sqrt(rho_T^2 + 0.6 "
                    "(t-T))); integrating, zeta(t) >= zeta_T + (4 c0/(0.6 pi)) (sqrt(0.6) "
                    "sqrt(t - T + C2) - rho_T).",
                ),
                (
                    "Constant",
                    "The coefficient of sqrt(t - T + C2) is 4 c0/(sqrt(0.6) pi). The "
                    "printed A2 = 4 c0/sqrt(0.6 pi) is larger by sqrt(pi): with it the bound "
                    "exceeds cos(theta(T)) already at t = T (by 4 c0 rho_T (1/sqrt(pi) - 1/pi)"
                    "/0.6 in zeta). B2 and C2 agree with our derivation.",
                ),
            ),
        ),
        PrintedBound(
            "lemma4.upper",
            "Lemma 4 (upper)",
            "norm",
            "<=",
            (rho0 ** (2 / N) + a * t) ** (N / 2),
            {"a": SIX_TENTHS},
            "all",
            ">2",
            key_constant="a",
            derivation=(
                (
                    "Norm",
                    "d rho^(2/N)/dt = (2/N) rho^(2/N - 1) N rho^(2-2/N) (c0 cos/pi - G) = "
                    "2 N(w_e) <= 0.6. Printed as derived.",
                ),
            ),
        ),
        PrintedBound(
            "lemma4.lower",
            "Lemma 4 (lower)",
            "norm",
            ">=",
            (rho0 ** (2 / N - 1) + a * t) ** (-N / (N - 2)),
            {"a": (N - 2) * c0},
            "all",
            ">2",
            derived={"a": 2 * (N - 2) * c0 / sp.pi},
            key_constant="a",
            derivation=(
                (
                    "Norm",
                    "c0 cos(theta)/pi - G(rho) >= -2 c0/pi, so d rho/dt >= -(2 N c0/pi) "
                    "rho^(2-2/N), and u = rho^(2/N-1) satisfies du/dt <= 2 (N-2) c0/pi. Our "
                    "constant 2 (N-2) c0/pi is smaller than the printed (N-2) c0, so the printed "
                    "lower bound is weaker and follows from ours.",
                ),
            ),
        ),
        PrintedBound(
            "theorem5.before-T",
            "Theorem 5 (t <= T)",
            "cos_theta",
            ">=",
            1 - 2 / (C1 * (A1 * t / B1 + 1) ** alpha + 1),
            {
                "A1": (N - 2) * c0,
                "B1": rho0 ** (2 / N - 1),
                "C1": (1 + sp.cos(theta0)) / (1 - sp.cos(theta0)),
                "alpha": 2 * c0 / sp.pi,
            },
            "before-T",
            ">2",
            logit=sp.log(C1) + alpha * sp.log(A1 * t / B1 + 1),
            derived={"alpha": 2 / ((N - 2) * sp.pi)},
            key_constant="alpha",
            derivation=(
                (
                    "Comparison",
                    "By Lemma 4 (lower), rho^(1-2/N) >= 1/(B1 + A1 t), so d zeta/dt "
                    ">= (2 c0/pi)/(B1 + A1 t), so zeta(t) >= ln C1 "
                    "+ (2 c0/(pi A1)) ln(1 + A1 t/B1).",
                ),
                (
                    "Constant",
                    "The exponent is 2 c0/(pi A1) = 2/((N-2) pi), not the printed "
                    "2 c0/pi (a lost denominator A1 would explain it). With the printed exponent "
                    "the bound's slope at t = 0 is (N-2) c0 times the largest possible, so it "
                    "fails near t = 0 whenever (N-2) c0 > 1 and T > 0.",
                ),
            ),
        ),
        PrintedBound(
            "theorem5.after-T",
            "Theorem 5 (t >= T)",
            "cos_theta",
            ">=",
            _logistic(A2 * (t - T) + B2),
            {"A2": 2 * c0 * rhoT ** (2 - 2 / N) / sp.pi, "B2": _zeta_of(thetaT)},
            "after-T",
            ">2",
            logit=A2 * (t - T) + B2,
            derived={"A2": 2 * c0 * rhoT ** (1 - 2 / N) / sp.pi},
            key_constant="A2",
            derivation=(
                (
                    "Comparison",
                    "After T the norm increases, so d zeta/dt = (2 c0/pi) "
                    "rho^(1-2/N) >= (2 c0/pi) rho_T^(1-2/N).",
                ),
                (
                    "Constant",
                    "The derived rate is 2 c0 rho_T^(1-2/N)/pi; the printed exponent "
                    "2 - 2/N makes the bound stronger than the flow allows when rho_T > 1.",
                ),
            ),
        ),
        PrintedBound(
            "theorem5.upper",
            "Theorem 5 (upper)",
            "cos_theta",
            "<=",
            _logistic(F * ((SIX_TENTHS * t + D) ** (N / 2) - D ** (N / 2)) + E),
            {
                "D": rho0 ** (2 / N),
                "E": _zeta_of(theta0),
                "F": 4 * c0 / (SIX_TENTHS * N * sp.pi),
            },
            "all",
            ">2",
            logit=F * ((SIX_TENTHS * t + D) ** (N / 2) - D ** (N / 2)) + E,
            key_constant="F",
            derivation=(
                (
                    "Comparison",
                    "By Lemma 4 (upper), rho^(1-2/N) <= (D + 0.6 t)^((N-2)/2); "
                    "integrating d zeta/dt = (2 c0/pi) rho^(1-2/N) gives the printed bound.",
                ),
            ),
        ),
        PrintedBound(
            "theorem2",
            "Theorem 2 (gradient descent, <v, w(0)> < 0)",
            "gd_cos_theta",
            ">=",
            1 - (1 - sp.cos(theta0)) * sp.exp(-B * S_n),
            {"A": rho0**2 / c0**2, "B": (1 + sp.cos(theta0)) / sp.pi},
            "gd-until-nonnegative",
            "1",
            key_constant="B",
            derivation=(
                (
                    "Sum",
                    "S_n = sum_{k<n} eta_k / sqrt(A + sum_{i<=k} eta_i^2); checked "
                    "numerically only (no derivation attempted here).",
                ),
            ),
        ),
        PrintedBound(
            "theorem3",
            "Theorem 3 (gradient descent)",
            "gd_cos_theta",
            ">=",
            1 - (1 - sp.cos(theta0)) * sp.exp(-B * S_n),
            {
                "A": rho0**2 / c0**2,
                "B": delta * (1 + sp.cos(theta0)) / ((1 + delta) * sp.pi),
                "C": SIX_TENTHS / c0**2,
            },
            "gd-all",
            "1",
            key_constant="B",
            derivation=(
                (
                    "Sum",
                    "S_n = sum_{k<n} eta_k / sqrt(A + sum_{i<=k} (eta_i^2 + C eta_i)), "
                    "under the hypothesis ||w(n+1)|| + wbar(n)^T w(n+1) >= (1 + delta) c0 eta_n "
                    "cos(theta(n))/pi for all n; checked numerically only.",
                ),
            ),
        ),
    ]
    return {b.id: b for b in bounds}


def gd_sum(eta: list[sp.Expr], A: sp.Expr, C: sp.Expr | int = 0) -> list[sp.Expr]:
    """``S_n`` for ``n = 0..len(eta)`` exactly:
    ``sum_{k<n} eta_k / sqrt(A + sum_{i<=k} (eta_i^2 + C eta_i))``."""
    out, inner, total = [sp.Integer(0)], sp.Integer(0), sp.Integer(0)
    for step in eta:
        inner += step**2 + C * step
        total += step / sp.sqrt(A + inner)
        out.append(total)
    return out


def bounds_derivation(law: str = "sphere", dim: int = 2) -> Derivation:
    """Every printed bound, our derivation of it and where the constants differ."""
    value = c0_closed_form(law, dim)
    out = Derivation(
        "Theorems 1-5 and Lemma 4: the bounds as printed and as derived",
        f"Constants as printed (reference linear-networks.md); c0 = {sp.sstr(value)} for the "
        f"{law} law in dimension {dim}. All bounds on cos(theta) have the form "
        "1 - 2/(exp(X) + 1) = tanh(X/2), i.e. zeta >= X.",
    )
    for bound in printed_bounds().values():
        out.add(f"{bound.source}: as printed", bound.inequality())
        if bound.logit is not None:
            check = sp.simplify((bound.rhs - _logistic(bound.logit)).rewrite(sp.exp))
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
