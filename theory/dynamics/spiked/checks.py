r"""Spot checks of exact identities at random admissible points, in 40-digit arithmetic.

The derivation of each flow checks identities that sympy cannot always simplify to zero
(the closure against the two-variable formula, the aligned reductions, conserved
quantities) by evaluating the difference at random rational points of the admissible set
and taking the largest absolute value.  A point is admissible when it comes from unit
vectors ``w``, ``theta``, ``u``: the Gram matrix of ``(w, theta, u)`` is positive
semi-definite, that is ``b = c a + t sqrt((1 - a^2)(1 - c^2))`` with ``|a|, |c|, |t| <= 1``.
The generators are seeded, so a derivation document is reproducible.
"""

from __future__ import annotations

import random

import mpmath
import sympy as sp

from featcheck.theory.dynamics.spiked.scaled import ScaledIntegral, mp_namespace


def random_state(rng: random.Random) -> dict[str, sp.Expr]:
    """A random admissible point: ``a^2 + b^2 - 2abc <= 1 - c^2`` holds for a unit ``w``."""
    cc = sp.Rational(rng.randint(-9, 9), 10)
    aa = sp.Rational(rng.randint(-8, 8), 10)
    # b = c a + t sqrt((1 - a^2)(1 - c^2)) with |t| < 1
    t = sp.Rational(rng.randint(-9, 9), 10)
    bb = cc * aa + t * sp.sqrt((1 - aa**2) * (1 - cc**2))
    return {
        "a": aa,
        "b": bb,
        "c": cc,
        "kappa": sp.Rational(rng.randint(1, 300), rng.randint(1, 10)),
        "q": sp.Rational(rng.randint(5, 30), 10),
        "m": sp.Rational(rng.randint(-9, 9), 10),
        "rho": sp.Rational(rng.randint(-9, 9), 10),
        "r": sp.Rational(rng.randint(3, 30), 10),
    }


def max_abs_at_random(expr: sp.Expr, symbols: list[sp.Symbol], trials: int = 6) -> float:
    """``max |expr|`` over random admissible points, evaluated in mpmath at 40 digits."""
    rng = random.Random(2023)
    function = sp.lambdify(symbols, expr, modules=[mp_namespace(expr), "mpmath"])
    worst = mpmath.mpf(0)
    with mpmath.workdps(40):
        for _ in range(trials):
            point = random_state(rng)
            args = [mpmath.mpf(sp.N(point[s_.name], 50)) for s_ in symbols]
            worst = max(worst, abs(function(*args)))
    return float(worst)


def numerically_zero(expr: sp.Expr, symbols: list[sp.Symbol], trials: int = 4) -> bool:
    """True when ``|expr| <= 1e-25`` at ``trials`` random positive rational points."""
    rng = random.Random(12345)
    for _ in range(trials):
        point = {s_: sp.Rational(rng.randint(1, 400), rng.randint(1, 40)) for s_ in symbols}
        if abs(sp.N(expr.subs(point), 40)) > 1e-25:
            return False
    return True


def tidy(expr: sp.Expr, limit: int = 300) -> sp.Expr:
    """``simplify`` for expressions small enough that it is quick; others are left alone."""
    if expr.has(ScaledIntegral):  # simplify would evaluate the numeric integrals repeatedly
        return expr
    return sp.simplify(expr) if sp.count_ops(expr) <= limit else expr
