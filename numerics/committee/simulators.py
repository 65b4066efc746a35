r"""Online SGD of a committee model: an exact reduced simulator and a full-dimensional one.

**Reduced (exact in every dimension).**  One step changes each ``w_k`` by a multiple of the
fresh input ``x``, so the new overlaps depend on ``x`` only through the local fields
``s = (lambda, nu) = (W x, U x)`` and ``|x|^2``:

    Q'_kl = Q_kl + (eta/d)(delta_k lambda_l + delta_l lambda_k) + (eta/d)^2 delta_k delta_l |x|^2
    M'_km = M_km + (eta/d) delta_k nu_m,      a'_k = a_k + (eta_a/d) e phi(lambda_k),

with ``delta_k = a_k phi'(lambda_k) e`` and the error ``e = y - yhat`` for the square loss
``(y - yhat)^2/2``, ``e = y`` for the correlation loss ``-y yhat`` (``y`` with its noise).

Let ``V`` be an ``n``-dimensional subspace (``n = K + M``) containing ``span(W, U)``, ``B`` the
``n x n`` matrix of coordinates of ``w_1, ..., w_K, u_1, ..., u_M`` in an orthonormal basis
of ``V``, so ``B B^T = Omega = [[Q, M], [M^T, P]]``.  For ``x ~ N(0, I_d)`` the coordinates
``g`` of ``x`` in that basis are ``N(0, I_n)``, ``s = B g`` and ``|x|^2 = |g|^2 + chi^2`` with
``chi^2 ~ chi^2_(d-n)`` independent of ``g``.  Any ``L`` with ``L L^T = Omega`` is ``B R``
for an orthogonal ``R``, and ``R g`` has the law of ``g`` with the same norm, so one step is
sampled exactly from ``n`` standard normals and one chi-square: ``O(n^3)`` work whatever ``d``
(a positive semi-definite Cholesky factor of ``Omega``; the teacher's rows, which do not move,
are factored once and only the students' rows each step).  Label noise adds one normal.

The kernel (:mod:`featcheck.numerics.committee.kernels`) is compiled by numba with the
activation, its derivative and the link as stack programs
(:mod:`featcheck.numerics.committee.programs`).  Each replica draws from its own
``numpy.random.Generator`` (``PCG64`` seeded by ``SeedSequence(seed).spawn(replicas)``) and
replicas run on a thread pool without the GIL, so the numbers do not depend on the number of
threads.

**Spiked covariance.**  For ``x ~ N(0, Sigma)``, ``Sigma = I + sum_r kappa_r theta_r
theta_r^T`` (orthonormal ``theta_r``), take ``V`` of dimension ``n = K + M + R`` containing
``span(W, U, Theta)`` and write ``x = Sigma^(1/2) z``, ``z ~ N(0, I_d)``.  As ``Theta`` lies in
``V``, ``Sigma^(1/2) = I + sum_r (sqrt(1 + kappa_r) - 1) theta_r theta_r^T`` maps ``V`` to
itself and is the identity on its orthogonal complement: the coordinates of ``x`` in ``V``
are ``h = A g`` (``g ~ N(0, I_n)`` the coordinates of ``z``, ``A`` the restriction of
``Sigma^(1/2)``) and the rest of ``x`` is the rest of ``z``, so ``|x|^2 = |h|^2 + chi^2_(d-n)``
still.  With ``L L^T`` the Gram matrix of ``(w, u, theta)`` (rows of ``L`` as coordinates, a
choice of basis as above), the spikes' rows ``l_r`` are orthonormal and
``A = I + sum_r (sqrt(1 + kappa_r) - 1) l_r l_r^T``: the fields are ``L h``, among them
``xi_r = <theta_r, x> = <l_r, h>`` with variance ``1 + kappa_r``, and ``S_kr = <w_k, theta_r>``
moves by ``(eta/d) delta_k xi_r``.  Still ``n`` normals and one chi-square per step.

**Learner variants and the scale of Sigma.**  Under ``Sigma = alpha (I + sum_r kappa_r
theta_r theta_r^T)`` (``alpha = 1``, or ``1/(1 + max(0, kappa_r))`` in the ``unit``
convention) the coordinates of ``x`` are ``sqrt(alpha) h`` and the complement contributes
``alpha chi^2`` to ``|x|^2``.  With ``s_k = w_k^T Sigma w_k`` and ``lt_k = lambda_k/sqrt(s_k)``:

* ``plain``: ``w_k <- w_k + (eta/d) delta_k x``, ``delta_k = a_k phi'(lambda_k) e``;
* ``spherical``: the gradient projected on the sphere's tangent space,
  ``w_k <- w_k + (eta/d) delta_k (x - lambda_k w_k/Q_kk)``, then ``w_k <- w_k/||w_k||``, on
  the overlaps ``Q_kl /= sqrt(Q_kk Q_ll)``, ``M_km /= sqrt(Q_kk)``, ``S_kr /= sqrt(Q_kk)``
  (the projection changes a step at second order only, so the overlap ODE is that of the
  unprojected step; it is the spherical SGD of Ben Arous, Gheissari and Jagannath 2021);
* ``normalized``: ``yhat = sum_j a_j phi(lt_j)``, ``dt_k = a_k phi'(lt_k) e``,
  ``w_k <- w_k + (eta/d) dt_k (x/sqrt(s_k) - lt_k Sigma w_k/s_k)``, then renormalised;
* ``preconditioned``: ``w_k <- w_k + (eta/d) dt_k (Sigma^(-1) x/sqrt(s_k) - lt_k w_k/s_k)``,
  then ``w_k <- w_k sqrt(s_k/s'_k)`` (``s'_k`` the value after the step), so that ``s_k``
  keeps its initial value as under gradient flow; on the overlaps ``Q_kl`` is multiplied by
  ``sqrt(s_k s_l/(s'_k s'_l))`` and ``M_km``, ``S_kr`` by ``sqrt(s_k/s'_k)``.

Every new overlap is an inner product of ``x`` or ``Sigma^(-1) x`` and vectors of ``V`` (where
``Sigma`` and ``Sigma^(-1)`` act through the Gram matrix), plus the complement's ``alpha
chi^2`` or ``chi^2/alpha``: still exact, ``O(n^3)`` per step
(:func:`featcheck.numerics.committee.kernels.normalized_step` has the formulas).  A trained
second layer moves by ``(eta_a/d) e phi(lt_k)``.

**Full-dimensional (the oracle).**  ``W`` is stored as ``(replicas, K, d)`` and every step
draws ``x ~ N(0, I_d)`` for each replica, vectorised over replicas with numpy; the initial
vectors are the rows of ``B`` (``B B^T = Omega(0)``, the Gram matrix of ``(W, U, Theta)``
under a spike) in the first ``n`` coordinates.  Under a spike ``x = z + sum_r (sqrt(1 +
kappa_r) - 1) <theta_r, z> theta_r`` with ``z ~ N(0, I_d)``, times ``sqrt(alpha)``; the
variants' steps are taken literally on the vectors.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import sympy as sp

from featcheck.numerics.committee.kernels import (
    HIT_CODES,
    LOSS_CODES,
    NORMALIZED,
    PRECONDITIONED,
    SPHERICAL,
    SQUARE,
    VARIANT_CODES,
    replica,
)
from featcheck.numerics.committee.programs import Programs, compile_programs
from featcheck.numerics.names import STARTS
from featcheck.theory.committee.model import CommitteeModel
from featcheck.theory.errors import InputError, NumericalError
from featcheck.theory.functions import z

#: A simulation refuses to allocate more than this many bytes.
MEMORY_LIMIT = 2 * 1024**3
#: A replica whose overlaps exceed this size (or stop being finite) has blown up.
BLOWUP = 1e8


@dataclass(frozen=True)
class SimulationRun:
    """Overlaps at the snapshot times for every replica.

    ``Q``: ``(replicas, times, K, K)``; ``M``: ``(replicas, times, K, M)``; ``a``:
    ``(replicas, times, K)`` when the second layer is trained, else None; ``S``:
    ``(replicas, times, K, R)`` under a spiked covariance, else None.  ``hits``: with a
    :class:`Hitting` rule, each replica's hitting step (``-1``: not within the run), and the
    snapshots after a stopping replica's hit are NaN.
    """

    simulator: str
    dim: int
    seed: int
    t: np.ndarray
    steps: np.ndarray
    Q: np.ndarray
    M: np.ndarray
    a: np.ndarray | None
    S: np.ndarray | None = None
    hits: np.ndarray | None = None

    @property
    def replicas(self) -> int:
        return self.Q.shape[0]

    def states(self, K: int, M: int) -> np.ndarray:
        """The ODE state (upper triangle of ``Q``, ``M``, ``S``, ``a``) as ``(n_state,
        replicas, times)``, for evaluating the ODE's observables on the simulated overlaps."""
        rows, cols = np.triu_indices(K)
        parts = [self.Q[:, :, rows, cols], self.M.reshape(*self.M.shape[:2], K * M)]
        if self.S is not None:
            parts.append(self.S.reshape(*self.S.shape[:2], -1))
        if self.a is not None:
            parts.append(self.a)
        return np.moveaxis(np.concatenate(parts, axis=-1), -1, 0)


@dataclass(frozen=True)
class _Setup:
    K: int
    M: int
    programs: Programs
    Q0: np.ndarray
    M0: np.ndarray
    P: np.ndarray
    S0: np.ndarray
    T: np.ndarray
    spike: np.ndarray
    kappa: np.ndarray
    alpha: float
    variant: int
    loss: int
    a0: np.ndarray
    trained: bool
    eta: float
    eta_a: float
    sigma: float


def _setup(model: CommitteeModel) -> _Setup:
    if not model.learner.stochastic:
        raise InputError(
            "the simulators run online SGD; this model's learner is gradient flow "
            "(set [learner] algorithm = 'online-sgd')"
        )
    variant = VARIANT_CODES.get(model.learner.variant)
    if variant is None:
        raise InputError(
            f"the simulators do not know the learner variant {model.learner.variant!r} "
            f"(known: {', '.join(VARIANT_CODES)})"
        )
    loss = LOSS_CODES.get(model.learner.loss)
    if loss is None:
        raise InputError(
            f"the simulators do not know the loss {model.learner.loss!r} "
            f"(known: {', '.join(LOSS_CODES)})"
        )
    alpha = float(model.data.alpha)
    if not (math.isfinite(alpha) and alpha > 0):
        raise InputError(f"the scale of the input covariance must be positive, got {alpha}")
    phi = model.student.activation.expr
    zs = list(model.teacher.variables)
    # programs: 0 = phi(z), 1 = phi'(z), 2 = F(z1, ..., zM); variable 0 is z or z1
    programs = compile_programs(
        [phi.subs(z, zs[0]), sp.diff(phi, z).subs(z, zs[0]), model.teacher.link], zs
    )

    def array(matrix) -> np.ndarray:
        return np.array([[float(v) for v in row] for row in matrix], dtype=np.float64)

    return _Setup(
        model.K,
        model.M,
        programs,
        array(model.initial.Q),
        array(model.initial.M),
        array(model.teacher.overlaps),
        array(model.initial.S) if model.R else np.zeros((model.K, 0)),
        array(model.teacher.spike_overlaps) if model.R else np.zeros((model.M, 0)),
        np.array([math.sqrt(1 + float(k)) - 1 for k in model.data.kappa], dtype=np.float64),
        np.array([float(k) for k in model.data.kappa], dtype=np.float64),
        alpha,
        variant,
        loss,
        np.array([float(v) for v in model.student.second_layer]),
        model.student.trained,
        float(model.learner.learning_rate),
        float(model.learner.eta_second_layer),
        float(model.teacher.noise),
    )


@dataclass(frozen=True)
class Hitting:
    """A hitting time: the first step at which some student's overlap with the first teacher
    direction reaches ``threshold``.

    ``overlap = "u"`` watches ``<w_k, u_1>/(||w_k|| ||u_1||)``, ``"whitened"`` watches
    ``w_k^T Sigma u_1/(||Sigma^(1/2) w_k|| ||Sigma^(1/2) u_1||)``; ``absolute`` takes its absolute
    value; ``stop`` ends the replica at its hit (else it runs to its last snapshot, or on to
    its hit within ``until``).
    """

    threshold: float
    overlap: str = "u"
    absolute: bool = True
    stop: bool = True

    def __post_init__(self) -> None:
        if self.overlap not in HIT_CODES:
            raise InputError(
                f"unknown hitting overlap {self.overlap!r} (known: {', '.join(HIT_CODES)})"
            )
        if not (math.isfinite(self.threshold) and 0 < self.threshold <= 1):
            raise InputError(f"the hitting threshold must lie in (0, 1], got {self.threshold}")

    def rule(self) -> np.ndarray:
        """``(kind, threshold, absolute, stop)`` as the kernel reads it."""
        return np.array(
            [HIT_CODES[self.overlap], self.threshold, float(self.absolute), float(self.stop)]
        )


NO_RULE = np.array([0.0, 0.0, 0.0, 0.0])


def fixed_frame(setup: _Setup) -> np.ndarray:
    """Coordinates of ``u_1, ..., u_M, theta_1, ..., theta_R`` (rows) in an orthonormal basis
    of their span: ``B`` with ``B B^T`` their Gram matrix, ``p`` columns for rank ``p``."""
    M, R = setup.M, setup.T.shape[1]
    gram = np.empty((M + R, M + R))
    gram[:M, :M] = setup.P
    gram[:M, M:] = setup.T
    gram[M:, :M] = setup.T.T
    gram[M:, M:] = np.eye(R)
    values, vectors = np.linalg.eigh(gram)
    keep = values > 1e-12 * max(values.max(), 1.0)
    return vectors[:, keep] * np.sqrt(values[keep])


def uniform_start(
    setup: _Setup, frame: np.ndarray, dim: int, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Q, M, S)`` of ``K`` independent students uniform on the unit sphere of ``R^dim``
    (on the ``Sigma``-sphere ``s_k = 1`` for the preconditioned learner), drawn exactly: each
    ``w_k`` is ``g_k/||g_k||`` with ``g_k ~ N(0, I_dim)``; its coordinates on the span of
    ``(u, theta)`` (rank ``p``) are ``p`` normals and the Gram matrix of the rest is
    Wishart ``W_K(dim - p, I)``, drawn by Bartlett's decomposition."""
    K, M = setup.K, setup.M
    p = frame.shape[1]
    g = gen.standard_normal((K, p))
    bartlett = np.zeros((K, K))
    for i in range(K):
        bartlett[i, i] = math.sqrt(gen.chisquare(dim - p - i))
        bartlett[i, :i] = gen.standard_normal(i)
    gram = g @ g.T + bartlett @ bartlett.T
    norms = np.sqrt(np.diag(gram))
    if setup.variant == PRECONDITIONED:
        # s_k = alpha (||w_k||^2 + sum_r kappa_r <w_k, theta_r>^2) with the unit-norm w_k
        S_unit = (g @ frame[M:].T) / norms[:, None]
        norms = norms * np.sqrt(setup.alpha * (1.0 + (S_unit**2) @ setup.kappa))
    Q = gram / np.outer(norms, norms)
    overlaps = (g @ frame.T) / norms[:, None]
    return Q, np.ascontiguousarray(overlaps[:, :M]), np.ascontiguousarray(overlaps[:, M:])


def _run_length(steps: np.ndarray, dim: int, start: str, until: float | None, hitting) -> int:
    """The number of steps of a run, after checking its start and length options."""
    if start not in STARTS:
        raise InputError(f"unknown start {start!r} (known: {', '.join(STARTS)})")
    total = int(steps[-1])
    if until is not None:
        if hitting is None:
            raise InputError("a run length (until) is for a hitting time; give a Hitting rule")
        if not (math.isfinite(until) and until >= 0):
            raise InputError(f"the run length must be finite and non-negative, got {until}")
        total = max(total, int(np.rint(until * dim)))
    return total


def snapshot_steps(times, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Steps ``round(t d)`` for the requested times (sorted, without repeats) and the times
    they stand for, ``steps / d``."""
    values = np.asarray(times, dtype=float).ravel()
    if values.size == 0:
        raise InputError("give at least one time")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise InputError("times must be finite and non-negative")
    steps = np.unique(np.rint(values * dim).astype(np.int64))
    return steps, steps / dim


def _check_size(replicas: int, snapshots: int, K: int, M: int, extra: int = 0) -> None:
    needed = 8 * replicas * snapshots * (K * K + K * M + K) + extra
    if needed > MEMORY_LIMIT:
        raise InputError(
            f"the simulation would need {needed / 1024**3:.1f} GiB (limit "
            f"{MEMORY_LIMIT / 1024**3:.0f} GiB): use fewer replicas, times or a smaller dimension"
        )


def _check_common(dim: int, replicas: int, K: int, M: int, R: int = 0) -> None:
    n = K + M + R
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < n:
        what = "K + M + R" if R else "K + M"
        raise InputError(f"the dimension must be a whole number at least {what} = {n}")
    if isinstance(replicas, bool) or not isinstance(replicas, int | np.integer) or replicas < 1:
        raise InputError("the number of replicas must be a positive whole number")


# ----------------------------------------------------------------------------
# Reduced simulator


def simulate_reduced(
    model: CommitteeModel,
    *,
    dim: int,
    replicas: int,
    times,
    seed: int | np.random.SeedSequence = 0,
    threads: int | None = None,
    start: str = "model",
    hitting: Hitting | None = None,
    until: float | None = None,
) -> SimulationRun:
    """Online SGD of ``model`` in dimension ``dim``, exactly, in the overlaps only.

    ``start = "model"`` starts every replica from the model's initial overlaps, ``"uniform"``
    each from its own students drawn uniformly on the sphere (:func:`uniform_start`).
    ``hitting`` records hitting steps (:class:`Hitting`); ``until`` (a time) lets a replica
    run past the last snapshot to find its hit.
    """
    setup = _setup(model)
    K, M, R = setup.K, setup.M, model.R
    _check_common(dim, replicas, K, M, R)
    steps, t = snapshot_steps(times, dim)
    total = _run_length(steps, dim, start, until, hitting)
    _check_size(replicas, len(steps), K, M + R)
    out_Q = np.full((replicas, len(steps), K, K), np.nan)
    out_M = np.full((replicas, len(steps), K, M), np.nan)
    out_S = np.full((replicas, len(steps), K, R), np.nan)
    out_a = np.full((replicas, len(steps), K), np.nan)
    hits = np.full((replicas, 1), -1, dtype=np.int64)
    rule = NO_RULE if hitting is None else hitting.rule()
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    children = sequence.spawn(replicas)
    p = setup.programs
    frame = fixed_frame(setup) if start == "uniform" else None

    def one(r: int) -> int:
        gen = np.random.Generator(np.random.PCG64(children[r]))
        if frame is None:
            Q0, M0, S0 = setup.Q0.copy(), setup.M0.copy(), setup.S0.copy()
        else:
            Q0, M0, S0 = uniform_start(setup, frame, dim, gen)
        return replica(
            gen,
            dim,
            setup.eta,
            setup.eta_a,
            setup.sigma,
            Q0,
            M0,
            setup.P,
            S0,
            setup.T,
            setup.spike,
            setup.kappa,
            setup.alpha,
            setup.variant,
            setup.a0.copy(),
            setup.trained,
            setup.loss,
            p.ops,
            p.operands,
            p.constants,
            p.starts,
            p.ends,
            p.depth,
            steps,
            total,
            rule,
            hits[r],
            out_Q[r],
            out_M[r],
            out_S[r],
            out_a[r],
        )

    workers = max(1, min(threads or os.cpu_count() or 1, replicas))
    if workers == 1:
        failures = [one(r) for r in range(replicas)]
    else:
        with ThreadPoolExecutor(workers) as pool:
            failures = list(pool.map(one, range(replicas)))
    _raise_on_blowup(failures, dim)
    return SimulationRun(
        "reduced",
        dim,
        seed,
        t,
        steps,
        out_Q,
        out_M,
        out_a if setup.trained else None,
        out_S if R else None,
        hits[:, 0] if hitting is not None else None,
    )


def _raise_on_blowup(failures, dim: int) -> None:
    bad = [(r, s) for r, s in enumerate(failures) if s >= 0]
    if bad:
        r, s = bad[0]
        raise NumericalError(
            f"online SGD blows up: replica {r} at step {s} (t = {s / dim:.4g}); "
            f"{len(bad)} replica(s) diverged. A smaller learning rate keeps it stable"
        )


# ----------------------------------------------------------------------------
# Full-dimensional simulator


def _numpy_function(expr: sp.Expr, variables):
    from scipy import special

    f = sp.lambdify(variables, expr, modules=[{"erf": special.erf}, "numpy"])

    def call(*args):
        return np.broadcast_to(np.asarray(f(*args), dtype=float), np.shape(args[0]))

    return call


def initial_vectors(model: CommitteeModel, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``W`` (K x d) and ``U`` (M x d) with the model's initial overlaps: the rows of a
    square root of ``Omega(0)`` in the first ``K + M`` coordinates."""
    W, U, _ = initial_frame(model, dim)
    return W, U


def initial_frame(model: CommitteeModel, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``W`` (K x d), ``U`` (M x d) and the spikes ``Theta`` (R x d, orthonormal rows) with the
    model's initial Gram matrix: the rows of a square root of it in the first ``K + M + R``
    coordinates."""
    gram = np.array([[float(v) for v in row] for row in model.gram0])
    values, vectors = np.linalg.eigh(gram)
    B = vectors * np.sqrt(np.clip(values, 0.0, None))
    n = len(gram)
    vectors_d = np.zeros((n, dim))
    vectors_d[:, :n] = B
    K, M = model.K, model.M
    return vectors_d[:K], vectors_d[K : K + M], vectors_d[K + M :]


def simulate_full(
    model: CommitteeModel,
    *,
    dim: int,
    replicas: int,
    times,
    seed: int | np.random.SeedSequence = 0,
    start: str = "model",
    hitting: Hitting | None = None,
    until: float | None = None,
) -> SimulationRun:
    """Online SGD of ``model`` with the weights in ``R^dim`` (vectorised over replicas);
    ``start``, ``hitting`` and ``until`` as for :func:`simulate_reduced` (a uniform start is
    ``g/||g||`` with ``g ~ N(0, I_dim)`` drawn for each student)."""
    setup = _setup(model)
    K, M, R = setup.K, setup.M, model.R
    _check_common(dim, replicas, K, M, R)
    steps, t = snapshot_steps(times, dim)
    total = _run_length(steps, dim, start, until, hitting)
    _check_size(replicas, len(steps), K, M + R, extra=8 * replicas * dim * (K + 3))
    phi = model.student.activation.expr
    zs = list(model.teacher.variables)
    f_phi = _numpy_function(phi, [z])
    f_dphi = _numpy_function(sp.diff(phi, z), [z])
    f_link = _numpy_function(model.teacher.link, zs)
    W0, U, Theta = initial_frame(model, dim)
    rng = np.random.default_rng(seed)
    if start == "uniform":
        W = rng.standard_normal((replicas, K, dim))
        W /= np.linalg.norm(W, axis=2, keepdims=True)
        if setup.variant == PRECONDITIONED:
            W /= np.sqrt(setup.alpha * (1.0 + ((W @ Theta.T) ** 2) @ setup.kappa))[:, :, None]
    else:
        W = np.broadcast_to(W0, (replicas, K, dim)).copy()
    a = np.broadcast_to(setup.a0, (replicas, K)).copy()
    out_Q = np.full((replicas, len(steps), K, K), np.nan)
    out_M = np.full((replicas, len(steps), K, M), np.nan)
    out_S = np.full((replicas, len(steps), K, R), np.nan)
    out_a = np.full((replicas, len(steps), K), np.nan)
    c, c_a = setup.eta / dim, setup.eta_a / dim
    root_alpha = math.sqrt(setup.alpha)
    normalized = setup.variant in (NORMALIZED, PRECONDITIONED)
    shrink = setup.kappa / (1 + setup.kappa)
    hits = np.full(replicas, -1, dtype=np.int64)
    active = np.ones(replicas, dtype=bool)  # replicas still stepping
    j = 0

    def record(j: int) -> None:
        out_Q[active, j] = np.einsum("rkd,rld->rkl", W, W)[active]
        out_M[active, j] = np.einsum("rkd,md->rkm", W, U)[active]
        out_S[active, j] = np.einsum("rkd,sd->rks", W, Theta)[active]
        out_a[active, j] = a[active]

    def watch(step: int) -> None:
        if hitting is None:
            return
        u = U[0]
        w_sigma = W + ((W @ Theta.T) * setup.kappa) @ Theta if R else W
        u_sigma = u + ((Theta @ u) * setup.kappa) @ Theta if R else u
        if hitting.overlap == "u":
            value = (W @ u) / (np.linalg.norm(W, axis=2) * np.linalg.norm(u))
        else:  # Sigma_0 = I + sum_r kappa_r theta_r theta_r^T (alpha cancels)
            s = np.einsum("rkd,rkd->rk", W, w_sigma)
            value = (W @ u_sigma) / np.sqrt(s * (u @ u_sigma))
        if hitting.absolute:
            value = np.abs(value)
        new = (hits < 0) & active & (value.max(axis=1) >= hitting.threshold)
        hits[new] = step
        if hitting.stop:
            active[new] = False

    while j < len(steps) and steps[j] == 0:
        record(j)
        j += 1
    watch(0)
    for step in range(1, total + 1):
        if not active.any():
            break
        if j >= len(steps) and (hitting is None or np.all(hits >= 0)):
            break
        before = W.copy() if hitting is not None and hitting.stop else None
        x = rng.standard_normal((replicas, dim))
        if R:
            x += ((x @ Theta.T) * setup.spike) @ Theta
        if setup.alpha != 1.0:
            x *= root_alpha
        lam = np.einsum("rkd,rd->rk", W, x)
        nu = x @ U.T
        y = f_link(*nu.T)
        if setup.sigma > 0:
            y = y + setup.sigma * rng.standard_normal(replicas)
        if normalized:
            # Sigma w_k = alpha (w_k + sum_r kappa_r <theta_r, w_k> theta_r), s_k = w_k^T Sigma w_k
            sigma_w = W + ((W @ Theta.T) * setup.kappa) @ Theta if R else W.copy()
            sigma_w *= setup.alpha
            s = np.einsum("rkd,rkd->rk", W, sigma_w)
            lam = lam / np.sqrt(s)  # the normalized field lt_k
        values = f_phi(lam)
        # the square loss's error y - yhat, or the label itself for the correlation loss
        error = y - np.sum(a * values, axis=1) if setup.loss == SQUARE else y
        delta = a * f_dphi(lam) * error[:, None]
        if setup.variant == NORMALIZED:
            # w_k += c dt_k (x/sqrt(s_k) - lt_k Sigma w_k/s_k)
            W += c * (
                (delta / np.sqrt(s))[:, :, None] * x[:, None, :]
                - (delta * lam / s)[:, :, None] * sigma_w
            )
        elif setup.variant == PRECONDITIONED:
            # w_k += c dt_k (Sigma^-1 x/sqrt(s_k) - lt_k w_k/s_k),
            # Sigma^-1 x = (x - sum_r kappa_r/(1 + kappa_r) <theta_r, x> theta_r)/alpha
            inverse_x = x - ((x @ Theta.T) * shrink) @ Theta if R else x.copy()
            inverse_x /= setup.alpha
            W += c * (
                (delta / np.sqrt(s))[:, :, None] * inverse_x[:, None, :]
                - (delta * lam / s)[:, :, None] * W
            )
            # then w_k <- w_k sqrt(s_k/s'_k): w_k^T Sigma w_k keeps its value before the step
            sigma_w = W + ((W @ Theta.T) * setup.kappa) @ Theta if R else W.copy()
            sigma_w *= setup.alpha
            W *= np.sqrt(s / np.einsum("rkd,rkd->rk", W, sigma_w))[:, :, None]
        elif setup.variant == SPHERICAL:
            # the gradient projected on the tangent space: x - (lambda_k/|w_k|^2) w_k
            along = lam / np.einsum("rkd,rkd->rk", W, W)
            W += c * delta[:, :, None] * (x[:, None, :] - along[:, :, None] * W)
        else:
            W += c * delta[:, :, None] * x[:, None, :]
        if setup.variant in (SPHERICAL, NORMALIZED):
            W /= np.linalg.norm(W, axis=2, keepdims=True)
        if setup.trained:
            a += c_a * error[:, None] * values
        if before is not None:  # replicas stopped at their hit keep their weights
            W[~active] = before[~active]
        if not np.all(np.isfinite(W)) or np.abs(W).max() > BLOWUP:
            raise NumericalError(
                f"online SGD blows up at step {step} (t = {step / dim:.4g}) in dimension {dim}"
            )
        while j < len(steps) and steps[j] == step:
            record(j)
            j += 1
        watch(step)
    return SimulationRun(
        "full",
        dim,
        seed,
        t,
        steps,
        out_Q,
        out_M,
        out_a if setup.trained else None,
        out_S if R else None,
        hits if hitting is not None else None,
    )
