"""The constant ``C(c)`` of ``n(d) = C(c) d^(s-1)`` at the step ``eta = c d^(-s/2)``.

``C(c) = E[tau*]``, the mean explosion time of the limiting diffusion of
:mod:`featcheck.theory.exponents.escape` (``dX = (a X^(s-1) - b X) dtau + sigma dB``,
``X_0 ~ N(0, 1)``).  By the Feynman-Kac formula and an exchange of integrals,
``E[tau*] = int F(y) f(y) dy`` with ``F`` the law of the start (``P(X_0 < y)``, or
``P(|X_0| < y)`` for even ``s``) and ``f(y) = (2/sigma^2) int_{lo}^y exp(Phi(z) - Phi(y))
dz``, ``Phi' = 2 drift/sigma^2``; ``f`` solves ``f' = 2/sigma^2 - Phi' f`` and is
integrated on a fine grid by the exponential rule that is exact for a piecewise linear
``Phi`` (stable however steep ``Phi`` is), the tail beyond the grid (``f ~ 1/drift``) in
closed form.  The error is estimated by halving the grid step and reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numba
import numpy as np
from scipy import optimize, special

from featcheck.numerics.jsonable import JsonResult
from featcheck.numerics.numba_cache import use_user_cache
from featcheck.theory.errors import DomainError, NumericalError

use_user_cache()


@numba.njit(cache=True)
def _scan(phi, y, k):
    """``f`` on the grid ``y`` from ``f(y[0]) = 0``: exact for ``Phi`` linear on each cell."""
    f = np.empty_like(y)
    f[0] = 0.0
    for j in range(y.size - 1):
        h = y[j + 1] - y[j]
        step = phi[j + 1] - phi[j]
        if abs(step) < 1e-10:
            gain = k * h * (1.0 - step / 2.0)
        else:
            gain = k * h * -math.expm1(-step) / step
        f[j + 1] = f[j] * math.exp(-step) + gain
    return f


@dataclass(frozen=True)
class EscapeTime(JsonResult):
    """``C(c) = E[tau*]`` with its numerical error bound (grid halving)."""

    s: int
    c: float
    value: float
    error: float


def _integral(s: int, a: float, b: float, sigma2: float, h: float, top: float) -> float:
    odd = s % 2 == 1
    barrier = (b / a) ** (1.0 / (s - 2))  # the drift vanishes there
    lo = -12.0 - barrier if odd else 0.0
    mid = max(60.0, 4.0 * barrier)
    y = np.concatenate([np.arange(lo, mid, h), np.geomspace(mid, top, 20001)])
    k = 2.0 / sigma2
    phi = k * (a * y**s / s - b * y * y / 2.0)
    f = _scan(phi, y, k)
    weight = special.ndtr(y) if odd else 2.0 * special.ndtr(y) - 1.0
    body = float(np.trapezoid(weight * f, y))
    return body + 1.0 / (a * (s - 2) * top ** (s - 2))  # f ~ 1/(a y^(s-1)) beyond the grid


@cache
def mean_escape_time(s: int, c: float) -> EscapeTime:
    """``C(c)`` for ``h_s`` (``s >= 3``) at the step constant ``c > 0``."""
    from featcheck.theory.exponents.escape import escape_limit

    if not (math.isfinite(c) and c > 0):
        raise DomainError(f"the step constant must be positive, got {c}")
    a, b, sigma2 = escape_limit(int(s)).numeric(float(c))
    coarse = _integral(int(s), a, b, sigma2, 4e-3, 4000.0)
    fine = _integral(int(s), a, b, sigma2, 2e-3, 8000.0)
    if not (math.isfinite(fine) and fine > 0):
        raise NumericalError(f"the escape-time integral failed at s = {s}, c = {c}")
    return EscapeTime(int(s), float(c), fine, abs(fine - coarse))


@dataclass(frozen=True)
class OptimalConstant(JsonResult):
    """The step constant ``c*`` that minimises ``C(c)``, and ``C(c*)``."""

    s: int
    c: float
    value: float
    window: tuple[float, float]


@cache
def optimal_step_constant(s: int, window: tuple[float, float] = (0.5, 60.0)) -> OptimalConstant:
    """Minimise ``C(c)`` over ``window``; a minimiser at an end of it is refused."""
    result = optimize.minimize_scalar(
        lambda v: mean_escape_time(s, float(math.exp(v))).value,
        bounds=(math.log(window[0]), math.log(window[1])),
        method="bounded",
        options={"xatol": 1e-3},
    )
    best = float(math.exp(result.x))
    if not window[0] * 1.05 < best < window[1] / 1.05:
        raise NumericalError(
            f"the optimal step constant {best:.3g} sits at the edge of {window}: widen the window"
        )
    return OptimalConstant(int(s), best, float(result.fun), window)


def escape_step(s: int, c: float, d: int) -> float:
    """The step ``eta = c d^(-s/2)`` of the scaling limit."""
    return float(c) * float(d) ** (-s / 2)


def threshold_shift(s: int, c: float, d: int, threshold: float) -> float:
    """The ``d^(-1/2)`` correction of ``n/d^2`` at a fixed overlap threshold (``s = 3``; ``0``
    otherwise, where it is of order ``1/d`` or smaller)."""
    if s != 3:
        return 0.0
    from featcheck.theory.exponents.escape import threshold_correction

    return float(threshold_correction(3, c, threshold)) / math.sqrt(d)


def scaled_hitting_times(
    s: int, c: float, d: int, replicas: int, seed, threshold: float = 0.5, budget: float = 60.0
) -> np.ndarray:
    """Hitting steps of ``|<w, u>| >= threshold`` divided by ``d^(s-1)``, plain online SGD at
    ``eta = c d^(-s/2)``, minus the threshold correction (so their mean tends to ``C(c)``).

    Runs are censored at ``budget C(c) d^(s-1)`` steps (``inf``): the caller decides.
    """
    from featcheck.numerics.exponents.overlap_chain import simulate
    from featcheck.numerics.exponents.spherical_sgd import Link, OnlineSGD

    config = OnlineSGD(
        d=int(d), eta=escape_step(s, c, d), link=Link.hermite(int(s)), variant="plain",
        loss="correlation", threshold=threshold, overlap="u",
    )  # fmt: skip
    scale = float(d) ** (s - 1)
    limit = mean_escape_time(s, c).value
    run = simulate(config, replicas, math.ceil(budget * limit * scale), seed)
    times = np.where(run.hits < 0, np.inf, run.hits / scale)
    return times - threshold_shift(s, c, d, threshold)
