r"""Escape from the equator of the aligned plain flow under ``Sigma = I + kappa theta theta^T``.

Convention ``ba`` (``alpha = 1``), aligned spike ``u = theta``, unit ``w`` with overlap
``m = <w, u>``.  Then ``s1 = w^T Sigma w = 1 + kappa m^2`` and the correlation of the two
pre-activations is ``rho = m sqrt(1 + kappa) / sqrt(1 + kappa m^2)``.  In the scaled overlap

    ``mu = m sqrt(kappa)``

the flow ``dm/dt = -(1 - m^2) dR/dm`` becomes exactly

    ``d mu/dt = kappa (1 - mu^2/kappa) F_kappa(mu)``,  ``F_kappa(mu) = -d/dmu R(s1, rho)``

with ``s1 = 1 + mu^2`` and ``rho = mu sqrt((1 + kappa)/kappa) / sqrt(1 + mu^2)``.  As
``kappa -> oo`` at fixed ``mu``, ``F_kappa -> F`` with ``rho -> mu / sqrt(1 + mu^2)``:

    ``F(mu) = -d/dmu [ V(sqrt(1 + mu^2))/2 - sum_k c_k(phi(sqrt(1 + mu^2) .)) g_k rho^k ]``

does not depend on ``kappa``.  ``F = F_0 + F_1``: ``F_0 < 0`` comes from ``E[phi^2]/2`` (the
student's variance grows along the spike), ``F_1`` from the link.  Scaling the link by an
amplitude ``a`` gives ``F_0 + a F_1``, so the equator can be left at large ``kappa`` iff

    ``sup_mu (F_0 + a F_1) > 0  <=>  a > a* = inf_{mu : F_1 > 0} -F_0(mu) / F_1(mu)``,

an amplitude condition, not a condition on ``kappa``.  When it holds, ``F_0 + a F_1`` has
two positive zeros ``mu_1 < mu_2``: a start ``m0 = d^(-1/2)``, that is
``mu0 = sqrt(kappa / d)``, falls back to the equator iff ``mu0 < mu_1``, so the threshold is
``kappa_c = mu_1^2 d``; above it the flow stops at ``mu_2``, where the whitened overlap is
``rho_inf = mu_2 / sqrt(1 + mu_2^2)`` (and ``m_inf = mu_2 / sqrt(kappa)``), up to
``O(1/kappa)``.  When it fails, every start with ``mu0 = O(1)`` returns to the equator.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics.spiked.checks import max_abs_at_random
from featcheck.theory.dynamics.spiked.correlation import DEFAULT_MAX_DEGREE
from featcheck.theory.dynamics.spiked.recovery import recovery_condition
from featcheck.theory.dynamics.spiked.risk import risk_model, s1, s2, sigma
from featcheck.theory.dynamics.spiked.scaled import ScaledIntegral
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import Function, FunctionLike, as_function
from featcheck.theory.hermite import hermite_coefficients
from featcheck.theory.models import SpikedCovariance, c, kappa, m

SOURCE = "Mousavi-Hosseini, Wu, Suzuki, Erdogdu, NeurIPS 2023 (arXiv 2309.03843)"

#: the scaled overlap mu = m sqrt(kappa) and the correlation r = rho in the limit
mu = sp.Symbol("mu", positive=True)
r = sp.Symbol("r", positive=True)

#: committed documents (docs/derivations/NAME) -> (activation, link) that generate them
DOCUMENTS = {
    "spiked-escape-ba-relu-minus-h4.md": ("relu", "-h(4)"),
    "spiked-escape-ba-zabsz-he3.md": ("z*abs(z)", "he(3)"),
    "spiked-escape-ba-relu-minus-3he4.md": ("relu", "-3*he(4)"),
    "spiked-escape-ba-zabsz-8he3.md": ("z*abs(z)", "8*he(3)"),
}

#: grid of the correlation r in (0, 1) on which extrema and zeros are bracketed
GRID = 2000
DIGITS = 30


@dataclass(frozen=True)
class EquatorEscape:
    """The large-``kappa`` profile ``F = F_0 + F_1`` of the aligned plain flow (``ba``).

    ``repulsion`` is ``F_0(mu)``, ``attraction`` is ``F_1(mu)`` (the link at amplitude 1),
    ``finite`` is ``F_kappa(mu)`` (exact at every ``kappa``).  ``critical_amplitude`` is
    ``a*`` (``None`` when ``F_1 <= 0`` everywhere: no amplitude escapes), attained at
    ``critical_mu``; ``he_amplitude`` is the link's coefficient on ``He_s``
    (``s`` its information exponent), so ``a* |he_amplitude|`` is the ``He_s`` amplitude
    the link needs.  ``residual``: the largest difference, at random points, between
    ``d mu/dt`` from this profile and the aligned reduction of ``spiked_flow``.
    """

    activation: Function
    link: Function
    s: int | None
    repulsion: sp.Expr
    attraction: sp.Expr
    finite: sp.Expr
    critical_amplitude: float | None
    critical_mu: float | None
    he_amplitude: float | None
    residual: float
    derivation: Derivation

    @property
    def profile(self) -> sp.Expr:
        """``F(mu)`` for the link as given (amplitude 1)."""
        return self.repulsion + self.attraction

    @property
    def escapes(self) -> bool:
        """``sup F > 0`` for the link as given: ``1 > a*``."""
        return self.critical_amplitude is not None and self.critical_amplitude < 1

    @property
    def critical_he_amplitude(self) -> float | None:
        """``a* |c_s|``: the amplitude on ``He_s`` above which the flow can escape."""
        if self.critical_amplitude is None or self.he_amplitude is None:
            return None
        return self.critical_amplitude * abs(self.he_amplitude)

    def value(self, mu_value: float, amplitude: float = 1.0) -> float:
        """``F_0(mu) + amplitude F_1(mu)``."""
        point = {mu: sp.Float(mu_value, DIGITS)}
        return float(
            sp.N(self.repulsion.subs(point) + amplitude * self.attraction.subs(point), DIGITS)
        )

    def zeros(self, amplitude: float = 1.0) -> tuple[float, float] | None:
        """The positive zeros ``mu_1 < mu_2`` of ``F_0 + amplitude F_1`` (None if ``sup <= 0``)."""
        return _zeros(self.repulsion, self.attraction, float(amplitude))

    def threshold(self, d_value: float, amplitude: float = 1.0) -> float | None:
        """``kappa_c = mu_1^2 d``: the start ``m0 = d^(-1/2)`` escapes iff ``kappa > kappa_c``."""
        roots = self.zeros(amplitude)
        return None if roots is None else roots[0] ** 2 * float(d_value)

    def endpoint(self, amplitude: float = 1.0) -> float | None:
        """``rho_inf = mu_2 / sqrt(1 + mu_2^2)``: where an escaping flow stops (``kappa -> oo``)."""
        roots = self.zeros(amplitude)
        return None if roots is None else roots[1] / (1 + roots[1] ** 2) ** 0.5


def _in_r(expr: sp.Expr) -> sp.Expr:
    """``expr(mu)`` rewritten in ``r = mu / sqrt(1 + mu^2)`` (``mu = r / sqrt(1 - r^2)``)."""
    return expr.subs(mu, r / sp.sqrt(1 - r**2))


def _functions(repulsion: sp.Expr, attraction: sp.Expr):
    f0 = sp.lambdify(r, _in_r(repulsion), "mpmath")
    f1 = sp.lambdify(r, _in_r(attraction), "mpmath")
    return f0, f1


def _grid() -> list:
    return [mpmath.mpf(i) / GRID for i in range(1, GRID)]


def _critical(repulsion: sp.Expr, attraction: sp.Expr) -> tuple[float | None, float | None]:
    """``a* = inf -F_0/F_1`` over ``F_1 > 0`` and the ``mu`` where it is attained."""
    f0, f1 = _functions(repulsion, attraction)
    with mpmath.workdps(DIGITS):
        best = None
        for x in _grid():
            v1 = f1(x)
            if v1 > 0:
                ratio = -f0(x) / v1
                if best is None or ratio < best[0]:
                    best = (ratio, x)
        if best is None:
            return None, None
        if best[0] <= 0:
            return 0.0, None
        step = mpmath.mpf(1) / GRID
        low, high = max(best[1] - step, step / 2), min(best[1] + step, 1 - step / 2)
        ratio = lambda x: -f0(x) / f1(x)  # noqa: E731
        golden = (mpmath.sqrt(5) - 1) / 2
        for _ in range(120):  # golden-section search on the bracketing cell
            x1, x2 = high - golden * (high - low), low + golden * (high - low)
            if ratio(x1) < ratio(x2):
                high = x2
            else:
                low = x1
        x = (low + high) / 2
        return float(ratio(x)), float(x / mpmath.sqrt(1 - x * x))


@lru_cache(maxsize=64)
def _zeros_cached(repulsion: sp.Expr, attraction: sp.Expr, amplitude: float):
    f0, f1 = _functions(repulsion, attraction)
    with mpmath.workdps(DIGITS):
        g = lambda x: f0(x) + amplitude * f1(x)  # noqa: E731
        grid = _grid()
        values = [g(x) for x in grid]
        peak = max(range(len(grid)), key=lambda i: values[i])
        if values[peak] <= 0:
            return None
        left = [i for i in range(peak) if values[i] <= 0 < values[i + 1]]
        right = [i for i in range(peak, len(grid) - 1) if values[i] > 0 >= values[i + 1]]
        if not left or not right:
            return None
        roots = []
        for i in (left[-1], right[0]):
            x = mpmath.findroot(g, (grid[i], grid[i + 1]), solver="anderson")
            roots.append(float(x / mpmath.sqrt(1 - x * x)))
        return roots[0], roots[1]


def _zeros(repulsion, attraction, amplitude):
    return _zeros_cached(repulsion, attraction, amplitude)


def equator_escape(
    activation: FunctionLike, link: FunctionLike, *, max_degree: int = DEFAULT_MAX_DEGREE
) -> EquatorEscape:
    """The profile ``F``, the amplitude condition and the threshold of the aligned plain flow
    under ``Sigma = I + kappa theta theta^T`` (see the module docstring)."""
    return _equator_escape(as_function(activation), as_function(link), max_degree)


@lru_cache(maxsize=32)
def _equator_escape(phi: Function, g: Function, max_degree: int) -> EquatorEscape:
    from featcheck.theory.dynamics.spiked.flows import spiked_flow  # assembled flows

    cov = SpikedCovariance(kappa, "ba")
    risk = risk_model("plain", phi, g, cov, max_degree)
    if risk.expr.has(ScaledIntegral):
        raise DomainError(
            f"E[phi(sigma Z)^2] or c_k(phi(sigma .)) has no closed form for {phi.name}: the "
            "escape profile needs a piecewise-polynomial activation"
        )
    rho_sym = sp.Symbol("rho_c", positive=True)
    sigma_u = sp.sqrt(cov.sigma_u2(c))
    # R as a function of s1 and the correlation rho (s2 = rho sigma_u sqrt(s1))
    r_of_corr = sp.simplify(risk.expr.subs(s2, rho_sym * sigma_u * sp.sqrt(s1)))
    if r_of_corr.has(kappa) or r_of_corr.has(c):
        raise DomainError("the plain risk does not reduce to a function of s1 and rho")
    second = risk.scaled.second_moment.subs(sigma, sp.sqrt(s1)) / 2
    s1_mu = 1 + mu**2
    rho_limit = mu / sp.sqrt(1 + mu**2)
    rho_finite = mu * sp.sqrt((1 + kappa) / kappa) / sp.sqrt(1 + mu**2)
    total = sp.simplify(-sp.diff(r_of_corr.subs({s1: s1_mu, rho_sym: rho_limit}), mu))
    repulsion = sp.simplify(-sp.diff(second.subs(s1, s1_mu), mu))
    attraction = sp.simplify(total - repulsion)
    finite = -sp.diff(r_of_corr.subs({s1: s1_mu, rho_sym: rho_finite}), mu)

    # d mu/dt = sqrt(kappa) dm/dt at m = mu / sqrt(kappa), against the aligned reduction
    aligned = spiked_flow("plain", phi, g, convention="ba").aligned.rhs[0]
    from_reduction = sp.sqrt(kappa) * aligned.subs(m, mu / sp.sqrt(kappa))
    residual = max_abs_at_random(
        (from_reduction - kappa * (1 - mu**2 / kappa) * finite).subs(mu, m * sp.sqrt(kappa)),
        [m, kappa],
    )

    critical, critical_mu = _critical(repulsion, attraction)
    cond = recovery_condition(phi, g, max_degree)
    s = cond.s
    he = None
    if s is not None:
        coefficient = hermite_coefficients(g, s).coefficients[s]
        # c_s(g) = E[g h_s] on the normalized basis; the He_s coefficient is c_s / sqrt(s!)
        he = float(coefficient.value) / float(sp.sqrt(sp.factorial(s)))
    out = EquatorEscape(
        phi, g, s, repulsion, attraction, finite, critical, critical_mu, he, residual,
        Derivation(""),
    )  # fmt: skip
    object.__setattr__(out, "derivation", _document(out, r_of_corr, rho_sym))
    return out


def _F(name: str) -> sp.Expr:
    """``name(mu)`` as an undefined function, for the left-hand sides of the document."""
    return sp.Function(name)(mu)


def _document(e: EquatorEscape, risk_in_rho: sp.Expr, rho_sym: sp.Symbol) -> Derivation:
    doc = Derivation(
        f"Escape from the equator under Sigma = I + kappa theta theta^T: activation "
        f"{e.activation.name}, link {e.link.name}",
        summary=(
            f"Derived by featcheck (featcheck.theory.dynamics.spiked.escape) for the aligned "
            f"plain spherical flow of {SOURCE}, convention Sigma = I + kappa theta theta^T. "
            "Every formula below is computed by sympy from the steps before it."
        ),
    )
    doc.add(
        "Risk in s_1 and the correlation",
        sp.Eq(sp.Symbol("R"), risk_in_rho.subs(rho_sym, sp.Symbol(r"\rho"))),
        "R = 1/2 E[phi(<w,x>)^2] - E[phi(<w,x>) y] with <w,x> = sqrt(s_1) Z_1 and "
        "corr(Z_1, Z_2) = rho (the plain risk of featcheck derive spiked --flow plain "
        "--convention ba, with s_2 = rho sigma_u sqrt(s_1)).",
        SOURCE,
    )
    doc.add(
        "Aligned flow in the scaled overlap mu = m sqrt(kappa)",
        [
            sp.Eq(sp.Symbol(r"\dot\mu"), kappa * (1 - mu**2 / kappa) * _F(r"F_{\kappa}")),
            sp.Eq(_F(r"F_{\kappa}"), e.finite),
        ],
        "u = theta, ||w|| = 1: s_1 = 1 + kappa m^2 = 1 + mu^2, rho = m sqrt(1 + kappa)/"
        "sqrt(1 + kappa m^2); dm/dt = -(1 - m^2) dR/dm and d/dm = sqrt(kappa) d/dmu. Checked "
        "against the aligned reduction of the plain flow at random points: largest "
        f"difference {e.residual:.1e}.",
    )
    doc.add(
        "Large-kappa profile, independent of kappa",
        [
            sp.Eq(_F("F"), e.profile),
            sp.Eq(_F("F_{0}"), e.repulsion),
            sp.Eq(_F("F_{1}"), e.attraction),
        ],
        "F = lim_{kappa -> oo} F_kappa at fixed mu (rho -> mu/sqrt(1 + mu^2)); F_kappa - F "
        "= O(1/kappa). F_0 comes from 1/2 E[phi^2] (the variance of the student grows "
        "along the spike), F_1 from the link; scaling the link by a gives F_0 + a F_1.",
    )
    if e.critical_amplitude is None:
        doc.add(
            "Amplitude condition",
            None,
            "F_1 <= 0 for every mu > 0: no amplitude of this link leaves the equator.",
        )
        return doc
    he_text = (
        f"; on He_{e.s} the link has coefficient {e.he_amplitude:.6g}, so the condition is a "
        f"He_{e.s} amplitude above {e.critical_he_amplitude:.6g}"
        if e.critical_he_amplitude is not None
        else ""
    )
    doc.add(
        "Amplitude condition",
        sp.StrictGreaterThan(sp.Symbol("a"), sp.Float(e.critical_amplitude, 8)),
        "The flow can leave the equator at large kappa iff sup_mu (F_0 + a F_1) > 0, that is "
        f"a > a* = inf -F_0/F_1 = {e.critical_amplitude:.8g}, attained at mu = "
        f"{e.critical_mu:.6g}{he_text}. The link as given (a = 1) "
        + ("satisfies it." if e.escapes else "does not: the flow fails for every large kappa."),
    )
    amplitude = 1.0 if e.escapes else None
    if amplitude is not None:
        mu1, mu2 = e.zeros(amplitude)
        doc.add(
            "Threshold and endpoint",
            [
                sp.Eq(sp.Symbol(r"\mu_1"), sp.Float(mu1, 8)),
                sp.Eq(sp.Symbol(r"\mu_2"), sp.Float(mu2, 8)),
                sp.Eq(sp.Symbol(r"\kappa_c"), sp.Float(mu1**2, 8) * sp.Symbol("d")),
                sp.Eq(sp.Symbol(r"\rho_\infty"), sp.Float(e.endpoint(amplitude), 8)),
            ],
            "F has two positive zeros mu_1 < mu_2. A start m0 = d^(-1/2) has mu0 = "
            "sqrt(kappa/d): it returns to the equator iff mu0 < mu_1 (kappa < kappa_c = "
            "mu_1^2 d) and otherwise stops at mu_2, with whitened overlap rho_inf = "
            "mu_2/sqrt(1 + mu_2^2) up to O(1/kappa).",
        )
    return doc
