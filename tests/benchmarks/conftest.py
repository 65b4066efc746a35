"""Show each benchmark's ``extra_info`` (its baseline and ratio) after pytest-benchmark's
table, so a run prints the comparisons without ``--benchmark-json``."""

import pytest


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    rows = [
        (b.fullname, b.extra_info)
        for b in getattr(session, "benchmarks", ())
        if getattr(b, "extra_info", None)
    ]
    if not rows:
        return
    terminalreporter.section("benchmark comparisons (extra_info)")
    for name, info in rows:
        terminalreporter.write_line(name)
        for key, value in info.items():
            terminalreporter.write_line(f"    {key}: {value}")
