"""Measured sample complexity: ``n*(d)`` over a grid of dimensions, and its exponent.

One *point* is a ``(s, r1, r2, d)`` combination: an ``h_s`` target (information
exponent ``s``), alignment ``c = d^(-r1)``, spike ``kappa = d^r2`` (spiked sweeps).
At a point the step size is scanned on the geometric window
``eta_k = eta_ref(d) 2^(k/2)``, ``k_min <= k <= k_max``, where
``eta_ref = d^(-1) d^(e_rho max(s - 2, 0))`` is the largest admissible step of the
drift-versus-noise balance (``e_rho = -1/2`` on isotropic data), used only to place the
window, times ``min(1, 2 (1 - threshold))`` for strong recovery, whose noise floor
``1 - overlap ~ eta d`` needs a smaller step.  The scan goes from ``k_min`` upwards
until the median hitting time has turned back up to ``stop_factor`` times its best
value, or the runs stop succeeding; when the best step lies at an end of the window,
the window is extended by up to ``EXTEND`` half-octaves.  Once a median is known,
runs are censored at ``stop_factor`` times the best median (they cannot be the
minimum), which bounds the cost of step sizes too large to ever succeed.

``n*(d)`` is then the lower median hitting time minimised over the step sizes, and
its exponent is fitted by :mod:`featcheck.numerics.exponents.needed_samples`.

Each ``(point, eta)`` cell is one call of the reduced simulator with its own
``SeedSequence`` child (keyed by the point and ``k``, so adding points changes no
other number), stored in a content-hashed cache
(:mod:`featcheck.numerics.exponents.cell_cache`): an interrupted sweep rerun with the
same inputs finds its cells and loses nothing.  Points run in a local process pool,
or on a Dask cluster when a scheduler address is given (``pip install
'featcheck[dask]'``).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from featcheck.numerics.exponents.cell_cache import Cache, pool_map, run_cell
from featcheck.numerics.exponents.needed_samples import (
    CensoredError,
    as_times,
    fit_exponent,
    lower_median,
    point,
)
from featcheck.numerics.exponents.spherical_sgd import Link, OnlineSGD
from featcheck.theory.errors import DomainError, InputError


@dataclass(frozen=True)
class SweepSpec:
    """Everything that fixes a sweep's numbers."""

    ds: tuple[int, ...]
    s_values: tuple[int, ...] = (2,)
    r1: float = 0.0
    r2_values: tuple[float, ...] = (0.0,)
    spiked: bool = False
    variant: str = "plain"
    loss: str = "correlation"
    replicas: int = 16
    max_steps: int = 10**7
    threshold: float = 0.5
    eta_window: tuple[int, int] = (-4, 6)
    stop_factor: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.ds:
            raise DomainError("the grid of dimensions is empty: give at least two values of d")
        if any(int(d) != d or d < 3 for d in self.ds):
            raise DomainError(f"dimensions must be whole numbers >= 3, got {list(self.ds)}")
        if len(set(self.ds)) < 2:
            raise DomainError("an exponent needs at least two distinct dimensions")
        if not self.s_values or any(int(s) != s or not 1 <= s <= 12 for s in self.s_values):
            raise DomainError(
                f"information exponents must be whole numbers in [1, 12], got {list(self.s_values)}"
            )
        if not self.r2_values:
            raise DomainError("the list of r2 values is empty")
        if not 0 <= self.r1 <= 0.5 or any(not 0 <= r <= 1 for r in self.r2_values):
            raise DomainError("need r1 in [0, 1/2] and r2 in [0, 1]")
        if not self.spiked and (self.r1 != 0 or any(r != 0 for r in self.r2_values)):
            raise DomainError("r1 and r2 apply to spiked sweeps only (set spiked)")
        if self.replicas < 3:
            raise DomainError(f"need at least 3 replicates per cell, got {self.replicas}")
        if self.max_steps < 10:
            raise DomainError(f"the step budget {self.max_steps} is too small to ever succeed")
        low, high = self.eta_window
        if low > high:
            raise DomainError(f"empty step-size window k in [{low}, {high}]")
        if self.stop_factor <= 1:
            raise DomainError("stop_factor must exceed 1")
        for d in self.ds:  # a budget below d steps cannot move the overlap to O(1)
            if self.max_steps < d:
                raise DomainError(
                    f"the step budget {self.max_steps} is below d = {d}: online SGD needs at "
                    "least of the order of d samples to reach any fixed overlap; raise --max-steps"
                )

    def to_json(self) -> dict:
        return asdict(self)

    def points(self) -> list[dict]:
        return [
            {"s": int(s), "r1": float(self.r1), "r2": float(r2), "d": int(d)}
            for s in self.s_values
            for r2 in self.r2_values
            for d in sorted(self.ds)
        ]


def rho0_exponent_value(r1: float, r2: float) -> float:
    """``e_rho`` of ``rho0 ~ d^(e_rho)`` at ``(r1, r2)``."""
    from featcheck.theory.exponents import predict

    return predict("rho0").at(1, r1, r2).value


def eta_reference(spec: SweepSpec, s: int, r1: float, r2: float, d: int) -> float:
    """The step size that places the window of a point (see the module docstring)."""
    e_rho = rho0_exponent_value(r1, r2) if spec.spiked else -0.5
    # strong recovery: the stationary 1 - overlap is ~ eta d, so the step must also be
    # below ~ (1 - threshold)/d (calibrated so that weak recovery, 1/2, leaves it at 1/d)
    return d ** (-1.0 + e_rho * max(s - 2, 0)) * min(1.0, 2.0 * (1.0 - spec.threshold))


def config_at(spec: SweepSpec, s: int, r1: float, r2: float, d: int, eta: float) -> OnlineSGD:
    """The online-SGD configuration of one cell."""
    kappa = float(d) ** r2 if spec.spiked else 0.0
    c = float(d) ** (-r1) if spec.spiked else 1.0
    return OnlineSGD(
        d=int(d),
        eta=float(eta),
        link=Link.hermite(int(s)),
        kappa=kappa,
        c=c,
        variant=spec.variant,
        loss=spec.loss,
        threshold=spec.threshold,
        overlap="whitened" if spec.spiked else "u",
    )


# ---------------------------------------------------------------------------
# one point


def _point_sequence(spec: SweepSpec, p: dict) -> list[int]:
    label = json.dumps({k: p[k] for k in ("s", "r1", "r2", "d")}, sort_keys=True)
    return [zlib.crc32(label.encode())]


EXTEND = 6


def _best_k(results: dict) -> int:
    return min(results, key=lambda k: (float(lower_median(as_times(results[k][1]))), -k))


def measure_point(spec_json: dict, p: dict, cache_dir: str | None, threads: int = 0) -> dict:
    """Scan the step size at one point; plain data in and out (for process pools and Dask)."""
    if threads:
        import numba

        numba.set_num_threads(threads)
    spec = SweepSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec_json.items()})
    cache = Cache(cache_dir)
    s, r1, r2, d = p["s"], p["r1"], p["r2"], p["d"]
    reference = eta_reference(spec, s, r1, r2, d)
    low, high = spec.eta_window
    base = _point_sequence(spec, p)
    results: dict[int, tuple[float, np.ndarray]] = {}
    cached = 0
    best = math.inf

    def cell(k: int) -> float:
        nonlocal cached, best
        eta = reference * 2.0 ** (k / 2)
        budget = spec.max_steps
        if math.isfinite(best):  # a run slower than stop_factor * best cannot be the minimum
            budget = int(min(spec.max_steps, math.ceil(spec.stop_factor * best) + 1))
        config = config_at(spec, s, r1, r2, d, eta)
        hits, was_cached = run_cell(
            config, spec.replicas, budget, spec.seed, [*base, k - low + EXTEND], cache
        )
        cached += was_cached
        results[k] = (eta, hits)
        median = float(lower_median(as_times(hits)))
        best = min(best, median)
        return median

    # From the smallest step (always the slowest to succeed, never stuck below the
    # threshold for lack of steps) upwards, until the median has clearly turned back up
    # (or the runs, censored at stop_factor * best, no longer succeed).
    reached_bottom = True  # the smallest step tried was slower than the best
    k = low
    while not math.isfinite(cell(k)) and k < high:
        k += 1
    k += 1
    while k <= high and cell(k) < spec.stop_factor * best:
        k += 1
    # the best step at an end of the window: extend the window (at most EXTEND halvings)
    while min(results) > low - EXTEND and _best_k(results) == min(results):
        cell(min(results) - 1)
    while max(results) < high + EXTEND and _best_k(results) == max(results):
        if not math.isfinite(cell(max(results) + 1)):
            break
    order = sorted(results, reverse=True)
    etas = [results[k][0] for k in order]
    cells = [results[k][1].tolist() for k in order]
    return {
        **p,
        "etas": etas,
        "cells": cells,
        "reached_bottom": reached_bottom,
        "cached_cells": cached,
        "eta_reference": reference,
    }


# ---------------------------------------------------------------------------
# executors


def _local_map(spec: SweepSpec, points: list[dict], cache_dir, workers: int):
    spec_json = spec.to_json()
    if workers <= 1:
        for p in points:
            yield measure_point(spec_json, p, cache_dir)
        return
    yield from pool_map(measure_point, [(spec_json, p, cache_dir, 1) for p in points], workers)


def _dask_map(spec: SweepSpec, points: list[dict], cache_dir, address: str):
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise InputError(
            "a Dask scheduler was given but dask.distributed is not installed: "
            "pip install 'featcheck[dask]'"
        ) from None
    spec_json = spec.to_json()
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from None
    try:
        futures = [
            client.submit(measure_point, spec_json, p, cache_dir, 1, pure=False) for p in points
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()


@dataclass
class SweepResult:
    spec: SweepSpec
    measurements: list[dict]
    cached_cells: int = 0
    computed_cells: int = 0
    curves: list[dict] = field(default_factory=list)


def run_sweep(
    spec: SweepSpec,
    cache_dir: str | Path | None = None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[Iterable, int], Iterable] | None = None,
) -> SweepResult:
    """Measure every point; results come back in the order of :meth:`SweepSpec.points`."""
    points = spec.points()
    cache = None if cache_dir is None else str(cache_dir)
    stream = (
        _dask_map(spec, points, cache, scheduler)
        if scheduler
        else _local_map(spec, points, cache, workers)
    )
    if progress is not None:
        stream = progress(stream, len(points))
    done = {}
    for m in stream:
        done[(m["s"], m["r2"], m["d"])] = m
    measurements = [done[(p["s"], p["r2"], p["d"])] for p in points]
    cached = sum(m["cached_cells"] for m in measurements)
    total = sum(len(m["cells"]) for m in measurements)
    return SweepResult(spec, measurements, cached, total - cached)


def curves(
    result: SweepResult,
    learner: str,
    *,
    confidence: float = 0.95,
    n_resamples: int = 999,
    seed: int = 0,
    effective_dimension: bool = False,
) -> list[dict]:
    """Fit the exponent of every ``(s, r2)`` curve and compare it with ``learner``'s prediction.

    One plain-data dict per curve: the prediction (``predicted_exponent``, ``regime``,
    ``log_factor``), and either the fit (``measured_exponent``, ``interval``, ``points``,
    ``contains_prediction``) or, when a ``n*`` is censored, ``measured_exponent = None``
    with the reason in ``censored``.
    """
    import sympy as sp

    from featcheck.theory.exponents import predict

    prediction = predict(learner, effective_dimension)
    out = []
    spec = result.spec
    for s in spec.s_values:
        for r2 in spec.r2_values:
            rows = [m for m in result.measurements if m["s"] == s and m["r2"] == r2]
            rows.sort(key=lambda m: m["d"])
            evaluation = prediction.at(s, spec.r1, r2)
            log_factor = bool(evaluation.log_factor.has(sp.log))
            ds = [m["d"] for m in rows]
            cells = [[np.asarray(c) for c in m["cells"]] for m in rows]
            etas = [m["etas"] for m in rows]
            base = {
                "s": s,
                "r1": spec.r1,
                "r2": r2,
                "learner": learner,
                "predicted_exponent": evaluation.value,
                "predicted_exact": str(evaluation.exact),
                "regime": evaluation.regime,
                "log_factor": str(evaluation.log_factor),
            }
            try:
                fit = fit_exponent(
                    ds,
                    cells,
                    etas,
                    log_factor=log_factor,
                    confidence=confidence,
                    n_resamples=n_resamples,
                    rng=np.random.default_rng([seed, s, round(r2 * 1000)]),
                    tried_all=[m["reached_bottom"] for m in rows],
                )
            except CensoredError as exc:
                out.append(
                    {
                        **base,
                        "measured_exponent": None,
                        "interval": None,
                        "censored": str(exc),
                        "points": [
                            point(d, e, c, m["reached_bottom"]).to_json()
                            for d, e, c, m in zip(ds, etas, cells, rows, strict=True)
                        ],
                    }
                )
                continue
            low, high = fit.interval
            out.append(
                {
                    **base,
                    **fit.to_json(),
                    "contains_prediction": bool(low <= evaluation.value <= high),
                }
            )
    result.curves = out
    return out
