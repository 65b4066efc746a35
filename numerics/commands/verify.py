"""``featcheck verify``: run claims, print the table, write JSON and a Markdown report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from featcheck.numerics.claims import select
from featcheck.numerics.claims.base import BUDGETS, Evidence, Status, run_claim
from featcheck.numerics.commands.common import non_negative_int, progress
from featcheck.numerics.report import (
    claims_table,
    markdown_report,
    verification_payload,
    write_json_atomic,
    write_text,
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("verify", help="run claims and report whether they hold")
    parser.add_argument("claims", nargs="*", metavar="CLAIM_ID_OR_PREFIX")
    parser.add_argument("--budget", choices=BUDGETS, default="quick")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--json", type=Path, metavar="PATH", help="write results as JSON here")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        default=Path("featcheck-report"),
        help="directory for the Markdown report and figures (default: featcheck-report)",
    )
    parser.add_argument("--list", action="store_true", help="list the claims and exit")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    claims = select(args.claims)
    if args.list:
        for c in claims:
            print(f"{c.id}\t{c.source}\n    {c.statement}")
        return 0
    report_dir: Path = args.report
    figure_dir = report_dir / "figures"
    json_path = args.json or report_dir / "results.json"
    results: list[Evidence] = []
    parameters = {"budget": args.budget, "seed": args.seed}
    try:
        for c in progress(claims, total=len(claims), desc="claims"):
            results.append(run_claim(c, args.budget, args.seed, figure_dir))
            # Save after every claim: an interrupted run keeps what it finished.
            write_json_atomic(json_path, verification_payload(results, **parameters))
    finally:
        if results:
            payload = verification_payload(results, **parameters)
            write_json_atomic(json_path, payload)
            write_text(report_dir / "report.md", markdown_report(results, payload, report_dir))
    print(claims_table(results))
    counts = {s: sum(r.status == s for r in results) for s in Status}
    print(
        f"\n{counts[Status.HOLDS]} hold, {counts[Status.VIOLATED]} violated, "
        f"{counts[Status.INCONCLUSIVE]} inconclusive, {counts[Status.ERROR]} error"
        f" (budget {args.budget}, seed {args.seed})"
    )
    print(f"report: {report_dir / 'report.md'}   json: {json_path}", file=sys.stderr)
    return 1 if counts[Status.VIOLATED] or counts[Status.ERROR] else 0
