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

from featcheck.numerics.claims.base import Check, Evidence, Status
from featcheck.theory.errors import InputError

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


def _replace_atomically(path: Path, text: str) -> None:
    """Write ``text`` next to ``path`` and rename it over ``path``: a reader never sees half
    a file. The file is readable by others (mode 0644 less the umask), like any result."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(name, 0o644 & ~_umask())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically (see :func:`_replace_atomically`)."""
    _replace_atomically(Path(path), json.dumps(payload, indent=2, sort_keys=False) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically (see :func:`_replace_atomically`)."""
    _replace_atomically(Path(path), text)


def check_writable(directory: Path) -> None:
    """Raise :class:`InputError` unless files can be created in ``directory`` (made if absent).

    Called before any claim runs, so that a wrong path costs nothing; leaves no file behind.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"output {directory} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise InputError(f"cannot write to {directory}: {exc.strerror or exc}") from None


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


def describe_check(check: Check) -> str:
    """``label: predicted P, measured M, tol T`` on one line."""
    text = f"{check.label}: predicted {_fmt(check.predicted)}, measured {_fmt(check.measured)}"
    if check.tolerance is not None:
        text += f", tol {_fmt(check.tolerance)}"
    return " ".join(text.split())


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


#: The terminal table fits this many columns.
TABLE_WIDTH = 100


def claims_table(results: Iterable[Evidence], width: int = TABLE_WIDTH) -> str:
    """A plain-text table of at most ``width`` columns: claim, status, checks passed, the
    worst check (clipped; the full counterexamples follow the table) and seconds."""
    rows = [("claim", "status", "checks", "worst check", "seconds")]
    for r in results:
        worst = r.worst
        detail = r.error or (describe_check(worst) if worst else r.note)
        passed = len(r.checks) - len(r.failures)
        rows.append(
            (r.claim_id, str(r.status), f"{passed}/{len(r.checks)}", detail, f"{r.seconds:.1f}")
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    widths[0] = min(widths[0], 36)
    detail_width = max(width - sum(widths) - 7 - 2 * 4, 10)
    lines = []
    for n, row in enumerate(rows):
        cells = [
            _clip(row[0], widths[0]).ljust(widths[0]),
            row[1].ljust(widths[1]),
            row[2].ljust(widths[2]),
            _clip(" ".join(row[3].split()), detail_width).ljust(detail_width),
            row[4].rjust(7),
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in [*widths, detail_width, 7]))
    return "\n".join(lines)


#: How many failing checks of one claim are printed below the terminal table.
SHOWN_FAILURES = 3


def counterexamples(results: Iterable[Evidence]) -> str:
    """Every violated claim's counterexample (and every error), in full."""
    out: list[str] = []
    for r in results:
        if r.status == Status.VIOLATED and r.failures:
            failing = r.failures
            out.append(f"{r.claim_id} is violated; source: {r.source}")
            for check in failing[:SHOWN_FAILURES]:
                out.append(f"  counterexample: {describe_check(check)}")
                if check.inputs:
                    inputs = ", ".join(f"{k}={_fmt(v)}" for k, v in check.inputs.items())
                    out.append(f"    at {inputs}")
            if len(failing) > SHOWN_FAILURES:
                more = len(failing) - SHOWN_FAILURES
                out.append(
                    f"  ({more} more failing check{'s' if more > 1 else ''} in results.json)"
                )
            if r.note:
                out.append(f"  note: {' '.join(r.note.split())}")
        elif r.status == Status.ERROR:
            out.append(f"{r.claim_id} raised {r.error}")
    return "\n".join(out)


_MD_ESCAPES = str.maketrans({"|": "\\|", "\\": "\\\\", "<": "&lt;", ">": "&gt;", "`": "\\`"})


def md_cell(value: Any) -> str:
    """Text for one Markdown table cell: characters that would end the cell or start
    markup are escaped, and line breaks become spaces."""
    text = value if isinstance(value, str) else _fmt(value)
    return " ".join(text.translate(_MD_ESCAPES).split())


def _md_text(text: str) -> str:
    """Prose in a Markdown paragraph: ``<`` and ``>`` would open HTML tags; escape them."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def markdown_report(results: list[Evidence], payload: dict[str, Any], report_dir: Path) -> str:
    """The Markdown report: summary table, then one section per claim with its checks."""
    prov = payload["provenance"]
    out = [
        "# featcheck verification report",
        "",
        f"Budget `{prov.get('budget')}`, seed `{prov.get('seed')}`, created {prov['created']}, "
        f"featcheck {prov['versions'].get('featcheck')}, Python {prov['python']}.",
        "",
        "A violated `printed` claim contradicts the paper's statement as printed; a violated "
        "`derived` or `reading` claim contradicts featcheck's derivation or interpretation, "
        "not the paper.",
        "",
        "| claim | status | kind | checks passed | seconds |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        passed = len(r.checks) - len(r.failures)
        kind = r.provenance.kind if r.provenance else ""
        out.append(
            f"| `{r.claim_id}` | **{r.status}** | {kind} | {passed}/{len(r.checks)} | "
            f"{r.seconds:.1f} |"
        )
    out.append("")
    for r in results:
        out += [
            f"## `{r.claim_id}`: {r.status}",
            "",
            _md_text(r.statement),
            "",
            f"*Source:* {_md_text(r.source)}",
            "",
        ]
        if r.note:
            out += [_md_text(r.note), ""]
        if r.error:
            out += ["```", r.details.get("traceback", r.error), "```", ""]
        if r.checks:
            shown = sorted(r.checks, key=lambda c: (c.passed, -c.ratio))[:25]
            out += [
                "| check | predicted | measured | tolerance | passed |",
                "|---|---|---|---|---|",
            ]
            for c in shown:
                cells = (c.label, c.predicted, c.measured, c.tolerance)
                out.append(
                    "| "
                    + " | ".join(md_cell(v) for v in cells)
                    + f" | {'yes' if c.passed else '**no**'} |"
                )
            if len(r.checks) > len(shown):
                out.append(f"\n({len(r.checks) - len(shown)} more checks in the JSON file.)")
            out.append("")
        for figure in r.figures:
            rel = os.path.relpath(figure, report_dir)
            out += [f"![{r.claim_id}]({rel})", ""]
    return "\n".join(out)
