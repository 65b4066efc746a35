"""Ctrl-C during ``featcheck sweep --workers 2``: one line, exit 130, finished cells kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from featcheck.numerics.exponents.cell_cache import ignore_interrupts, pool_map


def test_the_worker_initializer_ignores_interrupts():
    previous = signal.getsignal(signal.SIGINT)
    try:
        ignore_interrupts()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_pool_map_returns_every_result_and_restores_the_handler():
    previous = signal.getsignal(signal.SIGINT)
    results = sorted(pool_map(divmod, [(7, 2), (9, 4), (10, 5)], 2))
    assert results == [(2, 0), (2, 1), (3, 1)]
    assert signal.getsignal(signal.SIGINT) is previous


DEFAULT_SIGINT = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'featcheck'; runpy.run_module('featcheck', run_name='__main__')"
)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs process groups")
def test_ctrl_c_prints_one_line_and_keeps_the_finished_cells(tmp_path):
    cache = tmp_path / "cache"
    # SIGINT at its default, as in a terminal's job: a suite run as a background job inherits
    # it ignored (POSIX shells ignore SIGINT in asynchronous commands), and featcheck, rightly,
    # keeps an ignored SIGINT ignored
    argv = [sys.executable, "-c", DEFAULT_SIGINT, "sweep", "--s", "3"]
    argv += ["--dim", "300", "600", "1200", "2400", "--replicas", "8"]
    argv += ["--max-steps", "100000000", "--workers", "2"]
    argv += ["--cache", str(cache), "-o", str(tmp_path / "out")]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal's job is
    )
    deadline = time.monotonic() + 240
    while process.poll() is None and not list(cache.glob("*/*.npz")):
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("no cell finished")
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()
    finished = len(list(cache.glob("*/*.npz")))
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: parent and workers
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("featcheck: interrupted")
    assert len(list(cache.glob("*/*.npz"))) >= finished
