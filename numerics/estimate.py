"""Generic estimators: log-log slopes, percentile bootstrap intervals, two-sample tests.

* :func:`loglog_slope`: the least-squares slope ``e`` of ``log y = e log x + b``
  (optionally with a ``log x`` factor divided out of ``y``);
* :func:`percentile_interval`: a percentile bootstrap interval of any statistic of
  independent samples (``scipy.stats.bootstrap``, every sample resampled on its own);
* :func:`two_sample`: Kolmogorov-Smirnov and k-sample Anderson-Darling tests of equal laws.

The estimators of needed sample counts ``n*(d)`` (hitting times, censoring, exponent
fits) are in :mod:`featcheck.numerics.exponents.needed_samples`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from featcheck.numerics.jsonable import JsonResult
from featcheck.theory.errors import DomainError


def percentile_interval(
    samples: Sequence[np.ndarray],
    statistic: Callable[..., float],
    confidence: float,
    n_resamples: int,
    rng: np.random.Generator | None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(*samples)``, each sample resampled alone.

    ``rng=None`` uses ``numpy.random.default_rng(0)``, so the interval is reproducible.
    """
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
    low, high = result.confidence_interval
    return float(low), float(high)


def loglog_slope(x, y, log_factor: bool = False) -> tuple[float, float]:
    """Least-squares ``log(y / L(x)) = e log x + b`` with ``L = log x`` or 1; returns ``(e, b)``."""
    lx = np.log(np.asarray(x, dtype=np.float64))
    ly = np.log(np.asarray(y, dtype=np.float64))
    if log_factor:
        ly = ly - np.log(lx)
    slope, intercept = np.polyfit(lx, ly, 1)
    return float(slope), float(intercept)


@dataclass(frozen=True)
class TwoSample(JsonResult):
    """Two-sample test results; the Anderson-Darling p-value is capped to [0.001, 0.25]."""

    ks_statistic: float
    ks_pvalue: float
    ad_statistic: float
    ad_pvalue: float


def _ks_2samp(a, b):
    """scipy's two-sample Kolmogorov-Smirnov test: the exact p-value where scipy can compute
    it, else the asymptotic one, which scipy falls back to with a warning that would reach a
    command's output."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        return stats.ks_2samp(a, b)


def ks_pvalue(a, b) -> float:
    """The two-sample Kolmogorov-Smirnov p-value of equal laws of the samples ``a``, ``b``."""
    return float(_ks_2samp(a, b).pvalue)


def two_sample(a, b) -> TwoSample:
    """Kolmogorov-Smirnov and k-sample Anderson-Darling tests of equal laws.

    Censored values (say, hitting times beyond a budget) should be passed as one
    common large value: they are ties, which both tests handle.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size < 2 or b.size < 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise DomainError("two-sample tests need at least two finite values on each side")
    ks = _ks_2samp(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the p-value cap is reported, not warned about
        ad = stats.anderson_ksamp([a, b])
    return TwoSample(float(ks.statistic), float(ks.pvalue), float(ad.statistic), float(ad.pvalue))
