"""Confidence intervals shared by the one-step claims (models A and B).

Every statistical check of the one-step claims uses Student-t confidence intervals over
independent replicas, at level ``1 - FAMILY_LEVEL / (number of intervals in the claim)``
(Bonferroni): :func:`interval` for a mean, :func:`trend` (Welch) for the change of a mean
between two sizes, :func:`bonferroni` for the level.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from featcheck.numerics.claims.base import Check, holds_if

#: Family-wise error rate of the intervals of one claim.
FAMILY_LEVEL = 0.05


def interval(values, level: float) -> tuple[float, float]:
    """Mean and Student-t half-width at confidence ``level`` (two-sided)."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return float(values.mean()), math.inf
    half = stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1)
    return float(values.mean()), float(half / math.sqrt(values.size))


def trend(
    label: str, first, last, level: float, *, decreasing: bool = False, **inputs
) -> tuple[Check, bool]:
    """Welch interval on ``mean(last) - mean(first)``: a check and an ``undecided`` flag.

    The check fails when the change has the wrong sign beyond the interval; a change
    of the right sign that stays inside the interval passes but is undecided.
    """
    first, last = np.asarray(first, float), np.asarray(last, float)
    change = float(last.mean() - first.mean())
    if decreasing:
        change = -change
    var = first.var(ddof=1) / first.size + last.var(ddof=1) / last.size
    dof = (
        var**2
        / (
            (first.var(ddof=1) / first.size) ** 2 / (first.size - 1)
            + (last.var(ddof=1) / last.size) ** 2 / (last.size - 1)
        )
        if var > 0
        else 1.0
    )
    half = float(stats.t.ppf(0.5 + level / 2, dof) * math.sqrt(var))
    check = holds_if(
        label,
        change > -half,
        "decreasing" if decreasing else "increasing",
        [float(first.mean()), float(last.mean())],
        change=change,
        half_width=half,
        level=level,
        **inputs,
    )
    return check, not change > half


def bonferroni(count: int) -> float:
    """The per-interval level that keeps the family-wise error at :data:`FAMILY_LEVEL`."""
    return 1 - FAMILY_LEVEL / max(count, 1)
