"""Argument types and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from featcheck.numerics.jsonable import plain
from featcheck.theory.derivation import Derivation


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be non-negative, got {value}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be positive, got 0")
    return value


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def add_seed(
    parser: argparse.ArgumentParser, default: int | None = 0, default_text: str = ""
) -> None:
    """``--seed S``: a non-negative integer; the same seed gives the same numbers.

    ``default_text`` states the effective default when ``default`` is None (another
    source, such as a configuration file, may supply the seed).
    """
    text = "random seed (a non-negative integer)"
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=default,
        metavar="S",
        help=f"{text} (default: {default_text})" if default_text else text,
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``: the result as JSON on standard output, instead of the text summary."""
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON on standard output"
    )


def add_output(
    parser: argparse.ArgumentParser, what: str, default: Path | None = None, otherwise: str = ""
) -> None:
    """``--output/-o PATH``: the one spelling of "write files here" across the commands.

    ``otherwise`` says what happens without the option when ``default`` is ``None``.
    """
    text = f"write {what} to PATH" + (f" (default: {otherwise})" if otherwise else "")
    parser.add_argument("--output", "-o", type=Path, metavar="PATH", default=default, help=text)


def print_json(payload: Any) -> None:
    json.dump(plain(payload), sys.stdout, indent=2)
    sys.stdout.write("\n")


def emit_result(result: Any, args: argparse.Namespace) -> int:
    """Print a library result: its JSON with ``--json``, else its ``summary()``."""
    if args.json:
        print_json(result.to_json())
    else:
        print(result.summary())
    return 0


def add_derivation_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("md", "tex"), default="md", help="Markdown or LaTeX document"
    )
    add_output(parser, "the document", otherwise="standard output")


def emit_derivation(derivation: Derivation, args: argparse.Namespace) -> int:
    text = derivation.render(args.format)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def progress(iterable, *, total: int | None = None, desc: str = "", enabled: bool = True):
    """A tqdm progress bar on a terminal; the plain iterable otherwise."""
    if not enabled or not sys.stderr.isatty():
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr)
