"""A measured sample-complexity exponent beside its prediction: what ``featcheck sweep`` runs.

:func:`sweep` measures ``n*(d)`` with the reduced simulator on a grid of dimensions
(:mod:`~featcheck.numerics.exponents.sample_complexity`) for every information exponent
``s`` and spike scaling ``r2`` asked for, fits the exponent of each curve with a
bootstrap interval, and compares it with the prediction of ``learner``.  Every option
can come from a keyword argument or from a TOML file (``config``), with the keyword
winning; options given by neither take the values of :data:`DEFAULTS`.  Every value is
checked for its type (:func:`check_options`): a float where a count is expected is an
error, never truncated.  A curve whose fit is undefined (every run reached the threshold
at step 0, a non-finite slope or interval) is reported without a measured exponent,
with the reason in ``inconclusive``.
"""

from __future__ import annotations

import contextlib
import math
import tomllib
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from featcheck.numerics.jsonable import JsonResult
from featcheck.numerics.names import DEFAULTS, LOSSES, MIN_RESAMPLES, SWEEP_LEARNERS, VARIANTS
from featcheck.theory.errors import DomainError, InputError

if TYPE_CHECKING:  # the simulator (numba) loads when a sweep runs, not with the CLI
    from featcheck.numerics.exponents.sample_complexity import SweepSpec

_INTEGERS = ("s", "dim", "replicas", "max_steps", "seed", "workers", "resamples")
_REALS = ("r1", "r2", "threshold")
_STRINGS = ("learner", "variant", "loss", "dim_grid", "scheduler", "cache", "output")


def read_config(path: Path | str) -> dict[str, Any]:
    """The options of a TOML file (keys as in :data:`DEFAULTS`, ``-`` or ``_``).

    :class:`~featcheck.theory.errors.InputError` when the file cannot be read, is not
    TOML, or has an unknown key.
    """
    path = Path(path)
    try:
        loaded = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not UTF-8 text (byte {exc.start}); a TOML file must be UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path} is not valid TOML: {' '.join(str(exc).split())}") from None
    options: dict[str, Any] = {}
    for key, value in loaded.items():
        name = key.replace("-", "_")
        if name in options:
            raise InputError(f"{path} sets {name} twice (as {key!r} and another spelling)")
        options[name] = value
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise InputError(
            f"unknown keys in {path}: {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(DEFAULTS))}"
        )
    return options


def check_options(options: dict[str, Any], source: str = "sweep option") -> None:
    """Raise :class:`InputError` unless every value has the type of its key.

    Counts are integers (not floats, not booleans), reals are finite numbers, ``no_cache``
    a boolean, the others strings; ``s``, ``r2`` and ``dim`` may be lists.  Nothing is
    converted, so that ``replicas = 3.9`` is an error rather than 3.
    """

    def bad(key: str, value: Any, expected: str) -> InputError:
        return InputError(f"{source} {key} must be {expected}, got {value!r}")

    for key, value in options.items():
        if value is None:
            continue
        items = value if isinstance(value, list | tuple) and key in ("s", "r2", "dim") else [value]
        if key in ("s", "r2", "dim") and isinstance(value, list | tuple) and not value:
            raise bad(key, value, "a non-empty list")
        for item in items:
            if key in _INTEGERS:
                if isinstance(item, bool) or not isinstance(item, int | np.integer):
                    raise bad(key, value, "a whole number")
            elif key in _REALS:
                number = isinstance(item, int | float | np.integer | np.floating)
                if isinstance(item, bool) or not number or not math.isfinite(item):
                    raise bad(key, value, "a finite number")
            elif key == "no_cache":
                if not isinstance(item, bool):
                    raise bad(key, value, "true or false")
            elif key in _STRINGS and not isinstance(item, str | Path):
                raise bad(key, value, "a string")
    for key in ("replicas", "max_steps", "workers"):
        if options.get(key) is not None and options[key] < 1:
            raise bad(key, options[key], "positive")
    if options.get("seed") is not None and options["seed"] < 0:
        raise bad("seed", options["seed"], "non-negative")
    if options.get("resamples") is not None and options["resamples"] < MIN_RESAMPLES:
        raise bad("resamples", options["resamples"], f"at least {MIN_RESAMPLES}")
    threshold = options.get("threshold")
    if threshold is not None and not 0 < threshold < 1:
        raise bad("threshold", threshold, "in (0, 1)")


def geometric_grid(text: str) -> list[int]:
    """``LOW:HIGH:COUNT``: ``COUNT`` dimensions spaced geometrically from ``LOW`` to ``HIGH``."""
    try:
        low, high, count = (float(v) for v in str(text).split(":"))
    except ValueError:
        raise InputError(f"the dimension grid must be LOW:HIGH:COUNT, got {text!r}") from None
    if count < 2 or low < 3 or high <= low or count != int(count):
        raise DomainError(f"the dimension grid needs 3 <= LOW < HIGH and COUNT >= 2, got {text!r}")
    return sorted({round(v) for v in np.geomspace(low, high, int(count))})


def _as_list(value) -> list | None:
    if value is None:
        return None
    return list(value) if isinstance(value, list | tuple) else [value]


def spec_from_options(options: dict[str, Any]) -> SweepSpec:
    """The :class:`SweepSpec` of resolved options (see :data:`DEFAULTS`)."""
    from featcheck.numerics.exponents.sample_complexity import SweepSpec

    learner = options["learner"]
    if learner not in SWEEP_LEARNERS:
        raise InputError(f"learner must be one of {', '.join(SWEEP_LEARNERS)}, got {learner!r}")
    if options["variant"] is not None and options["variant"] not in VARIANTS:
        raise InputError(f"variant must be one of {', '.join(VARIANTS)}")
    if options["loss"] not in LOSSES:
        raise InputError(f"loss must be one of {', '.join(LOSSES)}")
    spiked = learner != "online"
    dims = _as_list(options["dim"]) or (
        geometric_grid(options["dim_grid"]) if options["dim_grid"] else []
    )
    variant = options["variant"]
    if variant is None:
        variant = "preconditioned" if spiked else "plain"
    threshold = options["threshold"]
    if threshold is None:
        threshold = 0.9 if spiked else 0.5
    try:
        return SweepSpec(
            ds=tuple(int(d) for d in dims),
            s_values=tuple(int(s) for s in _as_list(options["s"])),
            r1=float(options["r1"]),
            r2_values=tuple(float(r) for r in _as_list(options["r2"])),
            spiked=spiked,
            variant=variant,
            loss=options["loss"],
            replicas=int(options["replicas"]),
            max_steps=int(options["max_steps"]),
            threshold=float(threshold),
            seed=int(options["seed"]),
        )
    except (TypeError, ValueError) as exc:
        raise InputError(f"bad sweep option: {exc}") from None


@dataclass(frozen=True)
class SweepReport(JsonResult):
    """The measured curves of a sweep beside the prediction of ``learner``.

    ``curves``: one dict per ``(s, r2)`` (see
    :func:`~featcheck.numerics.exponents.sample_complexity.curves`).  With a single curve
    the JSON repeats its ``measured_exponent``, ``interval``, ``predicted_exponent`` and
    ``points`` at the top level.  ``output``: the output directory named in the
    configuration file, if any (the report itself writes nothing until :meth:`write`).
    """

    learner: str
    spec: SweepSpec
    cache: Path | None
    cached_cells: int
    computed_cells: int
    curves: list[dict] = field(default_factory=list)
    output: Path | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "learner": self.learner,
            "spec": self.spec.to_json(),
            "cache": None if self.cache is None else str(self.cache),
            "cached_cells": self.cached_cells,
            "computed_cells": self.computed_cells,
            "curves": self.curves,
        }
        if len(self.curves) == 1:
            keys = ("measured_exponent", "interval", "predicted_exponent", "points")
            out.update({k: self.curves[0][k] for k in keys})
        return out

    def write(self, directory: Path | str) -> tuple[Path, Path]:
        """Write ``sweep.json`` and the log-log figure ``loglog.png``; returns both paths."""
        from featcheck.numerics.exponents.figures import plot_curves
        from featcheck.numerics.report import write_json_atomic

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        data = directory / "sweep.json"
        write_json_atomic(data, self.to_json())
        title = f"n*(d) of {self.spec.variant} online SGD against the {self.learner} prediction"
        with _quiet():
            return data, plot_curves(self.curves, directory / "loglog.png", title)


def sweep(
    *,
    config: Path | str | None = None,
    learner: str | None = None,
    variant: str | None = None,
    loss: str | None = None,
    s: int | Sequence[int] | None = None,
    r1: float | None = None,
    r2: float | Sequence[float] | None = None,
    dim: int | Sequence[int] | None = None,
    dim_grid: str | None = None,
    replicas: int | None = None,
    max_steps: int | None = None,
    threshold: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    cache: Path | str | None = None,
    no_cache: bool = False,
    resamples: int | None = None,
    progress: Callable[[Iterable, int], Iterable] | None = None,
) -> SweepReport:
    """Measure the exponent of ``n*(d)`` and compare it with ``learner``'s prediction.

    Each argument left as None comes from the TOML file ``config`` when it sets it, else
    from :data:`DEFAULTS`.  ``dim`` lists the dimensions (or ``dim_grid`` gives
    ``LOW:HIGH:COUNT``); ``s`` and ``r2`` may list several values, one curve each.
    ``cache`` is the directory of finished cells (``no_cache`` disables it); ``workers``
    local processes, or a Dask ``scheduler`` address.  ``progress(iterable, total)`` may
    wrap the stream of finished points (a progress bar).
    """
    given = {
        "learner": learner,
        "variant": variant,
        "loss": loss,
        "s": _as_list(s),
        "r1": r1,
        "r2": _as_list(r2),
        "dim": _as_list(dim),
        "dim_grid": dim_grid,
        "replicas": replicas,
        "max_steps": max_steps,
        "threshold": threshold,
        "seed": seed,
        "workers": workers,
        "scheduler": scheduler,
        "cache": cache,
        "no_cache": no_cache or None,
        "resamples": resamples,
    }
    from featcheck.numerics.exponents.sample_complexity import curves, run_sweep

    options = dict(DEFAULTS)
    if config is not None:
        from_file = read_config(config)
        check_options(from_file, f"{config}:")
        options.update(from_file)
    given = {key: value for key, value in given.items() if value is not None}
    check_options(given)
    options.update(given)
    spec = spec_from_options(options)
    cache_dir = None if options["no_cache"] else Path(options["cache"])
    result = run_sweep(
        spec,
        cache_dir,
        workers=int(options["workers"]),
        scheduler=options["scheduler"],
        progress=progress,
    )
    with _quiet():  # an undefined fit (n* = 0) is reported below, not warned about
        fitted = curves(
            result, options["learner"], n_resamples=int(options["resamples"]), seed=spec.seed
        )
    fitted = [_conclusive(curve) for curve in fitted]
    output = options["output"]
    return SweepReport(
        learner=options["learner"],
        spec=spec,
        cache=cache_dir,
        cached_cells=result.cached_cells,
        computed_cells=result.computed_cells,
        curves=fitted,
        output=None if output is None else Path(output),
    )


@contextlib.contextmanager
def _quiet():
    """Floating-point and degenerate-bootstrap warnings silenced: a curve whose fit is
    undefined says so in its ``inconclusive`` field instead."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message=".*confidence interval cannot be calculated")
        yield


def _conclusive(curve: dict) -> dict:
    """``curve``, or the same without a measured exponent when its fit is undefined.

    The fit is undefined when ``n* = 0`` at some dimension (every run reached the
    threshold at step 0: the threshold is at or below the starting overlap) or when the
    slope or its interval is not finite.  The reason goes in ``inconclusive``.
    """
    if curve.get("measured_exponent") is None:
        return curve
    points = curve.get("points") or []
    at_zero = [p["d"] for p in points if p.get("n_star") is not None and p["n_star"] <= 0]
    interval = curve.get("interval") or []
    numbers = [curve["measured_exponent"], *interval]
    finite = all(isinstance(v, int | float) and math.isfinite(v) for v in numbers)
    if at_zero:
        reason = (
            "every run reached the threshold at step 0 at d = "
            + ", ".join(map(str, at_zero))
            + ": the threshold is at or below the starting overlap there, so n* = 0 has no "
            "exponent; raise the threshold or the dimensions"
        )
    elif not finite or len(interval) != 2:
        reason = "the log-log fit of n*(d) is not finite; use more, larger dimensions"
    else:
        return curve
    points = [
        {
            **p,
            "n_star_interval": p["n_star_interval"]
            if p.get("n_star_interval") and all(math.isfinite(v) for v in p["n_star_interval"])
            else None,
        }
        for p in points
    ]
    keep = {k: v for k, v in curve.items() if k not in ("intercept",)}
    return {
        **keep,
        "measured_exponent": None,
        "interval": None,
        "contains_prediction": None,
        "inconclusive": reason,
        "points": points,
    }
