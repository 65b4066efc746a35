"""Model A (Moniri, Lee, Hassani, Dobriban 2024): the overlap of the gradient with ``beta*``.

The gradient is ``mu_1(sigma) a beta_hat^T`` plus a part small in operator norm, with
``beta_hat = X^T y / n``; :func:`overlap_symbolic` derives ``E||beta_hat||^2`` from first
principles and :func:`gradient_overlap` the limit of ``<beta_hat/||beta_hat||, beta*>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from featcheck.theory.errors import DomainError
from featcheck.theory.functions import FunctionLike, as_function
from featcheck.theory.hermite import Quantity, hermite_coefficients
from featcheck.theory.onestep.coefficients import exact_rational


@dataclass(frozen=True)
class OverlapLimit:
    """Model A: the limits of ``||beta_hat||^2`` and ``<beta_hat/||beta_hat||, beta*>``."""

    mu1_target: Quantity
    target_second_moment: Quantity
    noise_variance: sp.Rational
    psi: sp.Rational
    norm_squared: sp.Expr
    overlap: sp.Expr

    @property
    def value(self) -> float:
        return float(self.overlap)

    def alignment(self, k: int) -> float:
        """Predicted ``corr(He_k(X beta_hat/||beta_hat||), He_k(X beta*)) = overlap^k``."""
        return float(self.overlap) ** k


def _quantity_expr(q: Quantity) -> sp.Expr:
    return q.exact if q.exact is not None else sp.Float(q.value, 30)


def overlap_symbolic() -> tuple[sp.Expr, sp.Expr, dict[str, sp.Symbol]]:
    """``E||beta_hat||^2`` at finite ``(n, d)`` and its proportional limit, from first principles.

    ``beta_hat = (1/n) sum_i x_i y_i``: the ``n`` diagonal terms give
    ``E[y^2 ||x||^2]/n = ((d - 1) E[y^2] + E[sigma*(Z)^2 Z^2] + sigma_eps^2)/n`` and the
    ``n(n-1)`` off-diagonal ones ``||E[x y]||^2 = mu_1(sigma*)^2``.
    """
    n, d, psi = sp.symbols("n d psi", positive=True)
    mu1, m2, m2z, s2 = sp.symbols(r"\mu_1 m_2 m_{2Z} \sigma_\varepsilon^2", positive=True)
    ey2 = m2 + s2
    finite = ((d - 1) * ey2 + m2z + s2) / n**2 * n + (n - 1) / n * mu1**2
    limit = sp.limit(finite.subs(d, n / psi), n, sp.oo)
    return sp.simplify(finite), sp.simplify(limit), {"mu1": mu1, "m2": m2, "s2": s2, "psi": psi}


def gradient_overlap(
    target: FunctionLike, psi: float, noise_variance: float = 0.0, *, digits: int = 30
) -> OverlapLimit:
    """Model A: ``<beta_hat/||beta_hat||, beta*> -> mu_1(sigma*)/sqrt(||beta_hat||^2_limit)``.

    Re-derived in :func:`overlap_symbolic`; the overlap along ``beta*`` is
    ``mu_1(sigma*)`` because the noise part of ``beta_hat`` has a vanishing
    component along any fixed direction.
    """
    star = as_function(target)
    psi_r = exact_rational(psi, "psi")
    noise = exact_rational(noise_variance, "noise variance")
    if psi_r <= 0:
        raise DomainError(f"psi = n/d must be positive, got {psi}")
    if noise < 0:
        raise DomainError(f"noise variance must be non-negative, got {noise_variance}")
    expansion = hermite_coefficients(star, 1, basis="monic", digits=digits)
    mu1, m2 = expansion[1], expansion.second_moment
    _, limit, s = overlap_symbolic()
    norm_sq = limit.subs(
        {
            s["mu1"]: _quantity_expr(mu1),
            s["m2"]: _quantity_expr(m2),
            s["s2"]: noise,
            s["psi"]: psi_r,
        }
    )
    overlap = _quantity_expr(mu1) / sp.sqrt(norm_sq)
    return OverlapLimit(mu1, m2, noise, psi_r, sp.simplify(norm_sq), overlap)
