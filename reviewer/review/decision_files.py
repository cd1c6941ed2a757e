"""Opening a decision file: checks of the file itself, and read-only connections.

A decision store runs in WAL mode, so even a reader needs the ``-wal`` and
``-shm`` files beside the database. A ``mode=ro`` connection creates them but
cannot remove them when it closes, so where the file and folder are writable
a reader uses a normal connection with ``PRAGMA query_only``, which rejects
every change and tidies up on close. In a read-only folder SQLite cannot
create the ``-shm`` file, and ``mode=ro`` fails. ``immutable=1`` then reads
the main file alone, which is correct only when no ``-wal`` file contains
decisions not yet copied into it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from reviewer.engine.errors import ReviewerError

log = logging.getLogger(__name__)

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"


class DecisionStoreError(ReviewerError):
    """A decision store is unreadable, locked, from a newer version or not a store at all."""


def check_sqlite_header(path: Path) -> None:
    """Raise ``DecisionStoreError`` when a non-empty file is not an SQLite database.

    An empty file passes: SQLite treats it as a new, empty database.
    """
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as err:
        raise DecisionStoreError(
            f"Cannot read decision file {path}: {err.strerror}. Check its permissions."
        ) from None
    if header and header != SQLITE_HEADER:
        raise DecisionStoreError(
            f"{path} is not an SQLite file, so it is not a decision file. It was left "
            "unchanged. Check the path, or restore a backup if it was a decision file."
        )


def connect_read_only(path: Path, timeout_s: float) -> sqlite3.Connection:
    """Open a database for reading only, also in a folder this process cannot write.

    Raises
    ------
    DecisionStoreError
        The folder is read-only and a ``-wal`` file beside the database
        contains data that a read-only reader cannot see.
    sqlite3.Error
        SQLite cannot open or read the file.
    """
    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
        _run_or_close(conn, "PRAGMA query_only = ON")
        return conn

    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout_s, isolation_level=None)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return conn
    except sqlite3.OperationalError as err:
        conn.close()
        if getattr(err, "sqlite_errorname", "") != "SQLITE_CANTOPEN":
            raise
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise DecisionStoreError(
            f"Cannot read decision file {path}: its folder is read-only and {wal.name} "
            "contains decisions not yet copied into the file. Copy both files to a writable "
            "folder and read the copy."
        )
    log.info("%s is in a read-only folder; reading it as immutable", path)
    conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=timeout_s, isolation_level=None)
    _run_or_close(conn, "PRAGMA schema_version")
    return conn


def _run_or_close(conn: sqlite3.Connection, statement: str) -> None:
    """Run one statement. On an SQLite error, close the connection and re-raise."""
    try:
        conn.execute(statement).fetchall()
    except sqlite3.Error:
        conn.close()
        raise
