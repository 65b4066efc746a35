"""Estimators: hitting times, the needed sample count ``n*(d)``, exponent fits, two-sample tests.

``n*(d)``: the smallest number of steps (= fresh samples for online SGD) with
success probability at least 1/2, that is the lower median of the hitting
times, minimised over the step sizes that were tried.  A censored run (no hit
within its budget) counts as ``+inf``; when more than half of the runs of every
step size are censored, ``n*(d)`` is censored and reported as such (``None``),
never extrapolated.

The exponent is the least-squares slope of ``log n*`` (divided by ``log d``
when the prediction carries a ``log d`` factor) against ``log d``, with a
percentile bootstrap interval (``scipy.stats.bootstrap``) that resamples the
replicates of every ``(d, eta)`` cell independently.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from featcheck.theory.errors import DomainError


class CensoredError(DomainError):
    """Every step size left more than half of the runs below the threshold."""


def as_times(hits) -> np.ndarray:
    """Hitting steps as floats, censored runs (``-1``) as ``inf``."""
    hits = np.asarray(hits, dtype=np.float64)
    return np.where(hits < 0, np.inf, hits)


def lower_median(times: np.ndarray, axis: int = -1) -> np.ndarray:
    """The ``ceil(R/2)``-th smallest time: the smallest ``n`` with empirical success >= 1/2."""
    times = np.sort(times, axis=axis)
    return np.take(times, (times.shape[axis] - 1) // 2, axis=axis)


def n_star(cells: Sequence[np.ndarray]) -> tuple[float, int]:
    """``min_eta lower_median`` over the step sizes of one ``d``, and the index of the best."""
    medians = [float(lower_median(as_times(h))) for h in cells]
    best = int(np.argmin(medians))
    return medians[best], best


@dataclass
class Point:
    """The measurement at one dimension."""

    d: int
    n_star: float | None
    eta: float | None
    replicates: int
    censored: int
    etas: list[float] = field(default_factory=list)
    medians: list[float | None] = field(default_factory=list)
    at_edge: bool = False

    def to_json(self) -> dict:
        return {
            "d": self.d,
            "n_star": self.n_star,
            "eta": self.eta,
            "replicates": self.replicates,
            "censored": self.censored,
            "etas": self.etas,
            "medians": self.medians,
            "eta_at_edge_of_grid": self.at_edge,
        }


def point(d: int, etas: Sequence[float], cells: Sequence[np.ndarray], tried_all: bool) -> Point:
    """Summarise the runs at one ``d`` (``cells[k]``: the hitting steps at ``etas[k]``).

    ``tried_all``: the scan over step sizes reached the bottom of its window.
    """
    value, best = n_star(cells)
    medians = [float(lower_median(as_times(h))) for h in cells]
    finite = math.isfinite(value)
    order = np.argsort(etas)
    # the best step size is the largest tried (a larger one might do better), or the
    # smallest one when the scan ran to the bottom of its window without turning back
    edge = finite and (best == int(order[-1]) or (best == int(order[0]) and tried_all))
    return Point(
        d=int(d),
        n_star=value if finite else None,
        eta=float(etas[best]) if finite else None,
        replicates=len(cells[best]),
        censored=int(np.sum(np.asarray(cells[best]) < 0)),
        etas=[float(e) for e in etas],
        medians=[m if math.isfinite(m) else None for m in medians],
        at_edge=bool(edge),
    )


def _percentile_interval(
    samples, statistic, confidence: float, n_resamples: int, rng
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over resampled replicates (scipy)."""
    result = stats.bootstrap(
        samples,
        statistic,
        vectorized=False,
        paired=False,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="percentile",
        random_state=rng if rng is not None else np.random.default_rng(0),
    )
    return result.confidence_interval


def loglog_slope(ds: np.ndarray, n: np.ndarray, log_factor: bool = False) -> tuple[float, float]:
    """Least-squares ``log(n / L(d)) = e log d + b`` with ``L = log d`` or 1; returns ``(e, b)``."""
    x = np.log(np.asarray(ds, dtype=np.float64))
    y = np.log(np.asarray(n, dtype=np.float64))
    if log_factor:
        y = y - np.log(x)
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


@dataclass
class ExponentFit:
    exponent: float
    intercept: float
    interval: tuple[float, float]
    confidence: float
    log_factor: bool
    points: list[Point]
    bootstrap_resamples: int

    def to_json(self) -> dict:
        return {
            "measured_exponent": self.exponent,
            "intercept": self.intercept,
            "interval": list(self.interval),
            "confidence": self.confidence,
            "log_factor_divided_out": self.log_factor,
            "bootstrap_resamples": self.bootstrap_resamples,
            "points": [p.to_json() for p in self.points],
        }


def fit_exponent(
    ds: Sequence[int],
    cells: Sequence[Sequence[np.ndarray]],
    etas: Sequence[Sequence[float]],
    *,
    log_factor: bool = False,
    confidence: float = 0.95,
    n_resamples: int = 999,
    rng: np.random.Generator | None = None,
    tried_all: Sequence[bool] | None = None,
) -> ExponentFit:
    """Fit ``e`` in ``n*(d) ~ d^e`` (``cells[i][k]``: hitting steps at ``ds[i]``, ``etas[i][k]``).

    Raises :class:`CensoredError` when ``n*(d)`` is censored at some ``d`` (the
    fit would need an invented number) and :class:`DomainError` with fewer than
    two dimensions.
    """
    if len(ds) < 2:
        raise DomainError(f"an exponent fit needs at least two dimensions, got {len(ds)}")
    tried_all = tried_all or [True] * len(ds)
    points = [point(d, e, c, t) for d, e, c, t in zip(ds, etas, cells, tried_all, strict=True)]
    censored = [p.d for p in points if p.n_star is None]
    if censored:
        raise CensoredError(
            "no step size reached the threshold in at least half of the runs at d = "
            + ", ".join(map(str, censored))
            + ": raise the step budget (those runs are censored, not extrapolated)"
        )
    x = np.array(ds, dtype=np.float64)
    slope, intercept = loglog_slope(x, np.array([p.n_star for p in points]), log_factor)
    flat = [as_times(h) for group in cells for h in group]
    sizes = [len(group) for group in cells]

    def statistic(*samples):
        stars, i = [], 0
        for size in sizes:
            stars.append(min(float(lower_median(np.asarray(s))) for s in samples[i : i + size]))
            i += size
        if not all(math.isfinite(v) for v in stars):
            return np.inf
        return loglog_slope(x, np.array(stars), log_factor)[0]

    low, high = _percentile_interval(flat, statistic, confidence, n_resamples, rng)
    return ExponentFit(
        slope, intercept, (float(low), float(high)), confidence, log_factor, points, n_resamples
    )


@dataclass
class TwoSample:
    ks_statistic: float
    ks_pvalue: float
    ad_statistic: float
    ad_pvalue: float  # scipy caps it to [0.001, 0.25]

    def to_json(self) -> dict:
        return self.__dict__.copy()


def two_sample(a: np.ndarray, b: np.ndarray) -> TwoSample:
    """Kolmogorov-Smirnov and k-sample Anderson-Darling tests of equal laws.

    Censored hitting times should be passed as one common large value (they are
    ties at the budget, which both tests handle).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size < 2 or b.size < 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise DomainError("two-sample tests need at least two finite values on each side")
    ks = stats.ks_2samp(a, b)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the p-value cap is reported, not warned about
        ad = stats.anderson_ksamp([a, b])
    return TwoSample(float(ks.statistic), float(ks.pvalue), float(ad.statistic), float(ad.pvalue))


def fit_ratio_exponent(
    ds: Sequence[int],
    numerator: Sequence[Sequence[np.ndarray]],
    denominator: Sequence[Sequence[np.ndarray]],
    *,
    confidence: float = 0.95,
    n_resamples: int = 999,
    rng: np.random.Generator | None = None,
) -> tuple[float, tuple[float, float], list[float]]:
    """Slope of ``log(n*_num(d) / n*_den(d))`` against ``log d`` with a bootstrap interval.

    Returns ``(slope, interval, ratios)``; :class:`CensoredError` when a ``n*`` is censored.
    """
    x = np.log(np.asarray(ds, dtype=np.float64))
    groups = [*numerator, *denominator]
    sizes = [len(g) for g in groups]
    flat = [as_times(h) for g in groups for h in g]
    half = len(numerator)

    def stars(samples) -> list[float]:
        out, i = [], 0
        for size in sizes:
            out.append(min(float(lower_median(np.asarray(s))) for s in samples[i : i + size]))
            i += size
        return out

    values = stars(flat)
    if not all(math.isfinite(v) for v in values):
        raise CensoredError("a needed sample count is censored: raise the step budget")
    ratios = [values[i] / values[half + i] for i in range(half)]

    def statistic(*samples):
        v = stars(samples)
        if not all(math.isfinite(t) for t in v):
            return np.inf
        return float(np.polyfit(x, np.log([v[i] / v[half + i] for i in range(half)]), 1)[0])

    slope = float(np.polyfit(x, np.log(ratios), 1)[0])
    low, high = _percentile_interval(flat, statistic, confidence, n_resamples, rng)
    return slope, (float(low), float(high)), ratios
