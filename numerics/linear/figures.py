"""Figures of the linear-network claims: Figure 1 of Lin, Sun, Zhang (2021) (SGD, population
flow and the printed bounds), the worst case of a bound check and the local rate exponents."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy.stats import t as student

from featcheck.numerics.claims.figures import save
from featcheck.numerics.linear.bounds import (
    CheckResult,
    FlowBound,
    printed_bound_values,
)
from featcheck.numerics.linear.simulate import (
    DataLaw,
    Flow,
    balanced_layers,
    gradient_descent,
    integrate_flow,
    layer_gradient_descent,
    sgd,
)
from featcheck.numerics.names import PAPER_INIT
from featcheck.theory.linear import printed_bounds

#: bound ids drawn for each depth, and the steps where the paper restarts them
FIGURE_BOUNDS = {
    1: (("theorem1.before-T", "theorem1.after-T"), (0, 5000)),
    4: (("theorem5.before-T", "theorem5.after-T"), (0, 18000)),
}


def bound_curve(flow: Flow, bound_ids, derived: bool, t_offset: float, points: int = 200):
    """The lower bound on ``cos(theta)`` of ``flow`` (started at ``t_offset``), piecewise in
    its before-T / after-T windows; returns absolute times and values."""
    bounds = printed_bounds()
    times_all, values_all = [], []
    for bound_id in bound_ids:
        bound = bounds[bound_id]
        if bound.window == "before-T":
            times = np.linspace(0, min(flow.T, flow.t_max), points)
        else:
            if not math.isfinite(flow.T):
                continue
            times = np.linspace(flow.T, flow.t_max, points)
        values = printed_bound_values(bound, flow, times, derived=derived)
        # a NaN between the windows keeps the plot from joining them
        times_all.append(np.append(times + t_offset, np.nan))
        values_all.append(np.append(values, np.nan))
    if not times_all:
        return np.array([]), np.array([])
    return np.concatenate(times_all), np.concatenate(values_all)


def figure1_data(
    *,
    steps: int,
    replicas: int,
    record_every: int,
    rng: np.random.Generator,
    init=PAPER_INIT,
    lr: float = 1e-3,
    batch: int = 1000,
    width: int = 3,
) -> dict:
    """SGD replicas, population gradient descent and the flow for depth 1 and 4."""
    law = DataLaw("sphere", 2)
    runs = {}
    t_end = lr * steps
    for depth in (1, 4):
        layers = balanced_layers(np.asarray(init, float), depth, width, rng) if depth > 1 else None
        run = sgd(
            law,
            init,
            depth=depth,
            lr=lr,
            batch=batch,
            steps=steps,
            replicas=replicas,
            width=width,
            record_every=record_every,
            rng=rng,
            initial_layers=layers,
        )
        if depth == 1:
            path = gradient_descent(law, np.asarray(init, float)[None, :], np.full(steps, lr))
            gd_w = path.w[::record_every, 0, :]
        else:
            _, gd_w = layer_gradient_descent(law, layers, lr, steps, record_every)
        flow = integrate_flow(law, depth, init, t_max=t_end)
        series = flow.series(run.t)
        rho = run.rho
        cos = run.cos_theta
        entry = {
            "t": run.t,
            "cos_theta": cos,
            "rho": rho,
            "loss": law.loss(rho, 1 - cos),
            "flow_cos_theta": series["cos_theta"],
            "flow_rho": series["rho"],
            "flow_loss": series["loss"],
            "gd_cos_theta": gd_w[:, 1] / np.linalg.norm(gd_w, axis=1),
            "gd_rho": np.linalg.norm(gd_w, axis=1),
            # None: the norm never turns (T infinite)
            "T": flow.T if math.isfinite(flow.T) else None,
            "bounds": [],
        }
        ids, restart_steps = FIGURE_BOUNDS[depth]
        for step in restart_steps:
            t0 = lr * step
            if t0 >= t_end:
                continue
            rho0, zeta0 = flow.state(t0)
            restarted = integrate_flow(
                law, depth, rho0=float(rho0), zeta0=float(zeta0), t_max=t_end - t0
            )
            for derived in (False, True):
                times, values = bound_curve(restarted, ids, derived, t0)
                entry["bounds"].append(
                    {"step": step, "derived": derived, "t": times, "cos_theta": values}
                )
        runs[depth] = entry
    return {"runs": runs, "lr": lr, "batch": batch, "replicas": replicas, "init": init}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _angle(cos_theta: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(cos_theta, -1, 1)))


def plot_figure1(data: dict, path: Path, level: float = 0.99) -> Path:
    """Angle (degrees), loss and norm against t = lr * steps; rows: depth 1 and depth 4.

    Each panel shows the SGD mean over replicas with its two-sided ``level`` Student-t
    confidence band, the 5-95% spread of the replicas and the population flow; the angle
    panels also show the printed and the derived bounds, restarted at the paper's steps.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5), constrained_layout=True)
    replicas = data["replicas"]
    q = student.ppf(0.5 + level / 2, replicas - 1) if replicas > 1 else math.nan
    for row, (depth, run) in enumerate(sorted(data["runs"].items())):
        t = run["t"]
        panels = (
            ("angle to v (degrees)", _angle(run["cos_theta"]), _angle(run["flow_cos_theta"])),
            ("population loss", run["loss"], run["flow_loss"]),
            ("norm ||w_e||", run["rho"], run["flow_rho"]),
        )
        for col, (label, sgd_values, flow_values) in enumerate(panels):
            ax = axes[row, col]
            mean = sgd_values.mean(axis=1)
            low, high = np.quantile(sgd_values, [0.05, 0.95], axis=1)
            ax.fill_between(t, low, high, color="C0", alpha=0.15, lw=0, label="SGD replicas 5-95%")
            if replicas > 1:
                half = q * sgd_values.std(axis=1, ddof=1) / math.sqrt(replicas)
                ax.fill_between(
                    t,
                    mean - half,
                    mean + half,
                    color="C0",
                    alpha=0.45,
                    lw=0,
                    label=f"{level:.0%} band of the SGD mean",
                )
            ax.plot(t, mean, color="C0", lw=1, label="SGD mean")
            ax.plot(t, flow_values, "k--", lw=1, label="population flow")
            if col == 0:
                steps = sorted({b["step"] for b in run["bounds"]})
                for b in run["bounds"]:
                    kind = "derived" if b["derived"] else "printed"
                    ax.plot(
                        b["t"],
                        _angle(b["cos_theta"]),
                        color="C2" if b["derived"] else "C3",
                        ls=((":" if b["derived"] else "-"), "-.", "--")[steps.index(b["step"]) % 3],
                        lw=1.2,
                        label=f"bound ({kind}) from step {b['step']}",
                    )
                ax.set_ylim(0, 180)
            ax.set_xlabel("t = lr * steps")
            ax.set_ylabel(label)
            ax.set_title(f"depth N = {depth}: {label}")
            if run["T"] is not None:
                ax.axvline(run["T"], color="grey", lw=0.5, label="T (norm turns)")
        axes[row, 0].legend(fontsize=7)
    init = tuple(float(v) for v in data["init"])
    fig.suptitle(
        f"Figure 1 of Lin, Sun, Zhang (2021): x ~ U(S^1), w(0) = {init}, SGD with batch "
        f"{data['batch']}, lr {data['lr']:g}, {replicas} replicas; an angle bound below the "
        "flow is violated"
    )
    return save(fig, path)


def plot_bound_check(
    bound: FlowBound, result: CheckResult, t_max: float, path: Path, *, title: str
) -> Path | None:
    """The worst start of a bound check: the flow's quantity against the bound (with the
    tightest factor on the key constant, if one was found), and the margin with its
    numerical tolerance.  ``None`` when no start had a time in the bound's window."""
    start = result.worst.start
    if start is None:
        return None
    flow = integrate_flow(start.law, start.depth, rho0=start.rho0, zeta0=start.zeta0, t_max=t_max)
    times, margin = bound.margin(flow, 1.0, 600)
    norm = bound.printed is not None and bound.printed.quantity == "norm"
    sign = -1.0 if bound.printed is not None and bound.printed.relation == "<=" else 1.0
    rho, zeta = flow.state(times)
    value = np.log(rho) if norm else zeta
    quantity = "ln ||w_e||" if norm else "zeta = -2 ln tan(theta/2)"
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    left.plot(times, value, "k", lw=1.2, label=f"flow: {quantity}")
    left.plot(times, value - sign * margin, "C3", lw=1, label="bound, key constant as given")
    if result.tightest_scale is not None:
        _, tight = bound.margin(flow, result.tightest_scale, 600)
        left.plot(
            times,
            value - sign * tight,
            "C2:",
            lw=1.2,
            label=f"bound, {bound.key_constant} x {result.tightest_scale:.4g} (tightest)",
        )
    left.set_xlabel("t")
    left.set_ylabel(quantity)
    left.set_title("flow and bound at the worst start")
    left.legend(fontsize=8)
    tolerance = result.worst.tolerance
    right.plot(times, margin, "C3", lw=1, label="margin")
    right.axhline(0.0, color="grey", lw=0.5)
    right.fill_between(
        times, -tolerance, tolerance, color="grey", alpha=0.3, label="numerical tolerance"
    )
    if math.isfinite(result.worst.time):
        right.plot(
            [result.worst.time],
            [result.worst.margin],
            "o",
            color="C3" if not result.holds else "C2",
            label=f"smallest margin {result.worst.margin + 0.0:.3g}",
        )
    right.set_xlabel("t")
    right.set_ylabel(f"margin in {'ln ||w_e||' if norm else 'zeta'} (>= 0: bound holds)")
    right.set_title(f"margin over the window '{bound.window}'")
    right.legend(fontsize=8)
    fig.suptitle(
        f"{title}: {result.status} over {result.evaluated} starts; worst start "
        f"{start.law.kind} d={start.law.dim}, N={start.depth}, rho0={start.rho0:.3g}, "
        f"theta0={start.theta0:.3g}"
    )
    return save(fig, path)


def plot_rate_exponents(curves: list[dict], path: Path, *, title: str) -> Path:
    """Local exponents ``beta`` of ``-ln(1 - cos theta) ~ t^beta`` against the end of each
    decade, for each (law, depth), with the predicted exponent and the check's tolerance."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5), constrained_layout=True)
    for k, curve in enumerate(curves):
        color = f"C{k % 10}"
        ends = curve["times"][1:]
        ax.semilogx(ends, curve["betas"], "o-", color=color, lw=1, label=curve["label"])
        low, high = curve["predicted"] - curve["tolerance"], curve["predicted"] + curve["tolerance"]
        ax.axhline(curve["predicted"], color=color, ls="--", lw=0.8)
        ax.errorbar(
            [ends[-1]],
            [curve["predicted"]],
            yerr=[[curve["predicted"] - low], [high - curve["predicted"]]],
            color=color,
            capsize=4,
            lw=0,
            elinewidth=1.5,
        )
    ax.set_xlabel("end of the decade [t/10, t]")
    ax.set_ylabel("local exponent beta")
    ax.set_title(f"{title}: dashed = predicted, bar = tolerance at the last decade")
    ax.legend(fontsize=8)
    return save(fig, path)
