"""K(rho), the hot function of every flow: fixed Gauss-Legendre panels against adaptive
quadrature (the baseline, same run)."""

import math

import numpy as np
from scipy.integrate import quad
from scipy.special import expit

from featcheck.numerics.linear.simulate import DataLaw

RADII = np.geomspace(1e-2, 1e3, 64)
LAW = DataLaw("sphere", 2)


def _adaptive(radii):
    return [
        quad(lambda p, r=r: (2 / math.pi) * math.sin(p) * expit(-r * math.sin(p)), 0, math.pi / 2)[
            0
        ]
        for r in radii
    ]


def test_benchmark_K_adaptive_baseline(benchmark):
    values = benchmark(_adaptive, RADII)
    assert np.allclose(values, LAW.K(RADII), rtol=1e-8)


def test_benchmark_K_panels(benchmark):
    values = benchmark(LAW.K, RADII)
    assert values.shape == RADII.shape
