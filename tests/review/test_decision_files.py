"""Opening decision files: header checks and read-only access."""

import sqlite3

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.review import decision_files
from reviewer.review.decision_files import DecisionStoreError
from reviewer.review.decisions import DecisionStore
from reviewer.review.records import DecisionRecord, Evidence


@pytest.fixture
def db(tmp_path):
    """A closed decision file with one decision."""
    path = tmp_path / "d.reviews.sqlite"
    with DecisionStore(path) as store:
        file = store.open_annotation_file(DEMO_ANNOTATIONS)
        store.record(file, DecisionRecord("3", "5", "match", "sure", Evidence(0.0, True)))
    return path


def _fail_read_only_mode(monkeypatch):
    """Act as in a read-only folder without a ``-shm`` file, where ``mode=ro`` fails."""
    monkeypatch.setattr(decision_files.os, "access", lambda path, mode: False)
    real_connect = sqlite3.connect

    def connect(database, *args, **kwargs):
        if "mode=ro" in str(database):
            return _CantOpen()
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(decision_files.sqlite3, "connect", connect)


class _CantOpen:
    """A connection whose first statement fails with SQLITE_CANTOPEN."""

    def execute(self, *args):
        err = sqlite3.OperationalError("unable to open database file")
        err.sqlite_errorname = "SQLITE_CANTOPEN"
        raise err

    def close(self):
        pass


def test_read_only_reads_decisions(db):
    with DecisionStore(db, read_only=True) as store:
        records = store.all_current()
    assert [(r.aid_a, r.aid_b) for r in records] == [("3", "5")]


def test_read_only_leaves_no_wal_files(db):
    with DecisionStore(db, read_only=True) as store:
        store.all_current()
    assert sorted(p.name for p in db.parent.iterdir()) == [db.name]


def test_read_only_connection_rejects_sql_writes(db):
    with DecisionStore(db, read_only=True) as store, pytest.raises(sqlite3.OperationalError):
        store._conn.execute("INSERT INTO meta VALUES ('k', 'v')")


def test_read_only_rejects_writes(db):
    with (
        DecisionStore(db, read_only=True) as store,
        pytest.raises(DecisionStoreError, match="read-only"),
    ):
        store.open_annotation_file(DEMO_ANNOTATIONS)


def test_read_only_empty_file_unchanged(tmp_path):
    path = tmp_path / "empty.sqlite"
    path.touch()
    with pytest.raises(DecisionStoreError, match="empty"):
        DecisionStore(path, read_only=True)
    assert path.stat().st_size == 0


def test_read_only_missing_file(tmp_path):
    with pytest.raises(DecisionStoreError, match="not found"):
        DecisionStore(tmp_path / "none.sqlite", read_only=True)


def test_folder_named_as_folder(tmp_path):
    with pytest.raises(DecisionStoreError, match="is a folder"):
        DecisionStore(tmp_path, create=False)


def test_non_sqlite_file_named(tmp_path):
    path = tmp_path / "annotations.json"
    path.write_text('{"images": []}')
    with pytest.raises(DecisionStoreError, match="not an SQLite file"):
        DecisionStore(path)
    assert path.read_text() == '{"images": []}'


def test_read_only_folder_falls_back(db, monkeypatch):
    _fail_read_only_mode(monkeypatch)
    with DecisionStore(db, read_only=True) as store:
        records = store.all_current()
    assert len(records) == 1


def test_read_only_folder_with_wal_rejected(db, monkeypatch):
    _fail_read_only_mode(monkeypatch)
    db.with_name(db.name + "-wal").write_bytes(b"\0" * 64)
    with pytest.raises(DecisionStoreError, match="-wal contains decisions"):
        DecisionStore(db, read_only=True)
