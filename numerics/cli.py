"""The ``featcheck`` command: a thin layer over the Python API.

Exit status: 0 success, 1 a violated claim (or a claim that errored), 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence

from featcheck.theory.errors import BudgetExceeded, InputError, NumericalError

#: Exit statuses: 0 success, 1 a claim violated or errored, 2 bad input,
#: 3 a numerical failure, 70 an internal error (a bug), 130 interrupted.
EXIT_INPUT, EXIT_NUMERICAL, EXIT_BUG, EXIT_INTERRUPTED = 2, 3, 70, 130

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
        # one line, whatever the arguments hold (argparse quotes some of them raw)
        sys.stderr.write(f"{self.prog}: error: {' '.join(message.split())}\n")
        raise SystemExit(2)


class VersionAction(argparse.Action):
    """``--version``: the version is read when asked for, not when the parser is built."""

    def __init__(
        self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None
    ):
        help = help or "show program's version number and exit"
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        parser.exit(message=f"{_version()}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="featcheck",
        description="Check theorems about gradient-based feature learning.",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the Python traceback of an internal error (or set FEATCHECK_DEBUG=1)",
    )
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
        return EXIT_INPUT
    debug = args.debug or os.environ.get("FEATCHECK_DEBUG", "") not in ("", "0")
    try:
        with _time_limit(args):
            return int(args.handler(args) or 0)
    except InputError as exc:
        return _fail(f"error: {exc}", EXIT_INPUT)
    except NumericalError as exc:
        return _fail(f"numerical failure: {exc}", EXIT_NUMERICAL)
    except MemoryError:
        return _fail("numerical failure: out of memory; choose smaller sizes", EXIT_NUMERICAL)
    except KeyboardInterrupt:
        return _fail("interrupted; finished results were kept", EXIT_INTERRUPTED)
    except BrokenPipeError:
        return 0
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        return _fail(f"error: cannot access{where}: {exc.strerror or exc}", EXIT_INPUT)
    except Exception as exc:
        if debug:
            raise
        return _fail(
            f"internal error ({type(exc).__name__}: {_one_line(exc)}); this is a bug in "
            "featcheck: please report it with the output of the same command with --debug",
            EXIT_BUG,
        )


#: Commands that do symbolic work only, with a time limit (seconds) that ends a runaway
#: derivation with a clear message; FEATCHECK_TIME_LIMIT overrides it (0: no limit).
SYMBOLIC_COMMANDS = ("hermite", "derive")
SYMBOLIC_TIME_LIMIT = 600


@contextlib.contextmanager
def _time_limit(args: argparse.Namespace):
    text = os.environ.get("FEATCHECK_TIME_LIMIT", str(SYMBOLIC_TIME_LIMIT))
    try:
        seconds = float(text)
    except ValueError:
        raise InputError(
            f"FEATCHECK_TIME_LIMIT must be a number of seconds, got {text!r}"
        ) from None
    usable = (
        args.command in SYMBOLIC_COMMANDS
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    message = (
        f"featcheck {args.command} did not finish within {seconds:g} s "
        "(FEATCHECK_TIME_LIMIT); ask for fewer degrees or digits"
    )
    expired = False

    def expire(signum, frame):
        nonlocal expired
        expired = True
        raise BudgetExceeded(message)

    def unraisable(report) -> None:
        # An alarm that lands in a finaliser or a weakref callback cannot propagate; Python
        # would print it as "Exception ignored in ...". The alarm repeats, so it is dropped.
        if not isinstance(report.exc_value, BudgetExceeded):
            previous_hook(report)

    previous = signal.signal(signal.SIGALRM, expire)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = unraisable
    # The alarm repeats: code that catches every exception (a fallback path) may swallow
    # one BudgetExceeded, not all of them; and a run that outlived its limit never
    # reports a result computed after such a swallowed interruption.
    signal.setitimer(signal.ITIMER_REAL, seconds, min(seconds, 0.25))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = previous_hook
    if expired:
        raise BudgetExceeded(message)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _fail(message: str, status: int) -> int:
    sys.stderr.write(f"featcheck: {' '.join(message.split())}\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
