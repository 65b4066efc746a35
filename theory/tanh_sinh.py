"""High-precision Gaussian integrals of many integrands sharing one costly factor.

``E[f(Z) g_j(Z)]`` for ``j = 0..J`` is computed with mpmath's tanh-sinh rule,
evaluating ``f`` once per node and all ``g_j`` together (the Hermite
polynomials come from their three-term recurrence).  The line is split at the
given breakpoints, so kinks and jumps of ``f`` sit at interval ends where the
rule converges doubly exponentially.

Error estimate: the rule is run at levels ``m = 1, 2, ...`` that halve the step;
the reported error of level ``m`` is ``|I_m - I_{m-1}|`` (the rule converges
quadratically, so this over-estimates the error of ``I_m``) plus the rounding
error ``2^(-p) sum |w_i f(x_i) g_j(x_i)|`` at working precision ``p``.  When the
levels run out before the change falls below the target (an integrand the nodes
do not resolve, such as ``sin(1000 z) tanh(z)``), that change certifies nothing,
and the error becomes ``|I_m| + sum |w_i f(x_i) g_j(x_i)|``: the value is then
only known to be of that size, and the caller sees an uncertain coefficient.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import mpmath
from mpmath.calculus.quadrature import TanhSinh

Vector = Callable[[mpmath.mpf], Sequence[mpmath.mpf]]


def _intervals(breakpoints: Sequence[mpmath.mpf], half_line: bool) -> list[tuple]:
    points = sorted(set(breakpoints))
    if half_line:
        points = [p for p in points if p > 0]
        cuts = [mpmath.mpf(0), *points, mpmath.inf]
    else:
        if not points:
            points = [mpmath.mpf(0)]
        cuts = [mpmath.ninf, *points, mpmath.inf]
    return list(itertools.pairwise(cuts))


def gaussian_integrals(
    integrand: Vector,
    size: int,
    *,
    digits: int,
    breakpoints: Sequence[mpmath.mpf] = (),
    half_line: bool = False,
    max_level: int | None = None,
) -> tuple[list[mpmath.mpf], list[mpmath.mpf]]:
    """Integrals of the ``size`` components of ``integrand(x)`` times the N(0,1) density.

    With ``half_line`` the integral runs over ``[0, inf)`` only.  Returns the
    values and their error estimates at the current mpmath precision context.
    ``digits`` is the target absolute accuracy; the rule refines until every
    component meets it or ``max_level`` is reached (the error then says so).
    """
    tolerance = mpmath.mpf(10) ** (-digits)
    prec = mpmath.mp.prec
    rule = TanhSinh(mpmath.mp)
    levels = max_level or rule.guess_degree(prec) + 2
    norm = 1 / mpmath.sqrt(2 * mpmath.pi)
    totals = [mpmath.mpf(0)] * size
    errors = [mpmath.mpf(0)] * size
    for a, b in _intervals(breakpoints, half_line):
        previous: list[mpmath.mpf] | None = None
        magnitude = [mpmath.mpf(0)] * size
        converged = False
        for level in range(1, levels + 1):
            step = mpmath.ldexp(1, -level)
            partial = [mpmath.mpf(0)] * size
            absolute = [mpmath.mpf(0)] * size
            for x, w in rule.get_nodes(a, b, level, prec):
                weight = w * mpmath.exp(-x * x / 2)
                if weight == 0:
                    continue
                for j, value in enumerate(integrand(x)):
                    term = weight * value
                    partial[j] += term
                    absolute[j] += abs(term)
            for j in range(size):
                magnitude[j] += absolute[j] * step
            if previous is None:
                current = [step * s for s in partial]
            else:
                current = [step * s + p / 2 for s, p in zip(partial, previous, strict=True)]
            if previous is not None:
                change = [abs(c - p) for c, p in zip(current, previous, strict=True)]
                if level >= 3 and max(change) * norm < tolerance:
                    converged = True
                    break
            else:
                change = [abs(c) for c in current]
            previous = current
        else:
            current = previous
        rounding = [m * mpmath.ldexp(1, -prec + 4) for m in magnitude]
        if not converged:
            # The rule did not settle: successive levels can agree by accident (an
            # oscillation finer than the nodes), so |I_m - I_(m-1)| certifies nothing.
            # Fall back to the bound |I| <= integral of |f g|, estimated at the last
            # level, plus the value itself.
            last = mpmath.ldexp(1, -level)
            change = [
                max(c, abs(v) + m * last) for c, v, m in zip(change, current, absolute, strict=True)
            ]
        for j in range(size):
            totals[j] += current[j] * norm
            errors[j] += (change[j] + rounding[j]) * norm
    return totals, errors


def hermite_vector(degree: int) -> Vector:
    """``x -> [He_0(x), ..., He_K(x)]`` by the three-term recurrence."""

    def values(x: mpmath.mpf) -> list[mpmath.mpf]:
        out = [mpmath.mpf(1), x]
        for k in range(1, degree):
            out.append(x * out[k] - k * out[k - 1])
        return out[: degree + 1]

    return values
