"""The ``featcheck`` command: a thin layer over the Python API.

Exit status: 0 success, 1 a violated claim (or a claim that errored), 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from featcheck.theory.errors import InputError

#: Modules that add a subcommand (``register(subparsers)``) and, optionally, a
#: derivation topic (``register_derive(subparsers)``).
COMMAND_MODULES = (
    "featcheck.numerics.commands.hermite",
    "featcheck.numerics.commands.verify",
    "featcheck.numerics.commands.linear",
    "featcheck.numerics.commands.onestep",
    "featcheck.numerics.commands.exponents",
    "featcheck.numerics.commands.spiked",
    "featcheck.numerics.commands.dynamics",
)


class HelpFormatter(argparse.HelpFormatter):
    """Help text that ends with the option's default, where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        shown = (
            action.option_strings
            and default is not None
            and default is not False
            and default != argparse.SUPPRESS
        )
        if shown and "default" not in text:
            if isinstance(default, tuple | list):
                default = ",".join(str(v) for v in default)
            text = f"{text} (default: {default})".strip()
        return text.replace("%", "%%")


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="featcheck",
        description="Check theorems about gradient-based feature learning.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    derive = commands.add_parser("derive", help="write a derivation document")
    topics = derive.add_subparsers(dest="topic", metavar="TOPIC", parser_class=Parser)
    topics.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(commands)
        if hasattr(module, "register_derive"):
            module.register_derive(topics)
    return parser


def _version() -> str:
    from featcheck import __version__

    return f"featcheck {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_usage(sys.stderr)
        sys.stderr.write("featcheck: error: name a command; 'featcheck --help' lists them\n")
        return 2
    try:
        return int(args.handler(args) or 0)
    except InputError as exc:
        sys.stderr.write(f"featcheck: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("featcheck: interrupted; finished results were kept\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
