"""``featcheck onestep`` (simulate one gradient step) and ``featcheck derive onestep``."""

from __future__ import annotations

import argparse

import numpy as np

from numerics.commands.common import (
    add_derivation_output,
    emit_derivation,
    finite_float,
    non_negative_int,
    positive_float,
    positive_int,
    print_json,
)
from numerics.simulate.onestep import ConfigA, ConfigB, simulate_a, simulate_b
from theory.errors import DomainError
from theory.functions import parse_function
from theory.onestep import gradient_overlap, hermite_degree, predict_spikes
from theory.onestep_derivation import onestep_derivation

DATA = ("isotropic", "spiked", "mixture")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "onestep",
        help="one large gradient step: spikes, errors, Hermite model",
        description="--alpha X runs model A (Moniri et al., eta = n^alpha, isotropic data); "
        "--beta B --weight W runs model B (Demir and Dogan, eta = n^(B W)).",
    )
    parser.add_argument("--activation", required=True, metavar="A")
    parser.add_argument("--target", default="tanh", metavar="T")
    parser.add_argument("--alpha", type=finite_float, metavar="X", help="model A step exponent")
    parser.add_argument("--beta", type=finite_float, metavar="B", help="model B strength")
    parser.add_argument("--weight", type=finite_float, metavar="W", help="model B weight alpha")
    parser.add_argument("--dim", type=positive_int, default=500, metavar="D")
    parser.add_argument("--samples", type=positive_int, default=500, metavar="N")
    parser.add_argument("--width", type=positive_int, default=500, metavar="K")
    parser.add_argument("--data", choices=DATA, default=None)
    parser.add_argument("--ridge", type=positive_float, default=None, metavar="L")
    parser.add_argument("--noise", type=finite_float, default=0.0, metavar="S")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("onestep", help="spikes, overlap, surrogate, Hermite model")
    parser.add_argument("--activation", required=True, metavar="A")
    parser.add_argument("--target", default="tanh", metavar="T")
    parser.add_argument("--alpha", type=finite_float, default=0.3, metavar="X")
    parser.add_argument("--psi", type=positive_float, default=1.0, metavar="P")
    parser.add_argument("--beta", type=finite_float, default=0.74, metavar="B")
    parser.add_argument("--scale", type=positive_float, default=1.0, metavar="b")
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)


def payload_a(args: argparse.Namespace) -> dict:
    if args.data not in (None, "isotropic"):
        raise DomainError("model A (--alpha) uses isotropic data; drop --data or use --beta")
    prediction = predict_spikes(args.activation, args.target, args.alpha)
    config = ConfigA(
        args.activation,
        args.target,
        args.alpha,
        args.samples,
        args.dim,
        args.width,
        noise=args.noise,
        ridge=args.ridge or 1e-2,
        spike_degrees=prediction.spike_degrees,
    )
    result = simulate_a(config, np.random.default_rng(args.seed))
    limit = gradient_overlap(args.target, args.samples / args.dim, args.noise**2)
    alignments = [
        {
            "outlier": i + 1,
            "degree": k,
            "is_outlier": i < result.outliers,
            "learned_feature": result.alignment_learned[i],
            "target_feature": result.alignment_target[i],
            "target_feature_predicted": limit.alignment(k),
        }
        for i, k in enumerate(prediction.spike_degrees[: len(result.alignment_learned)])
    ]
    return {
        "model": "A (Moniri et al.)",
        "eta": result.eta,
        "predicted_spikes": {
            "count": prediction.count,
            "degrees": list(prediction.spike_degrees),
            "l_alpha": prediction.unrestricted,
            "unresolved_degrees": list(prediction.unresolved),
            "informative": prediction.informative,
        },
        "measured_spikes": result.outliers,
        "singular_values": result.singular_values,
        "bulk_edge": {
            "initial": result.bulk_edge_initial,
            "updated_deflated": result.bulk_edge_updated,
            "outlier_threshold": result.edge_threshold,
        },
        "alignments": alignments,
        "train_error": result.train_error,
        "test_error": result.test_error,
        "hermite_model": None,
        "gradient_overlap": {
            "measured_beta_hat": result.overlap_beta_hat,
            "measured_gradient": result.overlap_gradient,
            "predicted": limit.value,
        },
        "surrogate_train_error": result.surrogate,
    }


def payload_b(args: argparse.Namespace) -> dict:
    if args.weight is None:
        raise DomainError("--beta needs --weight W (the share of the learning rate, in [0, 1])")
    degree = hermite_degree(args.beta)
    config = ConfigB(
        args.activation,
        args.dim,
        args.samples,
        args.width,
        alpha=args.weight,
        beta=args.beta,
        ridge=args.ridge or 1e-4,
        noise=args.noise,
        data=args.data or "mixture",
        target=args.target,
    )
    result = simulate_b(config, np.random.default_rng(args.seed), degrees=(degree, 1))
    model = result.models[degree]
    return {
        "model": "B (Demir and Dogan)",
        "eta": config.eta,
        "predicted_spikes": None,
        "measured_spikes": None,
        "singular_values": None,
        "bulk_edge": None,
        "alignments": None,
        "train_error": result.network.train,
        "test_error": result.network.test,
        "hermite_model": {
            "degree": degree,
            "scale_b": result.scale,
            "train_error": model.train,
            "test_error": model.test,
            "linear_train_error": result.models[1].train,
            "linear_test_error": result.models[1].test,
        },
        "gradient_overlap": None,
    }


def run(args: argparse.Namespace) -> int:
    parse_function(args.activation)
    parse_function(args.target)
    if (args.alpha is None) == (args.beta is None):
        raise DomainError("give either --alpha X (model A) or --beta B --weight W (model B)")
    if args.alpha is not None and args.weight is not None:
        raise DomainError("--weight belongs to model B (--beta); model A takes --alpha only")
    if args.noise < 0:
        raise DomainError(f"--noise must be non-negative, got {args.noise}")
    payload = payload_a(args) if args.alpha is not None else payload_b(args)
    if args.json:
        print_json(payload)
        return 0
    print(f"model {payload['model']}, eta = {payload['eta']:.4g}")
    if payload["predicted_spikes"] is not None:
        p = payload["predicted_spikes"]
        print(
            f"spikes: predicted {p['count']} (degrees {p['degrees']}, l(alpha) = {p['l_alpha']}, "
            f"informative: {p['informative']}), measured {payload['measured_spikes']}"
        )
        top = ", ".join(f"{s:.4g}" for s in payload["singular_values"][:5])
        edge = payload["bulk_edge"]
        print(f"top singular values: {top}")
        print(
            f"bulk edge: initial {edge['initial']:.4g}, updated (deflated) "
            f"{edge['updated_deflated']:.4g}, outlier threshold {edge['outlier_threshold']:.4g}"
        )
        for a in payload["alignments"]:
            if not a["is_outlier"]:
                print(f"singular vector {a['outlier']} (degree {a['degree']}): not an outlier")
                continue
            print(
                f"outlier {a['outlier']} (degree {a['degree']}): |<u, He_k(X beta_hat)>| = "
                f"{a['learned_feature']:.3f}, |<u, He_k(X beta*)>| = {a['target_feature']:.3f} "
                f"(limit {a['target_feature_predicted']:.3f})"
            )
        g = payload["gradient_overlap"]
        print(
            f"gradient overlap: beta_hat {g['measured_beta_hat']:.4f}, gradient "
            f"{g['measured_gradient']:.4f}, predicted {g['predicted']:.4f}"
        )
        print(f"surrogate training error: {payload['surrogate_train_error']:.5g}")
    print(f"train error {payload['train_error']:.5g}, test error {payload['test_error']:.5g}")
    if payload["hermite_model"] is not None:
        h = payload["hermite_model"]
        print(
            f"Hermite model L = {h['degree']} (b = {h['scale_b']:.4g}): train "
            f"{h['train_error']:.5g}, test {h['test_error']:.5g}; linear model: train "
            f"{h['linear_train_error']:.5g}, test {h['linear_test_error']:.5g}"
        )
    return 0


def run_derive(args: argparse.Namespace) -> int:
    doc = onestep_derivation(
        parse_function(args.activation),
        parse_function(args.target),
        alpha=args.alpha,
        psi=args.psi,
        beta=args.beta,
        scale=args.scale,
    )
    return emit_derivation(doc, args)
