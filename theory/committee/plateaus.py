r"""The symmetric subspace of the overlap ODEs, where plateaus live, and the teacher fixed point.

When the teacher is a committee whose units are interchangeable (``P`` with equal diagonal
entries and equal off-diagonal entries, equal second-layer weights ``a*``) and the student's
units are interchangeable too (equal ``a``), the ODEs commute with every permutation of the
student units and with every permutation of the teacher units.  The subspace

    Q_kk = q,   Q_kl = c (k != l),   M_km = r,   (a_k = a when trained)

is then invariant: a state in it is fixed by those permutations, and so is its velocity.
Restricted to it the dynamics has three variables (four with a trained second layer; one
fewer for the spherical variants, where ``q = 1`` is not a variable since ``Q_kk`` stays 1); its
fixed points are the *symmetric* (unspecialised) fixed points of Saad and Solla,
Phys. Rev. E 52, 4225 (1995), whose instability in the directions that break the symmetry
sets the length of the plateau: from a distance ``delta`` off the subspace the trajectory
leaves after about ``(1/lambda) log(Delta/delta)``, ``lambda`` the largest eigenvalue of the
full Jacobian there (:func:`escape_time`).

With ``K = M``, no label noise, ``phi = g`` and ``a = a*``, the teacher itself (``W = U``:
``Q = M = P``) is a fixed point where the generalisation error is zero
(:func:`teacher_state`; under a spiked covariance also ``S = T``).  A spiked model has no
symmetric subspace here: the spikes single out directions.

The teacher can be a fixed point without ``phi = g``: a normalized student
``phi(lambda_k/sqrt(s_k))`` equals a teacher ``g(nu_k/sigma_k)`` at ``w_k = u_k`` (or at
``w_k = u_k/||u_k||`` on the sphere).  :func:`teacher_candidates` lists these configurations
without comparing activations; whether one is a fixed point is for its residual to decide.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from featcheck.theory.committee.overlap_ode import CommitteeOde, CommitteeSystem
from featcheck.theory.derivation import Derivation

q_sym = sp.Symbol("q", positive=True)
c_sym = sp.Symbol("c", real=True)
r_sym = sp.Symbol("r", real=True)
a_sym = sp.Symbol("a", real=True)


@dataclass
class SymmetricSubspace:
    """The restriction of an overlap ODE to ``Q_kk = q, Q_kl = c, M_km = r (, a_k = a)``.

    ``embedding`` maps each state symbol of the full system to its value in the reduced
    variables; ``system`` is the reduced :class:`OdeSystem`.
    """

    ode: CommitteeOde
    variables: tuple[sp.Symbol, ...]
    embedding: dict[sp.Symbol, sp.Expr]
    system: CommitteeSystem

    def embed(self, values: dict[sp.Symbol, float] | tuple) -> tuple:
        """The full state for reduced values (a tuple in the order of ``variables``)."""
        if not isinstance(values, dict):
            values = dict(zip(self.variables, values, strict=True))
        return tuple(expr.xreplace(values) for expr in self.embedding.values())


def symmetric_subspace(ode: CommitteeOde) -> SymmetricSubspace | None:
    """The symmetric subspace, or None when the model has no such symmetry."""
    model = ode.model
    teacher, student = model.teacher, model.student
    if not teacher.is_committee or model.data.spiked:
        return None  # a spike singles out directions: no permutation symmetry assumed
    P = teacher.overlaps
    M = model.M
    if len({P[m][m] for m in range(M)}) != 1:
        return None
    if len({P[m][n] for m in range(M) for n in range(M) if m != n}) > 1:
        return None
    if len(set(teacher.second_layer)) != 1 or len(set(student.second_layer)) != 1:
        return None
    fields = ode.fields
    K = model.K
    sphere = model.learner.spherical  # Q_kk = 1 for good: q is not a variable
    diagonal = sp.Integer(1) if sphere else q_sym
    embedding: dict[sp.Symbol, sp.Expr] = {}
    for k in range(K):
        for j in range(k, K):
            embedding[fields.q(k, j)] = diagonal if k == j else c_sym
    for k in range(K):
        for m in range(M):
            embedding[fields.m(k, m)] = r_sym
    variables: tuple[sp.Symbol, ...] = ((c_sym,) if K > 1 else ()) + (r_sym,)
    representatives = ([fields.q(0, 1)] if K > 1 else []) + [fields.m(0, 0)]
    if not sphere:
        variables = (q_sym, *variables)
        representatives = [fields.q(0, 0), *representatives]
    if student.trained:
        for k in range(K):
            embedding[fields.a(k)] = a_sym
        variables += (a_sym,)
        representatives.append(fields.a(0))
    state = ode.system.state
    rhs = {s: r for s, r in zip(state, ode.system.rhs, strict=True)}
    reduced = tuple(rhs[s].xreplace(embedding) for s in representatives)
    error = ode.generalization_error.xreplace(embedding)
    derivation = Derivation(
        f"Symmetric subspace of {ode.system.name}",
        "Q_kk = q, Q_kl = c (k != l), M_km = r: invariant because the model is symmetric "
        "under permutations of the student units and of the teacher units.",
    )
    derivation.add(
        "Reduced equations",
        [sp.Eq(sp.Derivative(v, sp.Symbol("t")), sp.Symbol(f"f_{{{v}}}")) for v in variables],
        "Each reduced right-hand side is the full one of a representative overlap "
        "(Q_11, Q_12, M_11) evaluated on the subspace.",
    )
    system = CommitteeSystem(
        name=f"symmetric subspace of {ode.system.name}",
        state=variables,
        parameters=ode.system.parameters,
        rhs=reduced,
        derivation=derivation,
        observables={"generalization_error": error},
    )
    return SymmetricSubspace(ode, variables, dict(embedding), system)


def teacher_state(ode: CommitteeOde) -> tuple[sp.Expr, ...] | None:
    """``Q = M = P`` (and ``a = a*``) when the student can be the teacher exactly: a fixed
    point with zero generalisation error; None otherwise."""
    model = ode.model
    teacher, student = model.teacher, model.student
    if not teacher.is_committee or model.K != model.M or teacher.noise != 0:
        return None
    if sp.simplify(teacher.activation.expr - student.activation.expr) != 0:
        return None
    if not student.trained and tuple(student.second_layer) != tuple(teacher.second_layer):
        return None
    P, K = teacher.overlaps, model.K
    values = [P[k][j] for k in range(K) for j in range(k, K)]
    values += [P[k][m] for k in range(K) for m in range(K)]
    T = teacher.spike_overlaps
    values += [T[k][r] for k in range(K) for r in range(model.R)]  # S = T when W = U
    if student.trained:
        values += list(teacher.second_layer)
    return tuple(values)


def teacher_candidates(ode: CommitteeOde) -> list[tuple[sp.Expr, ...]]:
    """The configurations where the student may coincide with the teacher (``K = M``):
    ``W = U`` (``Q = M = P``, ``S = T``) or, for the spherical variants, the unit vectors
    ``w_k = u_k/||u_k||`` instead (``Q_kl = P_kl/sqrt(P_kk P_ll)``, ``M_km = P_km/sqrt(P_kk)``,
    ``S_kr = T_kr/sqrt(P_kk)``), with ``a = a*`` when the second layer is trained (the
    student's initial ``a`` for a link teacher).  Nothing is checked here: a candidate is a
    fixed point only if the right-hand side vanishes there."""
    model = ode.model
    teacher, student = model.teacher, model.student
    K, M, R = model.K, model.M, model.R
    if K != M:
        return []
    P, T = teacher.overlaps, teacher.spike_overlaps
    layer = teacher.second_layer if teacher.is_committee else student.second_layer
    scalings = [[sp.Integer(1)] * K]
    if model.learner.spherical:
        scalings = [[1 / sp.sqrt(P[k][k]) for k in range(K)]]
    candidates = []
    for c in scalings:
        values = [c[k] * c[j] * P[k][j] for k in range(K) for j in range(k, K)]
        values += [c[k] * P[k][m] for k in range(K) for m in range(M)]
        values += [c[k] * T[k][r] for k in range(K) for r in range(R)]
        if student.trained:
            values += list(layer)
        candidates.append(tuple(sp.sympify(v) for v in values))
    return candidates


def escape_time(rate: float, distance: float, exit_distance: float = 1.0) -> float:
    """``(1/lambda) log(Delta/delta)``: the time for a deviation ``delta`` that grows like
    ``exp(lambda t)`` to reach ``Delta`` (the linearised escape from an unstable point)."""
    import math

    if rate <= 0 or distance <= 0 or exit_distance <= distance:
        return math.nan
    return math.log(exit_distance / distance) / rate
