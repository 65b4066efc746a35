"""Figures of the exponents family (matplotlib, Agg backend): measurements beside predictions.

Every figure has a title and labelled axes; measured points carry their bootstrap
(or order-statistic) intervals as error bars, and predicted power laws are drawn
as dashed lines through the geometric mean of the measured points (a power law
fixes the slope, not the constant).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    from featcheck.numerics.claims.figures import save

    return save(fig, Path(path))


def _yerr(values: np.ndarray, intervals: Sequence) -> np.ndarray | None:
    """Asymmetric error bars from ``[low, high]`` intervals (zero where an interval is missing)."""
    if all(i is None for i in intervals):
        return None
    pairs = list(zip(values, intervals, strict=True))
    low = np.array([v - i[0] if i is not None else 0.0 for v, i in pairs])
    high = np.array([i[1] - v if i is not None else 0.0 for v, i in pairs])
    return np.vstack([np.maximum(low, 0.0), np.maximum(high, 0.0)])


def _through(x: np.ndarray, y: np.ndarray, slope: float, factor: np.ndarray | None = None):
    """``A factor x^slope`` with ``A`` chosen so that the line passes through the geometric mean."""
    factor = np.ones_like(x) if factor is None else factor
    anchor = np.exp(np.mean(np.log(y / (factor * x**slope))))
    return anchor * factor * x**slope


def plot_curves(fitted: list[dict], path: Path, title: str | None = None) -> Path:
    """Log-log plot of ``n*(d)`` per curve (from :func:`~.sample_complexity.curves`).

    Points: the measured ``n*`` with its bootstrap interval; solid line: the fitted power
    law (its exponent interval in the legend); dashed line: the predicted exponent (named by a
    curve's optional ``prediction_name``); dotted lines: the exponents in its optional
    ``other_predictions`` (name -> exponent).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    for c in fitted:
        pts = [p for p in c["points"] if p["n_star"] is not None]
        if not pts:
            continue
        ds = np.array([p["d"] for p in pts], dtype=float)
        ns = np.array([p["n_star"] for p in pts], dtype=float)
        label = f"s = {c['s']}" + (f", r2 = {c['r2']}" if c["r2"] else "")
        bars = ax.errorbar(
            ds,
            ns,
            yerr=_yerr(ns, [p.get("n_star_interval") for p in pts]),
            fmt="o",
            capsize=3,
            label=f"{label}: n*(d)",
        )
        color = bars[0].get_color()
        log_d = c["log_factor"] == "log(d)"
        factor = np.log(ds) if log_d else None
        suffix = " log d" if log_d else ""
        if c.get("measured_exponent") is not None:
            e, (low, high) = c["measured_exponent"], c["interval"]
            fit = np.exp(c["intercept"]) * (np.log(ds) if log_d else 1.0) * ds**e
            ax.loglog(
                ds,
                fit,
                "-",
                color=color,
                alpha=0.6,
                label=f"{label}: fit d^{e:.3g}{suffix}, {100 * c['confidence']:.3g}% "
                f"[{low:.3g}, {high:.3g}]",
            )
        e = c["predicted_exponent"]
        ax.loglog(
            ds,
            _through(ds, ns, e, factor),
            "--",
            color=color,
            label=f"{label}: {c.get('prediction_name', 'predicted')} d^{e:.3g}{suffix}",
        )
        for name, other in c.get("other_predictions", {}).items():
            ax.loglog(
                ds,
                _through(ds, ns, other, factor),
                ":",
                color=color,
                label=f"{label}: {name} d^{other:.3g}{suffix}",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("n*(d): lower-median hitting step (= samples)")
    ax.set_title(title or "Needed samples n*(d), measured and predicted")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return _save(fig, path)


def plot_rho0(cases: list[dict], path: Path) -> Path:
    """Median ``|rho0|`` against ``d`` per ``(r1, r2)`` case, and ``1 - median |rho0|`` for r2 > 1.

    Each case: ``r1, r2, regime, ds, medians, intervals`` (median intervals), ``predicted``
    (the exponent), ``measured`` and ``interval`` (slope and its interval, if fitted).
    """
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    for case in cases:
        ds = np.asarray(case["ds"], dtype=float)
        medians = np.asarray(case["medians"], dtype=float)
        label = f"r1 = {case['r1']}, r2 = {case['r2']} {case['regime'].split(':')[0]}"
        if case["r2"] > 1:
            gaps = 1 - medians
            intervals = [None if i is None else (1 - i[1], 1 - i[0]) for i in case["intervals"]]
            right.errorbar(ds, gaps, yerr=_yerr(gaps, intervals), fmt="o-", capsize=3, label=label)
            continue
        bars = left.errorbar(
            ds,
            medians,
            yerr=_yerr(medians, case["intervals"]),
            fmt="o",
            capsize=3,
            label=f"{label}: slope {case['measured']:.4g} "
            f"[{case['interval'][0]:.4g}, {case['interval'][1]:.4g}]",
        )
        left.plot(
            ds,
            _through(ds, medians, case["predicted"]),
            "--",
            color=bars[0].get_color(),
            label=f"predicted d^{case['predicted']:.4g}",
        )
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("dimension d")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    left.set_ylabel("median |rho0| over the draws")
    left.set_title("Initial whitened overlap, regimes (i)-(iii)")
    right.set_ylabel("1 - median |rho0|")
    right.set_title("Regime (iv): rho0 -> 1")
    return _save(fig, path)


def plot_ratio(
    ax,
    ds: Sequence[int],
    ratios: Sequence[float],
    intervals: Sequence,
    slope: float,
    slope_interval: tuple[float, float],
    predictions: dict[str, float],
    title: str,
    ylabel: str,
    factor: np.ndarray | None = None,
) -> None:
    """One panel: measured values with error bars, fitted slope, predicted slopes (dashed)."""
    x = np.asarray(ds, dtype=float)
    y = np.asarray(ratios, dtype=float)
    ax.errorbar(x, y, yerr=_yerr(y, intervals), fmt="o", color="k", capsize=3, label="measured")
    ax.plot(
        x,
        _through(x, y, slope, factor),
        "-",
        color="k",
        alpha=0.5,
        label=f"fit d^{slope:.3g} [{slope_interval[0]:.3g}, {slope_interval[1]:.3g}]",
    )
    styles = ("--", "-.", ":", (0, (5, 1)))
    for (name, g), style in zip(predictions.items(), styles[: len(predictions)], strict=True):
        ax.plot(x, _through(x, y, g, factor), linestyle=style, label=f"{name}: d^{g:.3g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("dimension d")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)


def new_panels(count: int, title: str):
    """A row of ``count`` panels under one title."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, count, figsize=(5.2 * count, 4.4), layout="constrained")
    fig.suptitle(title)
    return fig, np.atleast_1d(axes)


def save(fig, path: Path) -> Path:
    """Save and close a figure made with :func:`new_panels`."""
    return _save(fig, path)


def plot_two_sample(rows: list[dict], alpha: float, path: Path) -> Path:
    """Kolmogorov-Smirnov p-values of every test of the reduced-versus-full comparison.

    ``rows``: one per case with ``tests`` (name -> :class:`~featcheck.numerics.estimate.TwoSample`)
    and a ``label``; a test rejects when its p-value is below ``alpha`` (the line).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.4), layout="constrained")
    position = 0
    ticks, names = [], []
    for row in rows:
        values = [test.ks_pvalue for test in row["tests"].values()]
        xs = np.arange(position, position + len(values))
        ax.plot(xs, values, "o", label=row["label"])
        ticks += list(xs)
        names += list(row["tests"])
        position += len(values) + 1
    ax.axhline(alpha, color="r", linestyle="--", label=f"rejection level {alpha:.2g}")
    ax.set_yscale("log")
    ax.set_xticks(ticks, names, rotation=60, ha="right", fontsize=7)
    ax.set_xlabel("test (hitting time, overlap at a fixed step)")
    ax.set_ylabel("Kolmogorov-Smirnov p-value")
    ax.set_title("Reduced simulator against full-dimensional simulations")
    ax.legend(fontsize=6)
    return _save(fig, path)


def plot_escape(ds, samples, limit: float, c: float, path: Path) -> Path:
    """Mean ``n/d^2`` at the fixed step ``eta = c d^(-3/2)`` (two standard errors) against
    the derived limit ``C(c)``."""
    fig, axes = new_panels(1, f"Isotropic online SGD, s = 3, eta = {c:g} d^(-3/2)")
    ax = axes[0]
    means = np.array([np.mean(x) for x in samples])
    errors = np.array([2 * np.std(x, ddof=1) / np.sqrt(len(x)) for x in samples])
    ax.errorbar(ds, means, yerr=errors, fmt="o", color="k", capsize=3,
                label="measured mean n/d^2 (threshold correction removed)")  # fmt: skip
    ax.axhline(limit, color="C1", linestyle="--", label=f"derived limit C(c) = {limit:.4g}")
    ax.set_xscale("log")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("mean hitting step / d^2")
    ax.set_title("n/d^2 against its d -> infinity limit", fontsize=10)
    ax.legend(fontsize=7)
    return save(fig, path)
