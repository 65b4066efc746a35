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


def _one_line_failure(capsys, argv, status, *fragments):
    assert cli.main(argv) == status
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, captured.err
    for fragment in fragments:
        assert fragment in captured.err, captured.err
    assert "nan" not in captured.out.lower() and "inf" not in captured.out.lower()
    return captured


def test_a_comment_character_in_an_inequality_is_refused(capsys):
    _one_line_failure(capsys, ["check-bound", "cos_theta >= 2 # <= 5"], 2, "'#' is not allowed")


@pytest.mark.parametrize("json", [[], ["--json"]])
def test_a_flow_beyond_double_precision_is_a_numerical_failure(capsys, json):
    argv = ["flow", "normalized", "--link", "he(2)", "--kappa", "1e12", *json]
    _one_line_failure(capsys, argv, 3, "numerical failure", "kappa = 1e+12", "not finite")


@pytest.mark.parametrize("json", [[], ["--json"]])
def test_sgd_that_overflows_is_a_numerical_failure(capsys, json):
    argv = ["linear", "--sgd", "--lr", "1e308", "--steps", "5", "--batch", "4", *json]
    _one_line_failure(capsys, argv, 3, "SGD diverged", "learning rate 1e+308")


@pytest.mark.parametrize("json", [[], ["--json"]])
def test_an_inequality_with_an_infinite_margin_is_bad_input(capsys, json):
    argv = ["check-bound", "cos_theta <= log(t)", "--grid", "2", "--search", "0", *json]
    _one_line_failure(capsys, argv, 2, "not finite at t = 0", "margin is -inf")


def test_the_json_emitter_refuses_non_finite_numbers_naming_the_field(capsys):
    from featcheck.numerics.commands.common import print_json

    with pytest.raises(NumericalError, match=r"result\.curves\[1\]\.slope"):
        print_json({"curves": [{"slope": 1.0}, {"slope": float("nan")}]})
    with pytest.raises(NumericalError, match=r"result\.margin"):
        print_json({"margin": "-inf"})  # how plain() writes -inf
    assert capsys.readouterr().out == ""
    print_json({"value": 1.5, "missing": None, "label": "information"})
    assert '"value": 1.5' in capsys.readouterr().out


def _hermite_running(handler, monkeypatch) -> int:
    """``featcheck hermite relu`` under a 0.2 s time limit, with ``handler`` as its work."""
    monkeypatch.setenv("FEATCHECK_TIME_LIMIT", "0.2")
    parser = cli.build_parser()
    args = parser.parse_args(["hermite", "relu"])
    args.handler = handler
    monkeypatch.setattr(cli, "build_parser", lambda: _Fixed(parser, args))
    return cli.main(["hermite", "relu"])


def test_a_swallowed_time_limit_still_ends_the_command_with_exit_3(monkeypatch, capsys):
    import contextlib
    import time

    def stubborn(args):  # a fallback path that catches every exception
        with contextlib.suppress(Exception):
            time.sleep(5)
        return 0

    assert _hermite_running(stubborn, monkeypatch) == 3
    err = capsys.readouterr().err
    assert err.startswith("featcheck: numerical failure: featcheck hermite did not finish")


def test_a_time_limit_inside_a_finaliser_leaves_no_report(monkeypatch, capsys):
    """An alarm that lands in a finaliser cannot propagate (Python reports it as an
    "Exception ignored" traceback); the repeating alarm ends the command anyway, with one
    line, and nothing reaches the unraisable-exception hook."""
    import gc
    import sys
    import time

    class Slow:
        def __del__(self):
            time.sleep(0.5)  # the alarm fires here

    def handler(args):
        Slow()
        gc.collect()
        time.sleep(5)
        return 0

    reports = []
    monkeypatch.setattr(sys, "unraisablehook", reports.append)
    assert _hermite_running(handler, monkeypatch) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not finish" in err
    assert reports == []
    assert sys.unraisablehook == reports.append
