"""Symbols shared by the exact part of the linear-network results.

``rho = ||w||``, ``theta`` the angle between ``w`` and the label direction ``v``,
``zeta = -2 ln tan(theta/2)``; ``rho0, theta0`` at ``t = 0``, ``rhoT, thetaT`` at the time
``T`` where the norm turns; ``c0 = E ||x_2||``; ``N`` the depth; ``n`` a gradient-descent
step; ``K`` and ``G`` the radial functions of the reduced gradient.
"""

from __future__ import annotations

import sympy as sp

t = sp.Symbol("t", nonnegative=True)
n = sp.Symbol("n", integer=True, nonnegative=True)
rho = sp.Symbol("rho", positive=True)
theta = sp.Symbol("theta", positive=True)
zeta = sp.Symbol("zeta", real=True)
phi = sp.Symbol("phi", real=True)
r = sp.Symbol("r", positive=True)
x = sp.Symbol("x", real=True)
s = sp.Symbol("s", real=True)
c0 = sp.Symbol("c_0", positive=True)
N = sp.Symbol("N", positive=True, integer=True)
rho0 = sp.Symbol("rho_0", positive=True)
theta0 = sp.Symbol("theta_0", positive=True)
rhoT = sp.Symbol("rho_T", positive=True)
thetaT = sp.Symbol("theta_T", positive=True)
T = sp.Symbol("T", nonnegative=True)
delta = sp.Symbol("delta", positive=True)
S_n = sp.Symbol("S_n", nonnegative=True)
K = sp.Function("K")
G = sp.Function("G")

__all__ = [
    "G",
    "K",
    "N",
    "S_n",
    "T",
    "c0",
    "delta",
    "n",
    "phi",
    "r",
    "rho",
    "rho0",
    "rhoT",
    "s",
    "t",
    "theta",
    "theta0",
    "thetaT",
    "x",
    "zeta",
]
