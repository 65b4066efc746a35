"""Integrate one spiked flow from a start, list its fixed points, optionally beside online SGD.

:func:`flow` is what ``featcheck flow`` computes.  For ``c = <u, theta> = 1`` it integrates
the exact aligned reduction of :func:`featcheck.theory.dynamics.spiked.spiked_flow` (in
``m = <w, u>`` for the plain flow, in the whitened overlap ``rho`` otherwise) from
``m0 = <w0, u>``; for ``|c| < 1`` the general system in ``(a, b)`` (``(a, b, q)`` when
preconditioned) from ``w0 = m0 u + sqrt(1 - m0^2) v`` with ``v`` orthogonal to ``theta`` and
``u``.  The escape time is the first time ``rho = 1/2``; integration stops at convergence
(``|d state/dt| < 1e-10``).

Fixed points (how they were found is in :attr:`FlowResult.fixed_points_method`):

* one-variable system: zeros of the exact right-hand side on a grid of 4001 points refined
  by ``brentq``, eigenvalue = slope from its exact derivative;
* general ``(a, b)`` system, **numeric**: ``scipy.optimize.root`` with the exact Jacobian from
  a 13 x 13 grid of unit ``w``; curves of fixed points (the normalized risk depends on
  ``rho`` only) are reported once;
* preconditioned flow: its fixed points in ``(a, b, q)`` are curves (``r`` is conserved), so
  the zeros of the exact whitened equation ``d rho/dt = (1 - rho^2) psi'(rho)/r^2`` are
  listed;
* ``c = -1``: not computed (the admissible set of ``(a, b)`` is the segment ``b = -a``).

With ``replicas``, online SGD in dimension ``dim`` runs from the same start and the result
carries the replica mean of the overlap with a 95% t-interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from featcheck.numerics.jsonable import JsonResult, plain
from featcheck.numerics.ode import (
    CompiledSystem,
    NumericFixedPoint2,
    fixed_points_1d,
    fixed_points_sphere,
    integrate,
)
from featcheck.numerics.spiked.inputs import check_count, check_positive, check_seed
from featcheck.numerics.spiked.scaled_integrals import compile_flow
from featcheck.numerics.spiked.training import online_sgd
from featcheck.theory.dynamics import OdeSystem
from featcheck.theory.dynamics.spiked import SpikedFlow, spiked_flow
from featcheck.theory.errors import DomainError, NumericalError
from featcheck.theory.functions import FunctionLike
from featcheck.theory.models import (
    check_alignment,
    check_convention,
    check_dimension,
    check_kappa,
    covariance_scale,
)

#: escape level of the whitened overlap
ESCAPE_LEVEL = 0.5
#: points of the trajectory kept in the JSON output
JSON_POINTS = 200

_ONE_D = (
    "numeric zeros (grid of 4001 points refined by brentq) of the exact {what}; "
    "eigenvalue = slope from its exact derivative"
)
_SPHERE = (
    "numeric: scipy.optimize.root (hybrid, exact Jacobian) from a 13 x 13 grid of unit w, "
    "zeros with |rhs| < 1e-11 of the grid maximum, merged within 1e-7; stability from the "
    "Jacobian eigenvalues (degenerate: a zero eigenvalue and none positive); curves of "
    "fixed points detected by re-solving along the null direction; zeros no start reaches "
    "are missed"
)
_CURVE = (
    "not isolated: a curve of fixed points (the risk is constant along it); one point "
    "shown, eigenvalues there (one is zero along the curve)"
)


@dataclass(frozen=True)
class CurveOfFixedPoints(JsonResult):
    """A curve of fixed points of the ``(a, b)`` system, all with the same ``rho``."""

    rho: float
    points_found: int
    note: str = _CURVE


@dataclass(frozen=True)
class FlowFixedPoint(JsonResult):
    """A fixed point of the integrated system (or of the whitened equation).

    ``variable`` is ``m``, ``rho`` or ``(a, b)``; ``eigenvalues`` are those of the Jacobian
    there (``[re, im]`` pairs when complex); ``eigenvalue`` is the largest real part;
    ``stability`` is ``stable``, ``unstable`` or ``degenerate`` (a zero eigenvalue and none
    positive: linearisation does not decide).  ``(a, b)`` points also give ``rho``, and
    ``curve`` when the point lies on a curve of fixed points.
    """

    variable: str
    location: float | tuple[float, float]
    eigenvalue: float
    eigenvalues: tuple[Any, ...]
    stability: str
    rho: float | None = None
    curve: CurveOfFixedPoints | None = None

    @property
    def stable(self) -> bool:
        return self.stability == "stable"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"variable": self.variable, "location": plain(self.location)}
        if self.rho is not None:
            out["rho"] = self.rho
        out |= {
            "eigenvalue": self.eigenvalue,
            "eigenvalues": plain(self.eigenvalues),
            "stability": self.stability,
            "stable": self.stable,
        }
        if self.curve is not None:
            out["curve"] = self.curve.to_json()
        return out


@dataclass(frozen=True)
class MonteCarloBand(JsonResult):
    """Online SGD beside the flow: replica mean of the overlap ``<w, u>/||w||`` with a 95%
    t-interval at the recorded times ``t = steps * eta``, and the escapes of ``rho``."""

    replicas: int
    steps: int
    eta: float
    t: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    escaped: int
    mean_escape_time: float | None
    band: str = "95% t-interval for the mean over replicas"

    def to_json(self) -> dict[str, Any]:
        keys = ("replicas", "steps", "eta", "t", "mean", "lower", "upper", "band", "escaped")
        return {k: plain(getattr(self, k)) for k in (*keys, "mean_escape_time")}


@dataclass(frozen=True)
class FlowResult(JsonResult):
    """One integrated spiked flow with its fixed points (and online SGD if asked).

    ``t``, ``overlap`` (``<w, u>``; the cosine ``<w, u>/||w||`` for the preconditioned flow)
    and ``rho`` are the whole trajectory; the JSON keeps ``JSON_POINTS`` of them.
    """

    flow: str
    activation: str
    link: str
    kappa: float
    alignment: float
    dim: int
    convention: str
    init: float
    t_max: float
    reduction: str
    series: str
    recovery_condition: str
    fixed_points_method: str
    final_overlap: float
    final_rho: float
    escape_time: float | None
    fixed_points: tuple[FlowFixedPoint, ...]
    t: np.ndarray
    overlap: np.ndarray
    rho: np.ndarray
    monte_carlo: MonteCarloBand | None = None

    def to_json(self) -> dict[str, Any]:
        keep = _thin(self.t, JSON_POINTS)
        out = {
            "flow": self.flow,
            "parameters": {
                "link": self.link,
                "activation": self.activation,
                "kappa": self.kappa,
                "alignment": self.alignment,
                "dim": self.dim,
                "convention": self.convention,
                "init": self.init,
                "t_max": self.t_max,
                "reduction": self.reduction,
                "series": self.series,
                "recovery_condition": self.recovery_condition,
                "fixed_points": self.fixed_points_method,
            },
            "final_overlap": self.final_overlap,
            "final_rho": self.final_rho,
            "escape_time": self.escape_time,
            "fixed_points": [p.to_json() for p in self.fixed_points],
            "trajectory": {"t": self.t[keep], "overlap": self.overlap[keep]},
        }
        if self.monte_carlo is not None:
            out["monte_carlo"] = self.monte_carlo.to_json()
        return plain(out)

    def summary(self) -> str:
        """The text ``featcheck flow`` prints."""
        lines = [
            f"{self.flow} flow: phi = {self.activation}, g = {self.link}, "
            f"kappa = {self.kappa:g}, c = {self.alignment:g}, convention {self.convention}, "
            f"d = {self.dim}",
            f"reduction: {self.reduction}; series {self.series}",
            f"start <w0, u> = {self.init:.6g}; {self.recovery_condition}",
            "escape time (rho = 1/2): "
            + ("none" if self.escape_time is None else f"{self.escape_time:.6g}"),
            f"final <w, u> = {self.final_overlap:.6g}, final rho = {self.final_rho:.6g}",
        ]
        if self.fixed_points or self.fixed_points_method.startswith("not"):
            lines.append(f"fixed points ({self.fixed_points_method}):")
        for fp in self.fixed_points:
            if fp.variable == "(a, b)":
                x, y = fp.location
                where = f"({x:+.6f}, {y:+.6f}), rho = {fp.rho:+.6f}"
            else:
                where = f"{fp.location:+.6f}"
            kind = " [curve of fixed points]" if fp.curve is not None else ""
            lines.append(
                f"  {fp.variable} = {where}: {fp.stability}{kind} "
                f"(leading eigenvalue {fp.eigenvalue:.4g})"
            )
        mc = self.monte_carlo
        if mc is not None:
            lines.append(
                f"online SGD: {mc.replicas} replicas, {mc.steps} steps of {mc.eta:.3g}; "
                f"final mean <w, u> = {mc.mean[-1]:.4f} "
                f"[{mc.lower[-1]:.4f}, {mc.upper[-1]:.4f}], escaped {mc.escaped}"
            )
        return "\n".join(lines)


def flow(
    *,
    variant: str = "plain",
    activation: FunctionLike = "relu",
    link: FunctionLike,
    kappa: float = 0.0,
    alignment: float = 1.0,
    dim: int = 1000,
    convention: str = "unit",
    init: float | None = None,
    t_max: float = 1e5,
    replicas: int | None = None,
    steps: int = 20000,
    eta: float | None = None,
    seed: int = 0,
) -> FlowResult:
    """Integrate the flow ``variant`` (plain, normalized or preconditioned) of ``activation`` on
    ``link`` under the spike ``kappa`` with alignment ``c = alignment``.

    ``init`` is the start overlap ``m0 = <w0, u>`` (default ``dim^(-1/2)``, a uniform start);
    ``t_max`` the integration time.  With ``replicas``, that many runs of online SGD in
    dimension ``dim`` with ``steps`` steps of size ``eta`` (default ``0.2 dim^(-3/2)``) and
    random ``seed`` go beside the flow.  Raises :class:`~featcheck.theory.errors.InputError`
    (one line) on bad input, including a pair that violates the recovery condition
    ``c_s(phi) c_s(g) > 0``.
    """
    check_kappa(kappa)
    check_alignment(alignment)
    check_dimension(dim)
    check_convention(convention)
    check_positive("the integration time t_max", t_max)
    check_count("steps", steps)
    check_seed(seed)
    if replicas is not None:
        check_count("replicas", replicas)
    if eta is not None:
        check_positive("the step size eta", eta)
    m0 = dim**-0.5 if init is None else float(init)
    if not -1 <= m0 <= 1:
        raise DomainError(f"the initial overlap must lie in [-1, 1], got {m0}")
    derived = spiked_flow(variant, activation, link, convention=convention)
    if not derived.recovery.holds:
        raise DomainError(derived.recovery.message)
    kappa, c = float(kappa), float(alignment)
    aligned = c == 1.0
    system = derived.aligned if aligned else derived.general
    compiled = compile_flow(system)
    y0 = start_state(variant, kappa, c, m0)
    parameters = {"kappa": kappa, "c": c}
    if aligned and variant == "preconditioned":
        alpha = float(covariance_scale(convention, kappa))
        parameters["r"] = float(np.sqrt(alpha * (1 + kappa * m0 * m0)))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        trajectory = integrate(compiled, y0, parameters, t_max, escape_level=ESCAPE_LEVEL)
    _check_finite(trajectory, variant, kappa)
    points, method = _fixed_points(derived, system, compiled, parameters, c, y0)
    band = None
    if replicas is not None:
        band = _online_band(derived, dim, kappa, c, m0, convention, replicas, steps, eta, seed)
    return FlowResult(
        flow=variant,
        activation=derived.activation.name,
        link=derived.link.name,
        kappa=kappa,
        alignment=c,
        dim=int(dim),
        convention=convention,
        init=m0,
        t_max=float(t_max),
        reduction=system.name,
        series=derived.risk.truncation,
        recovery_condition=derived.recovery.message,
        fixed_points_method=method,
        final_overlap=trajectory.final_observable("overlap"),
        final_rho=trajectory.final_observable("rho"),
        escape_time=trajectory.escape_time,
        fixed_points=tuple(points),
        t=trajectory.t,
        overlap=trajectory.observables["overlap"],
        rho=trajectory.observables["rho"],
        monte_carlo=band,
    )


def _check_finite(trajectory, variant: str, kappa: float) -> None:
    """Raise :class:`NumericalError` when the trajectory left double precision (e.g. the
    whitened overlap a hair above 1 under a huge spike, where ``1 + kappa (1 - rho^2)``
    turns negative): a NaN must not be reported as the flow's overlap."""
    series = {"state": trajectory.y, **trajectory.observables}
    for name, values in series.items():
        bad = ~np.isfinite(np.asarray(values, dtype=float))
        if bad.ndim > 1:  # states: one row per variable, time along the last axis
            bad = bad.any(axis=tuple(range(bad.ndim - 1)))
        if np.any(bad):
            at = trajectory.t[int(np.argmax(bad))]
            raise NumericalError(
                f"the {variant} flow with kappa = {kappa:g}: its {name} is not finite from "
                f"t = {at:.6g} on; double precision does not resolve this spike, choose a "
                "smaller kappa"
            )


def start_state(flow: str, kappa: float, c: float, m0: float) -> list[float]:
    """The state of ``w0 = m0 u + sqrt(1 - m0^2) v``, ``v`` orthogonal to ``theta`` and ``u``.

    ``c = 1``: ``[m0]`` (plain) or the whitened overlap
    ``[rho0] = [m0 sqrt(1 + kappa) / sqrt(1 + kappa m0^2)]``; otherwise ``[a0, b0]`` with
    ``a0 = c m0``, ``b0 = m0`` (and ``q0 = 1`` for the preconditioned flow).
    """
    if c == 1.0:
        if flow == "plain":
            return [m0]
        return [m0 * np.sqrt(1 + kappa) / np.sqrt(1 + kappa * m0 * m0)]
    return [c * m0, m0, 1.0] if flow == "preconditioned" else [c * m0, m0]


def _fixed_points(
    derived: SpikedFlow,
    system: OdeSystem,
    compiled: CompiledSystem,
    parameters: dict[str, float],
    c: float,
    y0: list[float],
) -> tuple[list[FlowFixedPoint], str]:
    """Fixed points of the integrated system, with a note saying how they were found."""
    if system.dimension == 1:
        variable = str(system.state[0])
        return _one_d(compiled, parameters, variable), _ONE_D.format(
            what=f"aligned right-hand side in {variable}"
        )
    kappa = parameters["kappa"]
    if derived.flow == "preconditioned":
        # d rho/dt = (1 - rho^2) psi'(rho)/r^2 holds for every c (checked in the derivation)
        whitened = compile_flow(derived.aligned)
        r0 = float(compiled.observable("r", np.asarray(y0, dtype=float), (kappa, c)))
        points = _one_d(whitened, {"kappa": kappa, "r": r0}, "rho")
        return points, _ONE_D.format(
            what="whitened equation d rho/dt = (1 - rho^2) psi'(rho)/r^2 (exact for every c, "
            "r = ||Sigma^(1/2) w|| conserved); in (a, b, q) each is a curve of fixed points"
        )
    if abs(c) == 1:
        return [], "not computed: with c = -1 the admissible set of (a, b) is the segment b = -a"
    entries: list[FlowFixedPoint] = []
    curves: dict[float, list[NumericFixedPoint2]] = {}
    for point in fixed_points_sphere(compiled, parameters, c):
        rho_value = float(compiled.observable("rho", np.array(point.location), (kappa, c)))
        key = round(rho_value, 6) + 0.0
        if point.on_curve or key in curves:
            curves.setdefault(key, []).append(point)
            continue
        entries.append(_entry_2d(point, rho_value))
    for key, members in sorted(curves.items()):
        curve = CurveOfFixedPoints(key, len(members))
        entries.append(_entry_2d(members[0], key, curve))
    return entries, _SPHERE


def _one_d(compiled: CompiledSystem, parameters, variable: str) -> list[FlowFixedPoint]:
    out = []
    for point in fixed_points_1d(compiled, parameters):
        scale = max(1.0, abs(point.slope))
        stability = (
            "degenerate"
            if abs(point.slope) <= 1e-12 * scale
            else ("stable" if point.slope < 0 else "unstable")
        )
        out.append(FlowFixedPoint(variable, point.location, point.slope, (point.slope,), stability))
    return out


def _entry_2d(
    point: NumericFixedPoint2, rho_value: float, curve: CurveOfFixedPoints | None = None
) -> FlowFixedPoint:
    eig: tuple[Any, ...] = tuple(e.real for e in point.eigenvalues)
    if any(abs(e.imag) > 0 for e in point.eigenvalues):
        eig = tuple((e.real, e.imag) for e in point.eigenvalues)
    return FlowFixedPoint(
        "(a, b)", point.location, point.leading, eig, point.stability, rho_value, curve
    )


def _thin(t: np.ndarray, points: int) -> np.ndarray:
    if len(t) <= points:
        return np.arange(len(t))
    return np.unique(np.round(np.linspace(0, len(t) - 1, points)).astype(int))


def _online_band(
    derived: SpikedFlow,
    dim: int,
    kappa: float,
    c: float,
    m0: float,
    convention: str,
    replicas: int,
    steps: int,
    eta: float | None,
    seed: int,
) -> MonteCarloBand:
    eta = 0.2 * dim**-1.5 if eta is None else float(eta)
    result = online_sgd(
        derived.flow,
        derived.activation,
        derived.link,
        d=dim,
        kappa=kappa,
        c=c,
        eta=eta,
        steps=steps,
        replicas=replicas,
        seed=seed,
        convention=convention,
        init=(c * m0, m0),
        record_every=max(1, steps // 100),
        level=ESCAPE_LEVEL,
    )
    overlap = result.overlap / result.norm  # cosine (||w|| = 1 except when preconditioned)
    mean = overlap.mean(axis=0)
    if replicas > 1:
        half = stats.t.ppf(0.975, replicas - 1) * overlap.std(axis=0, ddof=1)
        half /= np.sqrt(replicas)
    else:
        half = np.zeros_like(mean)
    hits = result.hitting_time
    escaped = int(np.isfinite(hits).sum())
    return MonteCarloBand(
        replicas=replicas,
        steps=steps,
        eta=eta,
        t=result.t,
        mean=mean,
        lower=mean - half,
        upper=mean + half,
        escaped=escaped,
        mean_escape_time=float(np.nanmean(hits)) if escaped else None,
    )
