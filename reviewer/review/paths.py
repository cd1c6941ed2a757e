"""Where review files go: beside the annotations, or in the user data directory."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from reviewer import DEMO_ANNOTATIONS

#: Suffix of the default decision file beside an annotation file.
DECISIONS_SUFFIX = ".reviews.sqlite"
#: Folder name of the reviewer's files in the user data directory.
APP_DIR_NAME = "wildlife-reviewer"


def user_data_dir() -> Path:
    """Return the folder for decision files that cannot live beside their annotations.

    ``$REVIEWER_DATA_DIR`` when set; else, on Linux and other Unix systems,
    ``$XDG_DATA_HOME/wildlife-reviewer`` (default ``~/.local/share/wildlife-reviewer``);
    on macOS ``~/Library/Application Support/wildlife-reviewer``; on Windows
    ``%LOCALAPPDATA%\\wildlife-reviewer``.
    """
    if os.environ.get("REVIEWER_DATA_DIR"):
        return Path(os.environ["REVIEWER_DATA_DIR"]).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / APP_DIR_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_DIR_NAME
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / APP_DIR_NAME


def default_decisions_path(annotations: str | Path) -> Path:
    """Return where the decisions of an annotation file go when no path is given.

    Beside the annotation file as ``<file name>.reviews.sqlite``, except for
    the bundled demo and for files in a folder this user cannot write: their
    decisions go to ``user_data_dir()``, named after the annotation file plus a
    short hash of its resolved path, so two files of the same name do not share.
    """
    annotations = Path(annotations).resolve()
    beside = annotations.with_name(annotations.name + DECISIONS_SUFFIX)
    is_demo = annotations == DEMO_ANNOTATIONS.resolve()
    if not is_demo and os.access(annotations.parent, os.W_OK):
        return beside
    path_hash = hashlib.sha256(str(annotations).encode()).hexdigest()[:8]
    return user_data_dir() / f"{annotations.name}-{path_hash}{DECISIONS_SUFFIX}"
