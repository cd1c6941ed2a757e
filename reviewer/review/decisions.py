"""The decision store: every review decision in one SQLite file, committed one at a time.

The tables, the append-only event log and its views are described in
``reviewer.review.decision_schema``. Undo appends an ``undo`` event, so the
pair returns to its decision before the undone one, or to open.

Durability: the journal is a write-ahead log with ``synchronous=FULL``. A
decision is committed and synced before ``record`` returns, so a killed
process loses none of them, and a power cut loses none as long as the disk
honours fsync. Each decision, undo and resume position is its own transaction.

Annotation file identity: a file is found first by its resolved path, then by
its content hash. An edited file (same path, new hash) keeps its decisions. A
moved file (old path gone, same hash) keeps them and its path is updated. A
copy (old path still there, same hash) shares the original's decisions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from reviewer.review.decision_files import (
    DecisionStoreError,
    check_sqlite_header,
    connect_read_only,
)
from reviewer.review.decision_schema import APPLICATION_ID, SCHEMA_SQL, SCHEMA_VERSION
from reviewer.review.records import DecisionRecord, Evidence

log = logging.getLogger(__name__)

#: How long a write waits for another process that holds the lock, in seconds.
BUSY_TIMEOUT_S = 5.0
#: Event columns that hold the ``Evidence`` fields, one column per field.
_EVIDENCE_COLUMNS = tuple(f.name for f in dataclasses.fields(Evidence))


@dataclass(frozen=True)
class AnnotationFile:
    """An annotation file as the store identifies it."""

    file_id: int
    path: str  # resolved path
    sha256: str  # hash of the file's bytes when it was opened


class DecisionStore:
    """Decisions of one SQLite file. Use it from one thread.

    Parameters
    ----------
    path : Path
        The SQLite file.
    create : bool
        Create the file when it does not exist (default). With False, a missing
        file raises ``DecisionStoreError``.
    read_only : bool
        Only read: nothing is created or written, not even an empty file's
        schema, and a file in a read-only folder can still be read. Writing
        methods raise ``DecisionStoreError``.

    Raises
    ------
    DecisionStoreError
        The file is missing (with ``create=False`` or ``read_only``), corrupt,
        locked, not a decision store, or from a newer version. The file is
        left as it was.
    """

    def __init__(self, path: str | Path, create: bool = True, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if self.path.is_dir():
            raise DecisionStoreError(f"{self.path} is a folder; give a decision file path.")
        if (read_only or not create) and not self.path.is_file():
            raise DecisionStoreError(f"Decision file not found: {self.path}. Check the path.")
        if self.path.exists():
            check_sqlite_header(self.path)
        elif create:
            self._make_folder()
        try:
            self._conn = self._connect()
        except sqlite3.Error as err:
            raise self._error(err) from None
        try:
            self._configure()
            self._check_or_create_schema()
        except sqlite3.Error as err:
            self._conn.close()
            raise self._error(err) from None
        except DecisionStoreError:
            self._conn.close()
            raise
        log.info("Decision store %s opened", self.path)

    # Opening ------------------------------------------------------------------------------

    def _make_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DecisionStoreError(
                f"Cannot create the folder {self.path.parent} for decision file "
                f"{self.path.name}: {err.strerror}. Choose another path with --decisions."
            ) from None

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            return connect_read_only(self.path, BUSY_TIMEOUT_S)
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)

    def _configure(self) -> None:
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA foreign_keys = ON")
        # Reading the header first makes a corrupt file fail before anything is written.
        self._conn.execute("PRAGMA schema_version").fetchone()
        if self.read_only:
            return
        mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            log.warning("%s: SQLite uses %s, not WAL mode; writes are slower", self.path, mode)
        self._conn.execute("PRAGMA synchronous = FULL")

    def _check_or_create_schema(self) -> None:
        app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        tables = self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id == 0 and tables == 0:
            if self.read_only:
                raise DecisionStoreError(
                    f"{self.path} is empty, so it contains no decisions. Check the path."
                )
            self._create_schema()
            return
        if app_id != APPLICATION_ID:
            raise DecisionStoreError(
                f"{self.path} is an SQLite file but not a decision store; it was left "
                "unchanged. Choose another path with --decisions."
            )
        if version > SCHEMA_VERSION:
            raise DecisionStoreError(
                f"{self.path} was written by a newer reviewer (schema {version}, this one "
                f"reads up to {SCHEMA_VERSION}); update the reviewer to open it."
            )
        problem = self._conn.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise DecisionStoreError(
                f"{self.path} is damaged ({problem}); it was left unchanged. Restore a "
                "backup, or move it aside to start a new decision file."
            )

    def _create_schema(self) -> None:
        with self._transaction():
            for statement in SCHEMA_SQL.split(";\n"):
                if statement.strip():
                    self._conn.execute(statement)
            self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._conn.execute("INSERT INTO meta VALUES ('created_at', ?)", (_now(),))
        log.info("Created decision store %s (schema %d)", self.path, SCHEMA_VERSION)

    def _error(self, err: sqlite3.Error) -> DecisionStoreError:
        text = str(err)
        if "locked" in text or "busy" in text:
            return DecisionStoreError(
                f"Decision file {self.path} is locked by another program (waited "
                f"{BUSY_TIMEOUT_S:g} s). Close the other reviewer window and try again."
            )
        if self.read_only and "unable to open" in text:
            return DecisionStoreError(
                f"Cannot read decision file {self.path} ({text}). Check that the file and "
                "its folder are readable."
            )
        if "readonly" in text or "unable to open" in text:
            return DecisionStoreError(
                f"Cannot write decision file {self.path} ({text}). Check that the file and "
                "its folder are writable, or choose another path with --decisions."
            )
        return DecisionStoreError(
            f"Decision file {self.path} is unreadable ({text}); it was left unchanged. "
            "Restore a backup, or move it aside to start a new decision file."
        )

    def _transaction(self):
        return _Transaction(self)

    def close(self) -> None:
        """Close the connection; committed decisions are already on disk."""
        self._conn.close()

    def __enter__(self) -> DecisionStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Annotation files --------------------------------------------------------------------

    def open_annotation_file(self, path: str | Path) -> AnnotationFile:
        """Find or register an annotation file by its resolved path, then by its content hash.

        Raises
        ------
        DecisionStoreError
            The annotation file cannot be read, or the store cannot be written.
        """
        resolved = Path(path).resolve()
        try:
            sha256 = hashlib.sha256(resolved.read_bytes()).hexdigest()
        except OSError as err:
            raise DecisionStoreError(f"Cannot read annotation file {resolved}: {err}") from None
        now = _now()
        with self._transaction():
            row = self._find_file(str(resolved), sha256)
            if row is None:
                cursor = self._conn.execute(
                    "INSERT INTO annotation_files (path, sha256, first_opened_at, last_opened_at)"
                    " VALUES (?, ?, ?, ?)",
                    (str(resolved), sha256, now, now),
                )
                return AnnotationFile(cursor.lastrowid, str(resolved), sha256)
            self._conn.execute(
                "UPDATE annotation_files SET path = ?, sha256 = ?, last_opened_at = ?"
                " WHERE file_id = ?",
                (row["path"], sha256, now, row["file_id"]),
            )
            return AnnotationFile(row["file_id"], row["path"], sha256)

    def _find_file(self, path: str, sha256: str) -> dict | None:
        """Return the row of a known file, with ``path`` set to the path to keep."""
        row = self._conn.execute(
            "SELECT file_id, path, sha256 FROM annotation_files WHERE path = ?", (path,)
        ).fetchone()
        if row is not None:
            if row["sha256"] != sha256:
                log.info("Annotation file %s changed since it was last opened", path)
            return dict(row)
        row = self._conn.execute(
            "SELECT file_id, path FROM annotation_files WHERE sha256 = ?"
            " ORDER BY last_opened_at DESC LIMIT 1",
            (sha256,),
        ).fetchone()
        if row is None:
            return None
        if Path(row["path"]).exists():
            log.info("%s has the same content as %s and shares its decisions", path, row["path"])
            return dict(row)
        log.info("Annotation file moved from %s to %s; its decisions follow it", row["path"], path)
        return {"file_id": row["file_id"], "path": path}

    def last_pair(self, file: AnnotationFile) -> tuple[str, str] | None:
        """Return the pair (aid_a, aid_b) selected last in this file, or None."""
        row = self._conn.execute(
            "SELECT last_aid_a, last_aid_b FROM annotation_files WHERE file_id = ?",
            (file.file_id,),
        ).fetchone()
        if row is None or row["last_aid_a"] is None:
            return None
        return row["last_aid_a"], row["last_aid_b"]

    def set_last_pair(self, file: AnnotationFile, aid_a: str, aid_b: str) -> None:
        """Remember the selected pair, so that reopening the file resumes there."""
        with self._transaction():
            self._conn.execute(
                "UPDATE annotation_files SET last_aid_a = ?, last_aid_b = ? WHERE file_id = ?",
                (str(aid_a), str(aid_b), file.file_id),
            )

    # Decisions ---------------------------------------------------------------------------

    def record(self, file: AnnotationFile, record: DecisionRecord) -> DecisionRecord:
        """Append a decision in its own transaction; return it with its id and time."""
        record = replace(
            record,
            decided_at=_now(),
            annotations_path=file.path,
            annotations_sha256=file.sha256,
        )
        evidence = record.evidence
        values = {
            "file_id": file.file_id,
            "aid_low": record.key[0],
            "aid_high": record.key[1],
            "kind": "decide",
            "created_at": record.decided_at,
            "reviewer": record.reviewer,
            "aid_a": record.aid_a,
            "aid_b": record.aid_b,
            "decision": record.decision,
            "confidence": record.confidence,
            "tags": json.dumps(list(record.tags)),
            "note": record.note,
            **{name: getattr(evidence, name) for name in _EVIDENCE_COLUMNS},
        }
        with self._transaction():
            cursor = self._conn.execute(
                f"INSERT INTO events ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                tuple(values.values()),
            )
        log.info("Recorded %s for aid %s vs aid %s", record.decision, record.aid_a, record.aid_b)
        return replace(record, event_id=cursor.lastrowid)

    def undo_last(self, file: AnnotationFile, reviewer: str = "") -> DecisionRecord | None:
        """Cancel the latest decision in this file that is not undone yet; return it.

        The pair goes back to its decision before that one, or to open. Returns
        None when there is nothing to undo.
        """
        with self._transaction():
            row = self._conn.execute(
                f"{_SELECT_RECORDS} FROM active_decisions AS e JOIN annotation_files AS f"
                " USING (file_id) WHERE e.file_id = ? ORDER BY e.event_id DESC LIMIT 1",
                (file.file_id,),
            ).fetchone()
            if row is None:
                return None
            self._conn.execute(
                "INSERT INTO events"
                " (file_id, aid_low, aid_high, kind, undoes, created_at, reviewer)"
                " VALUES (?, ?, ?, 'undo', ?, ?, ?)",
                (file.file_id, row["aid_low"], row["aid_high"], row["event_id"], _now(), reviewer),
            )
        record = _record_from_row(row)
        log.info("Undid %s for aid %s vs aid %s", record.decision, record.aid_a, record.aid_b)
        return record

    def current(self, file: AnnotationFile) -> dict[tuple[str, str], DecisionRecord]:
        """Return the current decision of every decided pair of a file, by unordered pair key."""
        rows = self._conn.execute(
            f"{_SELECT_RECORDS} FROM current_decisions AS e JOIN annotation_files AS f"
            " USING (file_id) WHERE e.file_id = ? ORDER BY e.event_id",
            (file.file_id,),
        ).fetchall()
        return {record.key: record for record in map(_record_from_row, rows)}

    def all_current(self) -> list[DecisionRecord]:
        """Return the current decisions of every annotation file, oldest first."""
        rows = self._conn.execute(
            f"{_SELECT_RECORDS} FROM current_decisions AS e JOIN annotation_files AS f"
            " USING (file_id) ORDER BY e.event_id"
        ).fetchall()
        return [_record_from_row(row) for row in rows]

    def integrity_check(self) -> str:
        """Run SQLite's full integrity check; return ``"ok"`` or the first problem."""
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0]


_SELECT_RECORDS = "SELECT e.*, f.path AS annotations_path, f.sha256 AS annotations_sha256"


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on an exception.

    SQLite errors leave as ``DecisionStoreError`` naming the file.
    """

    def __init__(self, store: DecisionStore):
        self.store = store

    def __enter__(self) -> None:
        if self.store.read_only:
            raise DecisionStoreError(
                f"Decision file {self.store.path} was opened read-only; nothing was written."
            )
        try:
            self.store._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise self.store._error(err) from None

    def __exit__(self, exc_type, exc, tb) -> bool:
        conn = self.store._conn
        if exc_type is None:
            try:
                conn.execute("COMMIT")
                return False
            except sqlite3.Error as err:
                exc = err
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise self.store._error(exc) from None
        return False


def _record_from_row(row: sqlite3.Row) -> DecisionRecord:
    evidence = Evidence(
        **{name: row[name] for name in _EVIDENCE_COLUMNS if name != "fg_weighting"},
        fg_weighting=bool(row["fg_weighting"]),
    )
    return DecisionRecord(
        aid_a=row["aid_a"],
        aid_b=row["aid_b"],
        decision=row["decision"],
        confidence=row["confidence"],
        evidence=evidence,
        tags=tuple(json.loads(row["tags"] or "[]")),
        note=row["note"] or "",
        reviewer=row["reviewer"],
        event_id=row["event_id"],
        decided_at=row["created_at"],
        annotations_path=row["annotations_path"],
        annotations_sha256=row["annotations_sha256"],
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
