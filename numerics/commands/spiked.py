"""``featcheck flow ...`` (integrate a spiked flow) and ``featcheck derive spiked``."""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from featcheck.numerics.commands.common import (
    add_derivation_output,
    emit_derivation,
    finite_float,
    positive_float,
    positive_int,
    print_json,
)
from featcheck.numerics.ode import compile_system, fixed_points_1d, fixed_points_sphere, integrate
from featcheck.numerics.simulate.spiked import online_sgd
from featcheck.theory.dynamics.spiked import FLOWS, spiked_flow
from featcheck.theory.errors import DomainError
from featcheck.theory.models import CONVENTIONS, check_alignment, check_dimension, check_kappa


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--link", required=True, metavar="G", help="target link g")
    parser.add_argument("--activation", default="relu", metavar="PHI", help="student phi")
    parser.add_argument("--convention", choices=CONVENTIONS, default="unit")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("flow", help="integrate a gradient flow under a spiked covariance")
    parser.add_argument("flow", choices=FLOWS)
    _add_model_arguments(parser)
    parser.add_argument("--kappa", type=finite_float, default=0.0, metavar="K")
    parser.add_argument("--alignment", type=finite_float, default=1.0, metavar="C")
    parser.add_argument("--dim", type=int, default=1000, metavar="D")
    parser.add_argument(
        "--init", type=finite_float, metavar="M0", help="initial overlap <w0, u> (default d^(-1/2))"
    )
    parser.add_argument("--t-max", type=positive_float, default=1e5, metavar="T")
    parser.add_argument(
        "--monte-carlo",
        type=positive_int,
        metavar="R",
        help="also run R replicas of online SGD in dimension D",
    )
    parser.add_argument(
        "--samples",
        type=positive_int,
        default=20000,
        metavar="N",
        help="online SGD: number of steps (one fresh sample each)",
    )
    parser.add_argument(
        "--step", type=positive_float, metavar="ETA", help="online SGD step (default 0.2 d^(-3/2))"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("spiked", help="gradient flows under a spiked covariance")
    parser.add_argument("--flow", choices=FLOWS, required=True)
    _add_model_arguments(parser)
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)


def _start(flow: str, kappa: float, c: float, m0: float, alpha: float):
    """Initial state: ``w0 = m0 u + sqrt(1 - m0^2) v`` with ``v`` orthogonal to theta and u."""
    a0 = c * m0
    if c == 1.0:
        rho0 = m0 * np.sqrt(1 + kappa) / np.sqrt(1 + kappa * m0 * m0)
        return ([m0] if flow == "plain" else [rho0]), a0
    return ([a0, m0, 1.0] if flow == "preconditioned" else [a0, m0]), a0


def flow_payload(args: argparse.Namespace) -> dict:
    check_kappa(args.kappa)
    check_alignment(args.alignment)
    check_dimension(args.dim)
    m0 = args.dim**-0.5 if args.init is None else args.init
    if not -1 <= m0 <= 1:
        raise DomainError(f"the initial overlap must lie in [-1, 1], got {m0}")
    derived = spiked_flow(args.flow, args.activation, args.link, convention=args.convention)
    if not derived.recovery.holds:
        raise DomainError(derived.recovery.message)
    kappa, c = float(args.kappa), float(args.alignment)
    alpha = 1 / (1 + kappa) if args.convention == "unit" else 1.0
    aligned = c == 1.0
    system = derived.aligned if aligned else derived.general
    compiled = compile_system(system)
    y0, _ = _start(args.flow, kappa, c, m0, alpha)
    parameters = {"kappa": kappa, "c": c}
    if aligned and args.flow == "preconditioned":
        parameters["r"] = float(np.sqrt(alpha * (1 + kappa * m0 * m0)))
    trajectory = integrate(compiled, y0, parameters, args.t_max)
    fixed, fixed_note = _fixed_points(derived, system, compiled, parameters, args.flow, c, y0)
    grid = _thin(trajectory.t)
    payload = {
        "flow": args.flow,
        "parameters": {
            "link": args.link,
            "activation": args.activation,
            "kappa": kappa,
            "alignment": c,
            "dim": args.dim,
            "convention": args.convention,
            "init": m0,
            "t_max": args.t_max,
            "reduction": system.name,
            "series": derived.risk.truncation,
            "recovery_condition": derived.recovery.message,
            "fixed_points": fixed_note,
        },
        "final_overlap": trajectory.final_observable("overlap"),
        "final_rho": trajectory.final_observable("rho"),
        "escape_time": trajectory.escape_time,
        "fixed_points": fixed,
        "trajectory": {
            "t": trajectory.t[grid].tolist(),
            "overlap": trajectory.observables["overlap"][grid].tolist(),
        },
    }
    if args.monte_carlo:
        payload["monte_carlo"] = _monte_carlo(args, kappa, c, m0)
    return payload


_ONE_D = (
    "numeric zeros (grid of 4001 points refined by brentq) of the exact {what}; "
    "eigenvalue = slope from its exact derivative"
)


def _fixed_points(derived, system, compiled, parameters, flow, c, y0) -> tuple[list, str]:
    """Fixed points of the integrated system, with a note saying how they were found."""
    if system.dimension == 1:
        return _one_d(compiled, parameters, str(system.state[0])), _ONE_D.format(
            what=f"aligned right-hand side in {system.state[0]}"
        )
    if flow == "preconditioned":
        # d rho/dt = (1 - rho^2) psi'(rho)/r^2 holds for every c (checked in the derivation)
        whitened = compile_system(derived.aligned)
        r0 = float(compiled.observable("r", np.asarray(y0, dtype=float), (parameters["kappa"], c)))
        points = _one_d(whitened, {"kappa": parameters["kappa"], "r": r0}, "rho")
        return points, _ONE_D.format(
            what="whitened equation d rho/dt = (1 - rho^2) psi'(rho)/r^2 (exact for every c, "
            "r = ||Sigma^(1/2) w|| conserved); in (a, b, q) each is a curve of fixed points"
        )
    if abs(c) == 1:
        return [], "not computed: with c = -1 the admissible set of (a, b) is the segment b = -a"
    points = fixed_points_sphere(compiled, parameters, c)
    entries, curves = [], {}
    for point in points:
        rho_value = float(
            compiled.observable("rho", np.array(point.location), (parameters["kappa"], c))
        )
        key = round(rho_value, 6) + 0.0
        if point.on_curve or key in curves:
            curves.setdefault(key, []).append(point)
            continue
        entries.append(_entry_2d(point, rho_value))
    for key, members in sorted(curves.items()):
        entry = _entry_2d(members[0], key)
        entry["curve"] = {
            "rho": key,
            "points_found": len(members),
            "note": "not isolated: a curve of fixed points (the risk is constant along it); "
            "one point shown, eigenvalues there (one is zero along the curve)",
        }
        entries.append(entry)
    note = (
        "numeric: scipy.optimize.root (hybrid, exact Jacobian) from a 13 x 13 grid of unit w, "
        "zeros with |rhs| < 1e-11 of the grid maximum, merged within 1e-7; stability from the "
        "Jacobian eigenvalues (degenerate: a zero eigenvalue and none positive); curves of "
        "fixed points detected by re-solving along the null direction; zeros no start reaches "
        "are missed"
    )
    return entries, note


def _one_d(compiled, parameters, variable: str) -> list[dict]:
    out = []
    for point in fixed_points_1d(compiled, parameters):
        scale = max(1.0, abs(point.slope))
        stability = (
            "degenerate"
            if abs(point.slope) <= 1e-12 * scale
            else ("stable" if point.slope < 0 else "unstable")
        )
        out.append(
            {
                "variable": variable,
                "location": point.location,
                "eigenvalue": point.slope,
                "eigenvalues": [point.slope],
                "stability": stability,
                "stable": stability == "stable",
            }
        )
    return out


def _entry_2d(point, rho_value: float) -> dict:
    eig = [e.real for e in point.eigenvalues]
    if any(abs(e.imag) > 0 for e in point.eigenvalues):
        eig = [[e.real, e.imag] for e in point.eigenvalues]
    return {
        "variable": "(a, b)",
        "location": list(point.location),
        "rho": rho_value,
        "eigenvalue": point.leading,
        "eigenvalues": eig,
        "stability": point.stability,
        "stable": point.stability == "stable",
    }


def _thin(t: np.ndarray, points: int = 200) -> np.ndarray:
    if len(t) <= points:
        return np.arange(len(t))
    return np.unique(np.round(np.linspace(0, len(t) - 1, points)).astype(int))


def _monte_carlo(args, kappa: float, c: float, m0: float) -> dict:
    eta = args.step if args.step is not None else 0.2 * args.dim**-1.5
    result = online_sgd(
        args.dim,
        kappa,
        c,
        args.link,
        args.activation,
        args.flow,
        eta,
        args.samples,
        args.monte_carlo,
        args.seed,
        convention=args.convention,
        init=(c * m0, m0),
        record_every=max(1, args.samples // 100),
    )
    overlap = result.overlap / result.norm  # cosine (||w|| = 1 except when preconditioned)
    mean = overlap.mean(axis=0)
    replicas = overlap.shape[0]
    if replicas > 1:
        half = stats.t.ppf(0.975, replicas - 1) * overlap.std(axis=0, ddof=1)
        half /= np.sqrt(replicas)
    else:
        half = np.zeros_like(mean)
    hits = result.hitting_time
    return {
        "replicas": replicas,
        "samples": args.samples,
        "step": eta,
        "t": result.t.tolist(),
        "mean": mean.tolist(),
        "lower": (mean - half).tolist(),
        "upper": (mean + half).tolist(),
        "band": "95% t-interval for the mean over replicas",
        "escaped": int(np.isfinite(hits).sum()),
        "mean_escape_time": float(np.nanmean(hits)) if np.isfinite(hits).any() else None,
    }


def run(args: argparse.Namespace) -> int:
    payload = flow_payload(args)
    if args.json:
        print_json(payload)
        return 0
    p = payload["parameters"]
    print(
        f"{payload['flow']} flow: phi = {p['activation']}, g = {p['link']}, "
        f"kappa = {p['kappa']:g}, c = {p['alignment']:g}, convention {p['convention']}, "
        f"d = {p['dim']}"
    )
    print(f"reduction: {p['reduction']}; series {p['series']}")
    print(f"start <w0, u> = {p['init']:.6g}; {p['recovery_condition']}")
    escape = payload["escape_time"]
    print(f"escape time (rho = 1/2): {'none' if escape is None else f'{escape:.6g}'}")
    print(f"final <w, u> = {payload['final_overlap']:.6g}, final rho = {payload['final_rho']:.6g}")
    if payload["fixed_points"] or p["fixed_points"].startswith("not"):
        print(f"fixed points ({p['fixed_points']}):")
    for fp in payload["fixed_points"]:
        where = (
            f"{fp['location']:+.6f}"
            if fp["variable"] != "(a, b)"
            else f"({fp['location'][0]:+.6f}, {fp['location'][1]:+.6f}), rho = {fp['rho']:+.6f}"
        )
        kind = " [curve of fixed points]" if "curve" in fp else ""
        print(
            f"  {fp['variable']} = {where}: {fp['stability']}{kind} "
            f"(leading eigenvalue {fp['eigenvalue']:.4g})"
        )
    mc = payload.get("monte_carlo")
    if mc:
        print(
            f"online SGD: {mc['replicas']} replicas, {mc['samples']} steps of {mc['step']:.3g}; "
            f"final mean <w, u> = {mc['mean'][-1]:.4f} "
            f"[{mc['lower'][-1]:.4f}, {mc['upper'][-1]:.4f}], escaped {mc['escaped']}"
        )
    return 0


def run_derive(args: argparse.Namespace) -> int:
    derived = spiked_flow(args.flow, args.activation, args.link, convention=args.convention)
    return emit_derivation(derived.derivation, args)
