"""Search for violations of an inequality along flows and gradient-descent paths.

A bound is a function ``margin(path, constant_scale) -> array`` that is ``>= 0`` where the
inequality holds.  The checker evaluates it on a grid of initial conditions, refines the
worst grid point with Nelder-Mead (over the log-norm and the angle), and returns the
worst case.  For a failing bound it finds, by bisection on a factor ``lambda`` multiplying
the offending constant, the tightest value for which the bound holds on every start and
time that was tested.

Margins of bounds on ``cos(theta)`` are measured in ``zeta = 2 artanh(cos theta)``, where
the paper's bounds are ``zeta >= X(t)``; margins of bounds on the norm in ``ln ||w||``.
The numerical error of a margin is estimated by integrating the worst case again with a
tolerance 100 times tighter; the check allows ten times that difference.

Library entry points: :func:`check_printed` (a printed bound of the paper, by id),
:func:`check_flow_bound` and :func:`check_descent_bound` (any bound over a family of
starts) and :func:`check_bound` (a user inequality; ``featcheck check-bound``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
from typing import Any

import numpy as np
import sympy as sp
from scipy.optimize import minimize

from featcheck.numerics.jsonable import JsonResult, plain
from featcheck.numerics.linear.simulate import (
    DataLaw,
    Flow,
    check_depth,
    gradient_descent,
    integrate_flow,
    step_sizes,
    time_grid,
)
from featcheck.numerics.names import WINDOWS
from featcheck.theory import linear as th
from featcheck.theory.errors import DomainError, InputError

FLOAT_TOLERANCE = 1e-9  # rounding allowance for margins of gradient descent (log scale)


@dataclass(frozen=True)
class Start:
    """One initial condition of a flow family."""

    law: DataLaw
    depth: int
    rho0: float
    theta0: float

    @property
    def zeta0(self) -> float:
        return -2 * math.log(math.tan(self.theta0 / 2))

    def describe(self) -> dict:
        w0 = (self.rho0 * math.sin(self.theta0), self.rho0 * math.cos(self.theta0))
        return {
            "law": self.law.kind,
            "dim": self.law.dim,
            "depth": self.depth,
            "rho0": self.rho0,
            "theta0": self.theta0,
            "w0": w0,
        }


@dataclass
class FlowFamily:
    """Initial conditions: laws x depths x a log grid of norms x a grid of angles."""

    laws: Sequence[DataLaw]
    depths: Sequence[int]
    rho_range: tuple[float, float] = (0.1, 4.0)
    theta_range: tuple[float, float] = (0.2, math.pi - 0.2)
    grid: int = 4
    t_max: float = 20.0

    def starts(self) -> list[Start]:
        rhos = np.geomspace(*self.rho_range, self.grid)
        thetas = np.linspace(*self.theta_range, self.grid)
        return [
            Start(law, depth, float(r), float(a))
            for law, depth, r, a in product(self.laws, self.depths, rhos, thetas)
        ]


# Margins ------------------------------------------------------------------------------
#: the arguments of a lambdified printed bound: the time, then :func:`initial_values`
BOUND_ARGS = (th.t, th.rho0, th.theta0, th.rhoT, th.thetaT, th.T, th.c0, th.N)


@dataclass
class FlowBound:
    """A bound along a flow: a printed bound of the paper or a user inequality.

    ``margin(flow, scale)`` returns ``(times, margin)`` on the bound's window, with the key
    constant multiplied by ``scale``.
    """

    name: str
    window: str
    margin_function: Callable[[Flow, float], tuple[np.ndarray, np.ndarray]]
    key_constant: str = ""
    printed: th.PrintedBound | None = None

    def margin(self, flow: Flow, scale: float = 1.0, points: int = 300):
        return self.margin_function(flow, scale, points)


def window_times(flow: Flow, window: str, points: int) -> np.ndarray:
    """Times of ``flow`` in a bound's window (``before-T``, ``after-T`` or the whole run),
    geometric near the window's start; empty when the window is."""
    if window == "before-T":
        end = min(flow.T, flow.t_max)
        return time_grid(0.0, end, points) if end > 0 else np.array([])
    if window == "after-T":
        if not math.isfinite(flow.T) or flow.t_max <= flow.T:
            return np.array([])
        return time_grid(flow.T, flow.t_max, points)
    return time_grid(0.0, flow.t_max, points)


def initial_values(flow: Flow) -> list[float]:
    """``rho0, theta0, rhoT, thetaT, T, c0, N`` of ``flow`` (the arguments after ``t`` in
    :data:`BOUND_ARGS`); without a turning point ``rhoT = thetaT = 1`` and ``T = t_max``,
    placeholders that a window ending at ``T`` or starting after it never evaluates."""
    theta0 = 2 * math.atan(math.exp(-flow.zeta0 / 2))
    theta_T = 2 * math.atan(math.exp(-flow.zeta_T / 2)) if math.isfinite(flow.zeta_T) else 1.0
    rho_T = flow.rho_T if math.isfinite(flow.rho_T) else 1.0
    T = flow.T if math.isfinite(flow.T) else flow.t_max
    return [flow.rho0, theta0, rho_T, theta_T, T, flow.law.c0, float(flow.depth)]


def printed_flow_bound(bound: th.PrintedBound, derived: bool = False) -> FlowBound:
    """The :class:`FlowBound` of a printed bound (``derived=True``: our corrected reading)."""
    values = {**bound.constants, **(bound.derived if derived else {})}
    key = sp.Symbol(bound.key_constant)
    others = {sp.Symbol(k): v for k, v in values.items() if k != bound.key_constant}
    target = bound.logit if bound.logit is not None else bound.rhs
    expr = target.subs(others)
    function = sp.lambdify((key, *BOUND_ARGS), expr, modules="numpy")
    key_value = sp.lambdify(BOUND_ARGS[1:], values[bound.key_constant], modules="numpy")
    sign = 1.0 if bound.relation == ">=" else -1.0

    def margin(flow: Flow, scale: float, points: int):
        times = window_times(flow, bound.window, points)
        if times.size == 0:
            return times, times
        initial = initial_values(flow)
        kappa = scale * float(key_value(*initial))
        with np.errstate(all="ignore"):
            rhs = np.asarray(function(kappa, times, *initial), dtype=float) * np.ones_like(times)
        rho, zeta = flow.state(times)
        gap = np.log(rho) - np.log(rhs) if bound.quantity == "norm" else zeta - rhs
        gap = np.where(np.isnan(gap), -np.inf, gap)
        return times, sign * gap

    name = bound.id + (".derived" if derived else "")
    return FlowBound(name, bound.window, margin, bound.key_constant, bound)


def printed_bound_values(
    bound: th.PrintedBound, flow: Flow, times: np.ndarray, *, derived: bool = False
) -> np.ndarray:
    """The right side of ``bound`` along ``flow`` at ``times`` (printed constants, or the
    derived ones with ``derived=True``); NaN outside the bound's window."""
    expr = bound.rhs_derived() if derived else bound.rhs_printed()
    function = sp.lambdify(BOUND_ARGS, expr, modules="numpy")
    times = np.asarray(times, dtype=float)
    with np.errstate(all="ignore"):
        values = np.asarray(function(times, *initial_values(flow)), dtype=float)
    values = values * np.ones_like(times)
    if bound.window == "before-T":
        values = np.where(times <= flow.T, values, np.nan)
    elif bound.window == "after-T":
        values = np.where(times >= flow.T, values, np.nan)
    return values


# Results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Worst:
    """The smallest margin found, where (``time``; a step for gradient descent) and from
    which start, with the numerical ``tolerance`` of that margin."""

    margin: float
    time: float
    start: Start | None
    tolerance: float = 0.0


@dataclass(frozen=True)
class CheckResult(JsonResult):
    """Outcome of a search: worst case, numerical tolerance and the tightest constant.

    ``tightest_scale`` is the factor on the key constant for which the bound holds on every
    tested start and time (only for a violated bound); ``printed_constant`` and
    ``tightest_constant`` are the key constant's value at the worst start before and after
    that factor.
    """

    bound: str
    holds: bool
    worst: Worst
    evaluated: int
    tightest_scale: float | None = None
    tightest_constant: float | None = None
    printed_constant: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "holds" if self.holds else "violated"

    def to_json(self) -> dict[str, Any]:
        return plain(
            {
                "bound": self.bound,
                "status": self.status,
                "worst_margin": self.worst.margin,
                "worst_time": self.worst.time,
                "tolerance": self.worst.tolerance,
                "worst_start": self.worst.start.describe() if self.worst.start else None,
                "starts_evaluated": self.evaluated,
                "tightest_scale": self.tightest_scale,
                "tightest_constant": self.tightest_constant,
                "printed_constant": self.printed_constant,
                **self.details,
            }
        )


def min_margin(bound: FlowBound, flow: Flow, scale: float = 1.0) -> tuple[float, float]:
    """The smallest margin of ``bound`` along ``flow`` and its time; ``(inf, nan)`` when the
    bound's window is empty."""
    times, gaps = bound.margin(flow, scale)
    if times.size == 0:
        return math.inf, math.nan
    i = int(np.argmin(gaps))
    return float(gaps[i]), float(times[i])


def check_flow_bound(
    bound: FlowBound,
    family: FlowFamily,
    *,
    optimise_evaluations: int = 30,
    tighten: bool = True,
) -> CheckResult:
    """Grid plus Nelder-Mead search for the smallest margin of ``bound`` over ``family``."""
    flows: list[tuple[Start, Flow]] = []
    worst = Worst(math.inf, math.nan, None)

    def evaluate(start: Start) -> float:
        nonlocal worst
        flow = integrate_flow(
            start.law, start.depth, rho0=start.rho0, zeta0=start.zeta0, t_max=family.t_max
        )
        flows.append((start, flow))
        value, when = min_margin(bound, flow)
        if value < worst.margin:
            worst = Worst(value, when, start)
        return value

    for start in family.starts():
        evaluate(start)
    if worst.start is not None and optimise_evaluations > 0:
        base = worst.start
        low = np.array([math.log(family.rho_range[0]), family.theta_range[0]])
        high = np.array([math.log(family.rho_range[1]), family.theta_range[1]])

        def objective(p: np.ndarray) -> float:
            p = np.clip(p, low, high)
            value = evaluate(Start(base.law, base.depth, float(math.exp(p[0])), float(p[1])))
            return value if math.isfinite(value) else 1e6

        minimize(
            objective,
            np.array([math.log(base.rho0), base.theta0]),
            method="Nelder-Mead",
            options={"maxfev": optimise_evaluations, "initial_simplex": None, "xatol": 1e-4},
        )
    if worst.start is None:
        return CheckResult(bound.name, True, worst, len(flows), details={"empty_window": True})
    worst = replace(worst, tolerance=numerical_error(bound, worst.start, family.t_max))
    holds = worst.margin >= -worst.tolerance
    if holds or not tighten or not bound.key_constant:
        return CheckResult(bound.name, holds, worst, len(flows))
    scale = tightest_scale(bound, [f for _, f in flows], worst.tolerance)
    printed = _key_value(bound, worst.start, flows)
    return CheckResult(
        bound.name,
        holds,
        worst,
        len(flows),
        tightest_scale=scale,
        tightest_constant=None if scale is None or printed is None else scale * printed,
        printed_constant=printed,
    )


def _key_value(bound: FlowBound, start: Start, flows) -> float | None:
    if bound.printed is None:
        return None
    for s, flow in flows:
        if s == start:
            values = bound.printed.constants
            function = sp.lambdify(BOUND_ARGS[1:], values[bound.key_constant], modules="numpy")
            return float(function(*initial_values(flow)))
    return None


def numerical_error(bound: FlowBound, start: Start, t_max: float) -> float:
    """|margin(rtol 1e-10) - margin(rtol 1e-12)| at the worst start, times ten, plus rounding."""
    margins = []
    for rtol in (1e-10, 1e-12):
        flow = integrate_flow(
            start.law,
            start.depth,
            rho0=start.rho0,
            zeta0=start.zeta0,
            t_max=t_max,
            rtol=rtol,
            atol=rtol * 1e-2,
        )
        margins.append(min_margin(bound, flow)[0])
    difference = abs(margins[0] - margins[1]) if all(map(math.isfinite, margins)) else 0.0
    return 10 * difference + 1e-12 * (1 + abs(margins[1]) if math.isfinite(margins[1]) else 1)


def tightest_scale(
    bound: FlowBound, flows: Sequence[Flow], tolerance: float, *, iterations: int = 40
) -> float | None:
    """The factor ``lambda`` at which the bound, with its key constant times ``lambda``,
    holds on every tested flow and time; bisection in ``ln lambda``.  ``None`` if no
    factor in ``[1e-6, 1e6]`` makes it hold."""

    def ok(scale: float) -> bool:
        return all(min_margin(bound, f, scale)[0] >= -tolerance for f in flows)

    # Which way is weaker?  Try shrinking first, then growing.
    for direction in (-1.0, 1.0):
        far = 1.0
        for _ in range(12):
            far *= math.exp(direction * 1.15)
            if ok(far):
                good, bad = math.log(far), 0.0
                for _ in range(iterations):
                    mid = (good + bad) / 2
                    if ok(math.exp(mid)):
                        good = mid
                    else:
                        bad = mid
                return math.exp(good)
    return None


# Gradient descent ---------------------------------------------------------------------
@dataclass
class DescentFamily:
    """Starts (norm, angle) x schedules (kind, eta, parameter) for gradient descent."""

    rho_range: tuple[float, float] = (0.1, 4.0)
    theta_range: tuple[float, float] = (math.pi / 2 + 0.05, math.pi - 0.05)
    grid: int = 5
    schedules: Sequence[tuple[str, float, float | None]] = (
        ("constant", 0.1, None),
        ("constant", 1.0, None),
        ("geometric", 0.1, 1.05),
        ("power", 0.1, 0.5),
        ("power", 0.1, -0.3),
        ("harmonic", 1.0, None),
    )
    steps: int = 300


def descent_margins(
    bound: th.PrintedBound,
    law: DataLaw,
    rho0: np.ndarray,
    theta0: np.ndarray,
    etas: np.ndarray,
    scale: float = 1.0,
) -> dict[str, np.ndarray]:
    """Margins ``ln(1-cos theta_0) - B S_n - ln(1 - cos theta_n)`` for Theorems 2 and 3.

    Theorem 2: examined for ``n`` up to the first step with ``cos theta_n >= 0``, starts
    with ``cos theta_0 < 0``.  Theorem 3: ``delta`` is the largest value for which its
    hypothesis holds on every step of the horizon (starts without a positive such
    ``delta`` are excluded); the bound with that ``delta`` is the strongest one claimed.
    """
    w0 = np.stack([rho0 * np.sin(theta0), rho0 * np.cos(theta0)], axis=1)
    path = gradient_descent(law, w0, etas)
    c0 = law.c0
    one_minus = path.one_minus_cos  # (steps+1, M)
    steps = etas.shape[1]
    cos0 = np.cos(theta0)
    A = rho0**2 / c0**2
    valid = np.ones_like(one_minus, dtype=bool)
    if bound.id == "theorem2":
        C = 0.0
        B = (1 + cos0) / math.pi
        nonneg = path.cos_theta >= 0
        first = np.where(nonneg.any(axis=0), nonneg.argmax(axis=0), steps)
        valid = np.arange(steps + 1)[:, None] <= first[None, :]
        valid &= (cos0 < 0)[None, :]
        delta = np.full(rho0.shape, np.inf)
    else:
        C = 0.6 / c0**2
        w, rho = path.w, path.rho
        wbar = w[:-1] / rho[:-1, :, None]
        lhs = rho[1:] + np.einsum("nmi,nmi->nm", wbar, w[1:])
        cos_n = path.cos_theta[:-1]
        rhs_unit = c0 * etas.T * cos_n / math.pi
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(rhs_unit > 0, lhs / rhs_unit, np.inf)
        delta = ratio.min(axis=0) - 1
        with np.errstate(invalid="ignore"):
            shrink = np.where(np.isinf(delta), 1.0, delta / (1 + delta))
        B = shrink * (1 + cos0) / math.pi
        valid &= (delta > 0)[None, :]
    inner = np.cumsum(etas**2 + C * etas, axis=1)  # sum_{i<=k}
    terms = etas / np.sqrt(A[:, None] + inner)
    S = np.concatenate([np.zeros((etas.shape[0], 1)), np.cumsum(terms, axis=1)], axis=1).T
    with np.errstate(divide="ignore"):
        margin = np.log1p(-cos0)[None, :] - scale * B[None, :] * S - np.log(one_minus)
    margin = np.where(valid, margin, np.inf)
    return {"margin": margin, "S": S, "B": B, "delta": delta, "one_minus_cos": one_minus}


def check_descent_bound(
    bound: th.PrintedBound,
    law: DataLaw,
    family: DescentFamily,
    *,
    optimise_evaluations: int = 30,
) -> CheckResult:
    """Grid over starts and schedules, then Nelder-Mead on (ln rho0, theta0, ln eta)."""
    rhos = np.geomspace(*family.rho_range, family.grid)
    thetas = np.linspace(*family.theta_range, family.grid)
    rr, aa = (g.ravel() for g in np.meshgrid(rhos, thetas))
    worst = Worst(math.inf, math.nan, None)
    worst_case: dict = {}
    evaluated = 0
    tested: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def run(rho0, theta0, kind, eta, parameter):
        nonlocal worst, worst_case, evaluated
        etas = np.broadcast_to(
            step_sizes(kind, eta, family.steps, parameter), (rho0.size, family.steps)
        )
        out = descent_margins(bound, law, rho0, theta0, etas)
        tested.append((rho0, theta0, etas))
        evaluated += rho0.size
        m = out["margin"]
        n_idx, m_idx = np.unravel_index(np.argmin(m), m.shape)
        value = float(m[n_idx, m_idx])
        if value < worst.margin:
            worst = Worst(value, float(n_idx), None, FLOAT_TOLERANCE)
            worst_case = {
                "rho0": float(rho0[m_idx]),
                "theta0": float(theta0[m_idx]),
                "schedule": kind,
                "eta": eta,
                "parameter": parameter,
                "step": int(n_idx),
                "one_minus_cos": float(out["one_minus_cos"][n_idx, m_idx]),
                "B": float(out["B"][m_idx]),
                "S_n": float(out["S"][n_idx, m_idx]),
                # None: the hypothesis holds for every delta (no restriction)
                "delta": float(out["delta"][m_idx]) if np.isfinite(out["delta"][m_idx]) else None,
            }
        return value

    for kind, eta, parameter in family.schedules:
        run(rr, aa, kind, eta, parameter)
    if worst_case and optimise_evaluations > 0:
        kind, parameter = worst_case["schedule"], worst_case["parameter"]
        low = np.array([math.log(family.rho_range[0]), family.theta_range[0], math.log(1e-3)])
        high = np.array([math.log(family.rho_range[1]), family.theta_range[1], math.log(10.0)])

        def objective(p):
            p = np.clip(p, low, high)
            value = run(
                np.array([math.exp(p[0])]), np.array([p[1]]), kind, math.exp(p[2]), parameter
            )
            return value if math.isfinite(value) else 1e6

        x0 = np.array(
            [math.log(worst_case["rho0"]), worst_case["theta0"], math.log(worst_case["eta"])]
        )
        minimize(objective, x0, method="Nelder-Mead", options={"maxfev": optimise_evaluations})
    holds = worst.margin >= -worst.tolerance
    details = {"worst_case": worst_case}
    if holds:
        return CheckResult(bound.id, holds, worst, evaluated, details=details)

    def ok(scale: float) -> bool:
        return all(
            float(np.min(descent_margins(bound, law, r, a, e, scale)["margin"])) >= -FLOAT_TOLERANCE
            for r, a, e in tested
        )

    good, bad = 0.0, 1.0  # scale 0 removes the decay: the bound is then trivial
    if not ok(good):
        return CheckResult(bound.id, holds, worst, evaluated, details=details)
    for _ in range(40):
        mid = (good + bad) / 2
        good, bad = (mid, bad) if ok(mid) else (good, mid)
    return CheckResult(
        bound.id,
        holds,
        worst,
        evaluated,
        tightest_scale=good,
        tightest_constant=good * worst_case["B"],
        printed_constant=worst_case["B"],
        details=details,
    )


def check_printed(
    bound_id: str, family: FlowFamily | None = None, *, derived: bool = False, **kwargs
) -> CheckResult:
    """Check one printed bound by id over a family (defaults: the sphere, depth 1 or 4)."""
    bounds = th.printed_bounds()
    if bound_id not in bounds:
        raise DomainError(f"unknown bound {bound_id!r}; known: {', '.join(bounds)}")
    bound = bounds[bound_id]
    if family is None:
        depths = [1] if bound.depths == "1" else [3, 4]
        family = FlowFamily([DataLaw()], depths)
    return check_flow_bound(printed_flow_bound(bound, derived), family, **kwargs)


# User inequalities --------------------------------------------------------------------
USER_VARIABLES = {
    name: sp.Symbol(name, real=True)
    for name in (
        "t",
        "cos_theta",
        "theta",
        "norm",
        "zeta",
        "loss",
        "rho0",
        "theta0",
        "T",
        "rhoT",
        "thetaT",
        "c0",
        "N",
    )
}


def parse_user_bound(
    text: str, constant: str | None = None
) -> tuple[sp.Expr, str, sp.Symbol | None]:
    """Parse ``lhs REL rhs`` safely; returns ``(lhs - rhs)`` oriented so that ``>= 0`` holds.

    Variables: ``t``, ``cos_theta``, ``theta``, ``norm``, ``zeta`` (``2 artanh cos theta``),
    ``loss``; the start ``rho0``, ``theta0``; the turning point ``T``, ``rhoT``, ``thetaT``;
    ``c0`` and the depth ``N``; optionally one named constant.
    """
    from featcheck.theory.errors import ParseError, UnsafeExpressionError
    from featcheck.theory.functions import ALLOWED_CONSTANTS, ALLOWED_FUNCTIONS
    from featcheck.theory.parsing import parse_expression

    variables = dict(USER_VARIABLES)
    key = None
    if constant is not None:
        if (
            not constant.isidentifier()
            or constant in variables
            or constant in ALLOWED_FUNCTIONS
            or constant in ALLOWED_CONSTANTS
        ):
            raise UnsafeExpressionError(
                f"the constant name {constant!r} must be a new identifier (not a variable, "
                "function or pi/e)"
            )
        key = sp.Symbol(constant, real=True)
        variables[constant] = key
    relation = parse_expression(
        text,
        variables=variables,
        functions=ALLOWED_FUNCTIONS,
        constants=ALLOWED_CONSTANTS,
        allow_comparisons=True,
    )
    if not isinstance(relation, sp.core.relational.Relational):
        raise ParseError("write an inequality such as 'cos_theta >= 1 - exp(-t)'")
    if isinstance(relation, sp.GreaterThan | sp.StrictGreaterThan):
        margin = relation.lhs - relation.rhs
    else:
        margin = relation.rhs - relation.lhs
    return margin, relation.rel_op, key


def user_flow_bound(
    text: str, window: str = "all", constant: tuple[str, float] | None = None
) -> FlowBound:
    """A :class:`FlowBound` for a user inequality; ``constant = (name, value)`` is the
    constant whose tightest value is searched when the inequality fails."""
    if window not in WINDOWS:
        raise DomainError(f"unknown window {window!r}; use all, before-T or after-T")
    name, value = constant if constant is not None else (None, 1.0)
    margin_expr, _, key = parse_user_bound(text, name)
    symbols = [USER_VARIABLES[k] for k in USER_VARIABLES]
    function = sp.lambdify([*symbols, key or sp.Symbol("_unused")], margin_expr, modules="numpy")

    def margin(flow: Flow, scale: float, points: int):
        times = window_times(flow, window, points)
        if times.size == 0:
            return times, times
        s = flow.series(times)
        rho0, theta0, rho_T, theta_T, T, c0, depth = initial_values(flow)
        args = [
            times,
            s["cos_theta"],
            s["theta"],
            s["rho"],
            s["zeta"],
            s["loss"],
            rho0,
            theta0,
            T,
            rho_T,
            theta_T,
            c0,
            depth,
            scale * value,
        ]
        with np.errstate(all="ignore"):
            gaps = np.asarray(function(*args), dtype=complex) * np.ones_like(times)
        real = np.where(np.abs(gaps.imag) > 0, np.nan, gaps.real)
        return times, np.where(np.isnan(real), -np.inf, real)

    return FlowBound(text, window, margin, name or "")


@dataclass(frozen=True)
class BoundCheck(JsonResult):
    """What :func:`check_bound` found for one inequality: the search result ``check`` and
    the setting it was searched in.  ``to_json`` gives the keys of ``featcheck check-bound
    --json``."""

    inequality: str
    window: str
    law: str
    dim: int
    depth: int
    constant: str | None
    check: CheckResult

    @property
    def holds(self) -> bool:
        return self.check.holds

    @property
    def status(self) -> str:
        return self.check.status

    def to_json(self) -> dict[str, Any]:
        return {
            "inequality": self.inequality,
            **self.check.to_json(),
            "window": self.window,
            "law": self.law,
            "dim": self.dim,
            "depth": self.depth,
            "constant": self.constant,
        }


def check_bound(
    *,
    inequality: str,
    constant: tuple[str, float] | None = None,
    window: str = "all",
    law: str = "sphere",
    dim: int = 2,
    depth: int = 1,
    t_max: float = 20.0,
    rho_range: tuple[float, float] = (0.1, 4.0),
    theta_range: tuple[float, float] = (0.2, math.pi - 0.2),
    grid: int = 4,
    search: int = 30,
) -> BoundCheck:
    """Search for violations of a user inequality along the depth-``depth`` flow.

    The starts are a ``grid x grid`` log-grid of norms in ``rho_range`` times a grid of
    angles to ``v`` in ``theta_range``; then ``search`` Nelder-Mead evaluations refine the
    worst one (0: the grid only).  ``constant = (name, value)`` names a constant of the
    inequality; when the inequality fails, the value at which it holds on every tested start
    and time is ``check.tightest_constant``.  Variables of the inequality: see
    :func:`parse_user_bound`.
    """
    if constant is not None:
        name, value = constant
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"the constant {name} must be a number, got {value!r}") from None
        if not math.isfinite(number) or number == 0:
            raise InputError(f"the constant {name} must be finite and non-zero, got {value!r}")
        constant = (str(name).strip(), number)
    lo, hi = (float(v) for v in rho_range)
    if not 0 < lo <= hi < math.inf:
        raise DomainError(f"the norm range needs 0 < LO <= HI, got {lo},{hi}")
    a, b = (float(v) for v in theta_range)
    if not 0 < a <= b < math.pi:
        raise DomainError(f"the angle range needs 0 < LO <= HI < pi, got {a},{b}")
    if not isinstance(grid, int) or grid < 1:
        raise DomainError(f"the grid needs at least one point per axis, got {grid!r}")
    if not isinstance(search, int) or search < 0:
        raise DomainError(f"the number of search evaluations must be >= 0, got {search!r}")
    if not (t_max > 0 and math.isfinite(t_max)):
        raise DomainError(f"t_max must be positive and finite, got {t_max}")
    bound = user_flow_bound(inequality, window, constant)
    family = FlowFamily(
        [DataLaw(law, dim)], [check_depth(depth)], (lo, hi), (a, b), grid, float(t_max)
    )
    result = check_flow_bound(bound, family, optimise_evaluations=search)
    if constant is not None:
        scale = result.tightest_scale
        result = replace(
            result,
            printed_constant=constant[1],
            tightest_constant=None if scale is None else scale * constant[1],
        )
    return BoundCheck(
        inequality, window, law, dim, depth, None if constant is None else constant[0], result
    )
