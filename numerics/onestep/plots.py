"""Figure helpers of the one-step claims: means with their intervals, checked intervals.

Every bar is the Student-t interval of :func:`featcheck.numerics.claims.rules.mean_interval`
at the per-interval confidence of the claim's :class:`~featcheck.numerics.claims.rules.Level`,
so a figure shows the intervals its checks use; an interval that misses its prediction is
drawn in red.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from featcheck.numerics.claims.figures import new_figure
from featcheck.numerics.claims.rules import Level, mean_interval

FAIL = "tab:red"


def panels(rows: int, columns: int, width: float, height: float):
    """A figure with a ``rows x columns`` grid of axes (a flat array when one row)."""
    fig, _ = new_figure(width, height)
    fig.clear()
    axes = fig.subplots(rows, columns, squeeze=False)
    return fig, axes[0] if rows == 1 else axes


def _mean_half(sample, level: Level) -> tuple[float, float]:
    interval = mean_interval(sample, level.confidence)
    return interval.estimate, interval.half_width


def mean_bars(ax, xs: Sequence, samples: Sequence, level: Level, **style) -> None:
    """Means of ``samples`` (one array of replicas per x) with their interval as bars."""
    means, halves = zip(*(_mean_half(s, level) for s in samples), strict=True)
    style.setdefault("capsize", 3)
    ax.errorbar(list(xs), list(means), yerr=list(halves), **style)


def checked_intervals(
    ax,
    xs: Sequence,
    samples: Sequence,
    predicted: float | Sequence[float],
    level: Level,
    *,
    label: str = "measured (interval)",
    color: str = "tab:blue",
    show_prediction: bool = True,
) -> None:
    """Each sample's mean and interval against its prediction (a line, or one marker per x).

    An interval that does not contain its prediction (a failing check) is red.
    """
    xs = list(xs)
    targets = (
        [float(predicted)] * len(xs) if np.ndim(predicted) == 0 else [float(p) for p in predicted]  # type: ignore[union-attr]
    )
    for i, (x, s, p) in enumerate(zip(xs, samples, targets, strict=True)):
        mean, half = _mean_half(s, level)
        colour = FAIL if not mean - half <= p <= mean + half else color
        ax.errorbar(
            [x],
            [mean],
            yerr=[half],
            fmt="o",
            capsize=3,
            color=colour,
            label=label if i == 0 else None,
        )
    if not show_prediction:
        return
    if np.ndim(predicted) == 0:
        ax.axhline(float(predicted), color="black", lw=0.8, ls="--", label="prediction")
    else:
        ax.plot(xs, targets, "kx", ms=8, label="prediction")
