"""``featcheck flow ...`` (integrate a spiked flow) and ``featcheck derive spiked``.

The logic is :func:`featcheck.numerics.spiked.flow.flow`; this module parses and prints.
"""

from __future__ import annotations

import argparse

from featcheck.numerics.commands.common import (
    add_derivation_output,
    add_json,
    add_seed,
    bounded_int,
    check_memory,
    emit_derivation,
    emit_result,
    finite_float,
    positive_float,
)
from featcheck.theory.names import CONVENTIONS, FLOWS


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--link",
        required=True,
        metavar="G",
        help="target link g, a catalogue name or an expression in z, e.g. -h(4), he(2), tanh",
    )
    parser.add_argument(
        "--activation",
        default="relu",
        metavar="PHI",
        help="student activation phi, a catalogue name or an expression in z",
    )
    parser.add_argument(
        "--convention",
        choices=CONVENTIONS,
        default="unit",
        help="covariance: unit = (I + kappa theta theta^T)/(1 + kappa), "
        "ba = I + kappa theta theta^T",
    )


#: Bounds of the sizes; online SGD's memory (replicas x dim) is checked as well.
MAX_DIM, MAX_REPLICAS, MAX_STEPS = 10**9, 10**6, 10**10


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("flow", help="integrate a gradient flow under a spiked covariance")
    parser.add_argument(
        "flow",
        choices=FLOWS,
        help="plain spherical flow, normalized student, or flow preconditioned by Sigma^(-1)",
    )
    _add_model_arguments(parser)
    parser.add_argument(
        "--kappa",
        type=finite_float,
        default=0.0,
        metavar="K",
        help="spike magnitude kappa >= 0 (default: 0, isotropic data)",
    )
    parser.add_argument(
        "--alignment",
        type=finite_float,
        default=1.0,
        metavar="C",
        help="alignment c = <u, theta> in [-1, 1] (1: aligned, one-variable reduction)",
    )
    parser.add_argument(
        "--dim",
        type=bounded_int(MAX_DIM, minimum=3, what="the dimension"),
        default=1000,
        metavar="D",
        help="dimension d: the start d^(-1/2) and the online SGD use it",
    )
    parser.add_argument(
        "--init",
        type=finite_float,
        metavar="M0",
        help="initial overlap <w0, u> (default: d^(-1/2), a uniform start)",
    )
    parser.add_argument(
        "--t-max", type=positive_float, default=1e5, metavar="T", help="integration time"
    )
    parser.add_argument(
        "--replicas",
        type=bounded_int(MAX_REPLICAS),
        metavar="R",
        help="also run R replicas of online SGD in dimension D from the same start "
        "(default: none, the flow only)",
    )
    parser.add_argument(
        "--steps",
        type=bounded_int(MAX_STEPS),
        default=20000,
        metavar="N",
        help="online SGD: number of steps, one fresh sample each",
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        metavar="ETA",
        help="online SGD step size (default: 0.2 d^(-3/2))",
    )
    add_seed(parser)
    add_json(parser)
    parser.set_defaults(handler=run)


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("spiked", help="gradient flows under a spiked covariance")
    parser.add_argument(
        "--flow",
        choices=FLOWS,
        required=True,
        help="plain spherical flow, normalized student, or flow preconditioned by Sigma^(-1)",
    )
    _add_model_arguments(parser)
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)


def run(args: argparse.Namespace) -> int:
    from featcheck.numerics.spiked.flow import flow

    if args.replicas is not None:  # weights, a fresh sample and its gradient per replica
        check_memory(
            8.0 * 4 * args.replicas * args.dim, {"--dim": args.dim, "--replicas": args.replicas}
        )
    result = flow(
        variant=args.flow,
        activation=args.activation,
        link=args.link,
        kappa=args.kappa,
        alignment=args.alignment,
        dim=args.dim,
        convention=args.convention,
        init=args.init,
        t_max=args.t_max,
        replicas=args.replicas,
        steps=args.steps,
        eta=args.lr,
        seed=args.seed,
    )
    return emit_result(result, args)


def run_derive(args: argparse.Namespace) -> int:
    from featcheck.theory.dynamics.spiked import spiked_flow

    derived = spiked_flow(args.flow, args.activation, args.link, convention=args.convention)
    return emit_derivation(derived.derivation, args)
