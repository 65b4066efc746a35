"""Exact ordinary differential equations for summary statistics of gradient flows.

An :class:`OdeSystem` is ``d state / dt = rhs(state; parameters)`` in sympy, with named
observables (such as the overlap ``<w, u>`` or the whitened overlap ``rho``), conserved
quantities, fixed points with their linear stability, and the :class:`Derivation` that
produced it.  ``featcheck.numerics.ode`` compiles and integrates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from featcheck.theory.derivation import Derivation


@dataclass(frozen=True)
class FixedPoint:
    """A state where the right-hand side vanishes exactly, with its linearisation.

    ``eigenvalues`` are those of the Jacobian there (sympy expressions in the parameters);
    the point is linearly stable when all are negative.  ``stability`` states it in words,
    possibly as a condition on the parameters (``condition``: stable iff it holds).
    """

    name: str
    location: dict[sp.Symbol, sp.Expr]
    eigenvalues: tuple[sp.Expr, ...]
    stability: str
    condition: sp.Basic | None = None

    def eigenvalues_at(self, values: dict[sp.Symbol, float]) -> list[float]:
        return [float(sp.N(e.subs(values))) for e in self.eigenvalues]

    def stable_at(self, values: dict[sp.Symbol, float]) -> bool | None:
        """True (stable), False (unstable) or None (a zero eigenvalue: not decided linearly)."""
        eig = self.eigenvalues_at(values)
        if any(e > 0 for e in eig):
            return False
        if all(e < 0 for e in eig):
            return True
        return None


@dataclass
class OdeSystem:
    """``d state/dt = rhs`` with parameters, observables, invariants and fixed points."""

    name: str
    state: tuple[sp.Symbol, ...]
    parameters: tuple[sp.Symbol, ...]
    rhs: tuple[sp.Expr, ...]
    derivation: Derivation
    observables: dict[str, sp.Expr] = field(default_factory=dict)
    invariants: dict[str, sp.Expr] = field(default_factory=dict)
    fixed_points: list[FixedPoint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.state) != len(self.rhs):
            raise ValueError("one right-hand side per state variable")

    @property
    def dimension(self) -> int:
        return len(self.state)

    def jacobian(self) -> sp.Matrix:
        return sp.Matrix(self.rhs).jacobian(sp.Matrix(self.state))

    def invariant_rates(self) -> dict[str, sp.Expr]:
        """``dI/dt = grad I . rhs`` for each invariant (zero for a true invariant)."""
        rates = {}
        for name, expr in self.invariants.items():
            rates[name] = sp.Add(
                *[sp.diff(expr, s) * r for s, r in zip(self.state, self.rhs, strict=True)]
            )
        return rates

    def with_parameters(self, values: dict[sp.Symbol, sp.Expr]) -> OdeSystem:
        """The same system with some parameters fixed (exact substitution)."""
        keep = tuple(p for p in self.parameters if p not in values)
        return OdeSystem(
            self.name,
            self.state,
            keep,
            tuple(r.subs(values) for r in self.rhs),
            self.derivation,
            {k: v.subs(values) for k, v in self.observables.items()},
            {k: v.subs(values) for k, v in self.invariants.items()},
            [
                FixedPoint(
                    fp.name,
                    {s: v.subs(values) for s, v in fp.location.items()},
                    tuple(e.subs(values) for e in fp.eigenvalues),
                    fp.stability,
                    None if fp.condition is None else fp.condition.subs(values),
                )
                for fp in self.fixed_points
            ],
            list(self.notes),
        )
