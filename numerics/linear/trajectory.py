"""One flow of a linear network, with the paper's bounds along it and optional SGD replicas.

:func:`linear_flow` is the library form of ``featcheck linear``: it integrates the
depth-``N`` flow from ``w(0)`` in the plane ``span(w, v)`` with ``v = (0, 1)``, samples the
trajectory on a uniform time grid, evaluates each printed bound of Lin, Sun, Zhang (NeurIPS
2021) that applies to the depth and decides whether it holds along this trajectory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from featcheck.numerics.jsonable import JsonResult
from featcheck.numerics.linear.bounds import (
    Start,
    min_margin,
    numerical_error,
    printed_bound_values,
    printed_flow_bound,
)
from featcheck.numerics.linear.simulate import DataLaw, check_depth, integrate_flow, polar_state
from featcheck.numerics.linear.simulate import sgd as run_sgd
from featcheck.numerics.names import PAPER_INIT
from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.linear import printed_bounds

#: the printed bounds on flows, by depth (depth 2 has none: Theorem 5 needs N > 2)
FLOW_BOUNDS = {
    "1": ("theorem1.before-T", "theorem1.after-T"),
    ">2": (
        "lemma4.lower",
        "lemma4.upper",
        "theorem5.before-T",
        "theorem5.after-T",
        "theorem5.upper",
    ),
}

NOT_APPLICABLE = "not applicable (empty window)"


def bound_ids(depth: int) -> tuple[str, ...]:
    """The ids of the printed flow bounds that apply to ``depth``."""
    if depth == 1:
        return FLOW_BOUNDS["1"]
    if depth > 2:
        return FLOW_BOUNDS[">2"]
    return ()


def _listed(values: Sequence[float] | np.ndarray) -> tuple[float | None, ...]:
    """Floats, with ``None`` for every non-finite value (JSON ``null``)."""
    return tuple(float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float))


@dataclass(frozen=True)
class Trajectory(JsonResult):
    """The flow on a uniform time grid.

    ``zeta = -2 ln tan(theta/2)`` keeps the angle where ``cos_theta`` has rounded to 1 in
    double precision: ``1 - cos(theta) = 2/(exp(zeta) + 1)`` drops below half an ulp of 1
    once ``zeta`` exceeds about 38 (from the paper's start ``w(0) = (0.6, -0.8)`` on the
    circle: ``t`` about 37 at depth 4, about 284 for the linear predictor).
    """

    t: tuple[float | None, ...]
    cos_theta: tuple[float | None, ...]
    zeta: tuple[float | None, ...]
    norm: tuple[float | None, ...]
    loss: tuple[float | None, ...]


@dataclass(frozen=True)
class BoundAlong(JsonResult):
    """One printed bound along the trajectory: its right side at the trajectory's times
    (``None`` outside its window), and whether it holds along this flow.

    ``worst_margin`` is the smallest margin in ``zeta`` (bounds on ``cos theta``) or in
    ``ln ||w||`` (bounds on the norm), on a finer grid than the trajectory's;
    ``tolerance`` is its numerical error (:func:`featcheck.numerics.linear.bounds.numerical_error`).
    """

    inequality: str
    window: str
    values: tuple[float | None, ...]
    status: str
    worst_margin: float | None
    worst_time: float | None
    tolerance: float | None


@dataclass(frozen=True)
class SgdSummary(JsonResult):
    """Minibatch SGD replicas (fresh samples each step) summarised at recorded times
    ``t = lr * steps``: means over replicas, and the standard deviation of ``cos theta``."""

    t: tuple[float | None, ...]
    cos_theta_mean: tuple[float | None, ...]
    cos_theta_std: tuple[float | None, ...]
    norm_mean: tuple[float | None, ...]
    loss_mean: tuple[float | None, ...]
    batch: int
    lr: float
    steps: int
    replicas: int
    seed: int


@dataclass(frozen=True)
class LinearFlowResult(JsonResult):
    """Result of :func:`linear_flow` (``featcheck linear --json``).

    ``T`` is the time where the norm stops decreasing (``None`` if not within ``t_max``);
    ``bounds`` maps bound ids to :class:`BoundAlong`; ``sgd`` is ``None`` unless SGD
    replicas were asked for (the key is then left out of the JSON).
    """

    law: str
    dim: int
    c0: float
    depth: int
    init: tuple[float, float]
    T: float | None
    trajectory: Trajectory
    bounds: dict[str, BoundAlong] = field(default_factory=dict)
    sgd: SgdSummary | None = None

    def to_json(self) -> dict[str, Any]:
        payload = super().to_json()
        if self.sgd is None:
            del payload["sgd"]
        return payload


def _check_positive_int(name: str, value: int, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise DomainError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _bound_along(bound_id: str, flow, start: Start, times: np.ndarray) -> BoundAlong:
    bound = printed_bounds()[bound_id]
    checker = printed_flow_bound(bound)
    margin, when = min_margin(checker, flow)
    if math.isinf(margin) and margin > 0:
        status, tolerance = NOT_APPLICABLE, None
    else:
        tolerance = numerical_error(checker, start, flow.t_max)
        status = "holds" if margin >= -tolerance else "violated"
    return BoundAlong(
        inequality=str(bound.inequality()),
        window=bound.window,
        values=_listed(printed_bound_values(bound, flow, times)),
        status=status,
        worst_margin=margin if math.isfinite(margin) else None,
        worst_time=when if math.isfinite(when) else None,
        tolerance=tolerance,
    )


def linear_flow(
    *,
    depth: int = 1,
    law: str = "sphere",
    dim: int = 2,
    init: tuple[float, float] = PAPER_INIT,
    t_max: float = 20.0,
    points: int = 41,
    sgd: bool = False,
    batch: int = 1000,
    lr: float = 1e-3,
    steps: int = 2000,
    replicas: int = 4,
    seed: int = 0,
) -> LinearFlowResult:
    """The depth-``depth`` gradient flow from ``w(0) = init`` (``v = (0, 1)``) up to ``t_max``.

    ``depth = 1`` is the linear predictor, ``depth > 1`` the induced flow (7) of a balanced
    deep linear network; ``law`` is ``"sphere"`` (``U(S^(dim-1))``) or ``"gaussian"``
    (``N(0, I_dim)``).  The trajectory has ``points`` equally spaced times in ``[0, t_max]``.
    With ``sgd=True`` also ``replicas`` runs of minibatch SGD (``batch`` fresh samples per
    step, learning rate ``lr``, ``steps`` steps, so up to ``t = lr * steps``) from the same
    start, seeded by ``seed``.
    """
    depth = check_depth(depth)
    points = _check_positive_int("the number of trajectory points", points, 2)
    if not (t_max > 0 and math.isfinite(t_max)):
        raise DomainError(f"t_max must be positive and finite, got {t_max}")
    data = DataLaw(law, dim)
    try:
        w0 = tuple(float(v) for v in init)
    except (TypeError, ValueError):
        raise InputError(f"the initial weight must be two numbers X,Y, got {init!r}") from None
    if len(w0) != 2:
        raise InputError(f"the initial weight must be two numbers X,Y, got {init!r}")
    rho0, zeta0 = polar_state(w0)
    summary = None
    if sgd:
        batch = _check_positive_int("the batch size", batch)
        steps = _check_positive_int("the number of SGD steps", steps)
        replicas = _check_positive_int("the number of replicas", replicas)
        seed = _check_positive_int("the seed", seed, 0)
        if not (lr > 0 and math.isfinite(lr)):
            raise DomainError(f"the learning rate must be positive and finite, got {lr}")
    flow = integrate_flow(data, depth, w0, t_max=t_max)
    times = np.linspace(0.0, t_max, points)
    series = flow.series(times)
    start = Start(data, depth, rho0, 2 * math.atan(math.exp(-zeta0 / 2)))
    bounds = {bound_id: _bound_along(bound_id, flow, start, times) for bound_id in bound_ids(depth)}
    if sgd:
        run = run_sgd(
            data,
            w0,
            depth=depth,
            lr=lr,
            batch=batch,
            steps=steps,
            replicas=replicas,
            record_every=max(1, steps // (points - 1)),
            rng=np.random.default_rng(seed),
        )
        cos = run.cos_theta
        spread = cos.std(axis=1, ddof=1) if replicas > 1 else np.zeros(cos.shape[0])
        summary = SgdSummary(
            t=_listed(run.t),
            cos_theta_mean=_listed(cos.mean(axis=1)),
            cos_theta_std=_listed(spread),
            norm_mean=_listed(run.rho.mean(axis=1)),
            loss_mean=_listed(data.loss(run.rho, 1 - cos).mean(axis=1)),
            batch=batch,
            lr=float(lr),
            steps=steps,
            replicas=replicas,
            seed=seed,
        )
    return LinearFlowResult(
        law=law,
        dim=dim,
        c0=data.c0,
        depth=depth,
        init=w0,
        T=flow.T if math.isfinite(flow.T) else None,
        trajectory=Trajectory(
            t=_listed(times),
            cos_theta=_listed(series["cos_theta"]),
            zeta=_listed(series["zeta"]),
            norm=_listed(series["rho"]),
            loss=_listed(series["loss"]),
        ),
        bounds=bounds,
        sgd=summary,
    )
