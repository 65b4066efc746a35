"""The derivation document of a function's Hermite coefficients."""

from __future__ import annotations

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.functions import Function
from featcheck.theory.hermite import hermite_coefficients, information_exponent

_CONVENTIONS = "conventions: probabilists' Hermite polynomials, Gaussian weight N(0, 1)"

_METHODS = {
    "polynomial": (
        "Projection on the Hermite basis",
        r"\mathbb{E}[Z^m \mathrm{He}_k(Z)] = \frac{m!}{((m-k)/2)!\,2^{(m-k)/2}}",
        "For m >= k with m - k even (zero otherwise); mu_k = sum_m p_m E[Z^m He_k(Z)].",
    ),
    "piecewise polynomial": (
        "Integration by parts on each piece",
        sp.Symbol(
            r"\int_a^b p\,\mathrm{He}_k\,\varphi\,dz = \sum_{j<k}"
            r"\Big[p^{(j)}\mathrm{He}_{k-1-j}\varphi\Big]_b^a + \int_a^b p^{(k)}\varphi\,dz"
        ),
        "From (He_{k-1} phi)' = -He_k phi; only j <= deg p contribute, and the "
        "truncated moments of phi follow M_m = (m-1) M_{m-2} + a^{m-1} phi(a) - b^{m-1} phi(b).",
    ),
    "polynomial times Gaussian or erf": (
        "Closed forms of the Gaussian and erf factors",
        [
            sp.Symbol(
                r"\mu_j(e^{-a z^2}) = \frac{\mathrm{He}_j(0)}{\sqrt{1+2a}}"
                r"\Big(\frac{2a}{1+2a}\Big)^{j/2}"
            ),
            sp.Symbol(
                r"\mu_j(\mathrm{erf}(b z)) = \frac{2b\,\mathrm{He}_{j-1}(0)}{\sqrt{\pi(1+2b^2)}}"
                r"\Big(\frac{2b^2}{1+2b^2}\Big)^{(j-1)/2}"
            ),
        ],
        "p He_k is written in the He basis with z He_j = He_{j+1} + j He_{j-1}; each "
        "term is then the closed form above (a Gaussian integral of a rescaled variable).",
    ),
    "numeric quadrature": (
        "Tanh-sinh quadrature",
        sp.Symbol(r"\mu_k = \int f(z)\,\mathrm{He}_k(z)\,\varphi(z)\,dz"),
        "No closed form: mpmath tanh-sinh quadrature, split at the switching points; "
        "each coefficient carries the difference of the last two quadrature levels "
        "plus the rounding bound as its error. Coefficients forced to 0 by the "
        "symmetry of f are exact zeros.",
    ),
}


def hermite_derivation(function: Function, max_degree: int = 8) -> Derivation:
    """Definitions, method, the coefficients, Parseval and the information exponent."""
    expansion = hermite_coefficients(function, max_degree)
    c, mu, k = sp.Symbol("c_k"), sp.Symbol(r"\mu_k"), sp.Symbol("k")
    doc = Derivation(
        f"Hermite coefficients of {function.name}",
        summary=f"f(z) = ${sp.latex(function.expr)}$; method: {expansion.method} "
        f"({expansion.form}); {_CONVENTIONS}.",
    )
    doc.add(
        "Definitions",
        [
            sp.Eq(c, sp.Symbol(r"\mathbb{E}[f(Z)\,h_k(Z)]")),
            sp.Eq(mu, sp.Symbol(r"\mathbb{E}[f(Z)\,\mathrm{He}_k(Z)]")),
            sp.Eq(mu, sp.sqrt(sp.factorial(k)) * c),
        ],
        "Normalized (c_k) and monic (mu_k) coefficients; h_k = He_k / sqrt(k!).",
        "DLMF section 18.3 (orthogonality of Hermite polynomials)",
    )
    title, statement, why = _METHODS[expansion.form]
    doc.add(title, statement, why)
    rows = []
    for cn in expansion.coefficients:
        if cn.exact is not None:
            rows.append(sp.Eq(sp.Symbol(f"c_{{{cn.degree}}}"), sp.nsimplify(cn.exact)))
        else:
            rows.append(
                sp.Symbol(
                    f"c_{{{cn.degree}}} = {sp.Float(cn.value, 20)} \\pm {float(cn.error):.1e}"
                )
            )

    doc.add(f"Coefficients up to degree {max_degree}", rows)
    m = expansion.second_moment
    lhs = sp.Symbol(r"\mathbb{E}[f(Z)^2]")
    doc.add(
        "Second moment and Parseval",
        sp.Eq(lhs, m.exact)
        if m.exact is not None
        else sp.Symbol(rf"\mathbb{{E}}[f(Z)^2] = {sp.Float(m.value, 20)} \pm {float(m.error):.1e}"),
        "E[f^2] = sum_k c_k^2, so E[f^2] - sum_{k<=K} c_k^2 bounds the tail of the series.",
    )
    low, high = expansion.parseval_tail()
    doc.add(
        f"Tail above degree {max_degree}",
        sp.Symbol(rf"\sum_{{k>{max_degree}}} c_k^2 \in [{float(low):.6g},\ {float(high):.6g}]"),
    )
    exponent = information_exponent(expansion)
    doc.add(
        "Information exponent",
        sp.Symbol(
            "s(f) = \\min\\{k \\ge 1 : c_k \\ne 0\\} = "
            + ("\\text{undetermined}" if exponent.value is None else str(exponent.value))
        ),
        exponent.reason,
    )

    return doc
