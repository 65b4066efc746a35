"""The scaling limit of online spherical SGD at a fixed step constant, ``s >= 3``.

Plain online spherical SGD on isotropic data, correlation loss, student = target = ``h_s``
(the chain that :mod:`featcheck.numerics.exponents.overlap_chain` runs with
``variant="plain"``): ``w' = (w + f (x - <w, x> w))/||.||`` with
``f = eta h_s(<u, x>) h_s'(<w, x>)``.  With the step ``eta = c d^(-s/2)``, the rescaled
overlap ``X = sqrt(d) <w, u>`` and the time ``tau = t / d^(s-1)``, the chain converges as
``d -> infinity`` to the diffusion

    dX = (c s X^(s-1) - (s/2) c^2 X) dtau + c sqrt(s (2s + 1)) dB,   X_0 ~ N(0, 1),

which explodes (``|X| -> infinity``) in a finite time ``tau*``.  Hence the number of samples
to reach a fixed overlap at the step constant ``c`` is ``n(d) = C(c) d^(s-1) (1 + o(1))``
with ``C(c) = E[tau*]``: the exponent ``s - 1`` of Ben Arous, Gheissari, Jagannath (2021,
arXiv 2003.10409), with its constant.  ``C(c)`` decreases up to an optimal ``c*`` of order
10 (:mod:`featcheck.numerics.exponents.escape_limit` evaluates it): a step tuned at finite
``d`` reaches ``c*`` only once the stability cap of the last stage, ``eta`` of order
``1/d`` at a fixed threshold, allows it, and until then sits at the cap.

At ``s = 3`` the hitting time of a fixed overlap ``m_th`` differs from the explosion time
by the time the deterministic flow ``dm/dt = 3 eta m^2 (1 - m^2)`` spends beyond it, a
correction ``(atanh(m_th) - 1/m_th)/(3 c) d^(-1/2)`` to ``n/d^2``
(:func:`threshold_correction`); the other corrections are of order ``1/d``.

The exact Gaussian moments behind the coefficients are computed, not assumed
(:func:`one_step_moments`), and the derivation is a :class:`Derivation`
(``docs/derivations/exponent-escape-limit.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.errors import DomainError
from featcheck.theory.exponents.isotropic import BEN_AROUS_2021

X, tau, c, m, zu, g = sp.symbols("X tau c m z_u g", real=True)


def _h(k: int, z: sp.Expr) -> sp.Expr:
    """``h_k = He_k/sqrt(k!)``."""
    return sp.hermite_prob(k, z) / sp.sqrt(sp.factorial(k))


def _gaussian_expectation(expr: sp.Expr, correlation: sp.Expr) -> sp.Expr:
    """``E[expr(zu, zw)]`` for standard Gaussians of correlation ``m``, exactly.

    ``zw = m zu + sqrt(1 - m^2) g`` with ``g`` independent; monomials are replaced by their
    moments ``E[z^k] = (k-1)!!`` (``0`` for odd ``k``).
    """
    zw = sp.Symbol("z_w", real=True)
    poly = sp.Poly(
        sp.expand(expr.subs(zw, correlation * zu + sp.sqrt(1 - correlation**2) * g)), zu, g
    )
    total = sp.Integer(0)
    for (a, b), coefficient in poly.terms():
        if a % 2 or b % 2:
            continue
        total += coefficient * sp.factorial2(a - 1) * sp.factorial2(b - 1)
    return sp.factor(sp.simplify(total))


@dataclass(frozen=True)
class OneStepMoments:
    """Exact moments of one step of the chain at overlap ``m`` (``s`` fixed).

    ``drift``: ``E[h_s(zu) h_s'(zw) (zu - m zw)]`` (the population gradient along ``u``);
    ``spherical``: ``E[h_s(zu)^2 h_s'(zw)^2]`` at ``m = 0`` (the renormalisation's pull,
    per unit ``eta^2 d m / 2``); ``variance``: ``E[h_s(zu)^2 h_s'(zw)^2 zu^2]`` at
    ``m = 0`` (the noise of the overlap, per unit ``eta^2``).
    """

    s: int
    drift: sp.Expr
    spherical: sp.Expr
    variance: sp.Expr


@cache
def one_step_moments(s_value: int) -> OneStepMoments:
    """:class:`OneStepMoments` for ``h_s``, computed exactly."""
    if int(s_value) != s_value or s_value < 1:
        raise DomainError(f"the information exponent must be a whole number >= 1, got {s_value}")
    zw = sp.Symbol("z_w", real=True)
    k = int(s_value)
    y, slope = _h(k, zu), sp.diff(_h(k, zw), zw)
    drift = _gaussian_expectation(y * slope * (zu - m * zw), m)
    spherical = _gaussian_expectation(y**2 * slope**2, sp.Integer(0))
    variance = _gaussian_expectation(y**2 * slope**2 * zu**2, sp.Integer(0))
    return OneStepMoments(k, drift, spherical, variance)


@dataclass(frozen=True)
class EscapeLimit:
    """The limiting diffusion ``dX = drift dtau + sqrt(diffusion) dB`` at ``s`` (symbols
    ``X``, ``c``), with its derivation."""

    s: int
    drift: sp.Expr
    diffusion: sp.Expr
    derivation: Derivation

    def numeric(self, c_value: float) -> tuple[float, float, float]:
        """At ``c``: the coefficients ``(a, b)`` of the drift ``a X^(s-1) - b X`` and the
        diffusion ``sigma^2``, as floats."""
        drift = sp.Poly(self.drift.subs(c, c_value), X)
        return (
            float(drift.coeff_monomial(X ** (self.s - 1))),
            -float(drift.coeff_monomial(X)),
            float(self.diffusion.subs(c, c_value)),
        )


@cache
def escape_limit(s_value: int) -> EscapeLimit:
    """The scaling limit of the plain chain at ``eta = c d^(-s/2)`` for ``s >= 3``."""
    if int(s_value) != s_value or s_value < 3:
        raise DomainError(
            f"the escape diffusion is derived for s >= 3, got s = {s_value} (at s = 1, 2 the "
            "step scales like 1/d and the escape is deterministic)"
        )
    k = int(s_value)
    moments = one_step_moments(k)
    d, t, eta, n = sp.symbols("d t eta n", positive=True)
    leading = sp.expand(moments.drift).coeff(m, k - 1)
    drift = c * leading * X ** (k - 1) - moments.spherical * c**2 * X / 2
    diffusion = c**2 * moments.variance
    out = Derivation(
        f"Scaling limit of online spherical SGD at information exponent s = {k}",
        "Plain online spherical SGD on x ~ N(0, I_d), correlation loss, student = target = h_s, "
        "at the step eta = c d^(-s/2): the rescaled overlap X = sqrt(d) <w, u> at the time "
        "tau = t/d^(s-1) converges to a one-dimensional diffusion whose explosion time gives "
        "n(d) = C(c) d^(s-1).",
    )
    out.add(
        "One step of the chain",
        [
            sp.Eq(
                sp.Symbol("m'"),
                (m + sp.Symbol("f") * sp.Symbol("Delta"))
                / sp.sqrt(1 + sp.Symbol("f") ** 2 * sp.Symbol("R")),
            ),
            sp.Eq(sp.Symbol("f"), eta * sp.Symbol("h_s(z_u) h_s'(z_w)")),
        ],
        "Delta = z_u - m z_w and R = ||x||^2 - z_w^2 = d + O(1): w' = w + f (x - z_w w) "
        "renormalised.  Expanding the square root: m' - m = f Delta - m f^2 R/2 + O(eta^3 d).",
        "docs/derivations/exponent-reduced-simulator.md",
    )
    out.add(
        "Exact Gaussian moments",
        [
            sp.Eq(sp.Symbol("E[h_s(z_u) h_s'(z_w) Delta]"), moments.drift),
            sp.Eq(sp.Symbol("E[h_s(z_u)^2 h_s'(z_w)^2]|_{m=0}"), moments.spherical),
            sp.Eq(sp.Symbol("E[h_s(z_u)^2 h_s'(z_w)^2 z_u^2]|_{m=0}"), moments.variance),
        ],
        "Computed with z_w = m z_u + sqrt(1 - m^2) g: the spherical gradient of the population "
        "correlation m^s, E[h_s'^2] = s, and E[(z h_s)^2] E[h_s'^2] = (2s + 1) s.",
    )
    out.add(
        "Per-step drift and variance of m near the equator",
        [
            sp.Eq(sp.Symbol("E[m' - m]"), eta * leading * m ** (k - 1)
                  - eta**2 * d * moments.spherical * m / 2),
            sp.Eq(sp.Symbol("Var[m' - m]"), eta**2 * moments.variance),
        ],
        "Up to relative corrections O(m^2) and O(1/d); the O(eta^3 d) term of the expansion "
        "(E[f^3 Delta R]) is of relative order c^2/d.",
    )  # fmt: skip
    out.add(
        "Scaling",
        [sp.Eq(eta, c * d ** sp.Rational(-k, 2)), sp.Eq(X, sp.sqrt(d) * m),
         sp.Eq(tau, t / d ** (k - 1))],
        "Drift eta s m^(s-1), renormalisation eta^2 d s m/2 and noise variance eta^2 (2s+1) s "
        "are all of order d^(-(s-1)) in the variable X = sqrt(d) m per step: one unit of tau "
        "is d^(s-1) steps.  sqrt(d) <w_0, u> -> N(0, 1) for w_0 uniform on the sphere.",
    )  # fmt: skip
    out.add(
        "Limiting diffusion",
        [
            sp.Eq(sp.Symbol("b(X)"), drift),
            sp.Eq(sp.Symbol("sigma^2"), diffusion),
        ],
        "dX = b(X) dtau + sigma dB, X_0 ~ N(0, 1).  For s >= 3 the drift grows like X^(s-1): "
        "|X| explodes in a finite time tau*, and reaching a fixed overlap m (X = m sqrt(d)) "
        "takes tau* + O(d^(-(s-2)/2)).",
    )
    out.add(
        "Needed samples at the step constant c",
        [
            sp.Eq(n, sp.Symbol("C(c)") * d ** (k - 1)),
            sp.Eq(sp.Symbol("C(c)"), sp.Symbol("E[tau*]")),
        ],
        "The mean of the explosion time, by the Feynman-Kac formula: T(x) = E_x[tau*] solves "
        "(sigma^2/2) T'' + b T' = -1 with T(+infinity) = 0, so E[tau*] = integral of "
        "P(X_0 < y) f(y) dy with f(y) = (2/sigma^2) integral_{-infinity}^y "
        "exp(Phi(z) - Phi(y)) dz, Phi' = 2 b/sigma^2 (for even s, |X| and the lower limit 0). "
        "It is evaluated by featcheck.numerics.exponents.escape_limit.",
        BEN_AROUS_2021 + " (the exponent s - 1; the constant is derived here)",
    )
    if k == 3:
        threshold = sp.Symbol("m_th", positive=True)
        out.add(
            "Threshold correction (s = 3)",
            sp.Eq(sp.Symbol("n/d^2"), sp.Symbol("C(c)")
                  + threshold_correction(3, c, threshold) / sp.sqrt(d)),
            "Beyond X = K >> 1 the flow is dm/dt = 3 eta m^2 (1 - m^2): the hitting time of m_th "
            "falls short of the explosion time by (1/(3c)) (1/m_th - atanh(m_th)) d^(-1/2); "
            "the remaining corrections are O(1/d).",
        )  # fmt: skip
    return EscapeLimit(k, sp.expand(drift), diffusion, out)


def threshold_correction(s_value: int, c_value, threshold) -> sp.Expr:
    """The ``d^(-1/2)`` coefficient of ``n/d^2`` at ``s = 3`` for a fixed overlap threshold."""
    if s_value != 3:
        raise DomainError("the threshold correction is derived at s = 3 only")
    threshold = sp.sympify(threshold)
    return (sp.atanh(threshold) - 1 / threshold) / (3 * sp.sympify(c_value))
