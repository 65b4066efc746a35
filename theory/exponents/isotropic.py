"""Sample-complexity exponents on isotropic data, ``x ~ N(0, I_d)``.

A single-index target ``y = g(<u, x>)`` whose link ``g`` has information exponent
``s`` (its first non-zero Hermite coefficient is the ``s``-th):

* ``online``   online spherical SGD from a random start (Ben Arous, Gheissari,
  Jagannath 2021, arXiv 2003.10409): ``n ~ d^max(1, s - 1)``, times ``log d`` at ``s = 2``;
  re-derived here by the drift-versus-noise balance;
* ``smoothed`` online SGD on a smoothed loss (Damian, Nichani, Ge, Lee 2023, arXiv
  2305.10633): ``n ~ d^max(1, s/2)`` for ``s >= 2`` (polylog factor at ``s = 2``), quoted;
* ``csq``      the correlational statistical query lower bound: ``n >= d^(s/2)``, quoted;
* ``kernel``   rotationally invariant kernels on a degree-``p`` target: ``n >= d^p``
  (``p = s`` for an ``He_s`` target), quoted.
"""

from __future__ import annotations

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.exponents.prediction import Prediction, Regime, d, s

BEN_AROUS_2021 = "Ben Arous, Gheissari, Jagannath (2021), arXiv 2003.10409"
DAMIAN_2023 = "Damian, Nichani, Ge, Lee (2023), arXiv 2305.10633"


def isotropic_online_exponent() -> sp.Expr:
    """``max(1, s - 1)`` as a Piecewise in ``s``."""
    return sp.Piecewise((1, s <= 2), (s - 1, True))


def online_prediction() -> Prediction:
    """Online spherical SGD from a random start: ``d``, ``d log d``, ``d^(s-1)``."""
    regimes = (
        Regime("s = 1: n ~ d", sp.Eq(s, 1), sp.Integer(1)),
        Regime("s = 2: n ~ d log d", sp.Eq(s, 2), sp.Integer(1), sp.log(d)),
        Regime("s >= 3: n ~ d^(s-1)", s >= 3, s - 1),
    )
    exponent = isotropic_online_exponent()
    m0, eta, m = sp.symbols("m_0 eta m", positive=True)
    der = Derivation(
        "Online SGD, isotropic data",
        "Sample complexity of online spherical SGD from a random start (Ben Arous, Gheissari, "
        "Jagannath 2021), re-derived by the drift-versus-noise balance.",
    )
    der.add("Initial overlap", sp.Eq(m0, d ** (-sp.Rational(1, 2))), "w0 uniform on the sphere.")
    der.add(
        "Drift near zero",
        r"\mathbb{E}[m_{t+1} - m_t] \approx \eta\, s\, c_s(g)\, c_s(\phi)\, m^{s-1}",
        "The population correlation is psi(m) = sum_k c_k(g) c_k(phi) m^k, first term at k = s.",
    )
    der.add(
        "Drift versus noise",
        [
            sp.StrictLessThan(eta, m ** (s - 2) / d),
            sp.Eq(sp.Symbol("n"), sp.Symbol("T") / eta),
            sp.Eq(sp.Symbol("T"), m0 ** (-(s - 2))),
        ],
        "One step moves m by eta*drift plus a martingale increment of size eta, and the "
        "renormalisation pulls m toward 0 by eta^2 d m/2 (the gradient has norm ~ sqrt(d)): the "
        "drift wins iff eta < m^(s-2)/d.  The escape needs a flow time T ~ m0^(-(s-2)) (s >= 3).",
    )
    der.add(
        "Exponent",
        [sp.Eq(sp.Symbol("n"), d * m0 ** (-2 * (s - 2))), sp.Eq(sp.Symbol("e"), exponent)],
        "n = T/eta at the largest admissible eta = m0^(s-2)/d, so n ~ d m0^(-2(s-2)) = d^(s-1) "
        "for s >= 3.  For s = 2 the escape is exponential: T ~ log(1/m0) with eta ~ 1/d, "
        "n ~ d log d.  For s = 1 the drift is constant: n ~ d.",
        BEN_AROUS_2021,
    )
    der.add("Logarithmic factor", sp.Eq(sp.Symbol("n(s=2)"), d * sp.log(d)), "At s = 2 only.")
    return Prediction("online", exponent, regimes, der, "achieved", valid=s >= 1)


def smoothed_prediction() -> Prediction:
    """Online SGD on a smoothed loss: ``d^(s/2)`` for ``s >= 3``, ``d`` polylog at ``s = 2``."""
    regimes = (
        Regime("s = 2: n ~ d (polylog)", sp.Eq(s, 2), sp.Integer(1), sp.log(d)),
        Regime("s >= 3: n ~ d^(s/2)", s >= 3, s / 2),
    )
    exponent = sp.Piecewise((1, s <= 2), (s / 2, True))
    der = Derivation(
        "Online SGD on a smoothed loss, isotropic data",
        "Damian, Nichani, Ge, Lee 2023 (quoted, not re-derived here): averaging the loss over "
        "a spherical cap of radius ~ sqrt(d) around w amplifies the low-degree part of the "
        "signal near m0 = d^(-1/2); online SGD on the smoothed loss then needs n ~ d^(s/2) for "
        "s >= 3 and d polylog(d) for s = 2, matching the CSQ lower bound.",
    )
    der.add("Exponent", sp.Eq(sp.Symbol("e"), exponent), "", DAMIAN_2023)
    der.add("Validity", s >= 2, "Stated for s >= 2.")
    return Prediction("smoothed", exponent, regimes, der, "achieved", valid=s >= 2)


def csq_prediction() -> Prediction:
    """The correlational statistical query lower bound ``d^(s/2)``."""
    regimes = (Regime("any s: n >= d^(s/2)", s >= 1, s / 2),)
    der = Derivation(
        "Correlational statistical query lower bound",
        "Any CSQ learner needs n >= d^(s/2) queries of tolerance n^(-1/2).",
    )
    der.add("Exponent", sp.Eq(sp.Symbol("e"), s / 2), "", DAMIAN_2023)
    return Prediction("csq", s / 2, regimes, der, "lower bound", valid=s >= 1)


def kernel_prediction() -> Prediction:
    """Rotationally invariant kernels on a degree-``p`` target: ``d^p`` (``p = s``)."""
    regimes = (Regime("degree-p target: n >= d^p", s >= 1, s),)
    der = Derivation(
        "Rotationally invariant kernels",
        "A kernel method needs n ~ d^p samples for a degree-p target; here s stands for the "
        "degree p (p = s for an He_s target).",
    )
    der.add(
        "Exponent",
        sp.Eq(sp.Symbol("e"), s),
        "",
        "Ghorbani, Mei, Misiakiewicz, Montanari (2021); Mei, Misiakiewicz, Montanari (2022)",
    )
    return Prediction("kernel", s, regimes, der, "lower bound", valid=s >= 1)
