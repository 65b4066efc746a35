"""The report: tables that keep their columns, a terminal table that fits, files others can read."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from markdown_it import MarkdownIt

import featcheck
from featcheck.numerics.claims.base import REGISTRY, Claim, Evidence, run_claim, within
from featcheck.numerics.cli import main
from featcheck.numerics.commands import verify
from featcheck.numerics.report import (
    TABLE_WIDTH,
    claims_table,
    counterexamples,
    markdown_report,
    verification_payload,
)

NASTY = "a|b <c> `d` e\\|f *g* _h_ [i](j) \n k"


def _evidence(claim_id: str, label: str, passed: bool = True) -> Evidence:
    claim = Claim(
        claim_id,
        featcheck.reading(None, "Figure 1 | a <b>"),
        f"statement with {NASTY}",
        lambda ctx: Evidence(
            [within(label, 0.0, 0.0 if passed else 2.0, 1.0, x=NASTY)], note=NASTY
        ),
    )
    return run_claim(claim, "quick", 0)


def _table_rows(markdown: str) -> list[tuple[int, list[int]]]:
    """(header cells, [cells of every body row]) for every table in the document."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    tables, header, rows, cells = [], 0, [], 0
    section = None
    for token in tokens:
        if token.type in ("thead_open", "tbody_open"):
            section = token.type
        elif token.type == "tr_open":
            cells = 0
        elif token.type in ("th_open", "td_open"):
            cells += 1
        elif token.type == "tr_close":
            if section == "thead_open":
                header = cells
            else:
                rows.append(cells)
        elif token.type == "table_close":
            tables.append((header, rows))
            header, rows = 0, []
    return tables


def test_every_markdown_table_row_keeps_its_cells(tmp_path):
    results = [_evidence("t.one", NASTY), _evidence("t.two", "x|y", passed=False)]
    text = markdown_report(results, verification_payload(results), tmp_path)
    tables = _table_rows(text)
    assert len(tables) == 3  # the summary and one table per claim
    for header, rows in tables:
        assert rows and all(cells == header for cells in rows)
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert "<c>" not in rendered and "&lt;c&gt;" in rendered


def test_terminal_table_fits_and_counterexamples_are_in_full():
    long_id = "family." + "very-long-claim-name-" * 4
    results = [_evidence(long_id, "label " * 40), _evidence("t.short", "z " * 60, passed=False)]
    table = claims_table(results)
    assert max(len(line) for line in table.splitlines()) <= TABLE_WIDTH
    full = counterexamples(results)
    assert "t.short is violated" in full
    assert ("z " * 60).strip() in full  # the whole label, not clipped


def test_verify_fails_before_running_anything_when_the_output_is_unwritable(
    tmp_path, monkeypatch, capsys
):
    ran = []
    claim = Claim(
        "t.side-effect",
        featcheck.reading(None, "a test"),
        "",
        lambda ctx: ran.append(1) or Evidence([within("x", 0, 0, 1)]),
    )
    monkeypatch.setitem(REGISTRY, claim.id, claim)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for output in (blocker, blocker / "below"):
        code = main(["verify", claim.id, "--output", str(output)])
        assert code == 2 and ran == []
        err = capsys.readouterr().err
        assert err.startswith("featcheck: error: ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_results_are_written_as_claims_finish_and_readable_by_others(tmp_path, monkeypatch):
    def interrupted(ctx):
        raise KeyboardInterrupt

    first = Claim(
        "t.first", featcheck.reading(None, "a"), "", lambda c: Evidence([within("x", 0, 0, 1)])
    )
    second = Claim("t.second", featcheck.reading(None, "a"), "", interrupted)
    old = os.umask(0o022)
    try:
        with pytest.raises(KeyboardInterrupt):
            verify.run_claims([first, second], budget="quick", seed=0, output=tmp_path)
    finally:
        os.umask(old)
    payload = json.loads((tmp_path / "results.json").read_text())
    assert [c["id"] for c in payload["claims"]] == ["t.first"]
    assert "`t.first`" in (tmp_path / "report.md").read_text()
    for name in ("results.json", "report.md"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md", "results.json"]


def test_off_a_terminal_each_finished_claim_is_one_line_on_stderr(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "featcheck",
            "verify",
            "hermite.scaling",
            "hermite.information-exponent",
            "--output",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("[1/2] hermite.scaling: holds (")
    assert lines[1].startswith("[2/2] hermite.information-exponent: holds (")
