"""``featcheck linear``, ``featcheck check-bound`` and ``featcheck derive linear``."""

from __future__ import annotations

import argparse
import math

import numpy as np
import sympy as sp

from featcheck.numerics.bounds import (
    FlowFamily,
    Start,
    _min_margin,
    _numerical_error,
    check_flow_bound,
    printed_flow_bound,
    user_flow_bound,
)
from featcheck.numerics.commands.common import (
    add_derivation_output,
    emit_derivation,
    finite_float,
    non_negative_int,
    positive_float,
    positive_int,
    print_json,
)
from featcheck.numerics.figures.linear import _ARGS
from featcheck.numerics.simulate.linear import DataLaw, integrate_flow, polar_state, sgd
from featcheck.theory import linear as th
from featcheck.theory.errors import DomainError, InputError


def pair(text: str) -> tuple[float, float]:
    """``X,Y`` as two finite numbers."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected two numbers X,Y, got {text!r}")
    values = tuple(finite_float(p.strip()) for p in parts)
    return values  # type: ignore[return-value]


def depth_type(text: str) -> int:
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"the depth must be at least 1, got {value}")
    return value


def dim_type(text: str) -> int:
    value = positive_int(text)
    if value < 2 or value > th.MAX_DIM:
        raise argparse.ArgumentTypeError(f"the dimension must be in [2, {th.MAX_DIM}], got {value}")
    return value


def _add_flow_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--depth", type=depth_type, default=1, metavar="N")
    parser.add_argument("--data", choices=th.LAWS, default="sphere")
    parser.add_argument("--dim", type=dim_type, default=2, metavar="D")
    parser.add_argument("--t-max", type=positive_float, default=20.0, metavar="T")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "linear", help="flows of linear networks under spherically symmetric data, with bounds"
    )
    _add_flow_arguments(parser)
    parser.add_argument(
        "--init",
        type=pair,
        default=(0.6, -0.8),
        metavar="X,Y",
        help="w(0) in the plane, v = (0, 1) (default 0.6,-0.8)",
    )
    parser.add_argument("--points", type=positive_int, default=41, help="trajectory points")
    parser.add_argument("--sgd", action="store_true", help="also run SGD replicas")
    parser.add_argument("--batch", type=positive_int, default=1000, metavar="B")
    parser.add_argument("--lr", type=positive_float, default=1e-3, metavar="ETA")
    parser.add_argument("--steps", type=positive_int, default=2000, metavar="S")
    parser.add_argument("--replicas", type=positive_int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)

    check = commands.add_parser(
        "check-bound", help="search for violations of an inequality along a flow"
    )
    check.add_argument(
        "inequality",
        metavar="INEQUALITY",
        help="e.g. 'cos_theta >= 1 - 2/(exp(k*t - 2*log(tan(theta0/2))) + 1)'",
    )
    _add_flow_arguments(check)
    check.add_argument("--window", choices=("all", "before-T", "after-T"), default="all")
    check.add_argument("--rho-range", type=pair, default=(0.1, 4.0), metavar="LO,HI")
    check.add_argument("--theta-range", type=pair, default=(0.2, math.pi - 0.2), metavar="LO,HI")
    check.add_argument("--grid", type=positive_int, default=4)
    check.add_argument(
        "--search",
        type=int,
        default=30,
        metavar="EVALS",
        help="Nelder-Mead evaluations after the grid (0: grid only)",
    )
    check.add_argument(
        "--constant",
        metavar="NAME=VALUE",
        help="a named constant of the inequality; its tightest value is reported",
    )
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=run_check)


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("linear", help="reduction, flows and bounds of linear networks")
    parser.add_argument("--data", choices=th.LAWS, default="sphere")
    parser.add_argument("--dim", type=dim_type, default=2, metavar="D")
    parser.add_argument("--depth", type=depth_type, default=4, metavar="N")
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)


def _bound_ids(depth: int) -> list[str]:
    if depth == 1:
        return ["theorem1.before-T", "theorem1.after-T"]
    if depth > 2:
        return [
            "lemma4.lower",
            "lemma4.upper",
            "theorem5.before-T",
            "theorem5.after-T",
            "theorem5.upper",
        ]
    return []


def _listed(values: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def linear_payload(args: argparse.Namespace) -> dict:
    law = DataLaw(args.data, args.dim)
    rho0, zeta0 = polar_state(args.init)
    flow = integrate_flow(law, args.depth, args.init, t_max=args.t_max)
    times = np.linspace(0.0, args.t_max, args.points)
    series = flow.series(times)
    start = Start(law, args.depth, rho0, 2 * math.atan(math.exp(-zeta0 / 2)))
    bounds = {}
    for bound_id in _bound_ids(args.depth):
        bound = th.printed_bounds()[bound_id]
        checker = printed_flow_bound(bound)
        function = sp.lambdify(_ARGS, bound.rhs_printed(), modules="numpy")
        initial = [
            flow.rho0,
            start.theta0,
            flow.rho_T if math.isfinite(flow.rho_T) else 1.0,
            2 * math.atan(math.exp(-flow.zeta_T / 2)) if math.isfinite(flow.zeta_T) else 1.0,
            flow.T if math.isfinite(flow.T) else args.t_max,
            law.c0,
            float(args.depth),
        ]
        with np.errstate(all="ignore"):
            values = np.asarray(function(times, *initial), dtype=float) * np.ones_like(times)
        inside = {
            "before-T": times <= flow.T,
            "after-T": times >= flow.T,
        }.get(bound.window, np.ones_like(times, dtype=bool))
        values = np.where(inside, values, np.nan)
        margin, when = _min_margin(checker, flow)
        if math.isinf(margin) and margin > 0:
            status, tolerance = "not applicable (empty window)", None
        else:
            tolerance = _numerical_error(checker, start, args.t_max)
            status = "holds" if margin >= -tolerance else "violated"
        bounds[bound_id] = {
            "inequality": str(bound.inequality()),
            "window": bound.window,
            "values": _listed(values),
            "status": status,
            "worst_margin": margin if math.isfinite(margin) else None,
            "worst_time": when if math.isfinite(when) else None,
            "tolerance": tolerance,
        }
    payload = {
        "law": args.data,
        "dim": args.dim,
        "c0": law.c0,
        "depth": args.depth,
        "init": list(args.init),
        "T": flow.T if math.isfinite(flow.T) else None,
        "trajectory": {
            "t": _listed(times),
            "cos_theta": _listed(series["cos_theta"]),
            "norm": _listed(series["rho"]),
            "loss": _listed(series["loss"]),
        },
        "bounds": bounds,
    }
    if args.sgd:
        rng = np.random.default_rng(args.seed)
        every = max(1, args.steps // (args.points - 1))
        run = sgd(
            law,
            args.init,
            depth=args.depth,
            lr=args.lr,
            batch=args.batch,
            steps=args.steps,
            replicas=args.replicas,
            record_every=every,
            rng=rng,
        )
        cos = run.cos_theta
        payload["sgd"] = {
            "t": _listed(run.t),
            "cos_theta_mean": _listed(cos.mean(axis=1)),
            "cos_theta_std": _listed(
                cos.std(axis=1, ddof=1) if args.replicas > 1 else 0 * cos[:, 0]
            ),
            "norm_mean": _listed(run.rho.mean(axis=1)),
            "loss_mean": _listed(law.loss(run.rho, 1 - cos).mean(axis=1)),
            "batch": args.batch,
            "lr": args.lr,
            "replicas": args.replicas,
            "seed": args.seed,
        }
    return payload


def run(args: argparse.Namespace) -> int:
    payload = linear_payload(args)
    if args.json:
        print_json(payload)
        return 0
    T = payload["T"]
    print(
        f"depth {args.depth}, {args.data} d={args.dim} (c0 = {payload['c0']:.6g}), "
        f"w(0) = {tuple(args.init)}"
    )
    print(f"T (norm turns) = {'never within t-max' if T is None else f'{T:.6g}'}")
    traj = payload["trajectory"]
    step = max(1, len(traj["t"]) // 10)
    print(f"{'t':>8} {'cos_theta':>14} {'norm':>12} {'loss':>12}")
    for i in range(0, len(traj["t"]), step):
        print(
            f"{traj['t'][i]:>8.3g} {traj['cos_theta'][i]:>14.10f} {traj['norm'][i]:>12.6g} "
            f"{traj['loss'][i]:>12.6g}"
        )
    for bound_id, info in payload["bounds"].items():
        worst = info["worst_margin"]
        extra = (
            ""
            if worst is None
            else f" (smallest margin {worst:.3g} at t = {info['worst_time']:.3g})"
        )
        print(f"{bound_id:20s} {info['status']}{extra}")
    if "sgd" in payload:
        s = payload["sgd"]
        print(
            f"SGD ({s['replicas']} replicas, batch {s['batch']}, lr {s['lr']}): final "
            f"cos_theta {s['cos_theta_mean'][-1]:.6f}, norm {s['norm_mean'][-1]:.6g}"
        )
    return 0


def _constant(text: str | None) -> tuple[str, float] | None:
    if text is None:
        return None
    name, sep, value = text.partition("=")
    if not sep:
        raise InputError(f"--constant needs NAME=VALUE, got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"--constant value must be a number, got {value!r}") from None
    if not math.isfinite(number) or number == 0:
        raise InputError(f"--constant value must be finite and non-zero, got {value!r}")
    return name.strip(), number


def run_check(args: argparse.Namespace) -> int:
    constant = _constant(args.constant)
    bound = user_flow_bound(args.inequality, args.window, constant)
    lo, hi = args.rho_range
    if not 0 < lo <= hi:
        raise DomainError(f"--rho-range needs 0 < LO <= HI, got {lo},{hi}")
    a, b = args.theta_range
    if not 0 < a <= b < math.pi:
        raise DomainError(f"--theta-range needs 0 < LO <= HI < pi, got {a},{b}")
    family = FlowFamily(
        [DataLaw(args.data, args.dim)], [args.depth], (lo, hi), (a, b), args.grid, args.t_max
    )
    result = check_flow_bound(bound, family, optimise_evaluations=max(args.search, 0))
    payload = result.to_json()
    payload["inequality"] = args.inequality
    if constant is not None:
        payload["printed_constant"] = constant[1]
        if result.tightest_scale is not None:
            payload["tightest_constant"] = result.tightest_scale * constant[1]
    if args.json:
        print_json(payload)
        return 0 if result.holds else 1
    print(f"{args.inequality}: {payload['status']} over {payload['starts_evaluated']} starts")
    print(
        f"smallest margin {payload['worst_margin']:.6g} (tolerance {payload['tolerance']:.2g}) "
        f"at t = {payload['worst_time']:.6g}, start {payload['worst_start']}"
    )
    if payload.get("tightest_constant") is not None:
        print(f"tightest {constant[0]} on the tested range: {payload['tightest_constant']:.6g}")
    return 0 if result.holds else 1


def run_derive(args: argparse.Namespace) -> int:
    return emit_derivation(th.linear_derivation(args.data, args.dim, args.depth), args)
