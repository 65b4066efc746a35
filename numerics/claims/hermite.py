"""Claims about the exact Hermite engine and the Gaussian identities behind it."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp

from featcheck.numerics.claims import rules
from featcheck.numerics.claims.base import ClaimContext, Evidence, claim, holds_if, within
from featcheck.numerics.claims.figures import new_figure, save
from featcheck.numerics.claims.provenance import BEN_AROUS_2021, DLMF, derived, printed
from featcheck.numerics.quadrature import (
    correlated_gaussians,
    double_precision_coefficients,
    evaluate,
    gaussian_expectation_2d,
    monte_carlo_mean,
    mpmath_coefficient,
    mpmath_expectation,
)
from featcheck.theory.functions import CATALOGUE_EXAMPLES, parse_function, z
from featcheck.theory.gaussian import mehler, rho, scaled_monic_coefficient
from featcheck.theory.hermite import he_at, hermite_coefficients, information_exponent, normal_cdf

DIGITS = 30
#: Double-precision rounding allowance relative to sqrt(E f^2): n eps sum|w f h_k| with
#: n <= 300 nodes and sum|w f h_k| <= sqrt(E f^2) sqrt(E h_k^2) by Cauchy-Schwarz.
DOUBLE_ROUNDING = 300 * 2.3e-16


@claim(
    "hermite.oracles",
    provenance=derived(
        None,
        "the exact and certified Hermite coefficients of the catalogue",
        "docs/derivations/hermite-relu.md",
    ),
    statement="The coefficients of every catalogue function (exact, or certified numeric) agree "
    "with two independent oracles (double precision: Gauss-Hermite for smooth functions, "
    "QUADPACK split at kinks; mpmath tanh-sinh at 30 digits, 20 at the quick budget) within "
    "the combined error bounds.",
)
def oracles(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    max_degree = ctx.pick(quick=6, full=30)
    digits = ctx.pick(quick=20, full=DIGITS)
    tolerance = mpmath.mpf(10) ** (-digits)
    fig, ax = new_figure()
    for name in CATALOGUE_EXAMPLES:
        f = parse_function(name)
        expansion = hermite_coefficients(f, max_degree, digits=DIGITS)
        scale = math.sqrt(float(expansion.second_moment.value))
        double, double_err, method = double_precision_coefficients(f, max_degree)
        for c in expansion.coefficients:
            k = c.degree
            evidence.add(
                within(
                    f"{name} c_{k} vs {method}",
                    float(c.value),
                    double[k],
                    float(c.error) + double_err[k] + DOUBLE_ROUNDING * scale,
                    function=name,
                    degree=k,
                )
            )
            with mpmath.workdps(digits + 10):
                value, err = mpmath_coefficient(f, k, digits)
                gap = abs(value - c.value)
                tol = c.error + err + tolerance
            evidence.add(
                within(
                    f"{name} c_{k} vs mpmath ({digits} digits)",
                    0.0,
                    float(gap),
                    float(tol),
                    function=name,
                    degree=k,
                    method=expansion.method,
                )
            )
        if name in ("relu", "tanh", "relu(z+1/2)", "sign"):
            ks = np.arange(max_degree + 1)
            exact = np.abs(expansion.values())
            shown = exact > 0  # coefficients that vanish exactly have no place on a log scale
            ax.semilogy(ks[shown], exact[shown], "o-", label=f"{name} (featcheck)")
            ax.semilogy(ks[shown], np.abs(double[shown]), "x", color="k")
    ax.set_xlabel("degree k")
    ax.set_ylabel("|c_k|, non-zero only")
    ax.set_title("featcheck (lines) and the double-precision oracle (crosses)", fontsize=9)
    ax.legend(fontsize=8)
    evidence.add_figure(save(fig, ctx.figure_path("coefficients")))
    return evidence


@claim(
    "hermite.parseval",
    provenance=printed(DLMF, "section 18.3 (orthogonality; Parseval in the orthonormal basis)"),
    statement="Parseval: E[f(Z)^2] = sum_k c_k^2. The exact or certified E[f^2] agrees with "
    "an independent quadrature of f^2, partial sums never exceed it, polynomials reach it "
    "at their degree, and the closed-form kernels satisfy psi_{f,f}(1) = E[f^2].",
)
def parseval(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    max_degree = ctx.pick(quick=20, full=60)
    for name in CATALOGUE_EXAMPLES:
        f = parse_function(name)
        expansion = hermite_coefficients(f, max_degree, digits=DIGITS)
        m = expansion.second_moment
        with mpmath.workdps(DIGITS + 10):
            quad, quad_err = mpmath_expectation(lambda x, f=f: f.mp(x) ** 2, f.breakpoints, DIGITS)
            evidence.add(
                within(
                    f"{name}: E[f^2] vs mpmath quadrature",
                    float(m.value),
                    float(quad),
                    float(m.error + abs(quad_err) + mpmath.mpf(10) ** (-DIGITS)),
                )
            )
            partial = mpmath.mpf(0)
            worst_excess = mpmath.mpf("-inf")
            for c in expansion.in_basis("normalized").coefficients:
                partial += max(abs(c.value) - c.error, 0) ** 2
                worst_excess = max(worst_excess, partial - m.value - m.error)
        evidence.add(
            holds_if(
                f"{name}: partial sums <= E[f^2] up to degree {max_degree}",
                worst_excess <= mpmath.mpf(10) ** (-DIGITS),
                "sum_{k<=K} c_k^2 <= E[f^2]",
                f"max excess {mpmath.nstr(worst_excess, 3)}",
            )
        )
        if f.is_polynomial:
            degree = sp.Poly(f.expr, z).degree()
            exact_sum = sum(c.exact**2 for c in expansion.coefficients[: degree + 1])
            evidence.add(
                holds_if(
                    f"{name}: sum_{{k<={degree}}} c_k^2 == E[f^2] exactly",
                    sp.simplify(exact_sum - m.exact) == 0,
                    sp.sstr(m.exact),
                    sp.sstr(sp.simplify(exact_sum)),
                )
            )
    for name in ("relu", "erf", "erf(2*z)"):
        kernel = mehler(name, name)
        at_one = sp.simplify(kernel.closed_form.subs(rho, 1))
        moment = hermite_coefficients(name, 0).second_moment.exact
        evidence.add(
            holds_if(
                f"{name}: psi_ff(1) == E[f^2] ({kernel.method})",
                sp.simplify(at_one - moment) == 0,
                sp.sstr(moment),
                sp.sstr(at_one),
            )
        )
    return evidence


MEHLER_PAIRS_QUICK = (
    ("relu", "relu"),
    ("relu(z+1/2)", "abs"),
    ("sign", "he(3)"),
    ("erf", "erf(2*z)"),
    ("step", "relu"),
    ("sigmoid", "z^3 - 2*z + 1"),
)
MEHLER_PAIRS_FULL = (*MEHLER_PAIRS_QUICK, ("tanh", "relu"), ("softplus", "sign"))


@claim(
    "hermite.mehler",
    provenance=printed(DLMF, "equation 18.18.28 (Mehler's formula)"),
    statement="Mehler: E[f(Z1) g(Z2)] = sum_k c_k(f) c_k(g) rho^k for correlated standard "
    "Gaussians, checked against two-dimensional quadrature (within both error bounds) and "
    "Monte Carlo (inside a Bonferroni-corrected 99.9% confidence interval).",
)
def mehler_identity(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    pairs = ctx.pick(quick=MEHLER_PAIRS_QUICK, full=MEHLER_PAIRS_FULL)
    rhos = (-0.9, -0.3, 0.4, 0.8)
    samples = ctx.pick(quick=200_000, full=2_000_000)
    level = rules.Level(alpha=0.001, tests=len(pairs) * len(rhos)).confidence
    rng = ctx.rng()
    fig, ax = new_figure()
    grid = np.linspace(-1, 1, 81)
    for fname, gname in pairs:
        f, g = parse_function(fname), parse_function(gname)
        kernel = mehler(f, g, 40)
        for r in rhos:
            with mpmath.workdps(30):
                value, bound = kernel.evaluate(r)
            quad, quad_err = gaussian_expectation_2d(f, g, r)
            evidence.add(
                within(
                    f"psi[{fname}, {gname}]({r}) vs 2-D quadrature ({kernel.method})",
                    float(value),
                    quad,
                    float(bound) + quad_err,
                )
            )
            z1, z2 = correlated_gaussians(rng, r, samples)
            estimate = monte_carlo_mean(evaluate(f, z1) * evaluate(g, z2), level)
            evidence.add(
                within(
                    f"psi[{fname}, {gname}]({r}) vs Monte Carlo",
                    float(value),
                    estimate.mean,
                    estimate.half_width + float(bound),
                    samples=samples,
                    level=level,
                )
            )
        if (fname, gname) in pairs[:4]:
            with mpmath.workdps(20):
                ax.plot(
                    grid, [float(kernel.evaluate(x)[0]) for x in grid], label=f"{fname}, {gname}"
                )
    ax.set_xlabel("correlation rho")
    ax.set_ylabel("psi_{f,g}(rho) = E[f(Z1) g(Z2)]")
    ax.set_title("Mehler kernels (series with certified tail)")
    ax.legend(fontsize=8)
    evidence.add_figure(save(fig, ctx.figure_path("kernels")))
    return evidence


@claim(
    "hermite.arc-cosine",
    provenance=derived(
        None, "the ReLU kernel summed from its Hermite series", "docs/derivations/hermite-relu.md"
    ),
    statement="sum_k c_k(ReLU)^2 rho^k = (sqrt(1 - rho^2) + (pi - arccos rho) rho) / (2 pi): "
    "exact partial sums approach the closed form within the Parseval tail bound "
    "|rho|^(K+1) (E[f^2] - sum_{k<=K} c_k^2), on [-1, 1].",
)
def arc_cosine(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    max_degree = ctx.pick(quick=120, full=400)
    expansion = hermite_coefficients("relu", max_degree, digits=DIGITS)
    with mpmath.workdps(DIGITS + 10):
        squares = [c.value**2 for c in expansion.coefficients]
        tail = expansion.second_moment.value - sum(squares)
    closed = (sp.sqrt(1 - rho**2) + (sp.pi - sp.acos(rho)) * rho) / (2 * sp.pi)
    fig, ax = new_figure()
    gaps, bounds, grid = [], [], np.linspace(-1, 1, 21)
    with mpmath.workdps(DIGITS + 10):
        for r in grid:
            rm = mpmath.mpf(float(r))
            exact = mpmath.mpf(sp.N(closed.subs(rho, sp.Float(float(r), 40)), 40))
            partial = sum(s * rm**k for k, s in enumerate(squares))
            bound = abs(rm) ** (max_degree + 1) * tail + mpmath.mpf(10) ** (-DIGITS)
            # Compared at 40 digits: at rho = -1 the bound is attained exactly.
            gap = abs(exact - partial)
            evidence.add(
                holds_if(
                    f"K={max_degree}, rho={r:+.1f}: |closed - partial| <= tail bound",
                    gap <= bound,
                    f"<= {mpmath.nstr(bound, 6)}",
                    mpmath.nstr(gap, 6),
                    closed_form=float(exact),
                    partial_sum=float(partial),
                )
            )
            gaps.append(float(abs(exact - partial)) + 1e-40)
            bounds.append(float(bound))
    for r in (-0.7, 0.5, 0.95):
        quad, quad_err = gaussian_expectation_2d(parse_function("relu"), parse_function("relu"), r)
        exact = float(sp.N(closed.subs(rho, sp.Float(r, 30))))
        evidence.add(within(f"closed form vs 2-D quadrature, rho={r}", exact, quad, quad_err))
    ax.semilogy(grid, gaps, "o", label="|closed form - partial sum|")
    ax.semilogy(grid, bounds, "-", label="Parseval tail bound")
    ax.set_xlabel("correlation rho")
    ax.set_ylabel("absolute error")
    ax.set_title(f"ReLU arc-cosine kernel: degree-{max_degree} partial sum vs tail bound")
    ax.legend(fontsize=8)
    evidence.add_figure(save(fig, ctx.figure_path("tail")))
    return evidence


def _phi(b: sp.Expr) -> sp.Expr:
    return sp.exp(-(b**2) / 2) / sp.sqrt(2 * sp.pi)


def _agree(a: sp.Expr, b: sp.Expr, digits: int = 50) -> tuple[bool, float]:
    """Exact expressions equal to ``digits`` significant digits (relative to max(1, |a|))."""
    gap = abs(sp.N(a - b, digits + 10))
    size = max(1, abs(sp.N(a, digits + 10)))
    return bool(gap <= size * sp.Float(10) ** (-digits)), float(gap)


@claim(
    "hermite.closed-forms",
    provenance=derived(
        None,
        "closed forms of the ReLU, |z|, sign and tanh coefficients",
        "docs/derivations/hermite-relu.md",
    ),
    statement="Closed forms hold: ReLU c_k = (-1)^((k-2)/2) (k-3)!! / "
    "sqrt(2 pi k!) for even k >= 2 and 0 for odd k >= 3; ReLU with bias mu_0 = b Phi(b) + "
    "phi(b), mu_1 = Phi(b), mu_k = He_{k-2}(-b) phi(b); |z| and sign(z); the quoted decimals "
    "of ReLU and the 30-digit tanh values.",
)
def closed_forms(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    max_degree = ctx.pick(quick=60, full=200)
    relu = hermite_coefficients("relu", max_degree)
    for c in relu.coefficients[2:]:
        k = c.degree
        if k % 2:
            predicted = sp.Integer(0)
        else:
            predicted = (
                (-1) ** ((k - 2) // 2) * sp.factorial2(k - 3) / sp.sqrt(2 * sp.pi * sp.factorial(k))
            )
        ok, gap = _agree(predicted, c.exact)
        evidence.add(holds_if(f"relu c_{k}", ok, sp.sstr(predicted), sp.sstr(c.exact), gap=gap))
    quoted = {2: "0.28209479177", 4: "-0.08143375198", 6: "0.04460310290", 8: "-0.02980170169"}
    for k, text in quoted.items():
        evidence.add(within(f"relu c_{k} decimals", float(text), float(relu[k].value), 5e-12))
    for b in (sp.Integer(-1), sp.Rational(1, 2), sp.Integer(2)):
        biased = hermite_coefficients(f"relu(z + {b})", max_degree // 2, basis="monic")
        he = he_at(max_degree, -b)
        predictions = [b * normal_cdf(b) + _phi(b), normal_cdf(b)] + [
            he[k - 2] * _phi(b) for k in range(2, max_degree // 2 + 1)
        ]
        for c, predicted in zip(biased.coefficients, predictions, strict=True):
            ok, gap = _agree(predicted, c.exact)
            evidence.add(
                holds_if(f"relu(z+{b}) mu_{c.degree}", ok, sp.sstr(predicted), sp.sstr(c.exact))
            )
    he0 = he_at(max_degree, sp.Integer(0))
    for name, formula in (
        ("abs", lambda k: (1 + (-1) ** k) * he0[k - 2] / sp.sqrt(2 * sp.pi)),
        ("sign", lambda k: 2 * he0[k - 1] / sp.sqrt(2 * sp.pi)),
    ):
        monic = hermite_coefficients(name, max_degree // 2, basis="monic")
        for c in monic.coefficients[2:]:
            ok, gap = _agree(formula(c.degree), c.exact)
            evidence.add(
                holds_if(f"{name} mu_{c.degree}", ok, sp.sstr(formula(c.degree)), sp.sstr(c.exact))
            )
    tanh = hermite_coefficients("tanh", 5, basis="monic", digits=DIGITS)
    printed = {
        1: "0.605705509602158825583540227556",
        3: "-0.363595376280974149497967856470",
        5: "0.685173793508918887590599531643",
    }
    with mpmath.workdps(DIGITS + 10):
        for k, text in printed.items():
            gap = abs(tanh[k].value - mpmath.mpf(text))
            tol = tanh[k].error + mpmath.mpf("5e-31")
            evidence.add(
                within(f"tanh mu_{k} (30 digits)", 0.0, float(gap), float(tol), printed=text)
            )
    for k in (0, 2, 4):
        evidence.add(holds_if(f"tanh mu_{k} = 0", tanh[k].exact == 0, "0", str(tanh[k].exact)))
    return evidence


@claim(
    "hermite.scaling",
    provenance=derived(
        None, "variance scaling of Hermite coefficients", "docs/derivations/hermite-relu.md"
    ),
    statement="Variance scaling: c_k(f(sigma .)) = sigma c_k(f) for positively 1-homogeneous f "
    "(ReLU), and mu_k(p(sigma .)) = sigma^k sum_j mu_{k+2j}(p) ((sigma^2-1)/2)^j / j! for "
    "polynomials p, as exact identities.",
)
def scaling(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    max_degree = ctx.pick(quick=12, full=40)
    relu = hermite_coefficients("relu", max_degree)
    for sigma in (sp.Rational(1, 2), sp.Integer(3), sp.sqrt(2)):
        scaled = hermite_coefficients(parse_function("relu").scaled(sigma), max_degree)
        for c, c0 in zip(scaled.coefficients, relu.coefficients, strict=True):
            ok = sp.simplify(c.exact - sigma * c0.exact) == 0
            evidence.add(
                holds_if(f"relu, sigma={sigma}, c_{c.degree}", ok, "sigma c_k(f)", sp.sstr(c.exact))
            )
    rng = ctx.rng()
    for trial in range(ctx.pick(quick=3, full=6)):
        coeffs = [sp.Rational(int(v), 4) for v in rng.integers(-8, 9, size=6)]
        poly = parse_function(" + ".join(f"({a})*z^{m}" for m, a in enumerate(coeffs)))
        sigma = sp.Rational(int(rng.integers(1, 9)), 4)
        base = hermite_coefficients(poly, 6, basis="monic")
        scaled = hermite_coefficients(poly.scaled(sigma), 6, basis="monic")
        for c in scaled.coefficients:
            predicted = scaled_monic_coefficient(base, c.degree, sigma)
            evidence.add(
                holds_if(
                    f"polynomial {trial}, sigma={sigma}, mu_{c.degree}",
                    sp.expand(predicted - c.exact) == 0,
                    sp.sstr(predicted),
                    sp.sstr(c.exact),
                    polynomial=poly.name,
                )
            )
    return evidence


#: Information exponents, from the definition s(f) = min{k >= 1: c_k(f) != 0}.
STATED_EXPONENTS = {
    "he(1)": 1,
    "he(2)": 2,
    "he(3)": 3,
    "he(4)": 4,
    "he(5)": 5,
    "z^3": 1,
    "abs": 2,
    "z^2": 2,
    "sign": 1,
    "relu": 1,
    "tanh": 1,
}


@claim(
    "hermite.information-exponent",
    provenance=derived(
        BEN_AROUS_2021,
        "the information exponent s(f) = min{k >= 1: c_k != 0}",
        "docs/derivations/hermite-relu.md",
    ),
    statement="Information exponents: He_k has s = k; z^3 has s = 1; |z| and z^2 have s = 2; "
    "sign has s = 1 (and ReLU, tanh s = 1), each determined with certainty.",
)
def exponents(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    for name, stated in STATED_EXPONENTS.items():
        result = information_exponent(hermite_coefficients(name, 8))
        evidence.add(
            holds_if(
                f"s({name})",
                result.value == stated and result.certain,
                stated,
                result.value,
                certain=result.certain,
                reason=result.reason,
            )
        )
    return evidence
