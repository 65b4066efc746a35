"""Start-up of the ``featcheck`` command beside a bare Python start, timed in the same run.

Each benchmark times a command in a fresh interpreter with pytest-benchmark, its floor
before each round, and records ``baseline_seconds`` (the floor's fastest
round) and ``ratio`` (featcheck's fastest round over it) in ``extra_info``; the
assertions are on what the commands print, never on time.

- ``featcheck --help`` beside ``python -c pass``: building every subcommand's parser
  imports neither sympy, mpmath, numpy nor scipy, so the ratio is the price of the
  argument parser alone.
- ``featcheck hermite relu`` beside ``python -c "import sympy, mpmath"``: the command
  needs sympy and mpmath; the ratio is what it imports and computes beyond them.

Run ``python -m pytest tests/benchmarks/test_bench_startup.py -p no:xdist`` (see
docs/benchmarks.md).
"""

import subprocess
import sys
import time

import pytest

ROUNDS = 5


def _run(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    return result.stdout


def against_bare_start(benchmark, command: list[str], floor: list[str], name: str) -> str:
    """Time ``command`` with the benchmark fixture and ``floor`` before each round (so a
    busy moment of a shared machine slows both); record the ratio of the fastest rounds."""
    seconds: list[float] = []
    floors: list[float] = []

    def timed_floor():
        start = time.perf_counter()
        _run(floor)
        floors.append(time.perf_counter() - start)

    def timed():
        start = time.perf_counter()
        out = _run(command)
        seconds.append(time.perf_counter() - start)
        return out

    out = benchmark.pedantic(timed, setup=timed_floor, rounds=ROUNDS)
    benchmark.extra_info.update(
        baseline=name,
        baseline_seconds=round(min(floors), 4),
        featcheck_seconds=round(min(seconds), 4),
        ratio=round(min(seconds) / min(floors), 2),
    )
    return out


@pytest.mark.benchmark(group="start-up: featcheck --help")
def test_help_beside_a_bare_python_start(benchmark):
    out = against_bare_start(
        benchmark,
        [sys.executable, "-m", "featcheck", "--help"],
        [sys.executable, "-c", "pass"],
        "python -c pass",
    )
    assert out.startswith("usage: featcheck") and "hermite" in out


@pytest.mark.benchmark(group="start-up: featcheck hermite relu")
def test_hermite_beside_importing_sympy_and_mpmath(benchmark):
    out = against_bare_start(
        benchmark,
        [sys.executable, "-m", "featcheck", "hermite", "relu"],
        [sys.executable, "-c", "import sympy, mpmath"],
        "python -c 'import sympy, mpmath'",
    )
    assert "information exponent: 1" in out
