"""Compile an exact :class:`~featcheck.theory.dynamics.OdeSystem` once; integrate with solve_ivp.

``compile_system`` turns the sympy right-hand side, its Jacobian and the observables into
numpy functions (``sympy.lambdify`` with common-subexpression elimination).  Functions that
sympy cannot translate (a family's own ``sympy.Function`` subclasses, such as Gaussian
integrals without closed form) are supplied by the caller as a ``namespace`` of numpy
implementations; this module knows no family.  ``integrate`` runs
``scipy.integrate.solve_ivp`` with two events: the escape time (an observable, by
default the whitened overlap ``rho``, first reaching a level, default 1/2) and convergence
(the speed ``|d state/dt|`` falling below a tolerance, which stops the integration).
Callers add their own events (functions of ``(t, y)`` with solve_ivp's ``terminal`` and
``direction``); their times and states come back in the :class:`Trajectory`, with the
dense output of the solution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from featcheck.theory.dynamics import OdeSystem
from featcheck.theory.errors import DomainError


@dataclass(frozen=True)
class CompiledSystem:
    """Numpy callables ``rhs(y, p)``, ``jacobian(y, p)``, ``observable[name](y, p)``."""

    system: OdeSystem
    parameter_names: tuple[str, ...]
    _rhs: object
    _jac: object
    _observables: dict[str, object]

    def rhs(self, y: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
        """The right-hand side; ``y`` of shape ``(n,)`` or ``(n, k)`` (k states at once)."""
        shape = np.shape(y[0])
        with np.errstate(all="ignore"):  # non-finite values are reported by the caller
            values = self._rhs(*y, *p)
        if shape == ():  # one state (inside solve_ivp): skip the broadcasting
            try:
                out = np.array(values, dtype=float)
            except ValueError:
                out = None
            if out is not None and out.shape == (len(values),):
                return out
        out = np.array([np.broadcast_to(np.asarray(v, dtype=float), shape) for v in values])
        return out.reshape(-1) if shape == () else out

    def jacobian(self, y: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
        n = len(y)
        return np.asarray(self._jac(*y, *p), dtype=float).reshape(n, n)

    def observable(self, name: str, y: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
        value = self._observables[name](*y, *p)
        return np.broadcast_to(np.asarray(value, dtype=float), np.shape(y[0])).copy()

    def parameters(self, values: dict[str, float]) -> tuple[float, ...]:
        missing = [n for n in self.parameter_names if n not in values]
        if missing:
            raise DomainError(f"missing parameter(s) {', '.join(missing)} for {self.system.name}")
        return tuple(float(values[n]) for n in self.parameter_names)


_MODULES = [{"erf": __import__("scipy.special", fromlist=["erf"]).erf}, "numpy"]

Namespace = Mapping[str, Callable[..., object]]


def compile_system(system: OdeSystem, *, namespace: Namespace | None = None) -> CompiledSystem:
    """Lambdify the right-hand side, Jacobian and observables (once per system and namespace).

    ``namespace`` maps function names to numpy implementations; it is searched before
    numpy and scipy.  Every function in the expressions whose class is defined outside
    sympy needs an entry (otherwise :class:`DomainError` names the missing ones).
    """
    namespace = dict(namespace or {})
    cache = system.__dict__.setdefault("_compiled", {})
    key = frozenset(namespace.items())
    compiled = cache.get(key)
    if compiled is None:
        compiled = _compile(system, namespace)
        cache[key] = compiled
    return compiled


def unknown_functions(exprs: Iterable[sp.Basic], namespace: Namespace) -> list[str]:
    """Names of functions defined outside sympy that ``namespace`` does not implement
    (a function carrying its own implementation, sympy's ``_imp_``, needs none)."""
    names = set()
    for expr in exprs:
        for call in sp.sympify(expr).atoms(sp.Function):
            cls = type(call)
            own = getattr(cls, "_imp_", None) is not None
            if not (cls.__module__.startswith("sympy.") or own or cls.__name__ in namespace):
                names.add(cls.__name__)
    return sorted(names)


#: Integers beyond this become floats before compiling: numpy has no fixed-width type for
#: them, and a function of one (``sqrt(10**40)``) fails on a Python object array.
_BIG_INTEGER = 2**53


def _machine_numbers(expr: sp.Basic) -> sp.Basic:
    """``expr`` with every integer above :data:`_BIG_INTEGER` (numerators and denominators
    of rationals included) replaced by the nearest double, the precision it is computed in."""
    big = {
        n: sp.Float(float(n))
        for n in sp.sympify(expr).atoms(sp.Rational)
        if abs(n.p) > _BIG_INTEGER or n.q > _BIG_INTEGER
    }
    return expr.xreplace(big) if big else expr


def _compile(system: OdeSystem, namespace: dict[str, Callable[..., object]]) -> CompiledSystem:
    args = (*system.state, *system.parameters)
    jacobian = system.jacobian().applyfunc(_machine_numbers)
    exprs = [*system.rhs, *jacobian, *system.observables.values(), *system.invariants.values()]
    missing = unknown_functions(exprs, namespace)
    if missing:
        raise DomainError(
            f"{system.name} uses functions without a numeric implementation "
            f"({', '.join(missing)}): pass them to compile_system as namespace="
        )
    modules = [namespace, *_MODULES]
    rhs = sp.lambdify(args, [_machine_numbers(e) for e in system.rhs], modules=modules, cse=True)
    jac = sp.lambdify(args, jacobian.tolist(), modules=modules, cse=True)
    observables = {
        name: sp.lambdify(args, _machine_numbers(expr), modules=modules, cse=True)
        for name, expr in system.observables.items()
    }
    for name, expr in system.invariants.items():
        observables[f"invariant:{name}"] = sp.lambdify(
            args, _machine_numbers(expr), modules=modules, cse=True
        )
    names = tuple(str(p) for p in system.parameters)
    return CompiledSystem(system, names, rhs, jac, observables)


@dataclass
class Trajectory:
    """An integrated trajectory: times, states, observables and event times.

    ``event_times[i]`` and ``event_states[i]`` (shape ``(k, n)``) are the occurrences of
    the ``i``-th event passed to :func:`integrate` in ``events=``; ``dense`` is the
    solution's dense output (a callable of ``t``, values of shape ``(n,)`` or ``(n, k)``)
    when it was computed, else None.
    """

    t: np.ndarray
    y: np.ndarray
    observables: dict[str, np.ndarray] = field(default_factory=dict)
    escape_time: float | None = None
    converged_time: float | None = None
    message: str = ""
    event_times: list[np.ndarray] = field(default_factory=list)
    event_states: list[np.ndarray] = field(default_factory=list)
    dense: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def final(self) -> np.ndarray:
        return self.y[:, -1]

    def final_observable(self, name: str) -> float:
        return float(self.observables[name][-1])


def integrate(
    compiled: CompiledSystem,
    y0: np.ndarray | list[float],
    parameters: dict[str, float],
    t_max: float,
    *,
    escape_observable: str | None = "rho",
    escape_level: float = 0.5,
    convergence_tol: float | None = 1e-10,
    t_eval: np.ndarray | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-13,
    method: str = "LSODA",
    blowup: float = 1e6,
    events: Sequence[Callable[[float, np.ndarray], float]] = (),
    dense_output: bool | None = None,
) -> Trajectory:
    """Integrate from ``y0`` to ``t_max`` (or convergence); raise ``DomainError`` on blow-up.

    ``method``, ``rtol`` and ``atol`` go to ``solve_ivp`` (the exact Jacobian is passed to
    the methods that use one: Radau, BDF, LSODA).  ``events`` are further event functions
    of ``(t, y)``, with solve_ivp's optional attributes ``terminal`` and ``direction``;
    their times and states are ``Trajectory.event_times`` and ``event_states``, in order.
    ``dense_output`` (default: when ``t_eval`` is None) keeps the solution's dense output
    as ``Trajectory.dense``.  Set ``escape_observable`` and ``convergence_tol`` to None and
    ``blowup`` to ``inf`` to integrate with the caller's events only.
    """
    if not np.isfinite(t_max) or t_max <= 0:
        raise DomainError(f"the integration time must be positive and finite, got {t_max}")
    p = compiled.parameters(parameters)
    y0 = np.asarray(y0, dtype=float)

    def rhs(_t, y):
        return compiled.rhs(y, p)

    def jac(_t, y):
        return compiled.jacobian(y, p)

    def speed(_t, y):
        v = np.abs(rhs(_t, y)).max()
        return np.log(v + 1e-300) - np.log(convergence_tol)

    speed.terminal, speed.direction = True, -1

    def too_large(_t, y):
        return blowup - np.abs(y).max()

    too_large.terminal = True
    extra = list(events)
    builtin = [speed if convergence_tol is not None else _never, too_large]
    if escape_observable is not None:

        def escape(_t, y):
            return compiled.observable(escape_observable, y, p) - escape_level

        escape.direction = 1
        builtin.append(escape)
    if dense_output is None:
        dense_output = t_eval is None
    options = {"jac": jac} if method in _USES_JACOBIAN else {}
    start = rhs(0.0, y0)
    if not np.all(np.isfinite(start)):
        raise DomainError(f"the right-hand side is not finite at the start {y0.tolist()}")
    if convergence_tol is not None and np.abs(start).max() < convergence_tol:
        t, y = np.array([0.0, t_max]), np.stack([y0, y0], axis=1)
        trajectory = Trajectory(t, y, converged_time=0.0, message="started at a fixed point")
        trajectory.event_times = [np.empty(0) for _ in extra]
        trajectory.event_states = [np.empty((0, len(y0))) for _ in extra]
        if dense_output:
            trajectory.dense = _constant(y0)
        return _with_observables(compiled, trajectory, p, escape_observable, escape_level)
    solution = solve_ivp(
        rhs,
        (0.0, float(t_max)),
        y0,
        method=method,
        rtol=rtol,
        atol=atol,
        events=builtin + extra,
        t_eval=t_eval,
        dense_output=dense_output,
        **options,
    )
    if solution.status < 0 or not np.all(np.isfinite(solution.y)):
        raise DomainError(f"the flow could not be integrated: {solution.message}")
    if len(solution.t_events[1]):
        raise DomainError(
            f"the flow blows up (a state exceeds {blowup:g} at t = {solution.t_events[1][0]:.4g})"
        )
    t, y = solution.t, solution.y
    converged = len(solution.t_events[0]) > 0
    if t_eval is not None and len(t) < len(t_eval) and converged:  # a fixed point: it stays
        y = np.concatenate([y, np.repeat(y[:, -1:], len(t_eval) - len(t), axis=1)], axis=1)
        t = np.asarray(t_eval, dtype=float)
    if t_eval is None and solution.sol is not None and len(t) < 400:
        grid = np.unique(np.concatenate([t, np.geomspace(max(t[1], 1e-6), t[-1], 400)]))
        t, y = grid, solution.sol(grid)
    trajectory = Trajectory(t, y, message=solution.message, dense=solution.sol)
    first = len(builtin)
    trajectory.event_times = [np.asarray(e, dtype=float) for e in solution.t_events[first:]]
    trajectory.event_states = [
        np.asarray(e, dtype=float).reshape(-1, len(y0)) for e in solution.y_events[first:]
    ]
    if converged:
        trajectory.converged_time = float(solution.t_events[0][0])
    if escape_observable is not None and len(solution.t_events[2]):
        trajectory.escape_time = float(solution.t_events[2][0])
    return _with_observables(compiled, trajectory, p, escape_observable, escape_level)


def _with_observables(compiled, trajectory, p, escape_observable, escape_level):
    for name in compiled._observables:
        trajectory.observables[name] = compiled.observable(name, trajectory.y, p)
    if escape_observable is not None and trajectory.escape_time is None:
        values = trajectory.observables[escape_observable]
        if values[0] >= escape_level:
            trajectory.escape_time = 0.0
    return trajectory


def _never(_t, _y):
    return 1.0


#: ``solve_ivp`` methods that take the Jacobian (the others warn when given one)
_USES_JACOBIAN = ("Radau", "BDF", "LSODA")


def _constant(y0: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The dense output of a solution that stays at ``y0``."""

    def value(t):
        return np.multiply.outer(y0, np.ones(np.shape(t)))

    return value


@dataclass(frozen=True)
class NumericFixedPoint:
    location: float
    slope: float
    stable: bool


def fixed_points_1d(
    compiled: CompiledSystem,
    parameters: dict[str, float],
    lo: float = -1.0,
    hi: float = 1.0,
    grid: int = 4001,
) -> list[NumericFixedPoint]:
    """Zeros of a one-variable right-hand side on ``[lo, hi]`` and their stability.

    Exact zeros at grid points are kept; sign changes are refined with ``brentq``.
    Stability is the sign of the derivative there (zero slope: reported unstable).
    """
    if compiled.system.dimension != 1:
        raise DomainError("fixed_points_1d needs a one-variable system")
    p = compiled.parameters(parameters)
    xs = np.linspace(lo, hi, grid)
    fs = compiled.rhs(np.array([xs]), p)[0]
    scale = max(np.abs(fs).max(), 1e-300)
    roots: list[float] = []
    for i in range(grid):
        if abs(fs[i]) <= 1e-13 * scale:
            roots.append(xs[i])
        elif i + 1 < grid and fs[i] * fs[i + 1] < 0 and abs(fs[i + 1]) > 1e-13 * scale:
            roots.append(
                brentq(lambda x: compiled.rhs(np.array([x]), p)[0], xs[i], xs[i + 1], xtol=1e-14)
            )
    merged: list[float] = []
    for x in sorted(roots):
        if not merged or x - merged[-1] > 1e-9:
            merged.append(x)
    points = []
    for x in merged:
        slope = float(compiled.jacobian(np.array([x]), p)[0, 0])
        points.append(NumericFixedPoint(float(x), slope, slope < 0))
    return points


@dataclass(frozen=True)
class NumericFixedPoint2:
    """A zero of a two-variable right-hand side with the Jacobian's eigenvalues there.

    ``on_curve``: the zero is not isolated (root finding from a point displaced along the
    Jacobian's null direction lands on another zero), so it lies on a curve of fixed points.
    """

    location: tuple[float, float]
    eigenvalues: tuple[complex, ...]
    on_curve: bool = False

    @property
    def leading(self) -> float:
        """The largest real part of the eigenvalues."""
        return float(max(e.real for e in self.eigenvalues))

    @property
    def stability(self) -> str:
        """``stable``, ``unstable`` or ``degenerate`` (a zero eigenvalue, none positive)."""
        scale = max(1.0, max(abs(e) for e in self.eigenvalues))
        if self.leading > ZERO_EIGENVALUE * scale:
            return "unstable"
        if self.leading < -ZERO_EIGENVALUE * scale:
            return "stable"
        return "degenerate"


ZERO_EIGENVALUE = 1e-8


def fixed_points_sphere(
    compiled: CompiledSystem,
    parameters: dict[str, float],
    c: float,
    starts: int = 13,
    tol: float = 1e-11,
) -> list[NumericFixedPoint2]:
    """Zeros of an ``(a, b)`` right-hand side on the admissible set of a unit ``w``.

    ``(a, b) = (<w, theta>, <w, u>)`` is admissible iff the Gram matrix of ``(w, theta, u)``
    is positive semi-definite, that is ``b = c a + t sqrt((1 - a^2)(1 - c^2))`` with
    ``|a|, |t| <= 1``.  Root finding (``scipy.optimize.root``, hybrid method, exact Jacobian)
    from a ``starts x starts`` grid in ``(a, t)``; a zero is kept when ``|rhs| < tol`` (relative
    to the largest ``|rhs|`` on the grid) and it is admissible; duplicates within ``1e-7``
    are merged.  Numeric: zeros that no start reaches are missed.
    """
    from scipy.optimize import root

    if compiled.system.dimension != 2:
        raise DomainError("fixed_points_sphere needs an (a, b) system")
    if abs(c) >= 1:
        raise DomainError("with |c| = 1 the admissible set is the segment b = c a")
    p = compiled.parameters(parameters)
    s = np.sqrt(1 - c * c)
    grid = np.linspace(-1, 1, starts)
    aa, tt = np.meshgrid(grid, grid, indexing="ij")
    bb = c * aa + tt * np.sqrt(1 - aa**2) * s
    values = compiled.rhs(np.array([aa.ravel(), bb.ravel()]), p)
    scale = max(float(np.nanmax(np.abs(values))), 1e-300)

    def solve(y0: np.ndarray) -> np.ndarray | None:
        solution = root(
            lambda y: compiled.rhs(y, p),
            y0,
            jac=lambda y: compiled.jacobian(y, p),
            method="hybr",
            options={"xtol": 1e-14},
        )
        y = solution.x
        if not np.all(np.isfinite(y)) or np.abs(compiled.rhs(y, p)).max() > tol * scale:
            return None
        gram = 1 - y[0] ** 2 - y[1] ** 2 - c * c + 2 * y[0] * y[1] * c
        return y if gram >= -1e-9 and abs(y[0]) <= 1 + 1e-9 else None

    found: list[np.ndarray] = []
    for a0, b0 in zip(aa.ravel(), bb.ravel(), strict=True):
        y = solve(np.array([a0, b0]))
        if y is not None and not any(np.abs(y - x).max() < 1e-7 for x in found):
            found.append(y)
    points = []
    for y in sorted(found, key=lambda v: (round(v[1], 9), round(v[0], 9))):
        jac = compiled.jacobian(y, p)
        eig, vectors = np.linalg.eig(jac)
        on_curve = False
        small = int(np.argmin(np.abs(eig)))
        if abs(eig[small]) <= ZERO_EIGENVALUE * max(1.0, np.abs(eig).max()):
            direction = np.real(vectors[:, small])
            for sign in (1, -1):
                other = solve(y + sign * 0.05 * direction)
                if other is not None and np.abs(other - y).max() > 0.02:
                    on_curve = True
        points.append(
            NumericFixedPoint2((float(y[0]), float(y[1])), tuple(complex(e) for e in eig), on_curve)
        )
    return points
