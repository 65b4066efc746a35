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
    bounded_int,
    emit_derivation,
    finite_float,
    print_json,
    progress,
    require_finite,
)
from featcheck.numerics.names import DEFAULTS, LOSSES, MIN_RESAMPLES, SWEEP_LEARNERS, VARIANTS
from featcheck.theory.errors import InputError
from featcheck.theory.names import GAIN_COMPARATORS, LEARNERS

#: Where ``featcheck sweep`` writes when neither ``--output`` nor the configuration says.
SWEEP_OUTPUT = Path("featcheck-sweep")

#: Bounds of the sweep's sizes, checked before anything runs.  The reduced simulator's
#: memory does not grow with d; a cell stores one 8-byte hitting step per replica.
MAX_S, MAX_DIM, MAX_STEPS = 12, 10**8, 10**11
MAX_REPLICAS, MAX_WORKERS, MAX_RESAMPLES = 10**6, 256, 10**6


def unit_fraction(text: str) -> float:
    """A number strictly between 0 and 1."""
    value = finite_float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("exponent", help="predicted sample-complexity exponent")
    parser.add_argument(
        "--learner", choices=LEARNERS, required=True, help="whose sample complexity"
    )
    parser.add_argument(
        "--s",
        type=bounded_int(1000),
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
        type=bounded_int(MAX_S),
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
        type=bounded_int(MAX_DIM, minimum=3, what="the dimension"),
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
        type=bounded_int(MAX_REPLICAS, bytes_each=8, unit=" per cell"),
        default_text=DEFAULTS["replicas"],
        help="independent runs per step size",
    )
    option(
        "--max-steps",
        type=bounded_int(MAX_STEPS),
        default_text=f"{DEFAULTS['max_steps']:.0e}".replace("+0", ""),
        help="SGD step budget of one run; runs that need more are censored",
    )
    option(
        "--threshold",
        type=unit_fraction,
        default_text="0.9 for the spiked learners, 0.5 for online",
        help="success: overlap (whitened for the spiked learners) >= threshold",
    )
    add_seed(sweep, default=None, default_text="0, or the configuration's seed")
    option(
        "--workers",
        type=bounded_int(MAX_WORKERS),
        default_text="1",
        help="local processes running points",
    )
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
        type=bounded_int(MAX_RESAMPLES, minimum=MIN_RESAMPLES),
        default_text=DEFAULTS["resamples"],
        help=f"bootstrap resamples of the exponent interval, at least {MIN_RESAMPLES}",
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


#: ``featcheck sweep`` options that a TOML file may set (its keys, ``-`` or ``_``).
SWEEP_KEYS = tuple(DEFAULTS)


def sweep_options(args: argparse.Namespace) -> dict:
    """The sweep's options: the command line's, else the configuration file's.

    Each value of the file goes through the same argument type and choices as its option
    on the command line (``replicas = 3.9`` is refused as ``--replicas 3.9`` is); a key
    set both ways takes the command line's value, and a note on standard error says so.
    """
    from featcheck.numerics.exponents.sweep import read_config

    parser = argparse.ArgumentParser(add_help=False)
    _sweep_arguments(parser)
    actions = {a.dest: a for a in parser._actions if a.option_strings}
    from_file = {} if args.config is None else read_config(args.config)
    options = {}
    for key in SWEEP_KEYS:
        action = actions[key]
        given = getattr(args, key, None)
        if action.nargs == 0 and given is False:  # a flag not given
            given = None
        if key in from_file:
            value = _from_config(action, key, from_file[key], args.config)
            if given is not None:
                flag = action.option_strings[0]
                shown = flag if action.nargs == 0 else f"{flag} {_shown(given)}"
                print(
                    f"featcheck sweep: {shown} on the command line overrides "
                    f"{key} = {_shown(value)} in {args.config}",
                    file=sys.stderr,
                )
            else:
                given = value
        options[key] = given
    return options


def _shown(value) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _from_config(action: argparse.Action, key: str, value, path: Path):
    """A TOML value checked by the option's own argument type and choices."""
    where = f"{path}: {key} = {value!r}"
    if action.nargs == 0:
        if not isinstance(value, bool):
            raise InputError(f"{where}: expected true or false")
        return value
    if isinstance(value, list):
        if action.nargs != "+":
            raise InputError(f"{where}: expected one value, not a list")
        if not value:
            raise InputError(f"{where}: expected at least one value")
        items = value
    else:
        items = [value]
    converted = []
    for item in items:
        text_only = action.type is None or action.type is Path
        if text_only and not isinstance(item, str):
            raise InputError(f"{where}: expected a string")
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise InputError(f"{where}: expected a number")
        try:
            item = item if action.type is None else action.type(str(item))
        except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
            raise InputError(f"{where}: {exc}") from None
        if action.choices is not None and item not in action.choices:
            raise InputError(f"{where}: choose from {', '.join(map(str, action.choices))}")
        converted.append(item)
    return converted if action.nargs == "+" else converted[0]


def run_sweep_command(args: argparse.Namespace) -> int:
    from featcheck.numerics.exponents.sweep import sweep

    def bar(stream, total):
        return progress(stream, total=total, desc="points", enabled=not args.json)

    options = sweep_options(args)
    output = options.pop("output")
    report = sweep(**options, progress=bar)
    require_finite(report.to_json())
    data, figure = report.write(output or SWEEP_OUTPUT)
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
            print(f"no fit: {c.get('inconclusive') or c.get('censored')}")
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
