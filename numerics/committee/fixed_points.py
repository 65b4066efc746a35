"""Fixed points of a committee model's overlap ODE: symmetric (plateaus) and the teacher.

Symmetric fixed points are zeros of the reduced right-hand side on the symmetric subspace
(:func:`featcheck.theory.committee.plateaus.symmetric_subspace`), found by
``scipy.optimize.root`` (Levenberg-Marquardt, then the hybrid method) from a grid of starts
(outside the admissible overlaps, where the right-hand side is not finite, a large constant
pushes the iteration back); a zero is kept when the
reduced right-hand side is below ``1e-11`` (relative to its largest value on the grid) and
the embedded overlaps are admissible (``[[Q, M], [M^T, P]]`` positive semi-definite).  Their
stability comes from the eigenvalues of the Jacobian of the *full* system there (directions
that break the symmetry included); the largest positive one is the predicted escape rate.
Numeric: zeros that no start reaches are missed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import root

from featcheck.numerics.jsonable import JsonResult, plain
from featcheck.numerics.ode import CompiledSystem, compile_system
from featcheck.theory.committee.overlap_ode import CommitteeOde
from featcheck.theory.committee.plateaus import symmetric_subspace, teacher_state

ZERO_EIGENVALUE = 1e-7
RESIDUAL = 1e-11


@dataclass(frozen=True)
class FixedPointReport(JsonResult):
    """A fixed point: its overlaps, generalisation error, Jacobian eigenvalues, stability."""

    kind: str
    Q: list
    M: list
    a: list | None
    generalization_error: float
    eigenvalues: tuple[complex, ...]
    stability: str
    escape_rate: float | None
    S: list | None = None

    def to_json(self) -> dict:
        values = [
            float(e.real) if abs(e.imag) <= 1e-12 * max(1.0, abs(e)) else [e.real, e.imag]
            for e in self.eigenvalues
        ]
        out = {
            "kind": self.kind,
            "Q": plain(self.Q),
            "M": plain(self.M),
            "generalization_error": self.generalization_error,
            "eigenvalues": plain(values),
            "stability": self.stability,
            "escape_rate": self.escape_rate,
        }
        if self.a is not None:
            out["a"] = plain(self.a)
        if self.S is not None:
            out["S"] = plain(self.S)
        return out

    def state(self, K: int) -> np.ndarray:
        rows, cols = np.triu_indices(K)
        parts = [np.asarray(self.Q)[rows, cols], np.asarray(self.M).ravel()]
        if self.S is not None:
            parts.append(np.asarray(self.S).ravel())
        if self.a is not None:
            parts.append(np.asarray(self.a))
        return np.concatenate(parts)

    def describe(self) -> str:
        rate = f", escape rate {self.escape_rate:.4g}" if self.escape_rate else ""
        leading = max(e.real for e in self.eigenvalues)
        return (
            f"{self.kind}: eps_g = {self.generalization_error:.6g}, {self.stability} "
            f"(leading eigenvalue {leading:.4g}{rate})"
        )


def non_negative(values, tolerance: float = 1e-12):
    """A generalisation error with rounding below zero (down to ``-tolerance``) set to 0."""
    array = np.asarray(values, dtype=float)
    cleaned = np.where((array < 0) & (array > -tolerance), 0.0, array)
    return float(cleaned) if cleaned.ndim == 0 else cleaned


def unpack(
    state: np.ndarray, K: int, M: int, trained: bool, R: int = 0
) -> tuple[list, list, list | None]:
    """``Q``, ``M`` (and ``a``) as nested lists from an ODE state vector (``R`` spikes:
    the ``S`` block, :func:`unpack_spike`, sits between ``M`` and ``a``)."""
    rows, cols = np.triu_indices(K)
    count = len(rows)
    Q = np.zeros((K, K))
    Q[rows, cols] = state[:count]
    Q[cols, rows] = state[:count]
    Mm = np.asarray(state[count : count + K * M]).reshape(K, M)
    a = list(map(float, state[count + K * M + K * R :])) if trained else None
    return Q.tolist(), Mm.tolist(), a


def unpack_spike(state: np.ndarray, K: int, M: int, R: int) -> list:
    """``S = W Theta^T`` (K x R) as nested lists from an ODE state vector."""
    start = K * (K + 1) // 2 + K * M
    return np.asarray(state[start : start + K * R]).reshape(K, R).tolist()


def _admissible(ode: CommitteeOde, state: np.ndarray) -> bool:
    K, M = ode.model.K, ode.model.M
    Q, Mm, _ = unpack(state, K, M, ode.model.student.trained, ode.model.R)
    P = np.array([[float(v) for v in row] for row in ode.model.teacher.overlaps])
    omega = np.block([[np.array(Q), np.array(Mm)], [np.array(Mm).T, P]])
    scale = max(1.0, np.abs(omega).max())
    return bool(np.linalg.eigvalsh(omega).min() >= -1e-9 * scale)


def _report(
    ode: CommitteeOde, compiled: CompiledSystem, kind: str, state: np.ndarray, p: tuple
) -> FixedPointReport:
    jacobian = compiled.jacobian(state, p)
    eigenvalues = np.linalg.eigvals(jacobian)
    order = np.argsort(-eigenvalues.real)
    eigenvalues = eigenvalues[order]
    scale = max(1.0, float(np.abs(eigenvalues).max()))
    leading = float(eigenvalues[0].real)
    if leading > ZERO_EIGENVALUE * scale:
        stability = "unstable"
    elif leading < -ZERO_EIGENVALUE * scale:
        stability = "stable"
    else:
        stability = "degenerate"
    error = non_negative(float(compiled.observable("generalization_error", state, p)))
    K, M, R = ode.model.K, ode.model.M, ode.model.R
    Q, Mm, a = unpack(state, K, M, ode.model.student.trained, R)
    return FixedPointReport(
        kind,
        Q,
        Mm,
        a,
        error,
        tuple(complex(e) for e in eigenvalues),
        stability,
        leading if stability == "unstable" else None,
        unpack_spike(state, K, M, R) if R else None,
    )


def find_fixed_points(ode: CommitteeOde) -> tuple[list[FixedPointReport], str]:
    """Symmetric fixed points and the teacher fixed point, with a note on the method."""
    compiled = compile_system(ode.system)
    p = compiled.parameters(ode.parameter_values)
    reports: list[FixedPointReport] = []
    notes = []
    subspace = symmetric_subspace(ode)
    if subspace is None:
        notes.append(
            "no symmetric subspace (the teacher is not a committee of interchangeable units, "
            "or the second-layer weights differ)"
        )
    else:
        reduced = compile_system(subspace.system)
        for location in _symmetric_zeros(ode, subspace, reduced, p):
            state = np.array([float(v) for v in subspace.embed(tuple(location))])
            reports.append(_report(ode, compiled, "symmetric", state, p))
        notes.append(
            "symmetric fixed points: scipy.optimize.root (Levenberg-Marquardt, then hybrid) from "
            "a grid of starts on the subspace Q_kk = q (1 on the sphere), Q_kl = c, M_km = r; "
            "stability from the eigenvalues of the full Jacobian (central differences); zeros "
            "no start reaches are missed"
        )
    teacher = teacher_state(ode)
    if teacher is not None:
        state = np.array([float(v) for v in teacher])
        residual = np.abs(compiled.rhs(state, p)).max()
        if residual < 1e-9:
            reports.append(_report(ode, compiled, "teacher", state, p))
    return reports, "; ".join(notes)


def _symmetric_zeros(ode, subspace, reduced: CompiledSystem, p: tuple) -> list[np.ndarray]:
    P = ode.model.teacher.overlaps
    p_diag = float(P[0][0])
    variables = [str(v) for v in subspace.variables]
    grids = {
        "q": p_diag * np.array([0.05, 0.3, 1.0, 3.0]),
        "c": p_diag * np.array([-0.2, 0.1, 0.6]),
        "r": np.sqrt(p_diag) * np.array([-0.5, 0.1, 0.5, 1.0]),
        "a": np.array([float(ode.model.student.second_layer[0]), 1.0]),
    }
    starts = [np.array(v) for v in itertools.product(*[grids[name] for name in variables])]
    values = np.array([reduced.rhs(s, p) for s in starts])
    scale = max(float(np.nanmax(np.abs(values))), 1e-300)
    found: list[np.ndarray] = []

    def f(y: np.ndarray) -> np.ndarray:
        value = reduced.rhs(y, p)  # not finite outside the admissible overlaps: push back
        return value if np.all(np.isfinite(value)) else np.full_like(value, 1e3)

    for start in starts:
        for method in ("lm", "hybr"):
            with np.errstate(all="ignore"):
                y = root(f, start, method=method, options={"xtol": 1e-14}).x
            residual = np.abs(reduced.rhs(y, p)).max() if np.all(np.isfinite(y)) else np.inf
            if residual <= RESIDUAL * scale and (variables[0] != "q" or y[0] > 0):
                break
        else:
            continue
        state = np.array([float(v) for v in subspace.embed(tuple(y))])
        if not _admissible(ode, state):
            continue
        if not any(np.abs(y - x).max() < 1e-7 for x in found):
            found.append(y)
    return sorted(found, key=lambda v: tuple(np.round(v, 9)))
