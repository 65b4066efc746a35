"""``featcheck verify``: run claims, print the table, write JSON and a Markdown report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from featcheck.numerics.commands.common import add_json, add_output, add_seed, print_json
from featcheck.numerics.names import BUDGETS

if TYPE_CHECKING:  # the claims and the report (numpy) load when claims run
    from featcheck.numerics.claims.base import Claim, Evidence


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("verify", help="run claims and report whether they hold")
    parser.add_argument(
        "claims",
        nargs="*",
        metavar="CLAIM_ID_OR_PREFIX",
        help="claims to run, by id or id prefix (default: all; with --claims, the claims "
        "those files or modules define)",
    )
    parser.add_argument(
        "--claims",
        dest="claim_sources",
        action="append",
        default=[],
        metavar="PATH_OR_MODULE",
        help="also load claims from this .py file or importable module (repeatable)",
    )
    parser.add_argument(
        "--budget", choices=BUDGETS, default="quick", help="quick (minutes) or full (paper scale)"
    )
    add_seed(parser)
    add_output(
        parser,
        "the report (report.md, results.json, figures/)",
        default=Path("featcheck-report"),
    )
    add_json(parser)
    parser.add_argument("--list", action="store_true", help="list the claims and exit")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from featcheck.numerics.claims import load_user_claims, select
    from featcheck.numerics.claims.base import Status
    from featcheck.numerics.report import (
        check_writable,
        claims_table,
        counterexamples,
        verification_payload,
    )

    user_claims: list[Claim] = []
    for source in args.claim_sources:
        user_claims += [c for c in load_user_claims(source) if c not in user_claims]
    pool = None if args.claims or not user_claims else user_claims
    claims = select(args.claims, pool)
    if args.list:
        for c in claims:
            print(f"{c.id}\t{c.source}\n    {c.statement}")
        return 0
    output: Path = args.output
    check_writable(output)  # before any claim runs: a wrong path costs nothing
    results = run_claims(claims, budget=args.budget, seed=args.seed, output=output)
    summary = summary_line(results, args.budget, args.seed)
    table = claims_table(results)
    details = counterexamples(results)
    if args.json:
        print_json(verification_payload(results, budget=args.budget, seed=args.seed))
        print(f"{table}\n\n{summary}", file=sys.stderr)
    else:
        print(table)
        if details:
            print(f"\n{details}")
        print(f"\n{summary}")
    print(f"report: {output / 'report.md'}   json: {output / 'results.json'}", file=sys.stderr)
    failed = any(r.status in (Status.VIOLATED, Status.ERROR) for r in results)
    return 1 if failed else 0


def run_claims(claims: list[Claim], *, budget: str, seed: int, output: Path) -> list[Evidence]:
    """Run ``claims`` in order, writing ``results.json`` and ``report.md`` into ``output``
    after each one, so an interrupted run keeps every finished claim.

    On a terminal a progress bar names the running claim; elsewhere one line per
    finished claim goes to standard error.
    """
    from featcheck.numerics.claims.base import run_claim
    from featcheck.numerics.report import (
        markdown_report,
        verification_payload,
        write_json_atomic,
        write_text,
    )

    figure_dir = output / "figures"
    results: list[Evidence] = []
    parameters = {"budget": budget, "seed": seed}
    bar = _progress_bar(len(claims))
    try:
        for c in claims:
            if bar is not None:
                bar.set_description_str(c.id)
            evidence = run_claim(c, budget, seed, figure_dir)
            results.append(evidence)
            payload = verification_payload(results, **parameters)
            write_json_atomic(output / "results.json", payload)
            write_text(output / "report.md", markdown_report(results, payload, output))
            if bar is not None:
                bar.update()
            else:
                done = f"[{len(results)}/{len(claims)}]"
                print(
                    f"{done} {c.id}: {evidence.status} ({evidence.seconds:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if bar is not None:
            bar.close()
    return results


def _progress_bar(total: int):
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="claim", leave=False, file=sys.stderr)


def summary_line(results: list[Evidence], budget: str, seed: int) -> str:
    from featcheck.numerics.claims.base import Status

    counts = {s: sum(r.status == s for r in results) for s in Status}
    return (
        f"{counts[Status.HOLDS]} hold, {counts[Status.VIOLATED]} violated, "
        f"{counts[Status.INCONCLUSIVE]} inconclusive, {counts[Status.ERROR]} error"
        f" (budget {budget}, seed {seed})"
    )
