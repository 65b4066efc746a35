"""The activation ``phi``, its derivative and the link ``g`` as numpy functions of arrays
(gradient descent, oracles, Algorithm 1).  Derivatives are taken by sympy and hold almost
everywhere: at a kink the Dirac masses of ``phi''`` are dropped and ``Heaviside``/``sign``
are rewritten as piecewise expressions that numpy understands.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from featcheck.theory.functions import Function, z


def _numeric_expr(expr: sp.Expr) -> sp.Expr:
    expr = expr.replace(sp.DiracDelta, lambda *args: sp.Integer(0))
    if expr.has(sp.Heaviside, sp.sign):
        expr = expr.rewrite(sp.Piecewise)
    return expr


@lru_cache(maxsize=64)
def vectorised(function: Function, derivative: int = 0):
    """``f`` (or ``f'``) on numpy arrays."""
    expr = function.expr if derivative == 0 else sp.diff(function.expr, z, derivative)
    f = sp.lambdify(z, _numeric_expr(expr), modules=["numpy", "scipy"])

    def call(x):
        return np.broadcast_to(np.asarray(f(x), dtype=float), np.shape(x))

    return call
