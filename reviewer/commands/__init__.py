"""Subcommands of ``reviewer``, one module each, and what they share.

Each module defines ``register(commands)``, which adds its parser to the
``argparse`` subparsers and sets ``run`` to the function that executes it.
``run`` returns the exit code and raises ``ReviewerError`` for user errors.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from reviewer import __version__
from reviewer.engine.errors import ReviewerError


def add_common(parser: argparse.ArgumentParser) -> None:
    """Add ``-v`` and ``--version`` to a parser."""
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    parser.set_defaults(base_verbosity=0)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


def check_output_folder(path: Path, option: str) -> None:
    """Raise ``ReviewerError`` when the folder of an output path does not exist."""
    if not path.parent.is_dir():
        raise ReviewerError(
            f"{option} {path}: the folder {path.parent} does not exist; create it or choose "
            "another path."
        )


def write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file atomically, turning an OSError into ``ReviewerError``.

    The text goes to a temporary file in the same folder, which then replaces
    ``path``. A killed process or a full disk leaves the old file, never half
    of the new one.
    """
    data = text.encode("utf-8")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, path)
    except OSError as err:
        raise ReviewerError(
            f"Cannot write {path}: {err.strerror}. Any previous file there is unchanged. "
            "Fix the cause or choose another path."
        ) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def add_scoring_options(parser: argparse.ArgumentParser, counted: str = "correspondences") -> None:
    """Add ``--threshold``, ``--no-fg`` and ``--no-cache``, which every scoring command takes."""
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.0,
        metavar="T",
        help=f"mask threshold in [0, 1]: {counted} with a keypoint fgweight below T count 0 "
        "(default 0, plain HotSpotter weighting)",
    )
    parser.add_argument(
        "--no-fg", action="store_true", help="switch foreground weighting off (every weight 1)"
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")


def score_config_from(args: argparse.Namespace):
    """Return the ``ScoreConfig`` of ``add_scoring_options``' arguments, checking the threshold."""
    from reviewer.engine.scoring import ScoreConfig

    if not 0.0 <= args.threshold <= 1.0:
        raise ReviewerError(f"--threshold must be in [0, 1], not {args.threshold}")
    return ScoreConfig(threshold=args.threshold, fg_weighting=not args.no_fg)


def json_number(value: float | None) -> float | None:
    """Return a score rounded to 6 decimals for JSON; None for a missing or non-finite value."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 6)


def print_report(summary: str, warnings, payload: dict, json_out: str | None) -> None:
    """Print a command's summary and warnings, and write its JSON to ``json_out``.

    With ``json_out`` "-", the JSON goes to stdout and the summary to stderr,
    so stdout carries only JSON.
    """
    to_stdout = json_out == "-"
    print(summary, file=sys.stderr if to_stdout else sys.stdout)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not json_out:
        return
    text = json.dumps(payload, indent=2)
    if to_stdout:
        print(text)
    else:
        write_text(Path(json_out), text + "\n")
