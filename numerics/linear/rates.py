"""Rate exponents of the linear-network flows.

``-ln(1 - cos theta)`` grows like ``t^beta`` with ``beta = 2N/(N+2)``
(:func:`featcheck.theory.linear.asymptotic_exponents`).  The local exponent on the decade
ending at ``t`` approaches ``beta`` as ``t`` grows; an asymptotic statement about it is
judged by how the gap to a stated exponent shrinks over the last decades
(:func:`featcheck.numerics.claims.rules.deterministic_convergence`), never by its value on
one decade.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from featcheck.numerics.linear.simulate import DataLaw, integrate_flow
from featcheck.numerics.names import PAPER_INIT


def log_one_minus_cos(zeta: np.ndarray) -> np.ndarray:
    """``-ln(1 - cos theta) = ln((1 + e^zeta)/2)``, exact where ``cos theta`` rounds to 1."""
    return np.logaddexp(0.0, np.asarray(zeta, dtype=float)) - math.log(2.0)


@lru_cache(maxsize=32)
def _flow(kind: str, dim: int, depth: int, t_max: float):
    return integrate_flow(DataLaw(kind, dim), depth, PAPER_INIT, t_max=t_max)


def local_exponents(law: DataLaw, depth: int, t_max: float, decades: int = 6, per_decade: int = 1):
    """Local exponents of ``-ln(1 - cos theta) ~ t^beta`` on windows of ``1/per_decade``
    decade covering the ``decades`` decades that end at ``t_max``.

    ``beta = 1 + (1 - 2/N) s_rho`` with ``s_rho`` the slope of ``ln rho`` in ``ln t`` (the
    exponent of ``d zeta/dt = (2 c0/pi) rho^(1-2/N)`` plus one; free of the additive
    constant in ``zeta``).  Returns the exponents and the window ends (one more).
    """
    flow = _flow(law.kind, law.dim, depth, float(t_max))
    times = t_max * np.logspace(-decades, 0, decades * per_decade + 1)
    rho, _ = flow.state(times)
    slopes = np.diff(np.log(rho)) / np.diff(np.log(times))
    return 1 + (1 - 2 / depth) * slopes, times


def tail(law: DataLaw, depth: int, t_max: float, decades: float = 3.0, points: int = 31):
    """``(t, -ln(1 - cos theta))`` on a geometric grid over the last ``decades`` before
    ``t_max`` (after the turning time ``T``)."""
    flow = _flow(law.kind, law.dim, depth, float(t_max))
    start = max(t_max * 10**-decades, 2 * flow.T if math.isfinite(flow.T) else 0.0)
    times = np.geomspace(start, t_max, points)
    _, zeta = flow.state(times)
    return times, log_one_minus_cos(zeta)
