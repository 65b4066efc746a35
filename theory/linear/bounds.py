"""The bounds of Theorems 1, 2, 3, 5 and Lemma 4 of Lin, Sun, Zhang (2021), as printed.

Each :class:`PrintedBound` carries its printed constants, the logit form ``zeta >= X`` of
a bound on ``cos(theta)``, and, where our derivation gives a different constant, the
derived value (checked separately as a corrected reading).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from featcheck.theory.linear.symbols import (
    N,
    S_n,
    T,
    c0,
    delta,
    n,
    rho0,
    rhoT,
    t,
    theta0,
    thetaT,
)

SIX_TENTHS = sp.Rational(3, 5)  # the paper's 0.6 = 2 x 0.3, with sup N(w) <= 0.3


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


def logistic_form(X: sp.Expr) -> sp.Expr:
    """``1 - 2/(exp(X) + 1) = tanh(X/2)``; ``cos(theta) >=`` this reads ``zeta >= X``."""
    return 1 - 2 / (sp.exp(X) + 1)


def _zeta_of(angle: sp.Expr) -> sp.Expr:
    return -2 * sp.log(sp.Abs(sp.tan(angle / 2)))


def printed_bounds() -> dict[str, PrintedBound]:
    """Theorems 1, 2, 3, 5 and Lemma 4 of Lin, Sun, Zhang (NeurIPS 2021), constants as
    printed, keyed by id (``theorem1.before-T``, ..., ``theorem3``)."""
    A1, B1, A2, B2, C2 = (_sym(k) for k in ("A1", "B1", "A2", "B2", "C2"))
    C1, alpha, D, E, F = (_sym(k) for k in ("C1", "alpha", "D", "E", "F"))
    B, a = _sym("B"), _sym("a")
    bounds = [
        PrintedBound(
            "theorem1.before-T",
            "Theorem 1 (t <= T)",
            "cos_theta",
            ">=",
            logistic_form(A1 * t + B1),
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
            logistic_form(A2 * sp.sqrt(t - T + C2) + B2),
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
            logistic_form(A2 * (t - T) + B2),
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
            logistic_form(F * ((SIX_TENTHS * t + D) ** (N / 2) - D ** (N / 2)) + E),
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
