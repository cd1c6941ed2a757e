"""Subcommands of ``reviewer``, one module each, and what they share.

Each module defines ``register(commands)``, which adds its parser to the
``argparse`` subparsers and sets ``run`` to the function that executes it.
``run`` returns the exit code and raises ``ReviewerError`` for user errors.
"""

from __future__ import annotations

import argparse
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
    """Write a text file, turning an OSError into ``ReviewerError``."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ReviewerError(f"Cannot write {path}: {err.strerror}") from None
