"""A theorist's own claims, checked by featcheck.

Lemma 2 of our notes: for unit vectors u, w in R^d with <u, w> = m and x ~ N(0, I_d),

    E[ g(<u, x>) h_k(<w, x>) ] = c_k(g) m^k,

where h_k = He_k / sqrt(k!) is the normalized Hermite polynomial and c_k(g) = E[g(Z) h_k(Z)]
is the k-th Hermite coefficient of the link g.  The prediction comes from featcheck's exact
Hermite engine, the measurement from Monte Carlo in dimension d, and the rule is a 99%
confidence interval, Bonferroni-corrected over the checks.
"""

import math

import numpy as np
from scipy import stats

import featcheck

NOTES = featcheck.Paper("A. Student", 2026, "Notes on single-index models")
LINK = "relu(z - 1/2)"
DEGREES = (1, 2, 3)
OVERLAPS = (0.3, 0.6, 0.9)


def correlation(rng, link, k: int, m: float, *, d: int, n: int) -> tuple[float, float]:
    """Monte Carlo estimate of E[g(<u,x>) h_k(<w,x>)] and its standard error."""
    u = np.zeros(d)
    u[0] = 1.0
    w = np.zeros(d)
    w[0], w[1] = m, math.sqrt(1 - m * m)
    x = rng.standard_normal((n, d))
    he = np.polynomial.hermite_e.hermeval(x @ w, [0] * k + [1]) / math.sqrt(math.factorial(k))
    values = link.np(x @ u) * he
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(n))


def _check_lemma(ctx: featcheck.ClaimContext, power) -> featcheck.Evidence:
    """Compare c_k(g) m^power(k) with the Monte Carlo estimate, for every k and m."""
    link = featcheck.parse_function(LINK)
    c = featcheck.hermite_coefficients(link, max(DEGREES)).coefficients
    n = ctx.pick(quick=200_000, full=2_000_000)
    level = 0.01 / (len(DEGREES) * len(OVERLAPS))  # family-wise 99%
    z = stats.norm.ppf(1 - level / 2)
    rng = ctx.rng()
    evidence = featcheck.Evidence()
    for k in DEGREES:
        for m in OVERLAPS:
            measured, se = correlation(rng, link, k, m, d=20, n=n)
            evidence.add(
                featcheck.within(
                    f"k={k}, m={m}", float(c[k].value) * m ** power(k), measured, z * se, n=n
                )
            )
    return evidence


@featcheck.claim(
    "mynotes.lemma2",
    provenance=featcheck.printed(NOTES, "Lemma 2"),
    statement="E[g(<u,x>) h_k(<w,x>)] = c_k(g) m^k for unit u, w with <u,w> = m.",
)
def lemma2(ctx: featcheck.ClaimContext) -> featcheck.Evidence:
    return _check_lemma(ctx, power=lambda k: k)


@featcheck.claim(
    "mynotes.lemma2-draft",
    provenance=featcheck.printed(NOTES, "Lemma 2, first draft"),
    statement="E[g(<u,x>) h_k(<w,x>)] = c_k(g) m^(k+1) (an earlier, wrong, version).",
)
def lemma2_draft(ctx: featcheck.ClaimContext) -> featcheck.Evidence:
    return _check_lemma(ctx, power=lambda k: k + 1)
