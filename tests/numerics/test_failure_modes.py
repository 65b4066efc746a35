"""Bad input is one line and exit 2; a numerical failure exit 3; a bug one line and exit 70."""

from __future__ import annotations

import subprocess
import sys

import pytest

from featcheck.numerics import cli
from featcheck.theory.errors import NumericalError


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("(z^64)^64", "expands to degree up to 4096"),
        ("he(20, he(21, z))", "expands to degree 420"),
        ("he(400)*he(400)", "expands to degree up to 800"),
        ("(10^64)^64*z", "holds a number of 4097 digits"),
        ("tanh(tanh(tanh(tanh(z))))", "nests functions 4 deep"),
        ("exp(exp(exp(z)))", "cannot be evaluated at z = 40"),
        ("sqrt(-1)*z", "is not real-valued"),
    ],
)
def test_expressions_whose_work_is_unbounded_are_refused(expression, message, capsys):
    assert cli.main(["hermite", expression]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_numeric_degree_limit_is_stated():
    from featcheck.theory.hermite import MAX_NUMERIC_DEGREE

    assert cli.main(["hermite", "tanh", "--max-degree", str(MAX_NUMERIC_DEGREE + 1)]) == 2


def test_time_limit_ends_a_symbolic_command_with_exit_3(monkeypatch, capsys):
    monkeypatch.setenv("FEATCHECK_TIME_LIMIT", "0.5")
    assert cli.main(["hermite", "tanh", "--max-degree", "100"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("featcheck: numerical failure: featcheck hermite did not finish")


def _raise(exc):
    def handler(args):
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "status", "start"),
    [
        (NumericalError("the solver diverged"), 3, "featcheck: numerical failure: the solver"),
        (MemoryError(), 3, "featcheck: numerical failure: out of memory"),
        (IsADirectoryError(21, "Is a directory", "out.json"), 2, "featcheck: error: cannot"),
        (TypeError("unexpected"), 70, "featcheck: internal error (TypeError: unexpected)"),
    ],
)
def test_every_failure_is_one_line(monkeypatch, capsys, exc, status, start):
    parser = cli.build_parser()
    args = parser.parse_args(["hermite", "relu"])
    args.handler = _raise(exc)
    monkeypatch.setattr(cli, "build_parser", lambda: _Fixed(parser, args))
    assert cli.main(["hermite", "relu"]) == status
    err = capsys.readouterr().err
    assert err.startswith(start) and err.count("\n") == 1


def test_debug_shows_the_traceback_of_a_bug():
    code = (
        "import featcheck.numerics.cli as c\n"
        "p = c.build_parser()\n"
        "a = p.parse_args(['--debug', 'hermite', 'relu'])\n"
        "def boom(args): raise TypeError('unexpected')\n"
        "a.handler = boom\n"
        "class F:\n"
        "    def parse_args(self, argv): return a\n"
        "c.build_parser = lambda: F()\n"
        "raise SystemExit(c.main([]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "Traceback" in result.stderr and "TypeError: unexpected" in result.stderr


class _Fixed:
    def __init__(self, parser, args):
        self.parser, self.args = parser, args

    def parse_args(self, argv):
        return self.args

    def print_usage(self, file):
        self.parser.print_usage(file)
