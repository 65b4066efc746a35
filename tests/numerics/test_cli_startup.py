"""``featcheck --help`` builds every subcommand's parser without the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from featcheck.numerics import cli

HEAVY = ("sympy", "mpmath", "numba", "matplotlib", "scipy", "dask", "tqdm")


def _loaded_after(argv: list[str]) -> tuple[str, list[str]]:
    """Standard output of ``featcheck ARGV`` in a fresh interpreter, and which of
    :data:`HEAVY` it imported."""
    code = (
        "import json, sys\n"
        "from featcheck.numerics import cli\n"
        "try:\n"
        f"    cli.main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "sys.stderr.write(json.dumps(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads(result.stderr)


def _subcommands() -> list[list[str]]:
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    names = [[name] for name in commands if name != "derive"]
    topics = next(a for a in commands["derive"]._actions if a.dest == "topic").choices
    return names + [["derive", topic] for topic in topics]


def test_help_does_not_import_the_symbolic_or_numerical_libraries():
    out, loaded = _loaded_after(["--help"])
    assert "featcheck" in out and loaded == []


@pytest.mark.parametrize("words", _subcommands(), ids=" ".join)
def test_subcommand_help_does_not_import_them_either(words):
    out, loaded = _loaded_after([*words, "--help"])
    assert out.startswith("usage: featcheck") and loaded == []


def test_building_the_parser_imports_none_of_them():
    code = (
        "import sys\n"
        "from featcheck.numerics import cli\n"
        "cli.build_parser()\n"
        f"print([m for m in {(*HEAVY, 'numpy')!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_command_line_and_the_library_share_one_definition_of_each_choice():
    from featcheck.numerics.claims import base
    from featcheck.numerics.commands import exponents, linear, onestep, spiked, verify
    from featcheck.numerics.commands import hermite as hermite_command
    from featcheck.numerics.exponents import sweep
    from featcheck.numerics.linear import bounds, trajectory
    from featcheck.numerics.onestep import run
    from featcheck.theory import exponents as th_exponents
    from featcheck.theory import hermite, models
    from featcheck.theory.dynamics.spiked import flows
    from featcheck.theory.linear import laws

    assert linear.WINDOWS is bounds.WINDOWS and linear.PAPER_INIT is trajectory.PAPER_INIT
    assert onestep.DATA is run.DATA
    assert (onestep.RIDGE_A, onestep.RIDGE_B) == (run.RIDGE_A, run.RIDGE_B)
    assert exponents.LEARNERS is th_exponents.LEARNERS
    assert exponents.GAIN_COMPARATORS is th_exponents.GAIN_COMPARATORS
    assert exponents.DEFAULTS is sweep.DEFAULTS and exponents.VARIANTS is sweep.VARIANTS
    assert spiked.FLOWS is flows.FLOWS and spiked.CONVENTIONS is models.CONVENTIONS
    assert linear.LAWS is laws.LAWS and linear.MAX_DIM == laws.MAX_DIM
    assert verify.BUDGETS is base.BUDGETS
    assert hermite_command.BASES is hermite.BASES
    assert hermite_command.MAX_DEGREE == hermite.MAX_DEGREE
