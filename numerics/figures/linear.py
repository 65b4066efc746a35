"""Figure 1 of Lin, Sun, Zhang (2021): SGD, population flow and the printed bounds."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import sympy as sp

from featcheck.numerics.bounds import _initial_values
from featcheck.numerics.simulate.linear import (
    DataLaw,
    Flow,
    balanced_layers,
    gradient_descent,
    integrate_flow,
    layer_gradient_descent,
    sgd,
)
from featcheck.theory import linear as th

PAPER_INIT = (0.6, -0.8)
#: bound ids drawn for each depth, and the steps where the paper restarts them
FIGURE_BOUNDS = {
    1: (("theorem1.before-T", "theorem1.after-T"), (0, 5000)),
    4: (("theorem5.before-T", "theorem5.after-T"), (0, 18000)),
}
_ARGS = (th.t, th.rho0, th.theta0, th.rhoT, th.thetaT, th.T, th.c0, th.N)


def bound_curve(flow: Flow, bound_ids, derived: bool, t_offset: float, points: int = 200):
    """The lower bound on ``cos(theta)`` of ``flow`` (started at ``t_offset``), piecewise in
    its before-T / after-T windows; returns absolute times and values."""
    bounds = th.printed_bounds()
    times_all, values_all = [], []
    for bound_id in bound_ids:
        bound = bounds[bound_id]
        expr = bound.rhs_derived() if derived else bound.rhs_printed()
        function = sp.lambdify(_ARGS, expr, modules="numpy")
        if bound.window == "before-T":
            times = np.linspace(0, min(flow.T, flow.t_max), points)
        else:
            if not math.isfinite(flow.T):
                continue
            times = np.linspace(flow.T, flow.t_max, points)
        with np.errstate(all="ignore"):
            values = np.asarray(function(times, *_initial_values(flow)), dtype=float)
        # a NaN between the windows keeps the plot from joining them
        times_all.append(np.append(times + t_offset, np.nan))
        values_all.append(np.append(values * np.ones_like(times), np.nan))
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
            "T": flow.T,
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


def plot_figure1(data: dict, path: Path) -> Path:
    """Angle (degrees), loss and norm against t = lr * steps; rows: depth 1 and depth 4."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
    for row, (depth, run) in enumerate(sorted(data["runs"].items())):
        t = run["t"]
        panels = (
            (
                "angle (degrees)",
                np.degrees(np.arccos(np.clip(run["cos_theta"], -1, 1))),
                np.degrees(np.arccos(np.clip(run["flow_cos_theta"], -1, 1))),
            ),
            ("population loss", run["loss"], run["flow_loss"]),
            ("||w_e||", run["rho"], run["flow_rho"]),
        )
        for col, (label, sgd_values, flow_values) in enumerate(panels):
            ax = axes[row, col]
            mean = sgd_values.mean(axis=1)
            low, high = np.quantile(sgd_values, [0.05, 0.95], axis=1)
            ax.fill_between(t, low, high, alpha=0.3, label="SGD 5-95%")
            ax.plot(t, mean, label="SGD mean")
            ax.plot(t, flow_values, "k--", label="population flow")
            if col == 0:
                for b in run["bounds"]:
                    angle = np.degrees(np.arccos(np.clip(b["cos_theta"], -1, 1)))
                    style = ":" if b["derived"] else "-"
                    kind = "derived" if b["derived"] else "printed"
                    ax.plot(
                        b["t"], angle, style, lw=1, label=f"bound ({kind}) from step {b['step']}"
                    )
                ax.set_ylim(0, 180)
            ax.set_xlabel("t = lr * steps")
            ax.set_title(f"N = {depth}: {label}")
            if math.isfinite(run["T"]):
                ax.axvline(run["T"], color="grey", lw=0.5)
        axes[row, 0].legend(fontsize=7)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
