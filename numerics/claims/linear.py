"""Claims of Lin, Sun, Zhang (NeurIPS 2021): linear networks under spherically symmetric data.

Every printed bound is checked as printed by the bound checker
(:mod:`featcheck.numerics.linear.bounds`); where our derivation gives a different constant,
the corrected reading is a separate claim under ``linear.derived.*``, derived in
``docs/derivations/linear-sphere-d2-depth4.md`` (``featcheck derive linear``).  The rates
``exp(-Omega(sqrt t))`` and ``exp(-Omega(t))`` are ``linear.rate.linear`` and
``linear.rate.deep`` (they hold, not tight); read as ``Theta`` they are
``linear.rate.theta``; the exact exponent ``2N/(N+2)`` is ``linear.derived.rate``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit

from featcheck.numerics.claims.base import ClaimContext, Evidence, claim, holds_if, within
from featcheck.numerics.claims.provenance import (
    LIN_SUN_ZHANG_2021,
    derived,
    printed,
    reading,
)
from featcheck.numerics.claims.rules import (
    Level,
    bound,
    deterministic_convergence,
    interval_check,
    loglog_slope,
    mean_interval,
)
from featcheck.numerics.linear.bounds import (
    DescentFamily,
    FlowFamily,
    check_descent_bound,
    check_flow_bound,
    printed_flow_bound,
)
from featcheck.numerics.linear.rates import local_exponents, tail
from featcheck.numerics.linear.simulate import (
    DataLaw,
    balanced_layers,
    end_to_end,
    gradient_by_quadrature,
    layer_gradients,
    population_gradient,
)
from featcheck.theory.linear import asymptotic_exponents, printed_bounds

#: the derivation document of the derived claims (written by ``featcheck derive linear``)
DERIVATION = "docs/derivations/linear-sphere-d2-depth4.md"


def _laws(ctx: ClaimContext) -> list[DataLaw]:
    if ctx.full:
        return [DataLaw("sphere", 2), DataLaw("gaussian", 2), DataLaw("sphere", 5)]
    return [DataLaw("sphere", 2), DataLaw("gaussian", 2)]


def _bound_check(ctx: ClaimContext, bound_id: str, derived: bool = False) -> Evidence:
    bound = printed_bounds()[bound_id]
    depths = [1] if bound.depths == "1" else (ctx.pick(quick=[3, 4], full=[3, 4, 5, 6]))
    family = FlowFamily(
        _laws(ctx),
        depths,
        grid=ctx.pick(quick=3, full=6),
        t_max=ctx.pick(quick=15.0, full=40.0),
    )
    flow_bound = printed_flow_bound(bound, derived)
    result = check_flow_bound(flow_bound, family, optimise_evaluations=ctx.pick(quick=12, full=60))
    evidence = Evidence()
    worst = result.worst
    start = worst.start.describe() if worst.start else {}
    evidence.add(
        holds_if(
            f"smallest margin of {result.bound} over {result.evaluated} starts "
            f"({'zeta' if bound.quantity == 'cos_theta' else 'ln norm'} scale) >= -tolerance",
            result.holds,
            f">= -{worst.tolerance:.2g}",
            worst.margin,
            time=worst.time,
            **start,
        )
    )
    evidence.details = result.to_json()
    evidence.details["inequality"] = str(bound.inequality(derived))
    if not result.holds and result.tightest_scale is not None:
        evidence.note = (
            f"Counterexample at t = {worst.time:.4g} from {start}. The bound holds on every "
            f"tested start and time once {bound.key_constant} is multiplied by "
            f"{result.tightest_scale:.6g} (at the worst start: {result.tightest_constant:.6g} "
            f"instead of {result.printed_constant:.6g})."
        )
    path = ctx.figure_path("worst-start")
    if path is not None:
        from featcheck.numerics.linear.figures import plot_bound_check

        evidence.add_figure(
            plot_bound_check(flow_bound, result, family.t_max, path, title=ctx.claim_id)
        )
    return evidence


def _register_flow_bound(bound_id: str, statement: str) -> None:
    @claim(
        f"linear.{bound_id}",
        provenance=printed(LIN_SUN_ZHANG_2021, printed_bounds()[bound_id].source),
        statement=statement,
    )
    def _run(ctx: ClaimContext) -> Evidence:
        return _bound_check(ctx, bound_id)


def _register_derived(bound_id: str, statement: str) -> None:
    bound = printed_bounds()[bound_id]

    @claim(
        f"linear.derived.{bound_id}",
        provenance=derived(
            LIN_SUN_ZHANG_2021,
            f"{bound.source}, with {bound.key_constant} re-derived by the comparison argument",
            DERIVATION,
        ),
        statement=statement,
    )
    def _run(ctx: ClaimContext) -> Evidence:
        return _bound_check(ctx, bound_id, derived=True)


_register_flow_bound(
    "theorem1.before-T",
    "Linear predictor, t <= T: cos(theta) >= 1 - 2/(exp(A1 t + B1) + 1), constants as printed.",
)
_register_flow_bound(
    "theorem1.after-T",
    "Linear predictor, t > T: cos(theta) >= 1 - 2/(exp(A2 sqrt(t - T + C2) + B2) + 1), "
    "A2 = 4 c0/sqrt(0.6 pi) as printed.",
)
_register_flow_bound(
    "lemma4.lower", "Depth N > 2: ||w_e(t)|| >= (||w_e(0)||^(2/N-1) + (N-2) c0 t)^(-N/(N-2))."
)
_register_flow_bound("lemma4.upper", "Depth N > 2: ||w_e(t)|| <= (||w_e(0)||^(2/N) + 0.6 t)^(N/2).")
_register_flow_bound(
    "theorem5.before-T",
    "Depth N > 2, t <= T: cos(theta) >= 1 - 2/(C1 (A1 t/B1 + 1)^alpha + 1), alpha = 2 c0/pi.",
)
_register_flow_bound(
    "theorem5.after-T",
    "Depth N > 2, t >= T: cos(theta) >= 1 - 2/(exp(A2 (t-T) + B2) + 1), "
    "A2 = 2 c0 ||w_e(T)||^(2-2/N)/pi.",
)
_register_flow_bound(
    "theorem5.upper",
    "Depth N > 2: cos(theta) <= 1 - 2/(exp(F [(0.6 t + D)^(N/2) - D^(N/2)] + E) + 1).",
)
_register_derived(
    "theorem1.after-T", "Theorem 1 (t > T) with our constant A2 = 4 c0/(sqrt(0.6) pi)."
)
_register_derived("theorem5.before-T", "Theorem 5 (t <= T) with our exponent alpha = 2/((N-2) pi).")
_register_derived(
    "theorem5.after-T", "Theorem 5 (t >= T) with our rate A2 = 2 c0 ||w_e(T)||^(1-2/N)/pi."
)


# Norm rate constant -------------------------------------------------------------------
@claim(
    "linear.theorem1.norm-rate",
    provenance=reading(
        LIN_SUN_ZHANG_2021,
        "the constant 0.6 of Theorem 1, Theorem 5 and Lemma 4, read as 2 sup_w N(w)",
    ),
    statement="N(w) = -w^T grad L <= 0.3 for every w: the growth rate d||w||^2/dt = 2 N(w) "
    "<= 0.6 that the 0.6 in Theorems 1, 5 and Lemma 4 stands for.",
)
def norm_rate(ctx: ClaimContext) -> Evidence:
    evidence = Evidence()
    for law in _laws(ctx):
        # N(w) <= rho K(rho), with equality at theta = 0: maximise the one-variable function.
        grid = np.geomspace(1e-3, 1e3, 400)
        values = grid * law.K(grid)
        best = int(np.argmax(values))
        result = minimize_scalar(
            lambda r, law=law: -r * law.K(r)[0],
            bounds=(grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]),
            method="bounded",
            options={"xatol": 1e-10},
        )
        sup = -float(result.fun)
        evidence.add(
            holds_if(
                f"sup_w N(w) for {law.kind} d={law.dim}",
                sup <= 0.3,
                "<= 0.3",
                sup,
                argmax_rho=float(result.x),
            )
        )
    return evidence


# Gradient descent ---------------------------------------------------------------------
def _descent_claim(ctx: ClaimContext, bound_id: str, theta_range) -> Evidence:
    bound = printed_bounds()[bound_id]
    evidence = Evidence()
    family = DescentFamily(
        theta_range=theta_range,
        grid=ctx.pick(quick=4, full=8),
        steps=ctx.pick(quick=200, full=1500),
    )
    details = {}
    for law in _laws(ctx):
        result = check_descent_bound(
            bound, law, family, optimise_evaluations=ctx.pick(quick=15, full=80)
        )
        evidence.add(
            holds_if(
                f"{bound_id}: smallest margin in ln(1 - cos theta) for {law.kind} d={law.dim}",
                result.holds,
                f">= -{result.worst.tolerance:.1g}",
                result.worst.margin,
                **result.details["worst_case"],
            )
        )
        details[f"{law.kind}{law.dim}"] = result.to_json()
    evidence.details = details
    return evidence


@claim(
    "linear.theorem2",
    provenance=printed(LIN_SUN_ZHANG_2021, "Theorem 2"),
    statement="GD from <v, w(0)> < 0: cos(theta(n)) >= 1 - (1 - cos(theta(0))) exp(-B S_n) "
    "until cos(theta) >= 0, constants as printed, for constant, geometric, power and 1/n steps.",
)
def theorem2(ctx: ClaimContext) -> Evidence:
    return _descent_claim(ctx, "theorem2", (math.pi / 2 + 0.05, math.pi - 0.05))


@claim(
    "linear.theorem3",
    provenance=printed(LIN_SUN_ZHANG_2021, "Theorem 3"),
    statement="GD: if ||w(n+1)|| + wbar(n)^T w(n+1) >= (1+delta) c0 eta_n cos(theta(n))/pi for "
    "all n then cos(theta(n)) >= 1 - (1 - cos(theta(0))) exp(-B S_n), constants as printed.",
)
def theorem3(ctx: ClaimContext) -> Evidence:
    return _descent_claim(ctx, "theorem3", (0.05, math.pi - 0.05))


# Lemma 1 and Lemma 3 ------------------------------------------------------------------
@claim(
    "linear.lemma1",
    provenance=printed(LIN_SUN_ZHANG_2021, "Lemma 1"),
    statement="-(v - (wbar^T v) wbar)^T grad L(w) = c0 sin^2(theta)/pi for every w.",
)
def lemma1(ctx: ClaimContext) -> Evidence:
    rng = ctx.rng()
    evidence = Evidence()
    count = ctx.pick(quick=3, full=6)
    points = [
        (float(np.exp(rng.uniform(-3, 3))), float(rng.uniform(0.05, math.pi - 0.05)))
        for _ in range(count)
    ]
    # Quadrature on the circle and the plane (independent of the reduction).
    for law in (DataLaw("sphere", 2), DataLaw("gaussian", 2)):
        for radius, angle in points:
            w = radius * np.array([math.sin(angle), math.cos(angle)])
            grad, error = gradient_by_quadrature(law, w)
            drift = -float((np.array([0.0, 1.0]) - math.cos(angle) * w / radius) @ grad)
            evidence.add(
                within(
                    f"quadrature, {law.kind} d=2, rho={radius:.3g}, theta={angle:.3f}",
                    law.c0 * math.sin(angle) ** 2 / math.pi,
                    drift,
                    10 * error + 1e-12,
                )
            )
    # Monte Carlo in higher dimensions: normal intervals, family-wise 99%.
    laws = [DataLaw("sphere", 3), DataLaw("gaussian", 5)]
    samples = ctx.pick(quick=60_000, full=400_000)
    level = Level(0.01, len(laws) * count)
    for law in laws:
        for radius, angle in points:
            w = radius * np.array([math.sin(angle), math.cos(angle)])
            direction = np.array([0.0, 1.0]) - math.cos(angle) * w / radius
            x = law.sample(rng, (samples,))
            y = np.where(x[:, 1] >= 0, 1.0, -1.0)
            w_full = np.zeros(law.dim)
            w_full[:2] = w
            terms = expit(-y * (x @ w_full)) * y * (x[:, :2] @ direction)
            evidence.add(
                interval_check(
                    f"Monte Carlo, {law.kind} d={law.dim}, rho={radius:.3g}, theta={angle:.3f}",
                    law.c0 * math.sin(angle) ** 2 / math.pi,
                    mean_interval(terms, level.confidence, method="z"),
                    samples=samples,
                    level=level.describe(),
                )
            )
    return evidence


def _product_derivative(layers, derivatives) -> np.ndarray:
    """d/dt of w_e = (W_N ... W_1)^T given dW_j/dt (product rule, exact)."""
    total = 0
    for j in range(len(layers)):
        factors = [derivatives[i] if i == j else layers[i] for i in range(len(layers))]
        total = total + end_to_end(factors)
    return total


@claim(
    "linear.lemma3",
    provenance=printed(LIN_SUN_ZHANG_2021, "eq. (7) and Lemma 3"),
    statement="For a balanced deep linear network trained by gradient flow, "
    "d cos(theta)/dt = (c0 sin^2(theta)/pi) ||w_e||^(1 - 2/N).",
)
def lemma3(ctx: ClaimContext) -> Evidence:
    rng = ctx.rng()
    law = DataLaw("sphere", 2)
    evidence = Evidence()
    depths = ctx.pick(quick=(3, 4), full=(2, 3, 4, 5))
    for depth in depths:
        for _ in range(ctx.pick(quick=2, full=3)):
            radius = float(np.exp(rng.uniform(-1.5, 1.5)))
            angle = float(rng.uniform(0.1, math.pi - 0.1))
            w_e = radius * np.array([math.sin(angle), math.cos(angle)])
            layers = balanced_layers(w_e, depth, 3, rng)
            grad, error = gradient_by_quadrature(law, end_to_end(layers))
            derivatives = [-g for g in layer_gradients(layers, grad)]
            dw = _product_derivative(layers, derivatives)
            wbar = w_e / radius
            dcos = float((np.array([0.0, 1.0]) - math.cos(angle) * wbar) @ dw / radius)
            predicted = law.c0 * math.sin(angle) ** 2 / math.pi * radius ** (1 - 2 / depth)
            # the gradient enters linearly with factors bounded by max(1, rho)^2
            tol = 10 * error * depth * max(1.0, radius) ** 2 + 1e-12
            evidence.add(
                within(
                    f"N={depth}, ||w_e||={radius:.3g}, theta={angle:.3f}",
                    predicted,
                    dcos,
                    tol,
                )
            )
            unbalanced = [m * s for m, s in zip(layers, _unbalance(depth), strict=True)]
            evidence.details.setdefault("unbalanced_counterpart", []).append(
                _unbalanced_report(law, unbalanced, depth)
            )
    return evidence


def _unbalance(depth: int) -> list[float]:
    """Scale factors with product 1: same w_e, balancedness broken."""
    factors = [2.0 if j % 2 == 0 else 0.5 for j in range(depth)]
    if depth % 2:
        factors[-1] = 1.0
    return factors


def _unbalanced_report(law: DataLaw, layers, depth: int) -> dict:
    w_e = end_to_end(layers)
    radius = float(np.linalg.norm(w_e))
    dw = _product_derivative(
        layers, [-g for g in layer_gradients(layers, population_gradient(law, w_e))]
    )
    cos = w_e[1] / radius
    dcos = float((np.array([0.0, 1.0]) - cos * w_e / radius) @ dw / radius)
    lemma = law.c0 * (1 - cos**2) / math.pi * radius ** (1 - 2 / depth)
    return {"depth": depth, "dcos_dt": dcos, "lemma3": lemma}


# Rates ----------------------------------------------------------------------------------
#: the exponent of t in -ln(1 - cos theta) that Theorems 1 and 5 state (as Omega)
PRINTED_EXPONENT = {"linear": 0.5, "deep": 1.0}


def _t_max(ctx: ClaimContext, depth: int) -> float:
    return ctx.pick(quick={1: 1e6}.get(depth, 1e5), full={1: 1e7, 2: 1e4}.get(depth, 1e6))


def _derived_exponent(depth: int) -> float:
    return float(asymptotic_exponents(depth)["zeta"])


def _exponent_convergence(ctx: ClaimContext, depths, target, label: str, level) -> Evidence:
    """Gap of the local exponent on each quarter decade of the last two decades to
    ``target(depth)``, judged by the deterministic convergence rule."""
    evidence = Evidence()
    curves = []
    for depth in depths:
        for law in _laws(ctx):
            betas, times = local_exponents(law, depth, _t_max(ctx, depth), 2, 4)
            expected = target(depth)
            gaps = np.abs(betas - expected)
            evidence.add(
                deterministic_convergence(
                    f"{label}: local exponent of -ln(1 - cos theta) -> {expected:.4g}, "
                    f"{law.kind} d={law.dim}, N={depth}",
                    times[1:],
                    gaps,
                    level=level,
                    local_exponents=[float(b) for b in betas],
                    window_ends=[float(t) for t in times[1:]],
                    predicted=expected,
                )
            )
            curves.append(
                {
                    "label": f"{law.kind} d={law.dim}, N={depth} (target {expected:.4g})",
                    "times": times,
                    "betas": betas,
                    "predicted": expected,
                    "tolerance": float(gaps[-1]),
                }
            )
    path = ctx.figure_path("exponents")
    if path is not None:
        from featcheck.numerics.linear.figures import plot_rate_exponents

        evidence.add_figure(plot_rate_exponents(curves, path, title=ctx.claim_id))
    return evidence


def _omega_rate(ctx: ClaimContext, depths, which: str) -> Evidence:
    """The printed rate exp(-Omega(t^b)) after T as a bound, and how far from tight it is."""
    printed_exponent = PRINTED_EXPONENT[which]
    laws = _laws(ctx)
    level = Level(0.05, len(depths) * len(laws))
    evidence = Evidence()
    for depth in depths:
        derived_exponent = _derived_exponent(depth)
        for law in laws:
            t_max = _t_max(ctx, depth)
            times, measured = tail(law, depth, t_max)
            envelope = times**printed_exponent
            constant = float(measured[0] / envelope[0])
            case = f"{law.kind} d={law.dim}, N={depth}"
            check = bound(
                f"{case}: -ln(1 - cos theta) >= c t^{printed_exponent:g} on "
                f"[{times[0]:.3g}, {times[-1]:.3g}], c its value at the start",
                measured,
                envelope,
                constant=constant,
                upper=False,
                growth_of_ratio=float(measured[-1] / envelope[-1] / constant),
            )
            evidence.add(check)
            last = times >= t_max / 10
            slope = loglog_slope(times[last], measured[last], confidence=level.confidence)
            evidence.add(
                holds_if(
                    f"{case}: exponent of t on the last decade exceeds {printed_exponent:g} "
                    "(the bound is not tight)",
                    slope.low > printed_exponent,
                    f"> {printed_exponent:g} (derived: 2N/(N+2) = {derived_exponent:.4g})",
                    [slope.slope, slope.low, slope.high],
                    confidence=slope.confidence,
                    derived_exponent=derived_exponent,
                )
            )
            evidence.details[case] = {
                "tightest constant c*": check.inputs["tightest_constant"],
                "ratio at t_max / c*": check.inputs["growth_of_ratio"],
                "exponent on the last decade": [slope.slope, slope.low, slope.high],
                "derived exponent 2N/(N+2)": derived_exponent,
            }
    evidence.note = (
        f"Omega(t^{printed_exponent:g}) holds on every tested tail: -ln(1 - cos theta) / "
        f"t^{printed_exponent:g} only grows, so the printed rate is a valid lower bound on the "
        "speed but not tight; the measured exponent matches 2N/(N+2) (linear.derived.rate). "
        f"Slope intervals at {level.describe()}."
    )
    return evidence


@claim(
    "linear.rate.linear",
    provenance=printed(
        LIN_SUN_ZHANG_2021, "Theorem 1: 1 - cos(theta) = exp(-Omega(sqrt t)) after T"
    ),
    statement="For the linear predictor after T, -ln(1 - cos theta) >= c sqrt(t): it holds and "
    "is not tight, the exponent of t being 2/3 (linear.derived.rate).",
)
def rate_linear(ctx: ClaimContext) -> Evidence:
    return _omega_rate(ctx, (1,), "linear")


@claim(
    "linear.rate.deep",
    provenance=printed(LIN_SUN_ZHANG_2021, "Theorem 5: 1 - cos(theta) = exp(-Omega(t)) after T"),
    statement="For depth N > 2 after T, -ln(1 - cos theta) >= c t: it holds and is not tight, "
    "the exponent of t being 2N/(N+2) > 1 (linear.derived.rate).",
)
def rate_deep(ctx: ClaimContext) -> Evidence:
    return _omega_rate(ctx, ctx.pick(quick=(4,), full=(3, 4, 6)), "deep")


@claim(
    "linear.rate.theta",
    provenance=reading(
        LIN_SUN_ZHANG_2021,
        "Theorems 1 and 5: the rates exp(-Omega(sqrt t)) and exp(-Omega(t)) read as Theta",
    ),
    statement="After T, 1 - cos(theta) = exp(-Theta(sqrt t)) for the linear predictor and "
    "exp(-Theta(t)) for depth N > 2: the local exponent of t in -ln(1 - cos theta) tends to "
    "1/2 and 1.",
)
def rate_theta(ctx: ClaimContext) -> Evidence:
    depths = ctx.pick(quick=(1, 4), full=(1, 3, 4, 6))
    level = Level(0.05, len(depths) * len(_laws(ctx)))
    evidence = _exponent_convergence(
        ctx,
        depths,
        lambda depth: PRINTED_EXPONENT["linear" if depth == 1 else "deep"],
        "Theta reading",
        level,
    )
    evidence.note = (
        "The gap between the local exponent and the Theta reading's exponent does not shrink: "
        "the exponent tends to 2N/(N+2) (linear.derived.rate). A violation rejects the Theta "
        "reading, not Theorems 1 and 5, whose Omega rates hold (linear.rate.linear, "
        f"linear.rate.deep). Slope intervals at {level.describe()}."
    )
    return evidence


@claim(
    "linear.derived.rate",
    provenance=derived(
        LIN_SUN_ZHANG_2021,
        "Theorems 1 and 5: the rates exp(-Omega(sqrt t)) and exp(-Omega(t)), made exact",
        DERIVATION,
    ),
    statement="-ln(1 - cos theta) grows like t^(2N/(N+2)) for depth N (2/3 for the linear "
    "predictor, 4/3 for N = 4): the gap of the local exponent (quarter-decade windows) to "
    "2N/(N+2) shrinks over the last two decades.",
)
def rate_derived(ctx: ClaimContext) -> Evidence:
    depths = ctx.pick(quick=(1, 4), full=(1, 3, 4, 6))
    level = Level(0.05, len(depths) * len(_laws(ctx)))
    evidence = _exponent_convergence(ctx, depths, _derived_exponent, "derived", level)
    evidence.note = (
        "2N/(N+2) from the power-law balance of the reduced ODEs "
        f"(featcheck.theory.linear.asymptotic_exponents). Slope intervals at {level.describe()}."
    )
    return evidence


# Figure 1 ---------------------------------------------------------------------------------
@claim(
    "linear.figure1",
    provenance=printed(LIN_SUN_ZHANG_2021, "Figure 1"),
    statement="SGD (x ~ U(S^1), batch 1000, lr 1e-3, w(0) = (0.6, -0.8); depth 1 and balanced "
    "depth 4) tracks the population gradient flow within its confidence band.",
)
def figure1(ctx: ClaimContext) -> Evidence:
    from featcheck.numerics.linear.figures import figure1_data, plot_figure1

    data = figure1_data(
        steps=ctx.pick(quick=2_000, full=30_000),
        replicas=ctx.pick(quick=5, full=16),
        record_every=ctx.pick(quick=100, full=250),
        rng=ctx.rng(),
    )
    evidence = Evidence()
    checkpoints = 12
    level = Level(0.01, 2 * 2 * checkpoints)
    for depth, run in data["runs"].items():
        index = np.linspace(1, len(run["t"]) - 1, checkpoints).astype(int)
        replicas = run["cos_theta"].shape[1]
        for name in ("cos_theta", "rho"):
            values = run[name][index]
            flow = run[f"flow_{name}"][index]
            gap = np.abs(run[f"gd_{name}"][index] - flow)  # discretisation, computed exactly
            for k, i in enumerate(index):
                interval = mean_interval(values[k], level.confidence)
                evidence.add(
                    within(
                        f"N={depth} {name} at t={run['t'][i]:.3g}: SGD mean vs flow",
                        flow[k],
                        interval.estimate,
                        interval.half_width + gap[k],
                        replicas=replicas,
                        level=level.describe(),
                        discretisation_gap=gap[k],
                    )
                )
    path = ctx.figure_path("figure1")
    if path is not None:
        plot_figure1(data, path)
        evidence.figures.append(path)
    evidence.details = {"T": {str(k): v["T"] for k, v in data["runs"].items()}}
    return evidence
