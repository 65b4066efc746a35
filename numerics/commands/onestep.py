"""``featcheck onestep`` (simulate one gradient step) and ``featcheck derive onestep``."""

from __future__ import annotations

import argparse
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
from featcheck.numerics.names import DATA, RIDGE_A, RIDGE_B

if TYPE_CHECKING:  # scipy and sympy load when a step runs, not with the command line
    from featcheck.numerics.onestep.run import OneStepA, OneStepB


#: Largest --dim, --samples and --width (their products are checked against the memory).
MAX_SIZE = 10**6


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "onestep",
        help="one large gradient step: spikes, errors, Hermite model",
        description="--alpha X runs model A (Moniri et al. 2024, eta = n^alpha, isotropic "
        "data); --beta B --weight W runs model B (Demir and Dogan 2025, eta = n^(B W)).",
    )
    _add_functions(parser)
    parser.add_argument(
        "--alpha",
        type=finite_float,
        metavar="X",
        help="model A: step exponent, eta = n^X with X in (0, 1/2) "
        "(default: none; give --alpha or --beta)",
    )
    parser.add_argument(
        "--beta",
        type=finite_float,
        metavar="B",
        help="model B: strength in (0, 1); eta = n^(B W), spike size n^(B (1 - W)) "
        "(default: none; give --alpha or --beta)",
    )
    parser.add_argument(
        "--weight",
        type=finite_float,
        metavar="W",
        help="model B: weight alpha in [0, 1], the learning rate's share of the strength "
        "(default: none; required with --beta)",
    )
    parser.add_argument(
        "--dim",
        type=bounded_int(MAX_SIZE),
        default=500,
        metavar="D",
        help="input dimension (d in model A, n in model B)",
    )
    parser.add_argument(
        "--samples",
        type=bounded_int(MAX_SIZE),
        default=500,
        metavar="N",
        help="number of samples in each batch (n in model A, m in model B)",
    )
    parser.add_argument(
        "--width",
        type=bounded_int(MAX_SIZE),
        default=500,
        metavar="K",
        help="hidden width (N in model A, k in model B)",
    )
    parser.add_argument(
        "--data",
        choices=DATA,
        default=None,
        help="data law (default: isotropic for model A, the only one it takes; mixture for "
        "model B)",
    )
    parser.add_argument(
        "--ridge",
        type=positive_float,
        default=None,
        metavar="L",
        help=f"ridge penalty lambda of the readout (default: {RIDGE_A:g} for model A, "
        f"{RIDGE_B:g} for model B)",
    )
    parser.add_argument(
        "--noise",
        type=finite_float,
        default=0.0,
        metavar="SD",
        help="standard deviation of the label noise (default: 0, noiseless labels)",
    )
    add_seed(parser)
    add_json(parser)
    parser.set_defaults(handler=run)


def _add_functions(parser: argparse.ArgumentParser) -> None:
    """``--activation`` (the student's sigma) and ``--link`` (the target sigma*)."""
    parser.add_argument(
        "--activation",
        required=True,
        metavar="A",
        help="activation sigma (name or expression in z)",
    )
    parser.add_argument(
        "--link", default="tanh", metavar="G", help="target link sigma* (name or expression in z)"
    )


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("onestep", help="spikes, overlap, surrogate, Hermite model")
    _add_functions(parser)
    parser.add_argument(
        "--alpha",
        type=finite_float,
        default=0.3,
        metavar="X",
        help="model A: step exponent, eta = n^X with X in (0, 1/2)",
    )
    parser.add_argument(
        "--psi", type=positive_float, default=1.0, metavar="P", help="model A: ratio n/d"
    )
    parser.add_argument(
        "--beta", type=finite_float, default=0.74, metavar="B", help="model B: strength in (0, 1)"
    )
    parser.add_argument(
        "--scale",
        type=positive_float,
        default=1.0,
        metavar="b",
        help="model B: scale b of the Hermite model of sigma(b z)",
    )
    parser.add_argument(
        "--weight",
        type=finite_float,
        default=0.5,
        metavar="W",
        help="model B: weight alpha in [0, 1], the learning rate's share of the strength",
    )
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)


def run(args: argparse.Namespace) -> int:
    from featcheck.numerics.onestep.run import OneStepA, onestep

    n, d, k = args.samples, args.dim, args.width
    check_memory(  # data, weights, features and their Gram matrices, 8 bytes each
        8.0 * (2 * n * d + 2 * k * d + 3 * n * k + k * k + n * n),
        {"--samples": n, "--dim": d, "--width": k},
    )
    result = onestep(
        activation=args.activation,
        link=args.link,
        alpha=args.alpha,
        beta=args.beta,
        weight=args.weight,
        dim=args.dim,
        samples=args.samples,
        width=args.width,
        data=args.data,
        noise=args.noise,
        ridge=args.ridge,
        seed=args.seed,
    )
    payload = require_finite(result.to_json())
    if args.json:
        print_json(payload)
        return 0
    print(f"model {result.model}, eta = {result.eta:.4g}")
    if isinstance(result, OneStepA):
        print_a(result)
    else:
        print_b(result)
    return 0


def print_a(result: OneStepA) -> None:
    p = result.predicted_spikes
    print(
        f"spikes: predicted {p.count} (degrees {list(p.degrees)}, l(alpha) = {p.l_alpha}, "
        f"informative: {p.informative}), measured {result.measured_spikes}"
    )
    top = ", ".join(f"{s:.4g}" for s in result.singular_values[:5])
    edge = result.bulk_edge
    print(f"top singular values: {top}")
    print(
        f"bulk edge: initial {edge.initial:.4g}, updated (deflated) "
        f"{edge.updated_deflated:.4g}, outlier threshold {edge.outlier_threshold:.4g}"
    )
    for a in result.alignments:
        if not a.is_outlier:
            print(f"singular vector {a.outlier} (degree {a.degree}): not an outlier")
            continue
        print(
            f"outlier {a.outlier} (degree {a.degree}): |<u, He_k(X beta_hat)>| = "
            f"{a.learned_feature:.3f}, <u, He_k(X beta*)> = {a.target_feature:.3f} "
            f"(limit {a.target_feature_predicted:.3f})"
        )
    g = result.gradient_overlap
    print(
        f"gradient overlap: beta_hat {g.measured_beta_hat:.4f}, gradient "
        f"{g.measured_gradient:.4f}, predicted {g.predicted:.4f}"
    )
    if result.surrogate_train_error is None:
        print("surrogate training error: none (no spike predicted)")
    else:
        print(f"surrogate training error: {result.surrogate_train_error:.5g}")
    print(f"train error {result.train_error:.5g}, test error {result.test_error:.5g}")
    print(f"Hermite model: {result.hermite_model.reason}")


def print_b(result: OneStepB) -> None:
    p = result.predicted_spikes
    present = [
        f"{t.mechanism} degree {t.degree} x{t.multiplicity} (n^{t.exponent})"
        for t in p.terms
        if t.present
    ]
    print(f"spike size theta = {result.spike_size:.4g}, spike directions {p.spike_directions}")
    print(f"spikes: predicted {p.count}: {', '.join(present) or 'none'}")
    for t in p.undetermined:
        print(f"  undetermined: {t.mechanism} degree {t.degree} (exponent {t.exponent})")
    print(
        f"measured {result.measured_spikes} after the step, "
        f"{result.measured_spikes_initial} before it"
    )
    top = ", ".join(f"{s:.4g}" for s in result.singular_values[:5])
    edge = result.bulk_edge
    print(f"top singular values: {top}")
    print(
        f"bulk edge (deflated): initial {edge.initial_deflated:.4g}, updated "
        f"{edge.updated_deflated:.4g}, outlier threshold {edge.outlier_threshold:.4g}"
    )
    for a in result.alignments:
        if a.predicted_spike or a.updated > 0.5:
            print(
                f"{a.mechanism} probe (group {a.group}, degree {a.degree}"
                f"{', predicted spike' if a.predicted_spike else ''}): in the outlier span "
                f"{a.updated:.3f} (before the step {a.initial:.3f})"
            )
    g, spike = result.gradient_overlap, result.gradient_spike
    s1, s2 = spike.top_singular_values[:2]
    print(
        f"gradient: top singular values {s1:.4g}, {s2:.4g} (predicted top "
        f"{spike.predicted_top:.4g}); top right singular vector vs c_hat "
        f"{spike.alignment_with_c_hat:.4f}"
    )
    if g.direction is None:
        print(
            f"learned direction: none at first order (zero-mean classes); ||c_hat||^2 = "
            f"{g.c_hat_norm_squared:.4g} (predicted {g.c_hat_norm_squared_predicted:.4g})"
        )
    else:
        print(
            f"learned direction overlap with c* = E[x y]: c_hat {g.measured_c_hat:.4f}, "
            f"gradient {g.measured_gradient:.4f}, predicted {g.predicted:.4f}"
        )
    print(f"train error {result.train_error:.5g}, test error {result.test_error:.5g}")
    h = result.hermite_model
    print(
        f"Hermite model L = {h.degree} (b = {h.scale_b:.4g}): train "
        f"{h.train_error:.5g}, test {h.test_error:.5g}; linear model: train "
        f"{h.linear_train_error:.5g}, test {h.linear_test_error:.5g}"
    )


def run_derive(args: argparse.Namespace) -> int:
    from featcheck.theory.onestep import onestep_derivation

    doc = onestep_derivation(
        args.activation,
        args.link,
        alpha=args.alpha,
        psi=args.psi,
        beta=args.beta,
        scale=args.scale,
        weight=args.weight,
    )
    return emit_derivation(doc, args)
