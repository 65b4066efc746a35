"""Library functions behind ``featcheck ode`` and ``featcheck simulate``.

:func:`integrate_committee` derives a model's overlap ODEs, integrates them with
:func:`featcheck.numerics.ode.integrate`, finds fixed points (symmetric ones, the teacher, and
those the trajectory slows down near: :func:`~featcheck.numerics.committee.fixed_points.
find_fixed_points`) and measures the escape time from the plateau the trajectory visits.
:func:`simulate_committee` runs online SGD (the exact reduced simulator, or the full
``d``-dimensional one) and summarises the replicas by their mean and a 95% confidence band
at each time.  Both return frozen dataclasses with ``to_json()``.

Escape time: the plateau is the unstable fixed point (``eps_g > 0``; symmetric, or found
from the slow points of the trajectory, so under a spike and for every learner variant too)
that the trajectory comes closest to, if it comes within :data:`PLATEAU_DISTANCE` of it (largest
difference of an overlap); the escape time is the first time after that closest approach at
which the generalisation error falls below half the plateau's.  For a simulation it is the
median over replicas of the first sampled time at which this happens (None when fewer than
half the replicas escape within the sampled times).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from featcheck.numerics import committee as _registers  # noqa: F401  (numeric evaluators)
from featcheck.numerics.committee.certified import certify_state, check_tolerance
from featcheck.numerics.committee.fixed_points import (
    FixedPointReport,
    find_fixed_points,
    non_negative,
    unpack,
    unpack_spike,
)
from featcheck.numerics.committee.simulators import (
    Hitting,
    SimulationRun,
    simulate_full,
    simulate_reduced,
)
from featcheck.numerics.jsonable import JsonResult, plain
from featcheck.numerics.ode import compile_system, integrate
from featcheck.theory.committee.model import CommitteeModel, load_model
from featcheck.theory.committee.overlap_ode import CommitteeOde, derive_ode
from featcheck.theory.errors import DomainError, InputError, NumericalError

ModelLike = CommitteeModel | str | os.PathLike

DEFAULT_T_MAX = 1000.0
DEFAULT_SIMULATION_T_MAX = 10.0
DEFAULT_POINTS = 11
ANALYSIS_POINTS = 4001
MAX_TIMES = 10_000
MAX_STEPS = 10**10
PLATEAU_DISTANCE = 0.05
LEVEL = 0.95


def as_model(model: ModelLike) -> CommitteeModel:
    """A :class:`CommitteeModel`, or one loaded from a TOML file path."""
    if isinstance(model, CommitteeModel):
        return model
    if isinstance(model, str | os.PathLike):
        return load_model(Path(model))
    raise InputError(f"expected a CommitteeModel or a TOML path, got {type(model).__name__}")


def output_times(times, t_max: float | None, default_t_max: float) -> tuple[np.ndarray, float]:
    """The times to report (sorted, unique) and the end of the integration."""
    if t_max is not None and (not np.isfinite(t_max) or t_max <= 0):
        raise InputError(f"t_max must be positive and finite, got {t_max}")
    if times is None:
        end = float(t_max if t_max is not None else default_t_max)
        return np.linspace(0.0, end, DEFAULT_POINTS), end
    values = np.unique(np.asarray(list(times), dtype=float))
    if values.size == 0:
        raise InputError("give at least one time")
    if values.size > MAX_TIMES:
        raise InputError(f"at most {MAX_TIMES} times, got {values.size}")
    if not np.all(np.isfinite(values)) or values[0] < 0:
        raise InputError("times must be finite and non-negative")
    end = float(values[-1]) if t_max is None else float(t_max)
    if values[-1] > end:
        raise InputError(f"the last time {values[-1]:g} is beyond t_max = {end:g}")
    return values, end


def _matrices(states: np.ndarray, ode: CommitteeOde) -> tuple[list, list, list | None]:
    K, M, trained, R = ode.model.K, ode.model.M, ode.model.student.trained, ode.model.R
    Qs, Ms, As = [], [], []
    for column in states.T:
        Q, Mm, a = unpack(column, K, M, trained, R)
        Qs.append(Q)
        Ms.append(Mm)
        As.append(a)
    return Qs, Ms, (As if trained else None)


def _spike_matrices(states: np.ndarray, ode: CommitteeOde) -> list | None:
    K, M, R = ode.model.K, ode.model.M, ode.model.R
    return [unpack_spike(column, K, M, R) for column in states.T] if R else None


def _expectation_methods(ode: CommitteeOde) -> dict[str, int]:
    return dict(sorted(Counter(e.method for e in ode.expectations.values()).items()))


@dataclass(frozen=True)
class Plateau(JsonResult):
    """The plateau a trajectory visits: its fixed point, closest approach and escape."""

    generalization_error: float
    escape_rate: float
    closest_time: float
    distance: float
    escape_time: float | None


@dataclass(frozen=True)
class CommitteeTrajectory(JsonResult):
    """The integrated overlap ODE of a model at the requested times, with its fixed points
    and the escape time from the plateau it visits (``escape_time``: None if none)."""

    model: str
    description: str
    t: list
    generalization_error: list
    Q: list
    M: list
    a: list | None
    fixed_points: list[FixedPointReport] | None
    escape_time: float | None
    plateau: Plateau | None
    expectations: dict[str, int]
    notes: list[str]
    S: list | None = None
    certificate: dict | None = None

    def to_json(self) -> dict:
        out = {
            "model": self.model,
            "description": self.description,
            "t": plain(self.t),
            "generalization_error": plain(self.generalization_error),
            "Q": plain(self.Q),
            "M": plain(self.M),
        }
        if self.S is not None:
            out["S"] = plain(self.S)
        if self.a is not None:
            out["a"] = plain(self.a)
        out |= {
            "fixed_points": _fixed_points_json(self.fixed_points),
            "escape_time": self.escape_time,
            "plateau": None if self.plateau is None else self.plateau.to_json(),
            "expectations": self.expectations,
            "notes": list(self.notes),
        }
        if self.certificate is not None:
            out["certificate"] = self.certificate
        return out

    def summary(self) -> str:
        lines = [f"{self.model}: {self.description}"]
        lines.append("expectations: " + "; ".join(f"{n} {m}" for m, n in self.expectations.items()))
        spike = [] if self.S is None else _spike_columns(self.S)
        lines.append(f"{'t':>10}  {'eps_g':>12}" + "".join(f"  {n:>12}" for n, _ in spike))
        for i, (t, e) in enumerate(zip(self.t, self.generalization_error, strict=True)):
            extra = "".join(f"  {v[i]:>12.6g}" for _, v in spike)
            lines.append(f"{t:>10.4g}  {e:>12.6g}" + extra)
        if self.fixed_points is None:
            lines.append("fixed points: not searched")
        else:
            lines.append("fixed points:" + ("" if self.fixed_points else " none found"))
            lines += [f"  {f.describe()}" for f in self.fixed_points]
        if self.fixed_points is None:
            lines.append("escape time: not analysed (it needs the fixed points)")
        elif self.plateau is None:
            lines.append("escape time: none (no plateau visited)")
        elif self.escape_time is None:
            lines.append(
                f"escape time: none (on the plateau eps_g = "
                f"{self.plateau.generalization_error:.6g} at the last time)"
            )
        else:
            lines.append(
                f"escape time: {self.escape_time:.6g} (plateau eps_g = "
                f"{self.plateau.generalization_error:.6g}, escape rate "
                f"{self.plateau.escape_rate:.4g})"
            )
        if self.certificate is not None:
            lines += _certificate_lines(self.t, self.certificate)
        return "\n".join(lines)


def _certificate_lines(times: list, certificate: dict) -> list[str]:
    def shown(value: float | None) -> str:
        return "no bound" if value is None else f"{value:.2e}"

    lines = [
        "certified evaluation errors (largest over the right-hand sides; eps_g), "
        f"quadrature tolerance {certificate['tolerance']:g}:"
    ]
    columns = zip(
        times,
        certificate["rhs"],
        certificate["generalization_error"],
        certificate["rhs_estimate"],
        certificate["generalization_error_estimate"],
        strict=True,
    )
    for t, r, e, r_est, e_est in columns:
        line = f"  t = {t:<10.4g} rhs {shown(r)}, eps_g {shown(e)}"
        if r is None or e is None:
            line += f" (estimated: rhs {shown(r_est)}, eps_g {shown(e_est)})"
        lines.append(line)
    if certificate["uncertified"]:
        lines.append(
            f"  no certificate for {len(certificate['uncertified'])} integrals (neither analytic "
            "in a strip nor polynomial between kinks, or a singular covariance; --json lists "
            "them); the estimates use the difference of two rule sizes |Q_N - Q_N'| for these, "
            "which is not a bound"
        )
    return lines


def _finite(value: float) -> float | None:
    """``value``, or None (JSON null) when it is infinite or NaN."""
    return float(value) if math.isfinite(value) else None


def certificate_over(ode: CommitteeOde, states: np.ndarray, tolerance: float) -> dict:
    """Certified bounds on the evaluation of the right-hand sides (the largest over the
    components) and of ``eps_g`` at each state (columns of ``states``); ``None`` where no
    bound exists (:func:`featcheck.numerics.committee.certified.certify_state`)."""
    keys = ("rhs", "generalization_error", "rhs_estimate", "generalization_error_estimate")
    out: dict = {key: [] for key in keys}
    uncertified: set[str] = set()
    for column in states.T:
        cert = certify_state(ode, column, tolerance=tolerance)
        out["rhs"].append(_finite(max(cert.rhs, default=0.0)))
        out["generalization_error"].append(_finite(cert.generalization_error))
        out["rhs_estimate"].append(_finite(max(cert.rhs_estimate, default=0.0)))
        out["generalization_error_estimate"].append(_finite(cert.generalization_error_estimate))
        uncertified |= set(cert.uncertified)
    return {"tolerance": tolerance, **out, "uncertified": sorted(uncertified)}


def _spike_columns(S: list) -> list[tuple[str, list[float]]]:
    """``(name, values over time)`` for each entry of ``S`` (the overlaps with the spikes)."""
    K, R = len(S[0]), len(S[0][0])
    return [(f"S_{k + 1}{r + 1}", [s[k][r] for s in S]) for k in range(K) for r in range(R)]


def _plateau(
    ode: CommitteeOde,
    fixed_points: list[FixedPointReport],
    t: np.ndarray,
    y: np.ndarray,
    eps,
    refine=None,
) -> Plateau | None:
    best = None
    for point in fixed_points:
        if point.stability != "unstable":
            continue
        if point.generalization_error <= 0:
            continue
        target = point.state()
        distance = np.abs(y - target[:, None]).max(axis=0)
        i = int(np.argmin(distance))
        if distance[i] <= PLATEAU_DISTANCE and (best is None or distance[i] < best[1]):
            best = (point, float(distance[i]), i)
    if best is None:
        return None
    point, distance, i = best
    level = point.generalization_error / 2
    below = np.nonzero(eps[i:] <= level)[0]
    escape = None
    if below.size:
        j = i + int(below[0])
        if j == 0:
            escape = float(t[0])
        else:
            times, errors = t, eps
            if refine is not None:  # integrate again across the crossing on a finer grid
                times, errors = refine(y[:, j - 1], float(t[j - 1]), float(t[j]))
                j = int(np.nonzero(errors <= level)[0][0])
            t0, t1 = float(times[j - 1]), float(times[j])
            e0, e1 = errors[j - 1], errors[j]  # then interpolate linearly
            escape = t0 + (t1 - t0) * (e0 - level) / (e0 - e1) if e0 != e1 else t1
    return Plateau(
        point.generalization_error, float(point.escape_rate), float(t[i]), distance, escape
    )


def integrate_committee(
    model: ModelLike,
    *,
    t_max: float | None = None,
    times=None,
    certify: float | None = None,
    fixed_points: bool = True,
) -> CommitteeTrajectory:
    """Integrate the model's overlap ODEs (default: to ``t = 1000`` at 11 equally spaced
    times) and analyse fixed points and the plateau escape (``fixed_points=False`` skips
    both: ``fixed_points`` and ``escape_time`` of the result are then None; the search costs
    hundreds of right-hand sides, slow when the expectations are numeric).  With ``certify``
    (a quadrature tolerance) the result carries certified bounds on the numerical evaluation
    of the equations at each reported state (:func:`certificate_over`)."""
    model = as_model(model)
    report, end = output_times(times, t_max, DEFAULT_T_MAX)
    if certify is not None:
        check_tolerance(certify)
    ode = derive_ode(model)
    compiled = compile_system(ode.system)
    y0 = np.array([float(v) for v in ode.initial_state])
    grid = np.unique(np.concatenate([np.linspace(0.0, end, ANALYSIS_POINTS), report]))
    try:
        trajectory = integrate(
            compiled,
            y0,
            ode.parameter_values,
            end if end > 0 else 1e-12,
            t_eval=grid if end > 0 else None,
            escape_observable=None,
            convergence_tol=None,
        )
    except DomainError as exc:
        raise NumericalError(f"the overlap ODE of {model.name}: {exc}") from None
    t, y = trajectory.t, trajectory.y
    if end == 0:
        t, y = np.array([0.0]), y0[:, None]
    p = compiled.parameters(ode.parameter_values)
    eps = non_negative(compiled.observable("generalization_error", y, p))
    if fixed_points:
        points, note = find_fixed_points(ode, y)
    else:
        points, note = None, "fixed points not searched"

    def refine(start: np.ndarray, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        grid = np.linspace(0.0, t1 - t0, 401)
        piece = integrate(
            compiled,
            start,
            ode.parameter_values,
            t1 - t0,
            t_eval=grid,
            escape_observable=None,
            convergence_tol=None,
        )
        return t0 + piece.t, compiled.observable("generalization_error", piece.y, p)

    plateau = None if points is None else _plateau(ode, points, t, y, eps, refine)
    index = np.searchsorted(t, report)
    Q, M, a = _matrices(y[:, index], ode)
    notes = [note] if note else []
    if not ode.exact:
        notes.append(
            "some expectations are evaluated numerically: " + ", ".join(ode.numeric_methods())
        )
    return CommitteeTrajectory(
        model.name,
        model.describe(),
        report.tolist(),
        eps[index].tolist(),
        Q,
        M,
        a,
        points,
        None if plateau is None else plateau.escape_time,
        plateau,
        _expectation_methods(ode),
        notes,
        _spike_matrices(y[:, index], ode),
        None if certify is None else certificate_over(ode, y[:, index], certify),
    )


@dataclass(frozen=True)
class CommitteeSimulation(JsonResult):
    """Replicas of online SGD: means and 95% confidence bands of ``eps_g``, ``Q``, ``M``
    (and ``a``) at each time, the ODE's fixed points, and the median escape time."""

    model: str
    description: str
    simulator: str
    dim: int
    replicas: int
    seed: int
    t: list
    generalization_error: list
    Q: list
    M: list
    a: list | None
    band: dict
    fixed_points: list[FixedPointReport] | None
    escape_time: float | None
    escaped: int
    plateau: Plateau | None = None
    run: SimulationRun | None = None
    S: list | None = None
    start: str = "model"
    hitting: dict | None = None

    def to_json(self) -> dict:
        out = {
            "model": self.model,
            "description": self.description,
            "simulator": self.simulator,
            "dim": self.dim,
            "replicas": self.replicas,
            "seed": self.seed,
            "t": plain(self.t),
            "generalization_error": plain(self.generalization_error),
            "Q": plain(self.Q),
            "M": plain(self.M),
        }
        if self.S is not None:
            out["S"] = plain(self.S)
        if self.a is not None:
            out["a"] = plain(self.a)
        out |= {
            "band": plain(self.band),
            "fixed_points": _fixed_points_json(self.fixed_points),
            "escape_time": self.escape_time,
            "escaped": self.escaped,
            "plateau": None if self.plateau is None else self.plateau.to_json(),
            "start": self.start,
        }
        if self.hitting is not None:
            out["hitting"] = plain(self.hitting)
        return out

    def summary(self) -> str:
        lines = [
            f"{self.model}: {self.description}",
            f"{self.simulator} online SGD, d = {self.dim}, {self.replicas} replicas, "
            f"seed {self.seed}",
            f"{'t':>10}  {'eps_g (mean)':>12}  {'95% band':>25}",
        ]
        for t, e, (lo, hi) in zip(
            self.t, self.generalization_error, self.band["generalization_error"], strict=True
        ):
            lines.append(f"{t:>10.4g}  {e:>12.6g}  [{lo:>11.6g}, {hi:>11.6g}]")
        if self.fixed_points is None:
            lines.append("escape time: not analysed (the ODE's fixed points were not searched)")
        elif self.plateau is None:
            lines.append("escape time: none (the ODE visits no plateau)")
        elif self.escape_time is None:
            lines.append(f"escape time: none ({self.escaped} of {self.replicas} replicas escaped)")
        else:
            lines.append(
                f"escape time (median over replicas): {self.escape_time:.6g} "
                f"({self.escaped} of {self.replicas} escaped)"
            )
        if self.hitting is not None:
            h = self.hitting
            what = "|cos(w_k, u_1)|" if h["overlap"] == "u" else "|whitened overlap of w_k, u_1|"
            head = f"hitting time of max_k {what} >= {h['threshold']:g}: "
            if h["median"] is None:
                lines.append(head + f"median not reached ({h['reached']} of {self.replicas})")
            else:
                low, high = h["median_interval"]
                interval = (
                    "[" + ", ".join("none" if v is None else f"{v:.6g}" for v in (low, high)) + "]"
                )
                lines.append(
                    head + f"median {h['median']:.6g} {interval} (95%, order statistics), "
                    f"{h['reached']} of {self.replicas} replicas"
                )
        return "\n".join(lines)


def _fixed_points_json(points: list[FixedPointReport] | None) -> list | None:
    return None if points is None else [f.to_json() for f in points]


def _band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and a two-sided 95% t-interval over the first axis (replicas)."""
    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * values.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def simulation_errors(ode: CommitteeOde, run: SimulationRun) -> np.ndarray:
    """``eps_g`` of every replica at every time, ``(replicas, times)``, from its overlaps."""
    compiled = compile_system(ode.system)
    states = run.states(ode.model.K, ode.model.M)
    flat = states.reshape(states.shape[0], -1)
    p = compiled.parameters(ode.parameter_values)
    values = compiled.observable("generalization_error", flat, p)
    return non_negative(values).reshape(states.shape[1:])


def simulate_committee(
    model: ModelLike,
    *,
    dim: int,
    replicas: int,
    full: bool = False,
    seed: int = 0,
    times=None,
    t_max: float | None = None,
    threads: int | None = None,
    keep_run: bool = False,
    start: str = "model",
    hit: float | None = None,
    hit_overlap: str = "u",
    fixed_points: bool = True,
) -> CommitteeSimulation:
    """Online SGD of the model in dimension ``dim`` (default: to ``t = 10`` at 11 equally
    spaced times): the exact reduced simulator, or the full-dimensional one with ``full``.

    ``start="uniform"`` starts every replica from students uniform on the sphere
    (:func:`~featcheck.numerics.committee.simulators.uniform_start`); the ODE, its fixed
    points and escape time still start from the model's initial overlaps.  ``hit`` records
    each replica's hitting time of ``max_k |overlap of w_k with u_1| >= hit`` (``hit_overlap``
    ``"u"``: the cosine, ``"whitened"``: the whitened overlap) and summarises it by its median
    with a distribution-free 95% interval (:func:`hitting_summary`).  ``fixed_points=False``
    skips the ODE's fixed points and hence the escape time (see :func:`integrate_committee`)."""
    model = as_model(model)
    hitting = None if hit is None else Hitting(float(hit), hit_overlap, True, False)
    report, end = output_times(times, t_max, DEFAULT_SIMULATION_T_MAX)
    if isinstance(dim, int) and dim > 0 and isinstance(replicas, int) and replicas > 0:
        total = replicas * round(end * dim)
        if total > MAX_STEPS:
            raise InputError(
                f"{total:.3g} SGD steps in all (replicas x t x d) exceed the limit {MAX_STEPS:.0e}"
            )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"the seed must be a non-negative whole number, got {seed!r}")
    common = dict(dim=dim, replicas=replicas, times=report, seed=seed, start=start)
    if full:
        run = simulate_full(model, hitting=hitting, **common)
    else:
        run = simulate_reduced(model, threads=threads, hitting=hitting, **common)
    ode = derive_ode(model)
    errors = simulation_errors(ode, run)
    mean_e, lo_e, hi_e = _band(errors)
    mean_q, lo_q, hi_q = _band(run.Q)
    mean_m, lo_m, hi_m = _band(run.M)
    band = {
        "level": LEVEL,
        "generalization_error": np.stack([lo_e, hi_e], axis=-1),
        "Q": np.stack([lo_q, hi_q], axis=1),
        "M": np.stack([lo_m, hi_m], axis=1),
    }
    S = None
    if run.S is not None:
        mean_s, lo_s, hi_s = _band(run.S)
        band["S"] = np.stack([lo_s, hi_s], axis=1)
        S = mean_s.tolist()
    a = None
    if run.a is not None:
        mean_a, lo_a, hi_a = _band(run.a)
        band["a"] = np.stack([lo_a, hi_a], axis=1)
        a = mean_a.tolist()
    trajectory = integrate_committee(
        model, times=run.t, t_max=max(float(run.t[-1]), 1e-9), fixed_points=fixed_points
    )
    escape, escaped = _simulated_escape(trajectory, run.t, errors)
    return CommitteeSimulation(
        model.name,
        model.describe(),
        run.simulator,
        dim,
        replicas,
        seed,
        run.t.tolist(),
        mean_e.tolist(),
        mean_q.tolist(),
        mean_m.tolist(),
        a,
        band,
        trajectory.fixed_points,
        escape,
        escaped,
        trajectory.plateau,
        run if keep_run else None,
        S,
        start,
        None if hitting is None else hitting_summary(run.hits, dim, hitting),
    )


def hitting_summary(hits: np.ndarray, dim: int, hitting: Hitting) -> dict:
    """Hitting times ``t = step/d`` of the replicas (None: not within the run), how many
    hit, their median and a distribution-free 95% interval for it: the order statistics
    ``[t_(j), t_(n + 1 - j)]`` with ``j`` the largest index such that ``P(B < j) <= 0.025``
    for ``B ~ Binomial(n, 1/2)`` (a censored replica counts as later than every hit; a
    bound beyond the run is None)."""
    n = hits.size
    times = np.where(hits < 0, np.inf, hits / dim)
    ordered = np.sort(times)
    median = float(np.median(times))
    j = int(stats.binom.ppf(0.025, n, 0.5))  # the least j with P(B <= j) >= 0.025
    interval = [None, None] if j < 1 else [_finite(ordered[j - 1]), _finite(ordered[n - j])]
    return {
        "threshold": hitting.threshold,
        "overlap": hitting.overlap,
        "times": [_finite(v) for v in times],
        "reached": int(np.isfinite(times).sum()),
        "median": _finite(median),
        "median_interval": interval,
    }


def _simulated_escape(
    trajectory: CommitteeTrajectory, t: np.ndarray, errors: np.ndarray
) -> tuple[float | None, int]:
    if trajectory.plateau is None:
        return None, 0
    level = trajectory.plateau.generalization_error / 2
    after = t >= trajectory.plateau.closest_time
    escapes = []
    for row in errors:
        hits = np.nonzero(after & (row <= level))[0]
        escapes.append(t[hits[0]] if hits.size else np.inf)
    escapes = np.array(escapes)
    escaped = int(np.isfinite(escapes).sum())
    median = float(np.median(escapes))
    return (median if np.isfinite(median) else None), escaped
