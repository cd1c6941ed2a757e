"""Command line: the GUI by default, plus the subcommands in ``reviewer.commands``.

    reviewer [ANNOTATIONS] [--pairs PAIRS.csv] [--query AID [--top N]] [--screenshot OUT.png]
             [--decisions DB] [--reviewer NAME]
    reviewer match ANNOTATIONS AID_A AID_B [--threshold T] [--json OUT|-] [--export FIG.png]
    reviewer rank ANNOTATIONS --query AID [--top N] [--json OUT|-] [--include-same-image]
    reviewer export ANNOTATIONS (AID_A AID_B | --pairs PAIRS.csv) --out DIR [--format svg]
    reviewer decisions DB [--csv OUT.csv|-] [--json OUT|-]
    reviewer train-background DATA --out models/NAME.pt

Only this module and ``main.py`` configure logging.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from reviewer.commands import add_common
from reviewer.engine.errors import ReviewerError

log = logging.getLogger("reviewer")

#: Subcommand name -> module in ``reviewer.commands`` that registers it.
SUBCOMMANDS = {
    "match": "reviewer.commands.match",
    "rank": "reviewer.commands.rank",
    "export": "reviewer.commands.export",
    "decisions": "reviewer.commands.decisions",
    "train-background": "reviewer.commands.train_background",
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _subcommand_parser(argv[0]) if argv and argv[0] in SUBCOMMANDS else _gui_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose + args.base_verbosity)
    try:
        return args.run(args)
    except ReviewerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# GUI ----------------------------------------------------------------------------------------


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reviewer",
        description="Review photo-identification matches. Subcommands: "
        + ", ".join(SUBCOMMANDS)
        + " (run 'reviewer match -h').",
    )
    parser.add_argument(
        "annotations",
        nargs="?",
        type=Path,
        help="COCO annotation file (default: the file opened last, else the bundled demo)",
    )
    parser.add_argument("--pairs", type=Path, help="CSV file of extra pairs, columns aid_a,aid_b")
    parser.add_argument(
        "--decisions",
        type=Path,
        metavar="PATH",
        help="decision file (default: ANNOTATIONS.reviews.sqlite beside the annotations, or "
        "in the user data folder for the demo and for read-only folders)",
    )
    parser.add_argument(
        "--reviewer",
        metavar="NAME",
        help="name stored with each decision (default: the name used last, else the login name)",
    )
    parser.add_argument(
        "--query",
        metavar="AID",
        help="review annotation AID against its best candidates from one-vs-many ranking "
        "(ranked once the window is open, which shows the progress and can cancel it)",
    )
    parser.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="with --query: candidates to review (default 10)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="OUT.png",
        help="open offscreen, match the first pair, save a screenshot and exit",
    )
    add_common(parser)
    parser.set_defaults(run=_run_gui)
    return parser


def _run_gui(args: argparse.Namespace) -> int:
    if args.screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif _no_display():
        raise ReviewerError(
            "No display found (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot "
            "open. Run it on a desktop, under Xvfb (xvfb-run reviewer ...), or use "
            "--screenshot OUT.png to render offscreen."
        )
    if args.top < 1:
        raise ReviewerError(f"--top must be at least 1, not {args.top}")
    from reviewer.gui.app import run_gui

    return run_gui(
        args.annotations,
        pairs_csv=args.pairs,
        screenshot=args.screenshot,
        decisions=args.decisions,
        reviewer=args.reviewer,
        query=args.query,
        top=args.top,
    )


# Subcommands --------------------------------------------------------------------------------


def _subcommand_parser(command: str) -> argparse.ArgumentParser:
    """Build a parser with only the requested subcommand, so others' imports are not paid."""
    parser = argparse.ArgumentParser(prog="reviewer")
    commands = parser.add_subparsers(dest="command", required=True)
    importlib.import_module(SUBCOMMANDS[command]).register(commands)
    return parser


# Shared -------------------------------------------------------------------------------------


def _no_display() -> bool:
    """True on Linux when no X11 or Wayland display and no Qt platform are set."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _configure_logging(verbosity: int) -> None:
    levels = {0: logging.WARNING, 1: logging.INFO}
    level = levels.get(verbosity, logging.DEBUG)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


if __name__ == "__main__":
    sys.exit(main())
