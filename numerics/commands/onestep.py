"""``featcheck onestep`` (simulate one gradient step) and ``featcheck derive onestep``."""

from __future__ import annotations

import argparse

import numpy as np

from featcheck.numerics.commands.common import (
    add_derivation_output,
    emit_derivation,
    finite_float,
    non_negative_int,
    positive_float,
    positive_int,
    print_json,
)
from featcheck.numerics.onestep.simulate import (
    MIN_SPECTRUM_SIZE,
    ConfigA,
    ConfigB,
    simulate_a,
    simulate_b,
)
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import parse_function
from featcheck.theory.onestep import (
    gradient_overlap,
    hermite_degree,
    onestep_derivation,
    predict_spikes,
    predict_spikes_b,
)

DATA = ("isotropic", "spiked", "mixture")
HERMITE_A = (
    "not defined for model A: the Hermite-model equivalence (degree L(beta)) is Theorem 4 of "
    "Demir and Dogan, stated in their normalisation (run --beta B --weight W); Moniri et al. "
    "state the equivalence with the initial features plus the l(alpha) spikes, whose training "
    "error is surrogate_train_error"
)
DIRECTIONS = {"isotropic": 0, "spiked": 1}


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
    parser.add_argument("--weight", type=finite_float, default=0.5, metavar="W")
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
        "hermite_model": {"defined": False, "reason": HERMITE_A},
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
    if min(args.dim, args.samples, args.width) < MIN_SPECTRUM_SIZE:
        raise DomainError(
            f"--dim, --samples and --width must be at least {MIN_SPECTRUM_SIZE} for a spectrum "
            f"(got {args.dim}, {args.samples}, {args.width})"
        )
    result = simulate_b(
        config, np.random.default_rng(args.seed), degrees=(degree, 1), spectrum=True
    )
    model = result.models[degree]
    spectrum = result.spectrum
    directions = DIRECTIONS.get(config.data, 1 if abs(config.alignment) == 1 else 2)
    prediction = predict_spikes_b(
        args.activation, args.beta, args.weight, directions=directions, scale=result.scale
    )
    present = {(t.mechanism, t.degree) for t in prediction.present}
    gradient = spectrum.gradient
    return {
        "model": "B (Demir and Dogan)",
        "eta": config.eta,
        "spike_size": config.spike,
        "predicted_spikes": {
            "count": prediction.count,
            "terms": [_term(t) for t in prediction.terms],
            "undetermined": [_term(t) for t in prediction.undetermined],
            "spike_directions": directions,
            "rule": "a rank-one term separates iff its exponent e > 0 (spike/bulk ~ n^e)",
        },
        "measured_spikes": spectrum.outliers,
        "measured_spikes_initial": spectrum.initial_outliers,
        "singular_values": spectrum.singular_values,
        "bulk_edge": {
            "initial_deflated": spectrum.bulk_edge_initial,
            "updated_deflated": spectrum.bulk_edge_updated,
            "outlier_threshold": spectrum.threshold,
        },
        "alignments": [
            {**a, "predicted_spike": (a["mechanism"], a["degree"]) in present}
            for a in spectrum.alignments
        ],
        "train_error": result.network.train,
        "test_error": result.network.test,
        "hermite_model": {
            "defined": True,
            "degree": degree,
            "scale_b": result.scale,
            "train_error": model.train,
            "test_error": model.test,
            "linear_train_error": result.models[1].train,
            "linear_test_error": result.models[1].test,
        },
        "gradient_overlap": {
            "direction": "c* = E[x y]" if config.task == "regression" else None,
            "measured_c_hat": gradient["overlap_c_hat"],
            "measured_gradient": gradient["overlap_gradient"],
            "predicted": gradient["overlap_predicted"],
            "c_hat_norm_squared": gradient["c_hat_norm_squared"],
            "c_hat_norm_squared_predicted": gradient["c_hat_norm_squared_predicted"],
        },
        "gradient_spike": {
            "top_singular_values": gradient["top_singular_values"],
            "predicted_top": gradient["predicted_top"],
            "alignment_with_c_hat": gradient["c_hat_vs_gradient"],
        },
    }


def _term(t) -> dict:
    return {
        "mechanism": t.mechanism,
        "degree": t.degree,
        "exponent": str(t.exponent),
        "multiplicity": t.multiplicity,
        "coefficient": t.coefficient.status,
        "present": t.present,
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
    if args.alpha is not None:
        print_a(payload)
    else:
        print_b(payload)
    return 0


def print_a(payload: dict) -> None:
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
            f"{a['learned_feature']:.3f}, <u, He_k(X beta*)> = {a['target_feature']:.3f} "
            f"(limit {a['target_feature_predicted']:.3f})"
        )
    g = payload["gradient_overlap"]
    print(
        f"gradient overlap: beta_hat {g['measured_beta_hat']:.4f}, gradient "
        f"{g['measured_gradient']:.4f}, predicted {g['predicted']:.4f}"
    )
    print(f"surrogate training error: {payload['surrogate_train_error']:.5g}")
    print(f"train error {payload['train_error']:.5g}, test error {payload['test_error']:.5g}")
    print(f"Hermite model: {payload['hermite_model']['reason']}")


def print_b(payload: dict) -> None:
    p = payload["predicted_spikes"]
    present = [
        f"{t['mechanism']} degree {t['degree']} x{t['multiplicity']} (n^{t['exponent']})"
        for t in p["terms"]
        if t["present"]
    ]
    print(
        f"spike size theta = {payload['spike_size']:.4g}, spike directions {p['spike_directions']}"
    )
    print(f"spikes: predicted {p['count']}: {', '.join(present) or 'none'}")
    for t in p["undetermined"]:
        print(f"  undetermined: {t['mechanism']} degree {t['degree']} (exponent {t['exponent']})")
    print(
        f"measured {payload['measured_spikes']} after the step, "
        f"{payload['measured_spikes_initial']} before it"
    )
    top = ", ".join(f"{s:.4g}" for s in payload["singular_values"][:5])
    edge = payload["bulk_edge"]
    print(f"top singular values: {top}")
    print(
        f"bulk edge (deflated): initial {edge['initial_deflated']:.4g}, updated "
        f"{edge['updated_deflated']:.4g}, outlier threshold {edge['outlier_threshold']:.4g}"
    )
    for a in payload["alignments"]:
        if a["predicted_spike"] or a["updated"] > 0.5:
            print(
                f"{a['mechanism']} probe (group {a['group']}, degree {a['degree']}"
                f"{', predicted spike' if a['predicted_spike'] else ''}): in the outlier span "
                f"{a['updated']:.3f} (before the step {a['initial']:.3f})"
            )
    g, spike = payload["gradient_overlap"], payload["gradient_spike"]
    s1, s2 = spike["top_singular_values"][:2]
    print(
        f"gradient: top singular values {s1:.4g}, {s2:.4g} (predicted top "
        f"{spike['predicted_top']:.4g}); top right singular vector vs c_hat "
        f"{spike['alignment_with_c_hat']:.4f}"
    )
    if g["direction"] is None:
        print(
            f"learned direction: none at first order (zero-mean classes); ||c_hat||^2 = "
            f"{g['c_hat_norm_squared']:.4g} (predicted {g['c_hat_norm_squared_predicted']:.4g})"
        )
    else:
        print(
            f"learned direction overlap with c* = E[x y]: c_hat {g['measured_c_hat']:.4f}, "
            f"gradient {g['measured_gradient']:.4f}, predicted {g['predicted']:.4f}"
        )
    print(f"train error {payload['train_error']:.5g}, test error {payload['test_error']:.5g}")
    h = payload["hermite_model"]
    print(
        f"Hermite model L = {h['degree']} (b = {h['scale_b']:.4g}): train "
        f"{h['train_error']:.5g}, test {h['test_error']:.5g}; linear model: train "
        f"{h['linear_train_error']:.5g}, test {h['linear_test_error']:.5g}"
    )


def run_derive(args: argparse.Namespace) -> int:
    doc = onestep_derivation(
        parse_function(args.activation),
        parse_function(args.target),
        alpha=args.alpha,
        psi=args.psi,
        beta=args.beta,
        scale=args.scale,
        weight=args.weight,
    )
    return emit_derivation(doc, args)
