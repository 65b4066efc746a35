"""``featcheck hermite`` and ``featcheck derive hermite``."""

from __future__ import annotations

import argparse

from featcheck.numerics.commands.common import (
    add_derivation_output,
    add_json,
    bounded_int,
    emit_derivation,
    print_json,
    require_finite,
)
from featcheck.theory.names import BASES, MAX_DEGREE

#: Working precision in decimal digits that ``--digits`` accepts.
MIN_DIGITS, MAX_DIGITS = 5, 200

FUNCTION_HELP = (
    "a catalogue name (relu, abs, sign, step, tanh, sigmoid, softplus, erf, he(k), h(k)) "
    "or an expression in z, e.g. 'relu(z+1/2)' or 'z^3 - 3*z'"
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("hermite", help="Hermite coefficients of a function")
    parser.add_argument("function", metavar="FUNC", help=FUNCTION_HELP)
    parser.add_argument(
        "--max-degree",
        type=bounded_int(MAX_DEGREE, minimum=0),
        default=8,
        metavar="K",
        help="compute the coefficients of degrees 0..K",
    )
    parser.add_argument(
        "--basis",
        choices=BASES,
        default="normalized",
        help="normalized c_k = E[f(Z) h_k(Z)] or monic mu_k = E[f(Z) He_k(Z)] = sqrt(k!) c_k",
    )
    parser.add_argument(
        "--digits",
        type=bounded_int(MAX_DIGITS, minimum=MIN_DIGITS, what="the working precision"),
        default=30,
        metavar="D",
        help="working precision in decimal digits (5 to 200) where no closed form exists",
    )
    add_json(parser)
    parser.set_defaults(handler=run)


def register_derive(topics: argparse._SubParsersAction) -> None:
    parser = topics.add_parser("hermite", help="Hermite coefficients and information exponent")
    parser.add_argument("function", metavar="FUNC", help=FUNCTION_HELP)
    parser.add_argument(
        "--max-degree",
        type=bounded_int(MAX_DEGREE, minimum=0),
        default=8,
        metavar="K",
        help="derive the coefficients of degrees 0..K",
    )
    add_derivation_output(parser)
    parser.set_defaults(handler=run_derive)


def expansion_payload(function: str, max_degree: int, basis: str, digits: int) -> dict:
    import mpmath
    import sympy as sp

    from featcheck.theory.functions import parse_function
    from featcheck.theory.hermite import hermite_coefficients, information_exponent

    expansion = hermite_coefficients(
        parse_function(function), max_degree, basis=basis, digits=digits
    )
    exponent = information_exponent(expansion)
    return {
        "function": expansion.function.name,
        "expression": sp.sstr(expansion.function.expr),
        "basis": basis,
        "method": expansion.method,
        "form": expansion.form,
        "digits": digits,
        "information_exponent": exponent.value,
        "information_exponent_certain": exponent.certain,
        "information_exponent_reason": exponent.reason,
        "second_moment": {
            "exact": None
            if expansion.second_moment.exact is None
            else sp.sstr(expansion.second_moment.exact),
            "value": float(expansion.second_moment.value),
            "error": float(expansion.second_moment.error),
        },
        "coefficients": [
            {
                "degree": c.degree,
                "exact": None if c.exact is None else sp.sstr(c.exact),
                "value": float(c.value),
                "error": float(c.error),
                "digits": mpmath.nstr(c.value, min(digits, 30)),
            }
            for c in expansion.coefficients
        ],
    }


def run(args: argparse.Namespace) -> int:
    payload = require_finite(
        expansion_payload(args.function, args.max_degree, args.basis, args.digits)
    )
    if args.json:
        print_json(payload)
        return 0
    symbol = "c_k" if args.basis == "normalized" else "mu_k"
    print(f"{payload['function']}  ({payload['expression']})")
    print(f"method: {payload['method']} ({payload['form']}), basis: {args.basis} ({symbol})")
    print(f"{'k':>3}  {'value':>24}  {'error':>9}  exact")
    for c in payload["coefficients"]:
        exact = c["exact"] if c["exact"] is not None else "-"
        print(f"{c['degree']:>3}  {c['digits']:>24}  {c['error']:>9.2g}  {exact}")
    moment = payload["second_moment"]
    shown = moment["exact"] or f"{moment['value']:.15g} +- {moment['error']:.2g}"
    print(f"E[f(Z)^2] = {shown}")
    s = payload["information_exponent"]
    print(
        f"information exponent: {'undetermined' if s is None else s}"
        f"  ({payload['information_exponent_reason']})"
    )
    return 0


def run_derive(args: argparse.Namespace) -> int:
    from featcheck.theory.functions import parse_function
    from featcheck.theory.hermite_derivation import hermite_derivation

    return emit_derivation(hermite_derivation(parse_function(args.function), args.max_degree), args)
