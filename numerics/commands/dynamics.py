"""``featcheck ode``, ``featcheck simulate`` and ``featcheck derive ode``: teacher-student
committee models given as TOML files (``docs/dynamics.md``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from featcheck.numerics.commands.common import (
    add_derivation_output,
    add_json,
    add_seed,
    bounded_int,
    check_memory,
    emit_derivation,
    emit_result,
    positive_float,
)
from featcheck.numerics.names import HIT_OVERLAPS, STARTS

#: Bounds of the sizes; the full simulator's memory (replicas x dim) is checked as well.
MAX_DIM, MAX_REPLICAS, MAX_THREADS = 10**9, 10**6, 1024


def times_list(text: str) -> list[float]:
    """``"0,1.5,10"`` -> ``[0.0, 1.5, 10.0]`` (finite, non-negative)."""
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected numbers separated by commas, got {text!r}"
            ) from None
        if value != value or value in (float("inf"), float("-inf")) or value < 0:
            raise argparse.ArgumentTypeError(f"times must be finite and non-negative, got {part}")
        values.append(value)
    return values


def _add_spec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "spec",
        type=Path,
        metavar="SPEC.toml",
        help="the model: a TOML file (docs/dynamics.md) or a bundled example "
        "(saad-solla, staircase, single-index)",
    )


def _add_times(parser: argparse.ArgumentParser, default_t_max: str) -> None:
    parser.add_argument(
        "--t-max",
        type=positive_float,
        metavar="T",
        help=f"end time, in units of d steps (default: the last of --times, else {default_t_max})",
    )
    parser.add_argument(
        "--times",
        type=times_list,
        metavar="T1,T2,...",
        help="report at exactly these times (default: 11 equally spaced times up to --t-max)",
    )


def _add_no_fixed_points(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-fixed-points",
        dest="fixed_points",
        action="store_false",
        help="skip the search for the ODE's fixed points and the escape-time analysis "
        "(fixed_points and escape_time are then null; the search can take minutes when the "
        "expectations are numeric)",
    )


def register(commands: argparse._SubParsersAction) -> None:
    ode = commands.add_parser(
        "ode", help="integrate the overlap ODEs of a teacher-student model given as TOML"
    )
    _add_spec(ode)
    _add_times(ode, "1000")
    ode.add_argument(
        "--certify",
        type=positive_float,
        nargs="?",
        const=1e-8,
        metavar="TOL",
        help="also bound the numerical evaluation of the equations at each reported time "
        "(certified quadrature aiming at TOL per integral, default 1e-8; slow for four-field "
        "integrals)",
    )
    _add_no_fixed_points(ode)
    add_json(ode)
    ode.set_defaults(handler=run_ode)

    simulate = commands.add_parser(
        "simulate", help="run online SGD of a teacher-student model given as TOML"
    )
    _add_spec(simulate)
    simulate.add_argument(
        "--dim", type=bounded_int(MAX_DIM), required=True, metavar="D", help="the input dimension d"
    )
    simulate.add_argument(
        "--replicas",
        type=bounded_int(MAX_REPLICAS),
        required=True,
        metavar="R",
        help="independent runs",
    )
    simulate.add_argument(
        "--full",
        action="store_true",
        help="simulate the weights in dimension d instead of the exact reduced simulator",
    )
    add_seed(simulate)
    _add_times(simulate, "10")
    simulate.add_argument(
        "--start",
        choices=STARTS,
        default="model",
        help="model: every replica from the model's initial overlaps; uniform: each from its "
        "own students drawn uniformly on the sphere (default: model)",
    )
    simulate.add_argument(
        "--hit",
        type=float,
        metavar="THRESHOLD",
        help="record each replica's hitting time of max_k |cos(w_k, u_1)| >= THRESHOLD "
        "(in (0, 1]) and report their median (default: none)",
    )
    simulate.add_argument(
        "--hit-overlap",
        choices=HIT_OVERLAPS,
        default="u",
        help="the overlap --hit watches: u (the cosine) or whitened "
        "(w_k^T Sigma u_1 / sqrt(w_k^T Sigma w_k u_1^T Sigma u_1)); default u",
    )
    simulate.add_argument(
        "--threads",
        type=bounded_int(MAX_THREADS),
        metavar="N",
        help="threads of the reduced simulator (default: one per core; results do not "
        "depend on it)",
    )
    _add_no_fixed_points(simulate)
    add_json(simulate)
    simulate.set_defaults(handler=run_simulate)


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("ode", help="the overlap ODEs of a teacher-student model (TOML)")
    _add_spec(parser)
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)


def run_ode(args: argparse.Namespace) -> int:
    from featcheck.numerics.committee.dynamics import integrate_committee

    result = integrate_committee(
        args.spec,
        t_max=args.t_max,
        times=args.times,
        certify=args.certify,
        fixed_points=args.fixed_points,
    )
    return emit_result(result, args)


def run_simulate(args: argparse.Namespace) -> int:
    from featcheck.numerics.committee.dynamics import simulate_committee

    if args.full:  # at least a student and a teacher vector per replica, and a sample
        check_memory(
            8.0 * 3 * args.replicas * args.dim, {"--dim": args.dim, "--replicas": args.replicas}
        )
    result = simulate_committee(
        args.spec,
        dim=args.dim,
        replicas=args.replicas,
        full=args.full,
        seed=args.seed,
        times=args.times,
        t_max=args.t_max,
        threads=args.threads,
        start=args.start,
        hit=args.hit,
        hit_overlap=args.hit_overlap,
        fixed_points=args.fixed_points,
    )
    return emit_result(result, args)


def run_derive(args: argparse.Namespace) -> int:
    from featcheck.numerics.committee.dynamics import as_model
    from featcheck.theory.committee.document import derivation_document

    return emit_derivation(derivation_document(as_model(args.spec)), args)
