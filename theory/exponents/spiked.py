"""Predicted sample-complexity exponents as exact sympy expressions.

A sample complexity ``n ~ d^e`` (up to the stated logarithmic factor) is quoted
by its exponent ``e``.  Every prediction here is a :class:`sympy.Piecewise` in
the information exponent ``s`` and the spike scalings ``r1`` (alignment
``c = d^(-r1)``) and ``r2`` (spike ``kappa = d^r2``), with a :class:`Derivation`.

Isotropic rows (``x ~ N(0, I_d)``, target with information exponent ``s``):

* ``online``   online SGD from a random start: ``max(1, s - 1)``, ``log d`` at ``s = 2``;
* ``smoothed`` online SGD on a smoothed loss: ``max(1, s/2)`` (``s >= 2``);
* ``csq``      correlational statistical query lower bound: ``s/2``;
* ``kernel``   rotationally invariant kernels, degree-``p`` target: ``p``.

Spiked rows (``Sigma = (I + kappa theta theta^T)/(1 + kappa)``): the isotropic
mechanism with the initial whitened overlap ``rho0 ~ d^(e_rho)`` in place of
``d^(-1/2)``:

* ``spiked-online`` (convention A): ``n ~ D * rho0^(-2 max(s - 2, 0))``;
* ``spiked-batch``  (convention B): ``n ~ D * rho0^(-2 (s - 1))``;

with the prefactor ``D = d``, or the effective dimension ``D = d/kappa`` when
``effective_dimension`` is set (an open question of the reference, kept as a
switch).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache

import sympy as sp

from featcheck.theory.derivation import Derivation
from featcheck.theory.errors import DomainError

s = sp.Symbol("s", positive=True, integer=True)
r1 = sp.Symbol("r_1", nonnegative=True)
r2 = sp.Symbol("r_2", nonnegative=True)
d = sp.Symbol("d", positive=True)

ISOTROPIC_LEARNERS = ("online", "smoothed", "csq", "kernel")
SPIKED_LEARNERS = ("spiked-online", "spiked-batch")
LEARNERS = (*ISOTROPIC_LEARNERS, *SPIKED_LEARNERS, "rho0")

#: Where the spike scalings are defined (``conventions.md``).
R1_RANGE = (sp.Integer(0), sp.Rational(1, 2))
R2_RANGE = (sp.Integer(0), sp.Integer(1))
#: ``rho0`` alone is also defined for a spike beyond ``d`` (regime iv).
R2_RANGE_RHO0 = (sp.Integer(0), sp.Integer(2))
MAX_S = 50
CHECKED_S = 6


@dataclass(frozen=True)
class Regime:
    """One piece of a piecewise prediction: a name, its condition and its value."""

    name: str
    condition: sp.Basic
    exponent: sp.Expr
    log_factor: sp.Expr = sp.S.One


@dataclass
class Prediction:
    """A predicted exponent: ``n ~ log_factor * d^exponent``."""

    learner: str
    exponent: sp.Expr
    regimes: tuple[Regime, ...]
    derivation: Derivation
    bound: str  # "achieved" (an algorithm's rate) or "lower bound"
    convention: str = ""
    effective_dimension: bool = False
    valid: sp.Basic = sp.true
    notes: list[str] = field(default_factory=list)

    def at(self, s_value: int, r1_value=0, r2_value=0) -> Evaluation:
        """The prediction at a point; :class:`DomainError` outside its validity."""
        point = _point(self, s_value, r1_value, r2_value)
        if self.valid.subs(point) is not sp.true:
            where = f"s = {s_value}"
            if self.learner in SPIKED_LEARNERS or self.learner == "rho0":
                where += f", r1 = {r1_value}, r2 = {r2_value}"
            raise DomainError(
                f"the {self.learner} exponent is not defined at {where}: it needs {self.valid}"
            )
        for regime in self.regimes:
            if regime.condition.subs(point) is sp.true:
                exact = sp.simplify(regime.exponent.subs(point))
                check = sp.simplify(self.exponent.subs(point))
                if exact != check:  # the table and the Piecewise agree
                    raise AssertionError(f"regime table disagrees with Piecewise at {point}")
                return Evaluation(
                    self.learner,
                    exact,
                    float(exact),
                    regime.name,
                    regime.log_factor.subs(point),
                    self.bound,
                    self.convention,
                    self.effective_dimension,
                )
        raise DomainError(f"no regime of {self.learner} covers {point}")


@dataclass(frozen=True)
class Evaluation:
    learner: str
    exact: sp.Expr
    value: float
    regime: str
    log_factor: sp.Expr
    bound: str
    convention: str
    effective_dimension: bool

    def sample_complexity(self) -> sp.Expr:
        """``n(d) = log_factor * d^exponent`` as an expression in ``d``."""
        return self.log_factor * d**self.exact


def _rational(value, name: str) -> sp.Rational:
    try:
        if isinstance(value, sp.Rational):
            out = value
        elif isinstance(value, sp.Basic):
            out = sp.Rational(str(sp.N(value, 17))) if value.is_number else sp.nan
        else:
            out = sp.Rational(Fraction(str(value)))
    except (ValueError, TypeError):
        raise DomainError(f"{name} must be a number, got {value!r}") from None
    if not out.is_rational:
        raise DomainError(f"{name} must be rational or a decimal, got {value!r}")
    return out


def _point(prediction: Prediction, s_value, r1_value, r2_value) -> dict:
    if isinstance(s_value, bool) or int(s_value) != s_value or s_value < 1:
        raise DomainError(f"the information exponent s must be a whole number >= 1, got {s_value}")
    if s_value > MAX_S:
        raise DomainError(f"s = {s_value} is above the supported maximum {MAX_S}")
    a, b = _rational(r1_value, "r1"), _rational(r2_value, "r2")
    r2_range = R2_RANGE_RHO0 if prediction.learner == "rho0" else R2_RANGE
    if not R1_RANGE[0] <= a <= R1_RANGE[1]:
        raise DomainError(f"r1 = {r1_value} is outside [0, 1/2] (alignment c = d^(-r1))")
    if not r2_range[0] <= b <= r2_range[1]:
        raise DomainError(
            f"r2 = {r2_value} is outside [{r2_range[0]}, {r2_range[1]}] (spike kappa = d^r2)"
        )
    return {s: sp.Integer(int(s_value)), r1: a, r2: b}


# ---------------------------------------------------------------------------
# the initial whitened overlap


def whitened_overlap_formula() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Re-derive ``rho0`` from the Gram matrix of ``(w0, theta, u)``.

    Returns ``(derived, printed, difference)``: the overlap computed from
    ``w^T Sigma u / (||Sigma^(1/2) w|| ||Sigma^(1/2) u||)``, the reference's
    printed formula, and their simplified difference (zero when they agree).
    """
    a0, bp = sp.symbols("a_0 b_perp", real=True)
    kappa = sp.Symbol("kappa", positive=True)
    c = sp.Symbol("c", positive=True)
    # coordinates in the orthonormal basis (theta, theta_perp, rest); ||w0|| = 1
    theta = sp.Matrix([1, 0])
    u = sp.Matrix([c, sp.sqrt(1 - c**2)])
    w = sp.Matrix([a0, bp])  # the rest of w0 is orthogonal to theta and u
    sigma = (sp.eye(2) + kappa * theta * theta.T) / (1 + kappa)
    rest = 1 - a0**2 - bp**2  # |w0 outside span(theta, u)|^2, bulk variance 1/(1+kappa)
    w_sigma_w = (w.T * sigma * w)[0] + rest / (1 + kappa)
    derived = (w.T * sigma * u)[0] / sp.sqrt(w_sigma_w * (u.T * sigma * u)[0])
    printed = (c * (1 + kappa) * a0 + sp.sqrt(1 - c**2) * bp) / sp.sqrt(
        (1 + kappa * a0**2) * (1 + kappa * c**2)
    )
    difference = sp.simplify(sp.radsimp(derived**2 - printed**2))
    return derived, printed, difference


RHO0_REGIMES = (
    Regime("(i) r2 < r1: no gain", r2 < r1, -sp.Rational(1, 2)),
    Regime("(ii) r1 <= r2 < 2 r1", sp.And(r1 <= r2, r2 < 2 * r1), r2 - r1 - sp.Rational(1, 2)),
    Regime("(iii) 2 r1 <= r2 <= 1", sp.And(2 * r1 <= r2, r2 <= 1), (r2 - 1) / 2),
    Regime("(iv) r2 > 1: rho0 of order 1", r2 > 1, sp.Integer(0)),
)


def rho0_exponent() -> sp.Expr:
    """``e_rho`` with ``rho0 ~ d^(e_rho)`` (a Piecewise in ``r1, r2``)."""
    return sp.Piecewise(*[(r.exponent, r.condition) for r in RHO0_REGIMES])


def _rho0_derivation() -> Derivation:
    derived, _, difference = whitened_overlap_formula()
    out = Derivation(
        "Initial whitened overlap under a spike",
        "Order of magnitude of rho0 for w0 uniform on the sphere, kappa = d^r2, c = d^(-r1).",
    )
    out.add(
        "Whitened overlap from the Gram matrix",
        sp.Eq(sp.Symbol("rho_0"), derived),
        "In the orthonormal basis (theta, theta_perp) with u = c theta + sqrt(1-c^2) theta_perp, "
        "a0 = <w0, theta>, b_perp = <w0, theta_perp>; the rest of w0 lies in the bulk, "
        "where Sigma has eigenvalue 1/(1+kappa).",
    )
    out.add(
        "Agreement with the reference's formula",
        sp.Eq(sp.Symbol("rho_{derived}^2") - sp.Symbol("rho_{printed}^2"), difference),
        "Squares compared after simplification (both have the sign of the numerator). "
        + ("They agree." if difference == 0 else "THEY DISAGREE: trust the derived form."),
        "sample-complexity.md, Initial overlap under a spike",
    )
    out.add(
        "Orders of magnitude",
        [
            r"|c\,(1+\kappa)\,a_0| \sim d^{r_2 - r_1 - 1/2}",
            r"|b_\perp| \sim d^{-1/2}",
            r"1 + \kappa a_0^2 \sim 1 + d^{r_2 - 1}",
            r"1 + \kappa c^2 = 1 + d^{r_2 - 2 r_1}",
        ],
        "a0, b_perp ~ N(0, 1/d); kappa = d^r2; c = d^(-r1).  The spike term wins in the "
        "numerator iff r2 > r1; the denominator factors exceed 1 iff r2 > 1 and r2 > 2 r1.",
    )
    out.add(
        "Four regimes",
        sp.Eq(sp.Symbol("e_rho"), rho0_exponent()),
        "Dividing the dominant numerator term by the dominant denominator term in each case; "
        "in regime (iv) both are d^(r2 - r1 - 1/2) and rho0 -> sign(a0).",
    )
    return out


def rho0_prediction() -> Prediction:
    valid = sp.And(r1 >= 0, r1 <= sp.Rational(1, 2), r2 >= 0)
    return Prediction(
        "rho0", rho0_exponent(), RHO0_REGIMES, _rho0_derivation(), "order", "", False, valid
    )


# ---------------------------------------------------------------------------
# isotropic table


def _online_isotropic() -> Prediction:
    regimes = (
        Regime("s = 1: n ~ d", sp.Eq(s, 1), sp.Integer(1)),
        Regime("s = 2: n ~ d log d", sp.Eq(s, 2), sp.Integer(1), sp.log(d)),
        Regime("s >= 3: n ~ d^(s-1)", s >= 3, s - 1),
    )
    exponent = sp.Piecewise((1, s <= 2), (s - 1, True))
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
        "Ben Arous, Gheissari, Jagannath 2021",
    )
    der.add("Logarithmic factor", sp.Eq(sp.Symbol("n(s=2)"), d * sp.log(d)), "At s = 2 only.")
    return Prediction("online", exponent, regimes, der, "achieved", valid=s >= 1)


def _smoothed() -> Prediction:
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
    der.add("Exponent", sp.Eq(sp.Symbol("e"), exponent), "", "Damian, Nichani, Ge, Lee 2023")
    der.add("Validity", s >= 2, "Stated for s >= 2 (reference table).")
    return Prediction("smoothed", exponent, regimes, der, "achieved", valid=s >= 2)


def _csq() -> Prediction:
    regimes = (Regime("any s: n >= d^(s/2)", s >= 1, s / 2),)
    der = Derivation(
        "Correlational statistical query lower bound",
        "Any CSQ learner needs n >= d^(s/2) queries of tolerance n^(-1/2).",
    )
    der.add("Exponent", sp.Eq(sp.Symbol("e"), s / 2), "", "Damian, Nichani, Ge, Lee 2023")
    return Prediction("csq", s / 2, regimes, der, "lower bound", valid=s >= 1)


def _kernel() -> Prediction:
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
        "Ghorbani, Mei, Misiakiewicz, Montanari; Mei, Misiakiewicz, Montanari",
    )
    return Prediction("kernel", s, regimes, der, "lower bound", valid=s >= 1)


# ---------------------------------------------------------------------------
# spiked predictions


def spiked_exponent(convention: str, effective_dimension: bool = False) -> sp.Expr:
    """``e`` of ``n ~ D rho0^(-2 q)``: ``q = max(s-2, 0)`` (A) or ``q = s-1`` (B).

    ``D = d`` (exponent 1), or ``D = d/kappa`` (exponent ``1 - r2``) with
    ``effective_dimension``.
    """
    prefactor = 1 - r2 if effective_dimension else sp.Integer(1)
    q = sp.Max(s - 2, 0) if convention == "A" else s - 1
    if convention not in ("A", "B"):
        raise DomainError(f"unknown counting convention {convention!r}: use 'A' or 'B'")
    return sp.piecewise_fold(prefactor - 2 * q * rho0_exponent())


def _spiked(convention: str, effective_dimension: bool) -> Prediction:
    learner = "spiked-online" if convention == "A" else "spiked-batch"
    prefactor = 1 - r2 if effective_dimension else sp.Integer(1)
    q = sp.Max(s - 2, 0) if convention == "A" else s - 1
    regimes = []
    for rr in RHO0_REGIMES[:3]:
        e = sp.simplify(prefactor - 2 * q * rr.exponent)
        log_factor = sp.Piecewise((sp.log(d), sp.Eq(s, 2)), (1, True)) if convention == "A" else 1
        regimes.append(Regime(rr.name, rr.condition, e, sp.sympify(log_factor)))
    exponent = spiked_exponent(convention, effective_dimension)
    der = _rho0_derivation()
    der.title = f"Spiked covariance, convention {convention} ({learner})"
    der.summary = (
        "Exponent of the sample complexity with x ~ N(0, (I + kappa theta theta^T)/(1 + kappa)), "
        "kappa = d^r2, c = <u, theta> = d^(-r1), obtained by substituting the initial whitened "
        "overlap rho0 for d^(-1/2) in the isotropic mechanism [open in the reference]."
    )
    rho, eta = sp.symbols("rho eta", positive=True)
    rho0 = sp.Symbol("rho_0", positive=True)
    der.add(
        "Drift near zero (whitened coordinates)",
        r"\mathbb{E}[\rho_{t+1} - \rho_t] \approx \eta\, s\, c_s(g)\, c_s(\phi)\, \rho^{s-1}",
        "With preconditioning, v = Sigma^(1/2) w / ||Sigma^(1/2) w|| follows isotropic spherical "
        "SGD on z = Sigma^(-1/2) x ~ N(0, I_d) toward v* = Sigma^(1/2) u / ||Sigma^(1/2) u||.",
    )
    if convention == "A":
        der.add(
            "Drift versus noise (online counting)",
            [
                sp.StrictLessThan(eta, rho ** (s - 2) / sp.Symbol("D")),
                sp.Eq(sp.Symbol("n"), sp.Symbol("D") * rho0 ** (-2 * sp.Max(s - 2, 0))),
            ],
            "As in the isotropic case, one fresh sample per step: the largest admissible step is "
            "rho^(s-2)/D and the escape time is rho0^(-(s-2)).  The drift-versus-martingale "
            "condition n >> rho0^(-2(s-1)) is weaker because rho0^2 d >= 1.",
        )
    else:
        der.add(
            "Uniform concentration (full-batch counting)",
            [
                sp.StrictLessThan(sp.sqrt(sp.Symbol("D") / sp.Symbol("n")), rho0 ** (s - 1)),
                sp.Eq(sp.Symbol("n"), sp.Symbol("D") * rho0 ** (-2 * (s - 1))),
            ],
            "Gradient flow on n reused samples: the empirical gradient deviates from the "
            "population one by ~ sqrt(D/n) uniformly over the sphere; it must stay below the "
            "drift rho0^(s-1) at the start.",
        )
    der.add(
        "Prefactor",
        sp.Eq(sp.Symbol("D"), d / d**r2 if effective_dimension else d),
        "Effective dimension d/kappa (the bulk noise is damped by 1/(1+kappa)) [open]."
        if effective_dimension
        else "The ambient dimension d (the effective-dimension variant d/kappa is a switch).",
    )
    der.add(
        "Exponent",
        sp.Eq(sp.Symbol("e"), exponent),
        "e = e_D - 2 q e_rho with q = "
        + ("max(s - 2, 0)" if convention == "A" else "s - 1")
        + " and e_rho from the four regimes.",
    )
    if convention == "A":
        der.add(
            "Logarithmic factor",
            sp.Eq(sp.Symbol("n(s=2)"), sp.Symbol("D") * sp.log(1 / rho0)),
            "At s = 2 the escape is exponential, T ~ log(1/rho0), which is ~ (1 - r2)/2 log d "
            "in regime (iii) and log d otherwise.",
        )
    valid = sp.And(s >= 1, r1 >= 0, r1 <= sp.Rational(1, 2), r2 >= 0, r2 <= 1)
    prediction = Prediction(
        learner,
        exponent,
        tuple(regimes),
        der,
        "achieved",
        convention,
        effective_dimension,
        valid,
    )
    for check in consistency_checks(prediction):
        der.add(check.name, check.statement, "holds" if check.holds else "FAILS")
    return prediction


def predict(learner: str, effective_dimension: bool = False) -> Prediction:
    """The :class:`Prediction` of one learner (see :data:`LEARNERS`); built once, then cached."""
    if learner not in LEARNERS:
        raise DomainError(f"unknown learner {learner!r}: choose one of {', '.join(LEARNERS)}")
    if effective_dimension and learner not in SPIKED_LEARNERS:
        raise DomainError("the effective-dimension switch applies to spiked learners only")
    return copy.deepcopy(_predict(learner, effective_dimension))


@cache
def _predict(learner: str, effective_dimension: bool) -> Prediction:
    builders = {
        "online": _online_isotropic,
        "smoothed": _smoothed,
        "csq": _csq,
        "kernel": _kernel,
        "rho0": rho0_prediction,
        "spiked-online": lambda: _spiked("A", effective_dimension),
        "spiked-batch": lambda: _spiked("B", effective_dimension),
    }
    if learner not in builders:
        raise DomainError(f"unknown learner {learner!r}: choose one of {', '.join(LEARNERS)}")
    if effective_dimension and learner not in SPIKED_LEARNERS:
        raise DomainError("the effective-dimension switch applies to spiked learners only")
    return builders[learner]()


# ---------------------------------------------------------------------------
# symbolic consistency


@dataclass(frozen=True)
class ConsistencyCheck:
    name: str
    statement: sp.Basic
    holds: bool


def _same(expr_a: sp.Expr, expr_b: sp.Expr) -> bool:
    """Equal for every s = 1..CHECKED_S (symbolically in the remaining symbols).

    Both sides are affine in ``s`` beyond ``s = 3`` (``max(s - 2, 0) = s - 2``), so
    agreement at ``s = 1..CHECKED_S`` with ``CHECKED_S >= 5`` is agreement for all ``s``.
    """
    return all(
        sp.simplify(sp.piecewise_fold((expr_a - expr_b).subs(s, k))) == 0
        for k in range(1, CHECKED_S + 1)
    )


def consistency_checks(prediction: Prediction) -> list[ConsistencyCheck]:
    """Continuity across the regime boundaries, the isotropic limit, the ``r2 -> 1`` limit.

    Continuity: the pieces on both sides of ``r2 = r1`` and ``r2 = 2 r1`` agree
    on the boundary (as functions of ``s`` and ``r1``).  Isotropic limit: at
    ``r2 = 0`` the exponent equals the isotropic one (``max(1, s-1)`` for A,
    ``s`` for B).  ``r2 -> 1``: the limit does not depend on ``s``.
    """
    pieces = [rg.exponent for rg in prediction.regimes]
    out = []
    for left, right, boundary, label in (
        (pieces[0], pieces[1], r1, "r2 = r1"),
        (pieces[1], pieces[2], 2 * r1, "r2 = 2 r1"),
    ):
        gap = sp.simplify(left.subs(r2, boundary) - right.subs(r2, boundary))
        out.append(ConsistencyCheck(f"Continuity at {label}", sp.Eq(gap, 0), gap == 0))
    at_zero = prediction.exponent.subs(r2, 0)  # d/kappa = d at r2 = 0 as well
    isotropic = sp.Piecewise((1, s <= 2), (s - 1, True)) if prediction.convention == "A" else s
    # r1 in (0, 1/2] puts r2 = 0 in regime (i); r1 = 0 puts it in regime (iii)
    holds = all(
        _same(at_zero.subs(r1, value), isotropic)
        for value in (sp.Integer(0), sp.Rational(1, 4), sp.Rational(1, 2))
    )
    out.append(
        ConsistencyCheck(
            "Isotropic limit at r2 = 0", sp.Eq(sp.Symbol("e(r_2=0)"), isotropic), bool(holds)
        )
    )
    limit = sp.simplify(pieces[2].subs(r2, 1))
    out.append(
        ConsistencyCheck(
            "Limit r2 -> 1 is independent of s",
            sp.Eq(sp.Symbol("e(r_2 -> 1)"), limit),
            not limit.has(s),
        )
    )
    return out


# ---------------------------------------------------------------------------
# the gain of preconditioning: ratios of sample counts

GAIN_COMPARATORS = ("isotropic", "normalized")
HALF = sp.Rational(1, 2)


@dataclass
class GainPrediction:
    """``n_comparator(d) / n_preconditioned(d) ~ d^g`` at ``r1 = 0`` (``u = theta``).

    ``exponent`` is a Piecewise in ``s`` and ``r2``; ``log_ratio`` is the limit of the
    ratio of the logarithmic factors (``s = 2``), a constant, so it does not change ``g``.
    """

    comparator: str
    effective_dimension: bool
    exponent: sp.Expr
    log_ratio: sp.Expr
    derivation: Derivation
    valid: sp.Basic

    def at(self, s_value: int, r2_value=HALF) -> sp.Expr:
        """The exact gain exponent at ``s`` and ``kappa = d^r2``."""
        if isinstance(s_value, bool) or int(s_value) != s_value or s_value < 1:
            raise DomainError(
                f"the information exponent s must be a whole number >= 1, got {s_value}"
            )
        point = {s: sp.Integer(int(s_value)), r2: _rational(r2_value, "r2")}
        if self.valid.subs(point) is not sp.true:
            raise DomainError(
                f"the {self.comparator} gain is not defined at s = {s_value}, r2 = {r2_value}: "
                f"it needs {self.valid}"
            )
        return sp.simplify(self.exponent.subs(point))


def _gain_exponents() -> dict[str, sp.Expr]:
    """Exponents of ``n`` at ``r1 = 0`` (regime (iii): ``rho0 ~ d^((r2 - 1)/2)``), ``s >= 2``.

    ``q = s - 2`` is the power of the escape time ``T ~ rho0^(-q)``; at ``s = 2`` the escape
    is exponential and costs a ``log(1/rho0)`` that the exponents leave out.
    """
    q = sp.Max(s - 2, 0)
    e_rho = (r2 - 1) / 2  # regime (iii) at r1 = 0
    e_iso = 1 + q  # n ~ d * m0^(-2q), m0 = d^(-1/2)
    e_pre = 1 - 2 * q * e_rho  # n ~ d * rho0^(-2q): isotropic SGD in whitened coordinates
    # normalized step: effective steps eta (1 + kappa) along theta and eta in the bulk
    e_bulk = 1 - 2 * r2 - 2 * q * e_rho  # eta^2 d <= eta (1 + kappa) rho^(s-2)
    e_martingale = -2 * (q + 1) * e_rho  # (eta (1 + kappa))^2 n <= rho0^2
    return {
        "isotropic": e_iso,
        "preconditioned": e_pre,
        "normalized-bulk": e_bulk,
        "normalized-martingale": e_martingale,
        "normalized": sp.Max(e_bulk, e_martingale),
        "normalized-plain": 1 - 2 * q * e_rho,  # the reference's substitution with D = d
    }


def preconditioning_gain(comparator: str, effective_dimension: bool = True) -> GainPrediction:
    """Predicted exponent ``g`` of ``n_comparator / n_preconditioned`` at ``r1 = 0``.

    * ``isotropic``: online SGD on isotropic data (``kappa = 0``) against preconditioned online
      SGD on the spiked data: the whitened flow is the isotropic one started from
      ``rho0 ~ d^((r2 - 1)/2)`` instead of ``d^(-1/2)``, so ``g = max(s - 2, 0) r2``.
    * ``normalized``: normalized online SGD on the same spiked data.  Same ``rho0``; with
      ``effective_dimension`` the prefactor is ``d/kappa`` (derived here from the anisotropic
      whitened step), so ``g = -r2``; without it (the reference's plain substitution,
      ``D = d``) ``g = 0``.
    """
    if comparator not in GAIN_COMPARATORS:
        raise DomainError(
            f"unknown comparator {comparator!r}: choose one of {', '.join(GAIN_COMPARATORS)}"
        )
    if comparator == "isotropic" and not effective_dimension:
        raise DomainError(
            "the choice of prefactor (d or d/kappa) applies to the normalized comparator only"
        )
    e = _gain_exponents()
    eta, rho, rho0, kappa, n, T = sp.symbols("eta rho rho_0 kappa n T", positive=True)
    valid = sp.And(s >= 1, r2 >= 0, r2 <= 1)
    out = Derivation(
        f"Gain of preconditioning over {comparator} online SGD",
        "Exponent g of n_comparator(d) / n_preconditioned(d) ~ d^g for x ~ N(0, Sigma), "
        "Sigma = (I + kappa theta theta^T)/(1 + kappa), kappa = d^r2, u = theta (r1 = 0), "
        "by the drift-versus-noise balance of each online step.",
    )
    out.add(
        "Initial whitened overlap",
        sp.Eq(rho0, d ** ((r2 - 1) / 2)),
        "Regime (iii) of rho0 at r1 = 0; both spiked learners start from the same "
        "Euclidean-uniform w0, hence the same rho0.",
        "sample-complexity.md, Initial overlap under a spike",
    )
    out.add(
        "Preconditioned online SGD",
        [
            sp.Eq(n, d * rho0 ** (-2 * sp.Max(s - 2, 0))),
            sp.Eq(sp.Symbol("e_P"), e["preconditioned"]),
        ],
        "v = Sigma^(1/2) w / ||Sigma^(1/2) w|| performs isotropic spherical SGD with step eta on "
        "z = Sigma^(-1/2) x ~ N(0, I_d): the isotropic balance eta < rho^(s-2)/d with rho0 in "
        "place of d^(-1/2).",
        "spiked-single-index.md, Preconditioned flow",
    )
    if comparator == "isotropic":
        exponent = sp.simplify(e["isotropic"] - e["preconditioned"])
        log_ratio = 1 / (1 - r2)  # log(1/m0) / log(1/rho0) at s = 2
        out.add(
            "Isotropic online SGD (kappa = 0)",
            [sp.Eq(n, d * d ** sp.Max(s - 2, 0)), sp.Eq(sp.Symbol("e_I"), e["isotropic"])],
            "The same algorithm from m0 = d^(-1/2).",
            "Ben Arous, Gheissari, Jagannath 2021",
        )
        out.add(
            "Logarithmic factors (s = 2)",
            r"L_I / L_P = " + sp.latex(log_ratio),
            "n_I ~ d log(1/m0) = (d/2) log d and n_P ~ d log(1/rho0) = d (1 - r2)/2 log d: "
            "their ratio tends to the constant 1/(1 - r2), so the gain exponent is 0 at s = 2.",
        )
    else:
        gap = sp.simplify(e["normalized-martingale"] - e["normalized-bulk"])
        if gap != r2:  # the martingale constraint binds for every r2 >= 0
            raise AssertionError(f"unexpected gap between the constraints: {gap}")
        exponent_eff = sp.simplify(e["normalized-martingale"] - e["preconditioned"])
        valid = sp.And(s >= 2, r2 >= 0, r2 <= 1)
        out.add(
            "Normalized step in whitened coordinates",
            r"\Delta v = -\eta\, L\, \Sigma P_v z / \sigma_w^2",
            "p = <v, z> with v = Sigma^(1/2) w / sigma_w, so the Euclidean step on w moves v by "
            "-eta L Sigma P_v z / sigma_w^2.  Near the start kappa a^2 ~ d^(r2 - 1) << 1, "
            "sigma_w^2 ~ 1/(1 + kappa): the effective step is eta (1 + kappa) along theta and "
            "eta in the d - 1 bulk directions (the preconditioned step is eta in all of them).",
            "spiked-single-index.md, Normalized flow",
        )
        out.add(
            "Drift versus noise, anisotropic step",
            [
                sp.LessThan(eta**2 * d * rho, eta * (1 + kappa) * rho ** (s - 1)),
                sp.LessThan((eta * (1 + kappa)) ** 2 * n, rho0**2),
                sp.Eq(n, T / (eta * (1 + kappa))),
                sp.Eq(T, rho0 ** (-sp.Max(s - 2, 0))),
            ],
            "Drift along theta: eta (1 + kappa) rho^(s-1) per step.  (1) The bulk noise, of "
            "squared norm eta^2 d, pulls rho toward 0 through the renormalisation by "
            "eta^2 d rho/2: the drift must win.  (2) The martingale along theta, of size "
            "eta (1 + kappa) per step, must not exceed rho0 over the escape.  In the isotropic "
            "case (kappa = 0) the two conditions coincide; here (1) allows a (1 + kappa)^2 "
            "larger step and (2) becomes the binding one.",
        )
        out.add(
            "Needed samples: both constraints",
            [
                sp.Eq(
                    n,
                    sp.Max(d / (1 + kappa) ** 2, rho0 ** (-2)) * rho0 ** (-2 * sp.Max(s - 2, 0)),
                ),
                sp.Eq(sp.Symbol("e_bulk"), e["normalized-bulk"]),
                sp.Eq(sp.Symbol("e_martingale"), e["normalized-martingale"]),
                sp.Eq(sp.Symbol("e_martingale") - sp.Symbol("e_bulk"), gap),
            ],
            "n = T/(eta (1 + kappa)) at the largest admissible step.  The martingale constraint "
            "dominates by d^r2: rho0^(-2) = d^(1 - r2) = d/kappa is the effective dimension "
            "[open in the reference; derived here].  Valid for s >= 2: at s = 1 the escape "
            "does not depend on rho0.",
        )
        out.add(
            "Strong recovery at a fixed threshold",
            [
                sp.LessThan(eta, sp.Symbol("c_tau") / d),
                sp.Eq(sp.Symbol("n_final"), d / kappa),
            ],
            "Where the whitened overlap reaches a fixed threshold tau, kappa a^2 is of order 1: "
            "the whitened steps are about eta (1 + kappa)/(1 + kappa a^2) along theta and "
            "eta/(1 + kappa a^2) in the bulk, so the noise floor 1 - rho^2 ~ eta d/(1 + kappa a^2) "
            "must stay below 1 - tau^2, and the last stage costs ~ d/kappa steps.  This caps "
            "the step at eta (1 + kappa) ~ kappa/d, within the martingale constraint of the "
            "escape, and gives the same d/kappa.",
        )
        out.add(
            "Effective dimension",
            sp.Eq(sp.Symbol("e_N"), sp.simplify(e["normalized-martingale"])),
            "n_N ~ (d/kappa) rho0^(-2 max(s - 2, 0)) (times log(1/rho0) at s = 2).  The plain "
            "convention (D = d, the reference's substitution without the switch) gives "
            "n_N ~ d rho0^(-2 max(s - 2, 0)), the same as preconditioning.",
        )
        plain = sp.simplify(e["normalized-plain"] - e["preconditioned"])
        exponent = exponent_eff if effective_dimension else plain
        log_ratio = sp.Integer(1)
        out.add(
            "Logarithmic factors (s = 2)",
            r"L_N / L_P = 1",
            "Both escapes cost log(1/rho0) with the same rho0: the factors cancel.",
        )
        out.add(
            "Both conventions",
            [sp.Eq(sp.Symbol("g_{d/kappa}"), exponent_eff), sp.Eq(sp.Symbol("g_d"), plain)],
            "A ratio n_N/n_P ~ d^(-r2) (normalized needs fewer samples) under the effective "
            "dimension; no power of d under the plain convention.  Neither predicts the "
            "d^(+r2) gain of preconditioning over normalization stated in the seed summary.",
        )
    out.add(
        "Gain exponent",
        sp.Eq(sp.Symbol("g"), exponent),
        "g = e_comparator - e_P; at kappa = d^(1/2): g = "
        + str(sp.simplify(exponent.subs(r2, sp.Rational(1, 2))))
        + ".",
    )
    return GainPrediction(comparator, effective_dimension, exponent, log_ratio, out, valid)
