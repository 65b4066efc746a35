"""``featcheck --help`` builds every subcommand's parser without the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numba", "matplotlib", "scipy", "dask", "tqdm")


def test_help_does_not_import_the_numerical_libraries():
    code = (
        "import json, sys\n"
        "from featcheck.numerics import cli\n"
        "try:\n"
        "    cli.main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "sys.stderr.write(json.dumps(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "featcheck" in result.stdout and json.loads(result.stderr) == []


def test_constants_repeated_for_a_light_command_line_match_the_library():
    from featcheck.numerics.commands import linear, onestep
    from featcheck.numerics.linear.bounds import WINDOWS
    from featcheck.numerics.linear.trajectory import PAPER_INIT
    from featcheck.numerics.onestep.run import DATA, RIDGE_A, RIDGE_B

    assert linear.WINDOWS == WINDOWS and linear.PAPER_INIT == PAPER_INIT
    assert (onestep.DATA, onestep.RIDGE_A, onestep.RIDGE_B) == (DATA, RIDGE_A, RIDGE_B)
