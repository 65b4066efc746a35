"""``featcheck exponent``, ``featcheck sweep`` and ``featcheck derive exponent``."""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import numpy as np
import sympy as sp

from featcheck.numerics.commands.common import (
    add_derivation_output,
    emit_derivation,
    finite_float,
    non_negative_int,
    positive_int,
    print_json,
    progress,
)
from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.exponents import (
    GAIN_COMPARATORS,
    LEARNERS,
    SPIKED_LEARNERS,
    consistency_checks,
    preconditioning_gain,
    predict,
)

SWEEP_LEARNERS = ("online", "spiked-online", "spiked-batch")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("exponent", help="predicted sample-complexity exponent")
    _prediction_arguments(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run_exponent)

    sweep = commands.add_parser(
        "sweep", help="measure a sample-complexity exponent with the reduced simulator"
    )
    sweep.add_argument("--config", type=Path, metavar="TOML", help="read the options from a file")
    sweep.add_argument("--learner", choices=SWEEP_LEARNERS, help="prediction to compare with")
    sweep.add_argument("--variant", choices=("plain", "normalized", "preconditioned"))
    sweep.add_argument("--loss", choices=("correlation", "square"))
    sweep.add_argument("--s", type=positive_int, nargs="+", metavar="S")
    sweep.add_argument("--r1", type=finite_float)
    sweep.add_argument("--r2", type=finite_float, nargs="+")
    sweep.add_argument("--d", type=positive_int, nargs="+", metavar="D", help="dimensions")
    sweep.add_argument(
        "--d-grid",
        metavar="LOW:HIGH:COUNT",
        help="a geometric grid of dimensions, e.g. 100:10000:5",
    )
    sweep.add_argument("--replicas", type=positive_int)
    sweep.add_argument("--max-steps", type=positive_int, help="step budget of one run")
    sweep.add_argument("--threshold", type=finite_float, help="success: overlap >= threshold")
    sweep.add_argument("--seed", type=non_negative_int)
    sweep.add_argument("--workers", type=positive_int, help="local processes (default 1)")
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler")
    sweep.add_argument("--cache", type=Path, metavar="DIR", help="default: featcheck-cache")
    sweep.add_argument("--no-cache", action="store_true")
    sweep.add_argument("--output", "-o", type=Path, metavar="DIR", help="default: featcheck-sweep")
    sweep.add_argument("--resamples", type=positive_int, help="bootstrap resamples (999)")
    sweep.add_argument("--json", action="store_true", help="print the JSON result")
    sweep.set_defaults(handler=run_sweep_command)


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("exponent", help="derivation of a predicted exponent")
    parser.add_argument("--learner", choices=LEARNERS, required=True)
    parser.add_argument("--effective-dimension", action="store_true")
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)

    gain = topics.add_parser(
        "preconditioning-gain",
        help="derivation of the sample-ratio exponent of preconditioned online SGD",
    )
    gain.add_argument("--comparator", choices=GAIN_COMPARATORS, required=True)
    gain.add_argument(
        "--plain",
        action="store_true",
        help="normalized comparator: prefactor d instead of the effective dimension d/kappa",
    )
    add_derivation_output(gain)
    gain.set_defaults(handler=run_derive_gain)


def _prediction_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--learner", choices=LEARNERS, required=True)
    parser.add_argument("--s", type=positive_int, default=None, help="information exponent")
    parser.add_argument("--r1", type=finite_float, default=None, help="alignment c = d^(-r1)")
    parser.add_argument("--r2", type=finite_float, default=None, help="spike kappa = d^r2")
    parser.add_argument(
        "--effective-dimension",
        action="store_true",
        help="spiked learners: prefactor d/kappa instead of d (open in the reference)",
    )


def exponent_payload(
    learner: str, s: int | None, r1: float | None, r2: float | None, effective: bool
) -> dict:
    spiked = learner in SPIKED_LEARNERS or learner == "rho0"
    if not spiked and (r1 is not None or r2 is not None):
        raise DomainError(f"--r1/--r2 apply to spiked learners and rho0, not to {learner!r}")
    if s is None:
        if learner != "rho0":
            raise DomainError(f"the {learner} exponent needs the information exponent --s")
        s = 1
    prediction = predict(learner, effective)
    r1 = 0.0 if r1 is None else r1
    r2 = 0.0 if r2 is None else r2
    value = prediction.at(s, r1, r2)
    payload = {
        "learner": learner,
        "s": None if learner == "rho0" else s,
        "r1": r1 if spiked else None,
        "r2": r2 if spiked else None,
        "exponent": sp.sstr(value.exact),
        "value": value.value,
        "regime": value.regime,
        "log_factor": sp.sstr(value.log_factor),
        "sample_complexity": "rho0 ~ " + sp.sstr(sp.Symbol("d") ** value.exact)
        if learner == "rho0"
        else sp.sstr(value.sample_complexity()),
        "bound": value.bound,
        "convention": value.convention or None,
        "effective_dimension": effective,
        "piecewise": sp.sstr(prediction.exponent),
    }
    if learner in SPIKED_LEARNERS:
        payload["consistency"] = {c.name: c.holds for c in consistency_checks(prediction)}
    return payload


def run_exponent(args: argparse.Namespace) -> int:
    payload = exponent_payload(args.learner, args.s, args.r1, args.r2, args.effective_dimension)
    if args.json:
        print_json(payload)
        return 0
    where = f"s = {payload['s']}" if payload["s"] is not None else ""
    if payload["r1"] is not None:
        where += f"{', ' if where else ''}r1 = {payload['r1']}, r2 = {payload['r2']}"
    print(f"{payload['learner']} ({payload['bound']}) at {where}")
    print(f"exponent: {payload['exponent']} = {payload['value']:.6g}")
    print(f"regime:   {payload['regime']}")
    print(f"n(d) ~    {payload['sample_complexity']}")
    if payload["convention"]:
        eff = " with effective dimension d/kappa" if payload["effective_dimension"] else ""
        print(f"counting: convention {payload['convention']}{eff}")
    for name, holds in payload.get("consistency", {}).items():
        print(f"check:    {name}: {'holds' if holds else 'FAILS'}")
    return 0


def run_derive(args: argparse.Namespace) -> int:
    return emit_derivation(predict(args.learner, args.effective_dimension).derivation, args)


def run_derive_gain(args: argparse.Namespace) -> int:
    gain = preconditioning_gain(args.comparator, effective_dimension=not args.plain)
    return emit_derivation(gain.derivation, args)


# ---------------------------------------------------------------------------
# sweep


DEFAULTS = {
    "learner": "online",
    "variant": None,
    "loss": "correlation",
    "s": [2],
    "r1": 0.0,
    "r2": [0.0],
    "d": None,
    "d_grid": None,
    "replicas": 16,
    "max_steps": 10**7,
    "threshold": None,
    "seed": 0,
    "workers": 1,
    "scheduler": None,
    "cache": "featcheck-cache",
    "no_cache": False,
    "output": "featcheck-sweep",
    "resamples": 999,
}


def _options(args: argparse.Namespace) -> dict:
    options = dict(DEFAULTS)
    if args.config is not None:
        try:
            loaded = tomllib.loads(args.config.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read {args.config}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{args.config} is not valid TOML: {exc}") from None
        unknown = set(loaded) - set(DEFAULTS)
        if unknown:
            raise InputError(
                f"unknown keys in {args.config}: {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(DEFAULTS))}"
            )
        options.update({k.replace("-", "_"): v for k, v in loaded.items()})
    for key in DEFAULTS:
        value = getattr(args, key, None)
        if value not in (None, False):
            options[key] = value
    for key in ("s", "r2", "d"):
        if options[key] is not None and not isinstance(options[key], list):
            options[key] = [options[key]]
    return options


def geometric_grid(text: str) -> list[int]:
    try:
        low, high, count = (float(v) for v in str(text).split(":"))
    except ValueError:
        raise InputError(f"--d-grid must be LOW:HIGH:COUNT, got {text!r}") from None
    if count < 2 or low < 3 or high <= low or count != int(count):
        raise DomainError(f"--d-grid needs 3 <= LOW < HIGH and COUNT >= 2, got {text!r}")
    grid = sorted({round(v) for v in np.geomspace(low, high, int(count))})
    return grid


def spec_from_options(options: dict):
    from featcheck.numerics.sweep import SweepSpec

    if options["learner"] not in SWEEP_LEARNERS:
        raise InputError(f"learner must be one of {', '.join(SWEEP_LEARNERS)}")
    spiked = options["learner"] != "online"
    ds = options["d"] or (geometric_grid(options["d_grid"]) if options["d_grid"] else [])
    variant = options["variant"] or ("preconditioned" if spiked else "plain")
    threshold = options["threshold"] or (0.9 if spiked else 0.5)
    return SweepSpec(
        ds=tuple(int(d) for d in ds),
        s_values=tuple(int(s) for s in options["s"]),
        r1=float(options["r1"]),
        r2_values=tuple(float(r) for r in options["r2"]),
        spiked=spiked,
        variant=variant,
        loss=options["loss"],
        replicas=int(options["replicas"]),
        max_steps=int(options["max_steps"]),
        threshold=float(threshold),
        seed=int(options["seed"]),
    )


def run_sweep_command(args: argparse.Namespace) -> int:
    from featcheck.numerics.report import write_json_atomic
    from featcheck.numerics.sweep import curves, plot_curves, run_sweep

    options = _options(args)
    spec = spec_from_options(options)
    cache = None if options["no_cache"] else Path(options["cache"])
    out_dir = Path(options["output"])

    def bar(stream, total):
        return progress(stream, total=total, desc="points", enabled=not args.json)

    result = run_sweep(
        spec,
        cache,
        workers=int(options["workers"]),
        scheduler=options["scheduler"],
        progress=bar,
    )
    fitted = curves(
        result, options["learner"], n_resamples=int(options["resamples"]), seed=spec.seed
    )
    payload = {
        "learner": options["learner"],
        "spec": spec.to_json(),
        "cache": None if cache is None else str(cache),
        "cached_cells": result.cached_cells,
        "computed_cells": result.computed_cells,
        "curves": fitted,
    }
    if len(fitted) == 1:
        payload.update(
            {
                k: fitted[0][k]
                for k in ("measured_exponent", "interval", "predicted_exponent", "points")
            }
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_dir / "sweep.json", payload)
    figure = plot_curves(fitted, out_dir / "loglog.png")
    if args.json:
        print_json(payload)
    else:
        print(
            f"{options['learner']} ({spec.variant} SGD, {spec.loss} loss, "
            f"threshold {spec.threshold}, {spec.replicas} replicates per step size)"
        )
        print(f"cells: {result.computed_cells} computed, {result.cached_cells} from the cache")
        for c in fitted:
            print(
                f"\ns = {c['s']}, r1 = {c['r1']}, r2 = {c['r2']}: predicted "
                f"{c['predicted_exponent']:.4g} ({c['regime']}, log factor {c['log_factor']})"
            )
            print(f"{'d':>8}  {'n*':>12}  {'eta':>10}  censored")
            for p in c["points"]:
                n = "censored" if p["n_star"] is None else f"{p['n_star']:.0f}"
                eta = "-" if p["eta"] is None else f"{p['eta']:.3g}"
                print(f"{p['d']:>8}  {n:>12}  {eta:>10}  {p['censored']}/{p['replicates']}")
            if c["measured_exponent"] is None:
                print(f"no fit: {c['censored']}")
            else:
                low, high = c["interval"]
                verdict = "contains" if c["contains_prediction"] else "does NOT contain"
                print(
                    f"measured exponent {c['measured_exponent']:.3f}, "
                    f"{100 * c['confidence']:.0f}% interval [{low:.3f}, {high:.3f}] "
                    f"({verdict} the prediction)"
                )
        print(f"\nwrote {out_dir / 'sweep.json'} and {figure}", file=sys.stderr)
    return 0
