"""``featcheck exponent``, ``featcheck sweep``, ``featcheck derive exponent`` and
``featcheck derive preconditioning-gain``: argument parsing and printing only.

The logic is in :func:`featcheck.numerics.exponents.predicted.exponent`,
:func:`featcheck.numerics.exponents.sweep.sweep`,
:func:`featcheck.theory.exponents.predict` and
:func:`featcheck.theory.exponents.preconditioning_gain`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from featcheck.numerics.commands.common import (
    add_derivation_output,
    add_json,
    add_output,
    add_seed,
    emit_derivation,
    finite_float,
    positive_int,
    print_json,
    progress,
)
from featcheck.numerics.exponents.sweep import DEFAULTS, LOSSES, SWEEP_LEARNERS, VARIANTS
from featcheck.theory.exponents import GAIN_COMPARATORS, LEARNERS

#: Where ``featcheck sweep`` writes when neither ``--output`` nor the configuration says.
SWEEP_OUTPUT = Path("featcheck-sweep")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("exponent", help="predicted sample-complexity exponent")
    parser.add_argument(
        "--learner", choices=LEARNERS, required=True, help="whose sample complexity"
    )
    parser.add_argument(
        "--s",
        type=positive_int,
        default=None,
        help="information exponent of the target (default: none; required except for rho0)",
    )
    parser.add_argument(
        "--r1",
        type=finite_float,
        default=None,
        help="alignment c = d^(-r1), spiked learners and rho0 (default: 0 for those)",
    )
    parser.add_argument(
        "--r2",
        type=finite_float,
        default=None,
        help="spike kappa = d^r2, spiked learners and rho0 (default: 0 for those)",
    )
    parser.add_argument(
        "--effective-dimension",
        action="store_true",
        help="spiked learners: prefactor d/kappa instead of d",
    )
    add_json(parser)
    parser.set_defaults(handler=run_exponent)

    sweep = commands.add_parser(
        "sweep", help="measure a sample-complexity exponent with the reduced simulator"
    )
    _sweep_arguments(sweep)
    sweep.set_defaults(handler=run_sweep_command)


def _sweep_arguments(sweep: argparse.ArgumentParser) -> None:
    """Options default to None so that a TOML file can set them; the help gives the default."""

    def option(*names, default_text: str, help: str, **kwargs) -> None:
        sweep.add_argument(*names, default=None, help=f"{help} (default: {default_text})", **kwargs)

    sweep.add_argument(
        "--config",
        type=Path,
        metavar="TOML",
        help="read the options from a TOML file, keys as the long options "
        "(default: none; options given on the command line win)",
    )
    option(
        "--learner",
        choices=SWEEP_LEARNERS,
        default_text=DEFAULTS["learner"],
        help="prediction to compare with",
    )
    option(
        "--variant",
        choices=VARIANTS,
        default_text="preconditioned for the spiked learners, plain for online",
        help="online SGD variant",
    )
    option("--loss", choices=LOSSES, default_text=DEFAULTS["loss"], help="one-sample loss")
    option(
        "--s",
        type=positive_int,
        nargs="+",
        metavar="S",
        default_text="2",
        help="information exponents of the h_s target, one curve each",
    )
    option("--r1", type=finite_float, default_text="0", help="alignment c = d^(-r1), spiked only")
    option(
        "--r2",
        type=finite_float,
        nargs="+",
        default_text="0",
        help="spikes kappa = d^r2, spiked only, one curve each",
    )
    option(
        "--dim",
        type=positive_int,
        nargs="+",
        metavar="D",
        default_text="none; give --dim or --dim-grid",
        help="dimensions d",
    )
    option(
        "--dim-grid",
        metavar="LOW:HIGH:COUNT",
        default_text="none",
        help="a geometric grid of dimensions instead of --dim, e.g. 100:10000:5",
    )
    option(
        "--replicas",
        type=positive_int,
        default_text=DEFAULTS["replicas"],
        help="independent runs per step size",
    )
    option(
        "--max-steps",
        type=positive_int,
        default_text=f"{DEFAULTS['max_steps']:.0e}".replace("+0", ""),
        help="SGD step budget of one run; runs that need more are censored",
    )
    option(
        "--threshold",
        type=finite_float,
        default_text="0.9 for the spiked learners, 0.5 for online",
        help="success: overlap (whitened for the spiked learners) >= threshold",
    )
    add_seed(sweep, default=None, default_text="0, or the configuration's seed")
    option("--workers", type=positive_int, default_text="1", help="local processes running points")
    option(
        "--scheduler",
        metavar="ADDRESS",
        default_text="none: run locally",
        help="run the points on this Dask scheduler",
    )
    option(
        "--cache",
        type=Path,
        metavar="DIR",
        default_text=DEFAULTS["cache"],
        help="directory of finished cells, reused by later runs",
    )
    sweep.add_argument("--no-cache", action="store_true", help="neither read nor write a cache")
    add_output(
        sweep,
        "the results (sweep.json, loglog.png)",
        otherwise=f"directory {SWEEP_OUTPUT}, or the configuration's output",
    )
    option(
        "--resamples",
        type=positive_int,
        default_text=DEFAULTS["resamples"],
        help="bootstrap resamples of the exponent interval",
    )
    add_json(sweep)


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("exponent", help="derivation of a predicted exponent")
    parser.add_argument(
        "--learner", choices=LEARNERS, required=True, help="whose sample complexity"
    )
    parser.add_argument(
        "--effective-dimension",
        action="store_true",
        help="spiked learners: prefactor d/kappa instead of d",
    )
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)

    gain = topics.add_parser(
        "preconditioning-gain",
        help="derivation of the sample-ratio exponent of preconditioned online SGD",
    )
    gain.add_argument(
        "--comparator",
        choices=GAIN_COMPARATORS,
        required=True,
        help="learner compared with preconditioned online SGD: isotropic online SGD "
        "(kappa = 0) or normalized online SGD on the same spiked data",
    )
    gain.add_argument(
        "--plain",
        action="store_true",
        help="normalized comparator: rho0 with the prefactor d instead of the stationary start",
    )
    add_derivation_output(gain)
    gain.set_defaults(handler=run_derive_gain)


def run_exponent(args: argparse.Namespace) -> int:
    from featcheck.numerics.exponents.predicted import exponent

    report = exponent(
        learner=args.learner,
        s=args.s,
        r1=args.r1,
        r2=args.r2,
        effective_dimension=args.effective_dimension,
    )
    if args.json:
        print_json(report.to_json())
        return 0
    payload = report.to_json()
    where = f"s = {report.s}" if report.s is not None else ""
    if report.r1 is not None:
        where += f"{', ' if where else ''}r1 = {report.r1}, r2 = {report.r2}"
    print(f"{report.learner} ({report.bound}) at {where}")
    print(f"exponent: {payload['exponent']} = {report.value:.6g}")
    print(f"regime:   {report.regime}")
    print(f"n(d) ~    {report.sample_complexity}")
    if report.convention:
        eff = " with effective dimension d/kappa" if report.effective_dimension else ""
        print(f"counting: convention {report.convention}{eff}")
    for name, holds in (report.consistency or {}).items():
        print(f"check:    {name}: {'holds' if holds else 'FAILS'}")
    return 0


def run_derive(args: argparse.Namespace) -> int:
    from featcheck.theory.exponents import predict

    return emit_derivation(predict(args.learner, args.effective_dimension).derivation, args)


def run_derive_gain(args: argparse.Namespace) -> int:
    from featcheck.theory.exponents import preconditioning_gain

    gain = preconditioning_gain(args.comparator, effective_dimension=not args.plain)
    return emit_derivation(gain.derivation, args)


def run_sweep_command(args: argparse.Namespace) -> int:
    from featcheck.numerics.exponents.sweep import sweep

    def bar(stream, total):
        return progress(stream, total=total, desc="points", enabled=not args.json)

    report = sweep(
        config=args.config,
        learner=args.learner,
        variant=args.variant,
        loss=args.loss,
        s=args.s,
        r1=args.r1,
        r2=args.r2,
        dim=args.dim,
        dim_grid=args.dim_grid,
        replicas=args.replicas,
        max_steps=args.max_steps,
        threshold=args.threshold,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        cache=args.cache,
        no_cache=args.no_cache,
        resamples=args.resamples,
        progress=bar,
    )
    data, figure = report.write(args.output or report.output or SWEEP_OUTPUT)
    if args.json:
        print_json(report.to_json())
        return 0
    spec = report.spec
    print(
        f"{report.learner} ({spec.variant} SGD, {spec.loss} loss, "
        f"threshold {spec.threshold}, {spec.replicas} replicates per step size)"
    )
    print(f"cells: {report.computed_cells} computed, {report.cached_cells} from the cache")
    for c in report.curves:
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
    sys.stdout.flush()  # the summary before the note on standard error, also in a pipe
    print(f"\nwrote {data} and {figure}", file=sys.stderr)
    return 0
