"""Fixed points of a committee model's overlap ODE: symmetric (plateaus), the teacher, and
those the integrated trajectory slows down near.

Symmetric fixed points are zeros of the reduced right-hand side on the symmetric subspace
(:func:`featcheck.theory.committee.plateaus.symmetric_subspace`; isotropic models with
interchangeable units), found by ``scipy.optimize.root`` (Levenberg-Marquardt, then the hybrid
method) from a grid of starts (outside the admissible overlaps, where the right-hand side is
not finite, a large constant pushes the iteration back); a zero is kept when the reduced
right-hand side is below ``1e-11`` (relative to its largest value on the grid) and the
embedded overlaps are admissible.  These include plateaus no trajectory visits.

Every model, spiked or not and for every learner variant, gets a general search
(:func:`find_fixed_points`): the teacher configurations of
:func:`~featcheck.theory.committee.plateaus.teacher_candidates` tested by their residual, and
Newton-type root finding (hybrid, then Levenberg-Marquardt, with the Jacobian) on the full
system from the slow points of the trajectory (:func:`slow_points`: the local minima of
``|d state/dt|`` at up to :data:`SPEED_POINTS` of its states, and the end point).  A zero is
kept when ``max|f|`` is at most ``1e-10`` of its largest value at those states and the Gram
matrix of ``(W, U, Theta)`` is positive semi-definite (:func:`admissible`); coinciding zeros
are merged.  Coordinates that do not move
(``Q_kk = 1`` of the spherical variants) are held fixed and left out of the root finding and
of the Jacobian, which would otherwise have a spurious zero eigenvalue for each.

Stability comes from the eigenvalues of the Jacobian (central differences of the right-hand
side; directions that break the symmetry included) in the free coordinates: ``unstable``
when the leading real part exceeds ``1e-7`` of the largest modulus, ``stable`` when it is
below minus that, ``degenerate`` otherwise; the largest positive one is the predicted escape
rate.  Where the Gram matrix is singular and the expectations are numeric, the Jacobian is
fitted to one-sided differences along admissible moves instead (:func:`boundary_jacobian`),
and real parts within the fit's spread over two steps count as zero.  Numeric: zeros that no
start reaches are missed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import root
from scipy.signal import argrelmin

from featcheck.numerics.committee.certified import certify_state
from featcheck.numerics.jsonable import JsonResult, plain
from featcheck.numerics.ode import CompiledSystem, compile_system
from featcheck.theory.committee.overlap_ode import CommitteeOde
from featcheck.theory.committee.plateaus import symmetric_subspace, teacher_candidates

ZERO_EIGENVALUE = 1e-7
RESIDUAL = 1e-11
GENERAL_RESIDUAL = 1e-10
#: A residual above the tolerance is checked against the certified evaluation error of the
#: quadrature when it is below this multiple of the tolerance; the certificates aim at
#: ``CERTIFIED_TOLERANCE`` per integral.
CERTIFIED_WINDOW = 1e6
CERTIFIED_TOLERANCE = 1e-10
ADMISSIBLE = 1e-9
SAME = 1e-7
ZERO_ERROR = 1e-12
SEED_DISTANCE = 1e-3
NEWTON_STEPS = 10
#: Overlaps beyond this multiple of the teacher's largest overlap (at least 1) are a point at
#: infinity, not a fixed point: the right-hand sides of saturating activations (erf, tanh)
#: decay there, and a root finder that wanders off ends below any residual tolerance.
MAX_OVERLAP = 1e6


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

    def state(self) -> np.ndarray:
        return pack(self.Q, self.M, self.S, self.a)

    def describe(self) -> str:
        rate = f", escape rate {self.escape_rate:.4g}" if self.escape_rate else ""
        leading = max(e.real for e in self.eigenvalues)
        if self.stability == "degenerate":
            leading = 0.0  # below ZERO_EIGENVALUE of the largest: rounding, not a rate
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


def gram(ode: CommitteeOde, state: np.ndarray) -> np.ndarray:
    """The Gram matrix ``[[Q, M, S], [M^T, P, T], [S^T, T^T, I]]`` of ``(W, U, Theta)`` at
    ``state`` (``[[Q, M], [M^T, P]]`` for isotropic data)."""
    model = ode.model
    K, M, R = model.K, model.M, model.R
    Q, Mm, _ = unpack(state, K, M, model.student.trained, R)
    P = np.array([[float(v) for v in row] for row in model.teacher.overlaps])
    blocks = [[np.array(Q), np.array(Mm)], [np.array(Mm).T, P]]
    if R:
        S = np.array(unpack_spike(state, K, M, R))
        T = np.array([[float(v) for v in row] for row in model.teacher.spike_overlaps])
        blocks[0].append(S)
        blocks[1].append(T)
        blocks.append([S.T, T.T, np.eye(R)])
    return np.block(blocks)


def admissible(ode: CommitteeOde, state: np.ndarray) -> bool:
    """True when the overlaps at ``state`` are those of actual vectors: the Gram matrix
    (:func:`gram`) positive semi-definite up to ``1e-9`` of its largest entry, and finite:
    no entry beyond :data:`MAX_OVERLAP` times the teacher's largest overlap."""
    if not np.all(np.isfinite(state)):
        return False
    omega = gram(ode, state)
    P = np.array([[float(v) for v in row] for row in ode.model.teacher.overlaps])
    if np.abs(omega).max() > MAX_OVERLAP * max(1.0, float(np.abs(P).max())):
        return False
    scale = max(1.0, np.abs(omega).max())
    return bool(np.linalg.eigvalsh(omega).min() >= -ADMISSIBLE * scale)


def free_coordinates(ode: CommitteeOde) -> np.ndarray:
    """Indices of the state coordinates that move: all but those whose right-hand side is
    identically zero, and ``Q_kk`` for the spherical variants (their right-hand side vanishes
    on the sphere, whether or not sympy cancels it to zero)."""
    cached = ode.__dict__.get("_free_coordinates")
    if cached is not None:
        return cached
    model = ode.model
    fixed = set()
    if model.learner.spherical:
        pairs = zip(*np.triu_indices(model.K), strict=True)
        fixed = {i for i, (k, j) in enumerate(pairs) if k == j}
    rhs = ode.system.rhs
    free = np.array([i for i, r in enumerate(rhs) if i not in fixed and sp.sympify(r) != 0])
    ode.__dict__["_free_coordinates"] = free
    return free


def pack(Q, M, S=None, a=None) -> np.ndarray:
    """The ODE state vector of the overlaps (the order of ``ode.system.state``: the upper
    triangle of ``Q``, then ``M``, ``S`` and ``a``, each when given); :func:`unpack` reads
    it back."""
    Q = np.asarray(Q, dtype=float)
    rows, cols = np.triu_indices(len(Q))
    parts = [Q[rows, cols], np.asarray(M, dtype=float).ravel()]
    parts += [np.asarray(v, dtype=float).ravel() for v in (S, a) if v is not None]
    return np.concatenate(parts)


def boundary_jacobian(
    ode: CommitteeOde, compiled: CompiledSystem, p: tuple, state: np.ndarray, step: float
) -> np.ndarray:
    """The Jacobian in the free coordinates at ``state`` from one-sided differences along
    admissible directions: vectors with the Gram matrix of ``state`` (:func:`gram`,
    ``G = V V^T``, with ``K`` spare dimensions) and ``W -> W + step A + sqrt(step) B`` for
    random ``A`` in the span of the vectors and ``B`` out of it (``Q`` then moves by
    ``step B B^T``; rows renormalised on the sphere; ``a -> a + step b`` when trained), ``J``
    the least-squares fit of ``(f(x') - f(x)) / step`` to ``(x' - x) / step`` over three
    directions per free coordinate.  Where the Gram matrix is singular (a student unit at its
    teacher, two equal units) a step of a single overlap can leave the admissible set, on the
    far side of which a numeric expectation is not the continuation of the one inside; these
    directions stay inside."""
    model = ode.model
    K, M = model.K, model.M
    values, vectors = np.linalg.eigh(gram(ode, state))
    V = np.hstack([vectors * np.sqrt(np.clip(values, 0.0, None)), np.zeros((len(values), K))])
    W, U, Theta = V[:K], V[K : K + M], V[K + M :]
    # moves within the span of the vectors scale like step, out of it like sqrt(step): both
    # change the overlaps to first order in step
    outside = np.concatenate([values <= ADMISSIBLE * max(1.0, values.max()), np.ones(K, bool)])
    scales = np.where(outside, math.sqrt(step), step)
    _, _, a = unpack(state, K, M, model.student.trained, model.R)
    norms = np.linalg.norm(W, axis=1)
    free = free_coordinates(ode)
    f0 = compiled.rhs(state, p)[free]
    rng = np.random.default_rng(0)
    moves, changes = [], []
    for _ in range(3 * len(free)):
        moved = W + scales * rng.normal(size=W.shape)
        if model.learner.spherical:
            moved *= (norms / np.linalg.norm(moved, axis=1))[:, None]
        b = None if a is None else np.asarray(a) + step * rng.normal(size=K)
        x = pack(moved @ moved.T, moved @ U.T, moved @ Theta.T if model.R else None, b)
        moves.append((x - state)[free] / step)
        changes.append((compiled.rhs(x, p)[free] - f0) / step)
    return np.array(changes).T @ np.linalg.pinv(np.array(moves).T)


#: One-sided differences at a boundary state (:func:`boundary_jacobian`) with steps ``h`` and
#: ``h/2``: the estimate is ``2 J(h/2) - J(h)`` and the eigenvalues count as zero within the
#: largest entry of ``|J(h/2) - J(h)|``.
BOUNDARY_STEP = 1e-3


def _stability(
    ode: CommitteeOde, compiled: CompiledSystem, state: np.ndarray, p: tuple
) -> tuple[np.ndarray, float]:
    """Eigenvalues of the Jacobian in the free coordinates (largest real part first) and
    the size below which a real part counts as zero."""
    free = free_coordinates(ode)
    omega = gram(ode, state)
    boundary = np.linalg.eigvalsh(omega).min() <= ADMISSIBLE * max(1.0, np.abs(omega).max())
    if ode.exact or not boundary:
        jacobian = compiled.jacobian(state, p)[np.ix_(free, free)]
        spread = 0.0
    else:
        coarse = boundary_jacobian(ode, compiled, p, state, BOUNDARY_STEP)
        fine = boundary_jacobian(ode, compiled, p, state, BOUNDARY_STEP / 2)
        jacobian = 2 * fine - coarse
        spread = float(np.abs(fine - coarse).max())
    eigenvalues = np.linalg.eigvals(jacobian)
    eigenvalues = eigenvalues[np.argsort(-eigenvalues.real)]
    scale = max(1.0, float(np.abs(eigenvalues).max()))
    return eigenvalues, max(ZERO_EIGENVALUE * scale, spread)


def _report(
    ode: CommitteeOde, compiled: CompiledSystem, kind: str, state: np.ndarray, p: tuple
) -> FixedPointReport:
    eigenvalues, zero = _stability(ode, compiled, state, p)
    leading = float(eigenvalues[0].real)
    if leading > zero:
        stability = "unstable"
    elif leading < -zero:
        stability = "stable"
    else:
        stability = "degenerate"
    error = non_negative(float(compiled.observable("generalization_error", state, p)))
    initial = float(compiled.observable("generalization_error", _initial(ode), p))
    if abs(error) <= ZERO_ERROR * max(abs(initial), 1e-300):
        error = 0.0  # rounding of an exact zero (a normalized teacher, say)
    elif error < 0 and not ode.exact:
        # quadrature error: below zero by no more than the certified bound means zero
        bound = certify_state(
            ode, state, tolerance=CERTIFIED_TOLERANCE, orthants=False
        ).generalization_error
        error = 0.0 if math.isfinite(bound) and -error <= bound else error
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


def find_fixed_points(
    ode: CommitteeOde,
    trajectory: np.ndarray | None = None,
    *,
    seeds: Sequence = (),
    symmetric: bool = True,
) -> tuple[list[FixedPointReport], str]:
    """Fixed points of the overlap ODE, with a note on how they were found.

    * ``symmetric``: zeros on the symmetric subspace (isotropic models with interchangeable
      units only), from a grid of starts (skipped with ``symmetric=False``);
    * ``teacher``: a configuration of :func:`~featcheck.theory.committee.plateaus.
      teacher_candidates` (``W = U``, or the unit vectors along ``U`` on the sphere) whose
      residual passes the test below;
    * ``visited``: zeros found by root finding from the slow points of ``trajectory`` (the
      integrated states, one column per time, at most :data:`SPEED_POINTS` of them:
      :func:`slow_points`) and from ``seeds``.

    A zero is kept when ``max|f| <= 1e-10`` times the largest ``max|f|`` at those states of
    the trajectory (at the initial state and the seeds without one; at least ``1e-14``) and the
    Gram matrix of ``(W, U, Theta)`` is positive semi-definite (:func:`admissible`).
    Coordinates whose right-hand side vanishes identically (``Q_kk = 1`` of the spherical
    variants) are constants of the motion: they are held at the seed's value, the root
    finding moves the others only, and the stability comes from the Jacobian restricted to
    the free coordinates (the full one has a spurious zero eigenvalue per constant).  Zeros
    that coincide (within ``1e-7`` in every overlap, up to a permutation of interchangeable
    student units) are reported once, the first kind in the order above, except that a
    symmetric zero at the teacher is reported as the teacher.
    """
    compiled = compile_system(ode.system)
    p = compiled.parameters(ode.parameter_values)
    points: list[tuple[str, np.ndarray]] = []
    notes = []
    subspace = symmetric_subspace(ode) if symmetric else None
    if symmetric and subspace is None:
        notes.append(
            "no symmetric subspace (the teacher is not a committee of interchangeable units, "
            "the second-layer weights differ, or the covariance is spiked)"
        )
    elif subspace is not None:
        reduced = compile_system(subspace.system)
        for location in _symmetric_zeros(ode, subspace, reduced, p):
            state = np.array([float(v) for v in subspace.embed(tuple(location))])
            points.append(("symmetric", state))
        notes.append(
            "symmetric fixed points: scipy.optimize.root (Levenberg-Marquardt, then hybrid) from "
            "a grid of starts on the "
            "subspace Q_kk = q (1 on the sphere), Q_kl = c, M_km = r; stability from the "
            "eigenvalues of the full Jacobian (central differences, or one-sided along admissible "
            "moves where the Gram matrix is singular; in the free coordinates); "
            "zeros no start reaches are missed"
        )
    starts = [np.asarray(s, dtype=float) for s in seeds]
    if trajectory is not None:
        trajectory = speed_sample(np.asarray(trajectory, dtype=float))
        with np.errstate(all="ignore"):
            velocity = compiled.rhs(trajectory, p)
        starts += slow_points(trajectory, velocity)
        speeds = np.abs(velocity)
    else:
        at = [_initial(ode), *starts]
        speeds = np.abs(np.array([compiled.rhs(s, p) for s in at]))
    finite = speeds[np.isfinite(speeds)]
    tolerance = max(GENERAL_RESIDUAL * (float(finite.max()) if finite.size else 0.0), 1e-14)
    same = _equivalence(ode)
    for candidate in teacher_candidates(ode):
        state = np.array([float(v) for v in candidate])
        if _accept(ode, compiled, p, state, tolerance):
            # a symmetric zero at the teacher is the teacher (found inexactly when the
            # expectations are numeric): reported once, as the teacher
            points = [(k, s) for k, s in points if not (k == "symmetric" and same(state, s, SAME))]
            points.append(("teacher", state))
    searched = 0
    for start in starts:
        if any(same(start, s, SEED_DISTANCE) for _, s in points):
            continue  # the iteration would end where an earlier one did
        state = _newton(ode, compiled, p, start)
        searched += 1
        if state is None or not _accept(ode, compiled, p, state, tolerance):
            continue
        if not any(same(state, s, SAME) for _, s in points):
            points.append(("visited", state))
    if trajectory is not None or starts:
        notes.append(
            "other fixed points: scipy.optimize.root (hybrid, then Levenberg-Marquardt) from "
            "the slow points of the trajectory (local minima of |d state/dt|, and its end; "
            f"{searched} of {len(starts)} searched, the others next to a point found already); "
            "kept when max|f| <= 1e-10 of its "
            "largest value along the trajectory and the Gram matrix of (W, U, Theta) is "
            "positive semi-definite; constant coordinates (Q_kk on the sphere) held fixed"
        )
    return [_report(ode, compiled, kind, state, p) for kind, state in points], "; ".join(notes)


def _initial(ode: CommitteeOde) -> np.ndarray:
    return np.array([float(v) for v in ode.initial_state])


def _accept(
    ode: CommitteeOde, compiled: CompiledSystem, p: tuple, state: np.ndarray, tolerance: float
) -> bool:
    """A zero to keep: finite, admissible overlaps, and a residual at most ``tolerance``, or,
    when expectations are evaluated by quadrature, within ``tolerance`` plus the certified
    error of that evaluation in every component (:func:`~featcheck.numerics.committee.
    certified.certify_state`; tried only for residuals below ``CERTIFIED_WINDOW`` times
    ``tolerance``): the right-hand side cannot then be told from zero."""
    if not np.all(np.isfinite(state)):
        return False
    residual = np.abs(compiled.rhs(state, p))
    if not np.all(np.isfinite(residual)):
        return False
    if residual.max() > tolerance:
        if ode.exact or residual.max() > CERTIFIED_WINDOW * tolerance:
            return False
        # Quadrature certificates only: the split rule's error at a kinked model's zeros is
        # of the order of rounding, and its certificates would cost seconds per candidate.
        certificate = certify_state(ode, state, tolerance=CERTIFIED_TOLERANCE, orthants=False)
        bounds = np.array(certificate.rhs)
        if not np.all(np.isfinite(bounds)) or np.any(residual > tolerance + bounds):
            return False  # no certificate (a kink), or a residual the bounds do not explain
    return admissible(ode, state)


def _newton(
    ode: CommitteeOde, compiled: CompiledSystem, p: tuple, start: np.ndarray
) -> np.ndarray | None:
    """A zero of the right-hand side near ``start`` in the free coordinates (the others held
    at their value in ``start``; at most ``NEWTON_STEPS (n + 1)`` evaluations per method, so
    a start far from any zero costs little), or None if neither method ends at a finite
    point."""
    free = free_coordinates(ode)
    state = np.array(start, dtype=float)

    def full(y: np.ndarray) -> np.ndarray:
        x = state.copy()
        x[free] = y
        return x

    def f(y: np.ndarray) -> np.ndarray:
        value = compiled.rhs(full(y), p)[free]  # not finite outside the admissible overlaps
        return value if np.all(np.isfinite(value)) else np.full_like(value, 1e3)

    def jac(y: np.ndarray) -> np.ndarray:
        return compiled.jacobian(full(y), p)[np.ix_(free, free)]

    best, best_residual = None, np.inf
    budget = NEWTON_STEPS * (len(free) + 1)  # near a zero a few steps do; far off, give up
    options = {"hybr": {"xtol": 1e-14, "maxfev": budget}, "lm": {"xtol": 1e-14, "maxiter": budget}}
    for method in ("hybr", "lm"):
        with np.errstate(all="ignore"):
            y = root(f, state[free], jac=jac, method=method, options=options[method]).x
        if not np.all(np.isfinite(y)):
            continue
        residual = np.abs(compiled.rhs(full(y), p)).max()
        if residual < best_residual:
            best, best_residual = full(y), residual
        if residual <= 1e-14:
            break
    return best


#: The right-hand side is evaluated along at most this many states of a trajectory (equally
#: spaced in its columns, the last included): each costs a right-hand side, a tenth of a
#: second when the expectations are numeric.
SPEED_POINTS = 401


def speed_sample(states: np.ndarray) -> np.ndarray:
    """At most :data:`SPEED_POINTS` columns of ``states``, equally spaced, first and last
    included."""
    n = states.shape[1]
    if n <= SPEED_POINTS:
        return states
    return states[:, np.unique(np.linspace(0, n - 1, SPEED_POINTS).round().astype(int))]


def slow_points(states: np.ndarray, velocity: np.ndarray, limit: int = 6) -> list[np.ndarray]:
    """Where the trajectory ``states`` (one column per time; ``velocity`` the right-hand side
    at each) slows down: the local minima of its speed ``|d state/dt|`` at least a factor 2
    below the larger of the speeds on either side (the plateaus it visits), the ``limit``
    deepest of them, and its end point; a point within :data:`SEED_DISTANCE` of one taken
    already is left out."""
    speed = np.linalg.norm(velocity, axis=0)
    n = states.shape[1]
    chosen = [states[:, -1]]
    if n < 3 or not np.all(np.isfinite(speed)):
        return chosen
    left = np.maximum.accumulate(speed)  # the largest speed up to each time
    right = np.maximum.accumulate(speed[::-1])[::-1]  # and from each time on
    dips = []
    for i in argrelmin(speed)[0]:
        depth = min(left[i - 1], right[i + 1]) / max(speed[i], 1e-300)
        if depth >= 2:
            dips.append((depth, int(i)))
    for _, i in sorted(dips, reverse=True):
        if len(chosen) > limit:
            break
        point = states[:, i]
        if not any(np.abs(point - c).max() < SEED_DISTANCE for c in chosen):
            chosen.append(point)
    return chosen[1:] + chosen[:1]


def _equivalence(ode: CommitteeOde):
    """``same(x, y, tol)``: True when ``x`` and ``y`` differ by at most ``tol`` in every
    coordinate up to a permutation of the student units that is a symmetry of the model
    (units with equal fixed ``a_k``, or any when ``a`` is trained; only for ``K <= 6``)."""
    model = ode.model
    K, M, R = model.K, model.M, model.R
    trained = model.student.trained
    layer = model.student.second_layer
    index = {}
    rows, cols = np.triu_indices(K)
    for i, (k, j) in enumerate(zip(rows, cols, strict=True)):
        index[("q", k, j)] = index[("q", j, k)] = i
    offset = len(rows)
    n = len(ode.system.state)
    perms = []
    candidates = itertools.permutations(range(K)) if K <= 6 else [tuple(range(K))]
    for pi in candidates:
        if not trained and any(layer[pi[k]] != layer[k] for k in range(K)):
            continue
        order = np.empty(n, dtype=int)
        for i, (k, j) in enumerate(zip(rows, cols, strict=True)):
            order[i] = index[("q", pi[k], pi[j])]
        for k in range(K):
            for m in range(M):
                order[offset + k * M + m] = offset + pi[k] * M + m
            for r in range(R):
                base = offset + K * M
                order[base + k * R + r] = base + pi[k] * R + r
            if trained:
                base = offset + K * M + K * R
                order[base + k] = base + pi[k]
        perms.append(order)

    def same(x: np.ndarray, y: np.ndarray, tolerance: float) -> bool:
        return any(np.abs(x - y[order]).max() <= tolerance for order in perms)

    return same


class _Known(Exception):
    """Raised by the residual when the root finder comes within :data:`SEED_DISTANCE` of a
    zero found already."""


def _symmetric_zeros(ode, subspace, reduced: CompiledSystem, p: tuple) -> list[np.ndarray]:
    """Zeros of the reduced right-hand side from a grid of starts; an iteration that comes
    within :data:`SEED_DISTANCE` of a zero found already is stopped (it would end there: in
    the biased-ReLU ``K = M = 2`` model 44 of 48 starts end at one of two zeros, at about 35
    right-hand sides each)."""
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
        if any(np.abs(y - x).max() < SEED_DISTANCE for x in found):
            raise _Known  # the iteration would end at a zero found already
        value = reduced.rhs(y, p)  # not finite outside the admissible overlaps: push back
        return value if np.all(np.isfinite(value)) else np.full_like(value, 1e3)

    for start in starts:
        try:
            for method in ("lm", "hybr"):
                with np.errstate(all="ignore"):
                    y = root(f, start, method=method, options={"xtol": 1e-14}).x
                residual = np.abs(reduced.rhs(y, p)).max() if np.all(np.isfinite(y)) else np.inf
                if residual <= RESIDUAL * scale and (variables[0] != "q" or y[0] > 0):
                    break
            else:
                continue
        except _Known:
            continue
        state = np.array([float(v) for v in subspace.embed(tuple(y))])
        if not admissible(ode, state):
            continue
        if not any(np.abs(y - x).max() < 1e-7 for x in found):
            found.append(y)
    return sorted(found, key=lambda v: tuple(np.round(v, 9)))
