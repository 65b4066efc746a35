"""Agreement rules: the statistical vocabulary every claim uses to reach a verdict.

A claim declares its family-wise error rate once (:class:`Level`: ``alpha`` split over
the claim's ``tests`` intervals, Bonferroni) and builds its checks from these rules:

* intervals of a mean over independent replicas (:func:`mean_interval`, Student t or
  normal), of any statistic (:func:`bootstrap_interval`, percentile bootstrap), of the
  change of a mean between two sizes (:func:`difference_interval`, Welch);
* a log-log slope with its interval (:func:`loglog_slope`: least squares of
  ``log y = e log x + b`` with the t interval of ``e`` from the residuals, or a
  bootstrap over the replicas behind each ``y``);
* :func:`convergence` for an asymptotic statement ``G(n) -> 0`` about a gap ``G``
  measured at three or more sizes ``n``: the fitted rate ``r`` in ``G ~ n^r``, with a
  bootstrap interval over replicas, must lie below ``-slowest_rate`` (a stated margin,
  default 0.1, so that a gap settling at a non-zero limit does not pass).  A gap whose upper
  confidence limit is below the claim's stated ``margin`` at every size also holds (the
  statement is satisfied to the resolution it asks for); a gap that stays above the
  margin and whose rate interval excludes shrinking is violated; anything else is
  inconclusive, with an estimate of the size that would decide.  An asymptotic statement
  is never judged by an interval at one size: with enough replicas that rejects at
  every finite size, with few it passes trivially;
* :func:`deterministic_convergence`: the same rule for gaps computed without sampling
  error (a deterministic solver), with the Student-t interval of the regression slope;
* :func:`limit` for ``X(n) -> L``: the extrapolated ``X(infinity)`` from a fit of
  ``X(n) = X(infinity) + c n^(-p)`` (``p`` known from theory), its bootstrap interval
  widened by the margin must contain ``L``;
* :func:`bound` for an inequality ``measured <= C envelope``: it holds when it holds,
  with its slack and the tightest constant ``C*`` for which it would still hold (a bound
  that is not tight is not violated);
* :func:`out_of_reach` for a quantity the sizes that run cannot resolve: an undecidable
  check carrying the reason and the size that would decide.

The elementary comparisons (``within``, ``contains``, ``holds_if``) are in
:mod:`featcheck.numerics.claims.base`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from featcheck.numerics.claims.base import Check
from featcheck.numerics.jsonable import JsonResult
from featcheck.theory.errors import DomainError

#: Resamples of every bootstrap interval (enough for stable 99.9% percentile limits).
RESAMPLES = 2000


@dataclass(frozen=True)
class Level:
    """A claim's family-wise error rate ``alpha`` shared by ``tests`` intervals.

    Each interval is built at confidence ``1 - alpha / tests`` (Bonferroni), so the
    probability that any interval of the claim misses its true value is at most ``alpha``.
    """

    alpha: float = 0.05
    tests: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1 or self.tests < 1:
            raise DomainError(f"a level needs 0 < alpha < 1 and tests >= 1, got {self}")

    @property
    def confidence(self) -> float:
        """The confidence of each interval: ``1 - alpha / tests``."""
        return 1 - self.alpha / self.tests

    @property
    def per_test_alpha(self) -> float:
        """The level of each test (reject when its p-value is below): ``alpha / tests``."""
        return self.alpha / self.tests

    def describe(self) -> str:
        """For notes and figure captions: ``"99.5% intervals (family-wise 95%, 10 tests)"``."""
        per = f"{100 * self.confidence:.4g}%"
        if self.tests == 1:
            return f"{per} intervals"
        return f"{per} intervals (family-wise {100 * (1 - self.alpha):.4g}% over {self.tests})"


@dataclass(frozen=True)
class Interval(JsonResult):
    """An estimate with its two-sided confidence interval ``[low, high]``."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def contains(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)


def _values(values, what: str = "values") -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size < 2:
        raise DomainError(f"an interval needs at least two {what}, got {array.size}")
    if not np.isfinite(array).all():
        raise DomainError(f"an interval needs finite {what}; got a NaN or an infinity")
    return array


def mean_interval(values, confidence: float, *, method: str = "t") -> Interval:
    """Mean of independent replicas with its Student-t (``"t"``) or normal (``"z"``) interval."""
    x = _values(values, "replicas")
    if method == "t":
        quantile = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1))
    elif method == "z":
        quantile = float(stats.norm.ppf(0.5 + confidence / 2))
    else:
        raise DomainError(f"unknown interval method {method!r} (use 't' or 'z')")
    half = quantile * float(x.std(ddof=1)) / math.sqrt(x.size)
    mean = float(x.mean())
    name = "student-t" if method == "t" else "normal"
    return Interval(mean, mean - half, mean + half, confidence, name)


def difference_interval(first, last, confidence: float) -> Interval:
    """``mean(last) - mean(first)`` with its Welch interval (independent samples)."""
    a, b = _values(first, "replicas"), _values(last, "replicas")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    var = va + vb
    dof = var**2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)) if var > 0 else 1.0
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * math.sqrt(var)
    change = float(b.mean() - a.mean())
    return Interval(change, change - half, change + half, confidence, "welch")


def bootstrap_interval(
    samples: Sequence[np.ndarray],
    statistic: Callable[..., float],
    confidence: float,
    rng: np.random.Generator,
    *,
    resamples: int = RESAMPLES,
) -> Interval:
    """Percentile bootstrap interval of ``statistic(*samples)``, each sample resampled alone."""
    arrays = [_values(s, "replicas") for s in samples]
    estimate = float(statistic(*arrays))
    draws = np.array(
        [
            statistic(*(a[rng.integers(0, a.size, a.size)] for a in arrays))
            for _ in range(resamples)
        ],
        dtype=np.float64,
    )
    draws = draws[np.isfinite(draws)]
    if draws.size < resamples // 2:
        raise DomainError("the bootstrap statistic is undefined on most resamples")
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return Interval(estimate, float(low), float(high), confidence, "percentile bootstrap")


@dataclass(frozen=True)
class Slope(JsonResult):
    """Fitted exponent ``e`` of ``y ~ x^e`` (least squares in log-log) with its interval."""

    slope: float
    intercept: float
    low: float
    high: float
    confidence: float
    method: str

    def contains(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)


def _fit(lx: np.ndarray, ly: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(lx, ly, 1)
    return float(slope), float(intercept)


def loglog_slope(
    x,
    y=None,
    *,
    confidence: float,
    replicas: Sequence[np.ndarray] | None = None,
    statistic: Callable[[np.ndarray], float] = np.mean,
    rng: np.random.Generator | None = None,
    resamples: int = RESAMPLES,
) -> Slope:
    """Slope of ``log y`` on ``log x`` with a confidence interval.

    With ``y`` (one value per ``x``, at least three): the Student-t interval of the
    least-squares slope from its residuals.  With ``replicas`` (one array of independent
    replicas per ``x``): ``y = statistic(replicas)`` and a percentile bootstrap interval,
    the replicas at each ``x`` resampled on their own.
    """
    lx = np.log(np.asarray(x, dtype=np.float64))
    if lx.size < 3 or not np.isfinite(lx).all():
        raise DomainError("a log-log slope needs at least three positive sizes")
    if replicas is None:
        ly = np.log(np.asarray(y, dtype=np.float64))
        if ly.size != lx.size or not np.isfinite(ly).all():
            raise DomainError("a log-log slope needs one positive value per size")
        fit = stats.linregress(lx, ly)
        half = float(stats.t.ppf(0.5 + confidence / 2, lx.size - 2)) * float(fit.stderr)
        return Slope(
            float(fit.slope), float(fit.intercept), fit.slope - half, fit.slope + half,
            confidence, "least squares, student-t",
        )  # fmt: skip
    if rng is None:
        raise DomainError("a bootstrap slope needs a random generator")
    groups = [_values(r, "replicas") for r in replicas]
    if len(groups) != lx.size:
        raise DomainError("a log-log slope needs one array of replicas per size")

    def fitted(gs) -> float:
        ys = np.array([statistic(g) for g in gs], dtype=np.float64)
        if not (ys > 0).all():
            return math.nan
        return _fit(lx, np.log(ys))[0]

    estimate = [statistic(g) for g in groups]
    if min(estimate) <= 0:
        raise DomainError("a log-log slope needs a positive statistic at every size")
    slope, intercept = _fit(lx, np.log(estimate))
    draws = np.array(
        [fitted([g[rng.integers(0, g.size, g.size)] for g in groups]) for _ in range(resamples)]
    )
    draws = draws[np.isfinite(draws)]
    if draws.size < resamples // 2:
        raise DomainError("the statistic is not positive on most bootstrap resamples")
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return Slope(slope, intercept, float(low), float(high), confidence, "percentile bootstrap")


def interval_check(
    label: str, predicted: float, interval: Interval | Slope, **inputs: Any
) -> Check:
    """The prediction lies in the measured interval."""
    estimate = interval.estimate if isinstance(interval, Interval) else interval.slope
    return Check(
        label,
        float(predicted),
        float(estimate),
        float((interval.high - interval.low) / 2),
        interval.contains(predicted),
        {"interval": [interval.low, interval.high], "confidence": interval.confidence,
         "method": interval.method, **inputs},
    )  # fmt: skip


def _deciding_size(sizes: np.ndarray, slope: Slope, slowest_rate: float) -> float | None:
    """The largest size of a geometric grid over which the rate interval would lie below
    ``-slowest_rate``, if the fitted rate stays what it is.

    The interval's half-width scales like ``1 / sd(log n)``; stretching the grid's log-range
    by ``f`` divides it by ``f``.  ``None`` when the fitted rate is not below ``-slowest_rate``.
    """
    distance = -slowest_rate - slope.slope
    if distance <= 0:
        return None
    factor = ((slope.high - slope.low) / 2) / distance
    span = math.log(sizes[-1] / sizes[0])
    return float(sizes[0] * math.exp(span * max(factor, 1.0) * 1.25))


def convergence(
    label: str,
    sizes: Sequence[float],
    replicas: Sequence[np.ndarray],
    *,
    gap: Callable[[np.ndarray], float],
    level: Level,
    rng: np.random.Generator,
    margin: float = 0.0,
    slowest_rate: float = 0.1,
    rate: float | None = None,
    **inputs: Any,
) -> list[Check]:
    """The convergence rule for ``G(n) -> 0``, ``G(n) = gap(replicas at n)`` (``G >= 0``).

    Needs at least three sizes.  With ``[r_low, r_high]`` the bootstrap interval of the
    rate ``r`` in ``G ~ n^r`` and ``[G_low, G_high]`` the interval of the gap at each size:

    * holds when ``r_high < -slowest_rate`` (the gap shrinks at least like
      ``n^(-slowest_rate)``; a gap creeping towards a non-zero limit has a local rate near 0
      and does not pass), or when ``G_high <= margin`` at every size (the gap is within the
      stated margin wherever it was measured);
    * violated when ``r_low > -slowest_rate`` and ``G_low > margin`` at the largest size:
      the gap stays above the margin and, if it shrinks at all, does so more slowly than
      ``n^(-slowest_rate)``, the slowest decay the rule accepts as convergence;
    * otherwise undecided: the check passes but is not decidable (the claim is
      inconclusive), with the size that would decide at the same replica count.

    With a predicted ``rate`` a second check asks that the rate interval contain it.
    The intervals are at the level's per-test confidence.
    """
    n = np.asarray(sizes, dtype=np.float64)
    if n.size < 3 or not (np.diff(n) > 0).all():
        raise DomainError("the convergence rule needs three or more increasing sizes")
    conf = level.confidence
    gaps = [bootstrap_interval([r], gap, conf, rng) for r in replicas]
    table = {
        "sizes": n.tolist(),
        "gap": [g.estimate for g in gaps],
        "gap_interval": [[g.low, g.high] for g in gaps],
        "margin": margin,
        "slowest_rate": slowest_rate,
        "confidence": conf,
    }
    try:
        slope = loglog_slope(n, confidence=conf, replicas=replicas, statistic=gap, rng=rng)
    except DomainError:
        slope = None  # a gap that is zero on resamples: only the margin can decide
    checks = [
        _convergence_verdict(
            label,
            n,
            slope,
            within_margin=all(g.high <= margin for g in gaps),
            last_low=gaps[-1].low,
            last=gaps[-1].estimate,
            margin=margin,
            slowest_rate=slowest_rate,
            table={**table, **inputs},
        )
    ]
    if rate is not None and slope is not None:
        checks.append(interval_check(f"{label}: rate", rate, slope, sizes=n.tolist(), **inputs))
    return checks


def deterministic_convergence(
    label: str,
    sizes,
    gaps,
    *,
    level: Level,
    margin: float = 0.0,
    slowest_rate: float = 0.1,
    **inputs,
) -> Check:
    """The convergence rule of :func:`convergence` for gaps
    computed without sampling error (a deterministic solver at three or more sizes).

    With ``[r_low, r_high]`` the Student-t interval of the log-log slope of the gaps in the
    sizes: holds when ``r_high < -slowest_rate`` (the gap shrinks at least as fast as
    ``n^(-slowest_rate)``) or every gap is within ``margin``; violated when
    ``r_low > -slowest_rate`` and the last gap exceeds the margin (it stays, or shrinks more
    slowly than the slowest decay accepted as convergence: a gap tending to a non-zero
    limit shrinks ever more slowly); otherwise undecided (not decidable), with the reason.
    """
    n = np.asarray(sizes, dtype=float)
    g = np.abs(np.asarray(gaps, dtype=float))
    if n.size < 3 or not (np.diff(n) > 0).all():
        raise DomainError("the convergence rule needs three or more increasing sizes")
    slope = loglog_slope(n, g, confidence=level.confidence) if (g > 0).all() else None
    table = {
        "sizes": n.tolist(),
        "gap": g.tolist(),
        "margin": margin,
        "slowest_rate": slowest_rate,
        "confidence": level.confidence,
    }
    return _convergence_verdict(
        label,
        n,
        slope,
        within_margin=bool((g <= margin).all()),
        last_low=float(g[-1]),
        last=float(g[-1]),
        margin=margin,
        slowest_rate=slowest_rate,
        table={**table, **inputs},
    )


def _convergence_verdict(
    label: str,
    n: np.ndarray,
    slope: Slope | None,
    *,
    within_margin: bool,
    last_low: float,
    last: float,
    margin: float,
    slowest_rate: float,
    table: dict[str, Any],
) -> Check:
    """The verdict of the convergence rule from the fitted rate (``None`` when undefined)
    and the gaps: shrinking or within the margin holds; a gap above the margin at the
    largest size whose rate interval lies above ``-slowest_rate`` is violated; anything else
    is undecided, with the reason and the size that would decide."""
    shrinking = slope is not None and slope.high < -slowest_rate
    stuck = (
        not shrinking
        and not within_margin
        and slope is not None
        and slope.low > -slowest_rate
        and last_low > margin
    )
    decided = shrinking or within_margin or stuck
    if slope is not None:
        table.update(rate=slope.slope, rate_interval=[slope.low, slope.high])
    if not decided:
        deciding = _deciding_size(n, slope, slowest_rate) if slope is not None else None
        reason = (
            f"the rate interval [{slope.low:.3g}, {slope.high:.3g}] reaches both sides of "
            f"-{slowest_rate:g}, and the gap exceeds the margin"
            if slope is not None
            else "the gap exceeds the margin and its rate is undefined"
        )
        reason += (
            f"; sizes up to about {deciding:.3g} would decide"
            if deciding
            else "; more replicas are needed to resolve the gap"
        )
        table.update(deciding_size=deciding, reason=reason)
    measured = (
        f"rate {slope.slope:.3g} [{slope.low:.3g}, {slope.high:.3g}]"
        if slope is not None
        else f"gap {last:.3g} at n = {n[-1]:.4g}"
    )
    return Check(
        label,
        "gap -> 0" + (f" (margin {margin:g})" if margin else ""),
        measured,
        None,
        not stuck,
        table,
        decidable=decided,
    )


def limit(
    label: str,
    sizes: Sequence[float],
    replicas: Sequence[np.ndarray],
    predicted: float,
    *,
    order: float,
    level: Level,
    rng: np.random.Generator,
    margin: float = 0.0,
    null: float | None = None,
    deciding_size: float | None = None,
    **inputs: Any,
) -> Check:
    """``X(n) -> predicted`` judged by extrapolation: fit ``mean X(n) = X_inf + c n^(-order)``
    by least squares over three or more sizes, bootstrap the replicas at each size, and ask
    that ``[X_inf low - margin, X_inf high + margin]`` contain the prediction.

    With a ``null`` value (what ``X_inf`` would be if the statement were false, say 0 for a
    smaller power law), an interval that contains the prediction and the null value alike
    cannot tell them apart: the check is undecided (inconclusive), with ``deciding_size``
    if the caller knows it, never a pass."""
    n = np.asarray(sizes, dtype=np.float64)
    if n.size < 3:
        raise DomainError("an extrapolated limit needs three or more sizes")
    groups = [_values(r, "replicas") for r in replicas]
    design = np.column_stack([np.ones_like(n), n ** (-order)])

    def intercept(gs) -> float:
        means = np.array([g.mean() for g in gs])
        return float(np.linalg.lstsq(design, means, rcond=None)[0][0])

    estimate = intercept(groups)
    draws = np.array(
        [intercept([g[rng.integers(0, g.size, g.size)] for g in groups]) for _ in range(RESAMPLES)]
    )
    tail = (1 - level.confidence) / 2
    low, high = (float(v) for v in np.quantile(draws, [tail, 1 - tail]))
    passed = low - margin <= predicted <= high + margin
    table = {
        "extrapolated_interval": [low, high], "order": order, "sizes": n.tolist(),
        "means": [float(g.mean()) for g in groups], "margin": margin,
        "confidence": level.confidence, **inputs,
    }  # fmt: skip
    ambiguous = passed and null is not None and low - margin <= null <= high + margin
    if ambiguous:
        table["reason"] = (
            f"the extrapolated interval [{low:.3g}, {high:.3g}] contains the null value "
            f"{null:g} as well as the prediction"
        )
        table["deciding_size"] = deciding_size
    return Check(
        label,
        float(predicted),
        estimate,
        float((high - low) / 2 + margin),
        bool(passed),
        table,
        decidable=not ambiguous,
    )


def bound(
    label: str,
    measured,
    envelope,
    *,
    constant: float,
    upper: bool = True,
    **inputs: Any,
) -> Check:
    """The inequality ``measured <= constant * envelope`` (``>=`` when ``upper=False``),
    pointwise over arrays.

    It holds when it holds at every point: the check reports the slack (the smallest
    ``|constant * envelope - measured|`` on the right side, relative to ``constant *
    envelope``) and the tightest constant ``C*`` (``max`` or ``min`` of
    ``measured / envelope``) for which it would still hold; a bound that holds with room to
    spare is not violated.  ``envelope`` must be positive.
    """
    m = np.asarray(measured, dtype=np.float64).ravel()
    e = np.asarray(envelope, dtype=np.float64).ravel()
    if m.shape != e.shape or m.size == 0:
        raise DomainError("a bound needs one envelope value per measured value")
    if not (np.isfinite(m).all() and np.isfinite(e).all() and (e > 0).all()):
        raise DomainError("a bound needs finite measured values and a positive envelope")
    ratio = m / e
    tightest = float(ratio.max() if upper else ratio.min())
    passed = tightest <= constant if upper else tightest >= constant
    worst = int(np.argmax(ratio) if upper else np.argmin(ratio))
    gap = constant - tightest if upper else tightest - constant
    slack = gap / abs(constant) if constant else gap
    return Check(
        label,
        f"{'<=' if upper else '>='} {constant:g} x envelope",
        float(m[worst]),
        float(constant * e[worst]),
        bool(passed),
        {"tightest_constant": tightest, "stated_constant": constant,
         "relative_slack": float(slack), "worst_index": worst, **inputs},
    )  # fmt: skip


def out_of_reach(label: str, reason: str, deciding_size: float | None, **inputs: Any) -> Check:
    """A quantity the sizes that run cannot resolve: not a failure, not a pass (inconclusive)."""
    return Check(
        label,
        "decidable at larger sizes",
        "out of reach",
        None,
        True,
        {"reason": reason, "deciding_size": deciding_size, **inputs},
        decidable=False,
    )
