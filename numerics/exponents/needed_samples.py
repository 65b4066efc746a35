"""The needed sample count ``n*(d)`` from hitting times, and the fit of its exponent.

A *hitting time* is the first online-SGD step (= fresh sample) at which the overlap
reaches the success threshold; a run that does not reach it within its budget is
*censored* (stored as ``-1``, read as ``+inf``).

``n*(d)``: the smallest number of steps with success probability at least 1/2, that
is the lower median of the hitting times (the ``ceil(R/2)``-th smallest of ``R``),
minimised over the step sizes that were tried.  When more than half of the runs of
every step size are censored, ``n*(d)`` is censored and reported as such
(``None``), never extrapolated.

The exponent ``e`` of ``n*(d) ~ d^e`` (or ``d^e log d``) is the least-squares slope of
``log n*`` (minus ``log log d``) against ``log d``, with a percentile bootstrap interval
that resamples the replicates of every ``(d, eta)`` cell independently and recomputes
the minimum over step sizes.  The same resampling gives an interval for each
``n*(d)`` and for ratios ``n*_1(d) / n*_2(d)`` of two learners.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from featcheck.numerics.estimate import loglog_slope, percentile_interval
from featcheck.numerics.jsonable import JsonResult
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


def n_star_resamples(
    cells: Sequence[np.ndarray], n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap draws of ``n*`` at one ``d``: each cell's replicates resampled on their own."""
    best = np.full(n_resamples, np.inf)
    for hits in cells:
        times = as_times(hits)
        index = rng.integers(0, times.size, size=(n_resamples, times.size))
        best = np.minimum(best, lower_median(times[index], axis=1))
    return best


def _quantile_interval(draws: np.ndarray, confidence: float) -> tuple[float, float] | None:
    """Percentile interval of bootstrap draws (no interpolation); None when not finite."""
    alpha = 1 - confidence
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return float(low), float(high)


def _interval_rng(rng: np.random.Generator | None) -> np.random.Generator:
    """A stream for the per-point intervals that leaves ``rng``'s own stream untouched."""
    return rng.spawn(1)[0] if rng is not None else np.random.default_rng(1)


@dataclass(frozen=True)
class Point(JsonResult):
    """The measurement at one dimension.

    ``n_star`` is ``None`` when censored; ``n_star_interval`` is its bootstrap interval
    (``None`` when not computed or not finite); ``at_edge``: the best step size is at an
    end of the window of step sizes, so the minimum over step sizes may lie outside it.
    """

    d: int
    n_star: float | None
    eta: float | None
    replicates: int
    censored: int
    etas: list[float] = field(default_factory=list)
    medians: list[float | None] = field(default_factory=list)
    at_edge: bool = False
    n_star_interval: tuple[float, float] | None = None

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
            "n_star_interval": None if self.n_star_interval is None else list(self.n_star_interval),
        }


def point(
    d: int,
    etas: Sequence[float],
    cells: Sequence[np.ndarray],
    tried_all: bool,
    interval: tuple[float, float] | None = None,
) -> Point:
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
        n_star_interval=interval,
    )


@dataclass(frozen=True)
class ExponentFit(JsonResult):
    """``n*(d) ~ d^exponent`` (times ``log d`` when ``log_factor``), with its interval."""

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


def _stars(samples: Sequence[np.ndarray], sizes: Sequence[int]) -> list[float]:
    """``n*`` of consecutive groups of ``sizes[i]`` cells (already as times)."""
    out, i = [], 0
    for size in sizes:
        out.append(min(float(lower_median(np.asarray(t))) for t in samples[i : i + size]))
        i += size
    return out


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
    two dimensions.  Each point carries a bootstrap interval of its ``n*`` at the
    same confidence, drawn from a stream spawned from ``rng``.
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
        stars = _stars(samples, sizes)
        if not all(math.isfinite(v) for v in stars):
            return np.inf
        return loglog_slope(x, np.array(stars), log_factor)[0]

    low, high = percentile_interval(flat, statistic, confidence, n_resamples, rng)
    stream = _interval_rng(rng)
    points = [
        point(
            p.d,
            e,
            c,
            t,
            _quantile_interval(n_star_resamples(c, n_resamples, stream), confidence),
        )
        for p, e, c, t in zip(points, etas, cells, tried_all, strict=True)
    ]
    return ExponentFit(slope, intercept, (low, high), confidence, log_factor, points, n_resamples)


@dataclass(frozen=True)
class RatioFit(JsonResult):
    """``n*_numerator(d) / n*_denominator(d) ~ d^slope``, with bootstrap intervals."""

    ds: list[int]
    slope: float
    interval: tuple[float, float]
    ratios: list[float]
    ratio_intervals: list[tuple[float, float] | None]
    confidence: float


def fit_ratio_exponent(
    ds: Sequence[int],
    numerator: Sequence[Sequence[np.ndarray]],
    denominator: Sequence[Sequence[np.ndarray]],
    *,
    confidence: float = 0.95,
    n_resamples: int = 999,
    rng: np.random.Generator | None = None,
    log_factor: float = 0.0,
) -> RatioFit:
    """Slope of ``log(n*_num(d) / n*_den(d))`` against ``log d`` with a bootstrap interval.

    ``numerator[i]``, ``denominator[i]``: the cells (one per step size) at ``ds[i]``.
    ``log_factor``: the predicted ratio carries ``(log d)^log_factor``, divided out of the
    slope (the ratios themselves are reported as measured).
    Raises :class:`CensoredError` when a ``n*`` is censored.
    """
    x = np.log(np.asarray(ds, dtype=np.float64))
    shift = log_factor * np.log(x)
    groups = [*numerator, *denominator]
    sizes = [len(g) for g in groups]
    flat = [as_times(h) for g in groups for h in g]
    half = len(numerator)
    values = _stars(flat, sizes)
    if not all(math.isfinite(v) for v in values):
        raise CensoredError("a needed sample count is censored: raise the step budget")
    ratios = [values[i] / values[half + i] for i in range(half)]

    def statistic(*samples):
        v = _stars(samples, sizes)
        if not all(math.isfinite(t) for t in v):
            return np.inf
        logs = np.log([v[i] / v[half + i] for i in range(half)]) - shift
        return float(np.polyfit(x, logs, 1)[0])

    slope = float(np.polyfit(x, np.log(ratios) - shift, 1)[0])
    low, high = percentile_interval(flat, statistic, confidence, n_resamples, rng)
    stream = _interval_rng(rng)
    ratio_intervals = [
        _quantile_interval(
            n_star_resamples(top, n_resamples, stream)
            / n_star_resamples(bottom, n_resamples, stream),
            confidence,
        )
        for top, bottom in zip(numerator, denominator, strict=True)
    ]
    return RatioFit([int(d) for d in ds], slope, (low, high), ratios, ratio_intervals, confidence)
