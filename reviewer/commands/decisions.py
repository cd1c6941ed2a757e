"""``reviewer decisions``: summarise or export the decisions of a decision file."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
from collections import Counter
from pathlib import Path

from reviewer.commands import add_common, check_output_folder, write_text

log = logging.getLogger(__name__)


def register(commands) -> None:
    """Add the ``decisions`` parser."""
    parser = commands.add_parser(
        "decisions",
        help="summarise or export review decisions",
        description="Print how many pairs of each annotation file are decided, or export "
        "the current decision of every pair, with the evidence it was made on. Undone "
        "decisions are left out.",
    )
    parser.add_argument(
        "db", type=Path, metavar="DB", help="decision file (.reviews.sqlite) to read"
    )
    parser.add_argument("--csv", metavar="OUT", help="write the decisions as CSV ('-' for stdout)")
    parser.add_argument(
        "--json", metavar="OUT", help="write the decisions as a JSON list ('-' for stdout)"
    )
    add_common(parser)
    parser.set_defaults(run=_run_decisions)


def _run_decisions(args: argparse.Namespace) -> int:
    from reviewer.engine.errors import ReviewerError
    from reviewer.review.decisions import DecisionStore

    if args.csv == "-" and args.json == "-":
        raise ReviewerError("--csv - and --json - both write to stdout; send one to a file.")
    for option, target in (("--csv", args.csv), ("--json", args.json)):
        if target and target != "-":
            check_output_folder(Path(target), option)

    with DecisionStore(args.db, read_only=True) as store:
        records = store.all_current()
    rows = [record.to_row() for record in records]

    if args.csv:
        _write(args.csv, _csv_text(rows))
    if args.json:
        for row, record in zip(rows, records, strict=True):
            row["tags"] = list(record.tags)  # a list in JSON, not the CSV's joined text
        _write(args.json, json.dumps(rows, indent=2) + "\n")
    to_stdout = "-" in (args.csv, args.json)
    print(_summary(args.db, records), file=sys.stderr if to_stdout else sys.stdout)
    return 0


def _csv_text(rows: list[dict]) -> str:
    from reviewer.review.records import EXPORT_COLUMNS

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _write(target: str, text: str) -> None:
    if target == "-":
        sys.stdout.write(text)
    else:
        write_text(Path(target), text)
        log.info("Wrote %s", target)


def _summary(db: Path, records) -> str:
    """Return one line per annotation file: how many pairs got which decision."""
    from reviewer.review.records import DECISION_TEXT, DECISIONS

    if not records:
        return f"{db}: no decisions"
    by_file: dict[str, Counter] = {}
    for record in records:
        by_file.setdefault(record.annotations_path, Counter())[record.decision] += 1
    lines = []
    for path, counts in by_file.items():
        parts = ", ".join(f"{counts[d]} {DECISION_TEXT[d]}" for d in DECISIONS)
        lines.append(f"{path}: {sum(counts.values())} pairs decided ({parts})")
    return "\n".join(lines)
