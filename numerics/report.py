"""Results as JSON with provenance, Markdown reports with figures, derivation files."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import tempfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from featcheck.numerics.claims.base import Evidence, Status

PACKAGES = ("featcheck", "sympy", "mpmath", "numpy", "scipy", "numba", "matplotlib", "hypothesis")


def provenance(**parameters: Any) -> dict[str, Any]:
    """Package versions, interpreter, platform, time and the run's parameters."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "versions": versions,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["featcheck", *sys.argv[1:]]),
        **parameters,
    }


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON to a temporary file and rename it, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8"
    ) as handle:
        json.dump(payload, handle, indent=2, sort_keys=False)
        handle.write("\n")
    os.replace(handle.name, path)


def verification_payload(results: Iterable[Evidence], **parameters: Any) -> dict[str, Any]:
    results = list(results)
    counts = {str(s): sum(r.status == s for r in results) for s in Status}
    return {
        "provenance": provenance(**parameters),
        "summary": counts,
        "claims": [r.to_json() for r in results],
    }


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def claims_table(results: Iterable[Evidence]) -> str:
    """A plain-text table: id, status, checks passed, worst check, seconds."""
    rows = [("claim", "status", "checks", "worst check", "seconds")]
    for r in results:
        worst = r.worst
        detail = r.error or (
            f"{worst.label}: predicted {_fmt(worst.predicted)}, measured {_fmt(worst.measured)}"
            + (f", tol {_fmt(worst.tolerance)}" if worst and worst.tolerance is not None else "")
            if worst
            else r.note
        )
        if len(detail) > 90:
            detail = detail[:87] + "..."
        passed = len(r.checks) - len(r.failures)
        rows.append(
            (r.claim_id, str(r.status), f"{passed}/{len(r.checks)}", detail, f"{r.seconds:.1f}")
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4].rjust(7)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in [*widths, 7]))
    return "\n".join(lines)


def markdown_report(results: list[Evidence], payload: dict[str, Any], report_dir: Path) -> str:
    """The Markdown report: summary table, then one section per claim with its checks."""
    prov = payload["provenance"]
    out = [
        "# featcheck verification report",
        "",
        f"Budget `{prov.get('budget')}`, seed `{prov.get('seed')}`, created {prov['created']}, "
        f"featcheck {prov['versions'].get('featcheck')}, Python {prov['python']}.",
        "",
        "| claim | status | checks passed | seconds |",
        "|---|---|---|---|",
    ]
    for r in results:
        passed = len(r.checks) - len(r.failures)
        out.append(
            f"| `{r.claim_id}` | **{r.status}** | {passed}/{len(r.checks)} | {r.seconds:.1f} |"
        )
    out.append("")
    for r in results:
        out += [f"## `{r.claim_id}`: {r.status}", "", r.statement, "", f"*Source:* {r.source}", ""]
        if r.note:
            out += [r.note, ""]
        if r.error:
            out += ["```", r.details.get("traceback", r.error), "```", ""]
        if r.checks:
            shown = sorted(r.checks, key=lambda c: (c.passed, -c.ratio))[:25]
            out += [
                "| check | predicted | measured | tolerance | passed |",
                "|---|---|---|---|---|",
            ]
            for c in shown:
                out.append(
                    f"| {c.label} | {_fmt(c.predicted)} | {_fmt(c.measured)} | "
                    f"{_fmt(c.tolerance)} | {'yes' if c.passed else '**no**'} |"
                )
            if len(r.checks) > len(shown):
                out.append(f"\n({len(r.checks) - len(shown)} more checks in the JSON file.)")
            out.append("")
        for figure in r.figures:
            rel = os.path.relpath(figure, report_dir)
            out += [f"![{r.claim_id}]({rel})", ""]
    return "\n".join(out)


def write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
