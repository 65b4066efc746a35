r"""The population risk of each flow as a function of ``s1 = w^T Sigma w``, ``s2 = w^T Sigma u``.

Model (Mousavi-Hosseini, Wu, Suzuki, Erdogdu 2023): ``x ~ N(0, Sigma)``,
``Sigma = alpha (I + kappa theta theta^T)``, ``y = g(<u, x>/sigma_u) + eps`` with
``sigma_u^2 = u^T Sigma u``.  The pre-activations ``<w, x> = sqrt(s1) Z1`` and
``<u, x>/sigma_u = Z2`` are standard Gaussians (after scaling) with correlation
``rho = s2 / (sigma_u sqrt(s1))``.  Writing the risk through ``s1`` and ``s2`` extends it off
the sphere, so that its Euclidean gradient is ``2 R_{s1} Sigma w + R_{s2} Sigma u``.

* ``plain``: ``R = 1/2 E[phi(<w,x>)^2] - E[phi(<w,x>) y] + const
  = V(sqrt(s1))/2 - sum_k c_k(phi(sqrt(s1) .)) c_k(g) rho^k``; the student's variance
  moves, so the coefficients of the rescaled activation enter
  (:mod:`featcheck.theory.dynamics.spiked.scaled`);
* ``normalized``: the student ``phi(<w,x>/||Sigma^(1/2) w||)`` has a standard Gaussian
  pre-activation, so ``R = -psi_{phi,g}(rho) + const`` (Mehler);
* ``preconditioned``: the same loss ``L = -psi(rho(w))``, 0-homogeneous in ``w``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from featcheck.theory.dynamics.spiked.correlation import (
    CorrelationSeries,
    coefficient_expr,
    correlation_series,
)
from featcheck.theory.dynamics.spiked.scaled import ScaledActivation
from featcheck.theory.functions import Function
from featcheck.theory.hermite import hermite_coefficients
from featcheck.theory.models import SpikedCovariance, c

s1 = sp.Symbol("s_1", positive=True)  # w^T Sigma w
s2 = sp.Symbol("s_2", real=True)  # w^T Sigma u
sigma = sp.Symbol("sigma", positive=True)  # the scale of the student's pre-activation


@dataclass
class RiskModel:
    """The risk of one flow as an expression in ``s1``, ``s2`` (and its ingredients).

    ``series``: ``psi_{phi,g}`` (normalized and preconditioned flows);
    ``link_coefficients`` and ``scaled``: ``c_k(g)`` and ``phi(sigma .)`` (plain flow);
    ``truncation``: whether the expression is exact, and the remainder bound if not.
    """

    flow: str
    expr: sp.Expr
    series: CorrelationSeries | None
    link_coefficients: tuple[sp.Expr, ...] = ()
    scaled: ScaledActivation | None = None
    truncation: str = ""


def risk_model(
    flow: str, activation: Function, link: Function, cov: SpikedCovariance, max_degree: int
) -> RiskModel:
    """The risk of ``flow`` for ``phi = activation``, ``g = link`` under ``cov``."""
    sigma_u = sp.sqrt(cov.sigma_u2(c))
    corr = s2 / (sigma_u * sp.sqrt(s1))
    if flow != "plain":
        series = correlation_series(activation, link, max_degree)
        note = (
            "exact (a polynomial on one side)"
            if series.exact
            else f"truncated at degree {series.max_degree}; |remainder of psi| <= "
            f"|rho|^{series.max_degree + 1} * {series.tail_bound:.3g} (Parseval)"
        )
        return RiskModel(flow, -series.psi(corr), series, truncation=note)
    scaled = ScaledActivation(activation, sigma)
    degrees = [
        sp.Poly(f.expr, sp.Symbol("z", real=True)).degree()
        for f in (activation, link)
        if f.is_polynomial
    ]
    degree = min(degrees) if degrees else max_degree
    link_exp = hermite_coefficients(link, degree)
    g = tuple(coefficient_expr(ck) for ck in link_exp.coefficients)
    sw = sp.sqrt(s1)
    correlation_part = sp.Add(
        *[scaled.coefficient(k).subs(sigma, sw) * gk * corr**k for k, gk in enumerate(g) if gk]
    )
    expr = scaled.second_moment.subs(sigma, sw) / 2 - correlation_part
    if degrees:
        note = "exact (a polynomial on one side)"
    else:
        _, tail_g = link_exp.parseval_tail()
        note = (
            f"truncated at degree {degree}; |remainder| <= |rho|^{degree + 1} "
            f"sqrt(T_g T_phi(sigma_w)), T_g = {float(tail_g):.3g}, "
            "T_phi(sigma) = E[phi(sigma Z)^2] - sum_{k<=K} c_k(phi(sigma .))^2"
        )
    return RiskModel(flow, expr, None, g, scaled, note)
