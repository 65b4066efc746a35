"""Argument types and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featcheck.theory.errors import InputError

if TYPE_CHECKING:
    from featcheck.theory.derivation import Derivation


def _whole_number(text: str) -> int:
    """``text`` as an integer; ``1e6`` is accepted when it is a whole number."""
    text = str(text).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(value)


def non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be non-negative, got {value}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be positive, got 0")
    return value


def bounded_int(
    maximum: int, *, minimum: int = 1, bytes_each: float = 0, unit: str = "", what: str = ""
) -> Callable[[str], int]:
    """An argument type for a size: a whole number in ``[minimum, maximum]``.

    Every size option of the command has one, so that no size can ask for more than the
    machine has before anything is allocated.  ``bytes_each``: memory one unit of the
    size needs at least, stated in the message when the bound is exceeded; ``what`` names
    the size in the messages ("the dimension").  The bound is the type's ``maximum``
    attribute (the tests read it).
    """
    subject = f"{what} " if what else ""

    def parse(text: str) -> int:
        value = _whole_number(text)
        if value < minimum:
            least = {0: "non-negative", 1: "positive"}.get(minimum, f"at least {minimum}")
            raise argparse.ArgumentTypeError(f"{subject}must be {least}, got {value}")
        if value > maximum:
            needs = ""
            if bytes_each:
                needs = f", which needs ~{format_bytes(value * bytes_each)}{unit}"
            large = f"{what} is " if what else ""
            raise argparse.ArgumentTypeError(
                f"{large}too large: got {value}{needs}; the limit is {maximum:,}"
            )
        return value

    parse.maximum = maximum  # type: ignore[attr-defined]
    parse.minimum = minimum  # type: ignore[attr-defined]
    parse.__name__ = f"bounded_int({minimum}, {maximum})"
    return parse


def format_bytes(size: float) -> str:
    """``6.4e13`` -> ``"64 TB"`` (decimal units)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB", "EB"):
        if size < 1000:
            return f"{size:.3g} {unit}"
        size /= 1000
    return f"{size:.3g} ZB"


def memory_limit() -> int:
    """Bytes one run may allocate: ``FEATCHECK_MEMORY_LIMIT`` (bytes, or with a suffix
    k, M, G, T), else the physical memory of the machine (16 GB when unknown)."""
    text = os.environ.get("FEATCHECK_MEMORY_LIMIT", "").strip()
    if text:
        factor = {"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}.get(text[-1].lower(), 1)
        try:
            value = float(text[:-1] if factor != 1 else text) * factor
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise InputError(
                f"FEATCHECK_MEMORY_LIMIT must be a number of bytes (e.g. 8G), got {text!r}"
            )
        return int(value)
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 16 * 10**9


def check_memory(needed: float, sizes: dict[str, int]) -> None:
    """Raise :class:`InputError` when ``needed`` bytes exceed :func:`memory_limit`.

    ``sizes`` names the options that set the size, as in
    ``{"--dim": 10**6, "--replicas": 8}``; the message states them and the estimate.
    """
    limit = memory_limit()
    if needed <= limit:
        return
    named = [f"{option} {value}" for option, value in sizes.items()]
    what = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} with {named[-1]}"
    raise InputError(
        f"{what} needs ~{format_bytes(needed)} of memory; the limit is {format_bytes(limit)} "
        "(FEATCHECK_MEMORY_LIMIT); choose smaller sizes"
    )


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
    """The JSON of ``payload`` on standard output; a NaN or infinite number in it raises
    :class:`~featcheck.theory.errors.NumericalError` naming the field, before anything
    is printed."""
    from featcheck.numerics.jsonable import finite_plain

    json.dump(finite_plain(payload), sys.stdout, indent=2)
    sys.stdout.write("\n")


def require_finite(payload: Any) -> Any:
    """``payload`` as plain JSON data, after checking that it holds no NaN or infinity
    (:func:`~featcheck.numerics.jsonable.finite_plain`); call it before printing a
    result as text, so that the terminal never shows a NaN either."""
    from featcheck.numerics.jsonable import finite_plain

    return finite_plain(payload)


def emit_result(result: Any, args: argparse.Namespace) -> int:
    """Print a library result: its JSON with ``--json``, else its ``summary()``; either
    way only after checking that the result holds no NaN or infinity."""
    payload = require_finite(result.to_json())
    if args.json:
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
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
