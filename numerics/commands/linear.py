"""``featcheck linear``, ``featcheck check-bound`` and ``featcheck derive linear``.

The logic lives in :func:`featcheck.numerics.linear.trajectory.linear_flow`,
:func:`featcheck.numerics.linear.bounds.check_bound` and
:func:`featcheck.theory.linear.linear_derivation`; this module parses and prints.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from featcheck.numerics.commands.common import (
    add_derivation_output,
    add_json,
    add_seed,
    bounded_int,
    check_memory,
    emit_derivation,
    finite_float,
    positive_float,
    print_json,
    require_finite,
)
from featcheck.numerics.names import PAPER_INIT, WINDOWS
from featcheck.theory.errors import DomainError
from featcheck.theory.names import LAWS, MAX_DIM

if TYPE_CHECKING:  # scipy loads when a flow runs, not with the command line
    from featcheck.numerics.linear.trajectory import BoundAlong


def pair(text: str) -> tuple[float, float]:
    """``X,Y`` as two finite numbers."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected two numbers X,Y, got {text!r}")
    first, second = (finite_float(p.strip()) for p in parts)
    return first, second


#: Bounds of the sizes, checked before anything is allocated (SGD also checks its memory).
MAX_DEPTH, MAX_POINTS, MAX_GRID, MAX_SEARCH = 100, 10**6, 1000, 10**6
MAX_BATCH, MAX_STEPS, MAX_REPLICAS = 10**8, 10**9, 10**6

depth_type = bounded_int(MAX_DEPTH, what="the depth")
dim_type = bounded_int(MAX_DIM, minimum=2, what="the dimension")
#: at least t = 0 and t-max; five series of 8-byte floats per point
points_type = bounded_int(MAX_POINTS, minimum=2, bytes_each=40, what="the number of points")


def constant_type(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` with a finite, non-zero value."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    number = finite_float(value.strip())
    if number == 0:
        raise argparse.ArgumentTypeError(f"the value must be non-zero, got {value!r}")
    return name.strip(), number


def _add_flow_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--depth",
        type=depth_type,
        default=1,
        metavar="N",
        help="depth of the linear network (1: the linear predictor)",
    )
    parser.add_argument(
        "--data",
        choices=LAWS,
        default="sphere",
        help="law of x: uniform on the unit sphere or standard Gaussian",
    )
    parser.add_argument(
        "--dim", type=dim_type, default=2, metavar="D", help=f"dimension of x (2 to {MAX_DIM})"
    )
    parser.add_argument(
        "--t-max", type=positive_float, default=20.0, metavar="T", help="end time of the flow"
    )


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "linear",
        help="flows of linear networks under spherically symmetric data, with bounds",
        description="Integrate the gradient flow of a linear predictor or a balanced deep "
        "linear network from w(0), report the time T where the norm turns, the trajectory "
        "and whether each printed bound of Lin, Sun, Zhang (2021) holds along it.",
    )
    _add_flow_arguments(parser)
    parser.add_argument(
        "--init",
        type=pair,
        default=PAPER_INIT,
        metavar="X,Y",
        help="w(0) in the plane span(w, v), with v = (0, 1)",
    )
    parser.add_argument(
        "--points",
        type=points_type,
        default=41,
        metavar="P",
        help="equally spaced times of the trajectory in [0, t-max]",
    )
    parser.add_argument(
        "--sgd", action="store_true", help="also run minibatch SGD replicas from w(0)"
    )
    parser.add_argument(
        "--batch",
        type=bounded_int(MAX_BATCH),
        default=1000,
        metavar="B",
        help="SGD samples per step",
    )
    parser.add_argument(
        "--lr", type=positive_float, default=1e-3, metavar="ETA", help="SGD learning rate"
    )
    parser.add_argument(
        "--steps",
        type=bounded_int(MAX_STEPS),
        default=2000,
        metavar="S",
        help="SGD steps (SGD time t = lr * steps)",
    )
    parser.add_argument(
        "--replicas",
        type=bounded_int(MAX_REPLICAS),
        default=4,
        metavar="R",
        help="independent SGD runs",
    )
    add_seed(parser)
    add_json(parser)
    parser.set_defaults(handler=run)

    check = commands.add_parser(
        "check-bound",
        help="search for violations of an inequality along a flow",
        description="Search a grid of starts (then Nelder-Mead from the worst one) for a "
        "start and time where the inequality fails along the flow. Names: t, cos_theta, "
        "theta, norm, zeta, loss; rho0, theta0; T, rhoT, thetaT; c0, N. Exit status 1 "
        "when the inequality is violated.",
    )
    check.add_argument(
        "inequality",
        metavar="INEQUALITY",
        help="e.g. 'cos_theta >= 1 - 2/(exp(k*t - 2*log(tan(theta0/2))) + 1)'",
    )
    _add_flow_arguments(check)
    check.add_argument(
        "--window",
        choices=WINDOWS,
        default="all",
        help="times where the inequality is required: all, t <= T or t >= T",
    )
    check.add_argument(
        "--rho-range",
        type=pair,
        default=(0.1, 4.0),
        metavar="LO,HI",
        help="range of the initial norm ||w(0)|| (log grid)",
    )
    check.add_argument(
        "--theta-range",
        type=pair,
        default=(0.2, math.pi - 0.2),
        metavar="LO,HI",
        help="range of the initial angle to v, inside (0, pi) (default: 0.2,pi-0.2)",
    )
    check.add_argument(
        "--grid",
        type=bounded_int(MAX_GRID),
        default=4,
        metavar="G",
        help="grid points per range (G x G starts)",
    )
    check.add_argument(
        "--search",
        type=bounded_int(MAX_SEARCH, minimum=0),
        default=30,
        metavar="EVALS",
        help="Nelder-Mead evaluations after the grid (0: grid only)",
    )
    check.add_argument(
        "--constant",
        type=constant_type,
        metavar="NAME=VALUE",
        help="a named constant of the inequality; its tightest value is reported when the "
        "inequality fails (default: no named constant)",
    )
    add_json(check)
    check.set_defaults(handler=run_check)


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("linear", help="reduction, flows and bounds of linear networks")
    parser.add_argument(
        "--data",
        choices=LAWS,
        default="sphere",
        help="law of x whose c0 the document derives",
    )
    parser.add_argument(
        "--dim", type=dim_type, default=2, metavar="D", help=f"dimension of x (2 to {MAX_DIM})"
    )
    parser.add_argument(
        "--depth",
        type=depth_type,
        default=4,
        metavar="N",
        help="depth of the induced flow and of its closed forms",
    )
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)


def _margin_text(info: BoundAlong) -> str:
    """`` (smallest margin M at t = W)``; a margin within its numerical tolerance is 0."""
    worst = info.worst_margin
    if worst is None:
        return ""
    if info.tolerance is not None and abs(worst) <= info.tolerance:
        worst = 0.0
    return f" (smallest margin {worst:.3g} at t = {info.worst_time:.3g})"


def run(args: argparse.Namespace) -> int:
    from featcheck.numerics.linear.trajectory import linear_flow

    if args.sgd:  # one batch of every replica (R x B x d) and one activation per layer
        check_memory(
            8.0 * args.replicas * args.batch * args.dim * (args.depth + 2),
            {"--replicas": args.replicas, "--batch": args.batch, "--dim": args.dim},
        )
    result = linear_flow(
        depth=args.depth,
        law=args.data,
        dim=args.dim,
        init=args.init,
        t_max=args.t_max,
        points=args.points,
        sgd=args.sgd,
        batch=args.batch,
        lr=args.lr,
        steps=args.steps,
        replicas=args.replicas,
        seed=args.seed,
    )
    payload = require_finite(result.to_json())
    if args.json:
        print_json(payload)
        return 0
    T = result.T
    print(
        f"depth {result.depth}, {result.law} d={result.dim} (c0 = {result.c0:.6g}), "
        f"w(0) = {result.init}"
    )
    print(f"T (norm turns) = {'never within t-max' if T is None else f'{T:.6g}'}")
    traj = result.trajectory
    step = max(1, len(traj.t) // 10)
    print(f"{'t':>8} {'cos_theta':>14} {'zeta':>10} {'norm':>12} {'loss':>12}")
    for i in range(0, len(traj.t), step):
        print(
            f"{traj.t[i]:>8.3g} {traj.cos_theta[i]:>14.10f} {traj.zeta[i]:>10.5g} "
            f"{traj.norm[i]:>12.6g} {traj.loss[i]:>12.6g}"
        )
    for bound_id, info in result.bounds.items():
        print(f"{bound_id:20s} {info.status}{_margin_text(info)}")
    if result.sgd is not None:
        s = result.sgd
        print(
            f"SGD ({s.replicas} replicas, batch {s.batch}, lr {s.lr}, seed {s.seed}): final "
            f"cos_theta {s.cos_theta_mean[-1]:.6f}, norm {s.norm_mean[-1]:.6g}"
        )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from featcheck.numerics.linear.bounds import check_bound

    result = check_bound(
        inequality=args.inequality,
        constant=args.constant,
        window=args.window,
        law=args.data,
        dim=args.dim,
        depth=args.depth,
        t_max=args.t_max,
        rho_range=args.rho_range,
        theta_range=args.theta_range,
        grid=args.grid,
        search=args.search,
    )
    code = 0 if result.holds else 1
    check = result.check
    worst = check.worst
    if worst.start is not None and not math.isfinite(worst.margin):
        start = worst.start.describe()
        raise DomainError(
            f"the inequality {result.inequality!r} is not finite at t = {worst.time:.6g} "
            f"(start rho0 = {start['rho0']:.6g}, theta0 = {start['theta0']:.6g}): its "
            f"margin is {worst.margin}; restrict --window or the ranges to where both "
            "sides are defined"
        )
    payload = require_finite(result.to_json())
    if args.json:
        print_json(payload)
        return code
    print(f"{result.inequality}: {result.status} over {check.evaluated} starts")
    if worst.start is None:
        print("no start has a time in the window; nothing was tested")
        return code
    start = worst.start.describe()
    print(
        f"smallest margin {worst.margin:.6g} (tolerance {worst.tolerance:.2g}) at "
        f"t = {worst.time:.6g}, start rho0 = {start['rho0']:.6g}, theta0 = {start['theta0']:.6g}"
    )
    if check.tightest_constant is not None:
        print(f"tightest {result.constant} on the tested range: {check.tightest_constant:.6g}")
    return code


def run_derive(args: argparse.Namespace) -> int:
    from featcheck.theory.linear import linear_derivation

    return emit_derivation(linear_derivation(args.data, args.dim, args.depth), args)
