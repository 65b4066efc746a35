"""K(rho), the hot function of every linear-network flow: fixed Gauss-Legendre panels
beside adaptive quadrature, the baseline, measured in the same run.

No time is asserted: ``extra_info`` records both best times and their ratio (panels over
adaptive quadrature at the same accuracy; below 1 means the panels are faster), and the
tests assert that the two agree to 1e-9 relative.
"""

import math
import time

import numpy as np
from scipy.integrate import quad
from scipy.special import expit

from featcheck.numerics.linear.simulate import DataLaw

RADII = np.geomspace(1e-2, 1e3, 64)
LAW = DataLaw("sphere", 2)


def _adaptive(radii):
    """K(rho) on the circle, (2/pi) int_0^(pi/2) sin(psi) sigmoid(-rho sin psi) d psi, by
    ``quad`` at the accuracy the panels reach (relative 1e-10, a break point where the
    sigmoid has decayed): the fair baseline."""

    def one(r):
        def integrand(p):
            return (2 / math.pi) * math.sin(p) * expit(-r * math.sin(p))

        kink = [min(math.pi / 2, 10 / r)]
        return quad(integrand, 0, math.pi / 2, epsabs=0, epsrel=1e-10, limit=200, points=kink)[0]

    return np.array([one(r) for r in radii])


def _best(function, repeat):
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _interleaved(f, g, rounds=5, repeat=3):
    """Best times of ``f`` and ``g`` measured alternately, so both see the same load."""
    tf, tg = math.inf, math.inf
    for _ in range(rounds):
        tf, tg = min(tf, _best(f, repeat)), min(tg, _best(g, repeat))
    return tf, tg


def test_benchmark_K_panels_against_adaptive_quadrature(benchmark):
    benchmark.group = "K(rho), 64 radii"
    values = benchmark(LAW.K, RADII)
    reference = _adaptive(RADII)
    assert np.allclose(values, reference, rtol=1e-9, atol=0)
    panels, adaptive = _interleaved(lambda: LAW.K(RADII), lambda: _adaptive(RADII))
    benchmark.extra_info |= {
        "panels_seconds": panels,
        "adaptive_seconds": adaptive,
        "ratio_to_adaptive": panels / adaptive,
    }


def test_benchmark_K_adaptive_baseline(benchmark):
    benchmark.group = "K(rho), 64 radii"
    values = benchmark(_adaptive, RADII)
    assert np.allclose(values, LAW.K(RADII), rtol=1e-9, atol=0)
