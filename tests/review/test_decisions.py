"""The decision store: round trip, undo, file identity, damaged files and SIGKILL durability."""

import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.review import decisions, paths
from reviewer.review.decisions import DecisionStore, DecisionStoreError
from reviewer.review.records import DecisionRecord, Evidence

#: Decisions the child process commits before it is killed.
KILL_AFTER = 40


def _record(aid_a="3", aid_b="5", decision="match", **fields) -> DecisionRecord:
    fields.setdefault("confidence", "sure")
    fields.setdefault("evidence", Evidence(threshold=0.25, fg_weighting=True, score=12.5))
    return DecisionRecord(aid_a, aid_b, decision, **fields)


@pytest.fixture
def annotations(tmp_path):
    """A copy of the demo annotation file in a temporary folder."""
    path = tmp_path / "annots" / "zebras.json"
    path.parent.mkdir()
    path.write_bytes(DEMO_ANNOTATIONS.read_bytes())
    return path


@pytest.fixture
def store(tmp_path):
    with DecisionStore(tmp_path / "d.reviews.sqlite") as opened:
        yield opened


def test_round_trip_after_reopen(tmp_path, annotations):
    path = tmp_path / "d.sqlite"
    written = _record(tags=("photobomb", "two animals"), note="left flank", reviewer="ana")
    with DecisionStore(path) as store:
        stored = store.record(store.open_annotation_file(annotations), written)
    with DecisionStore(path) as store:
        current = store.current(store.open_annotation_file(annotations))
    assert current == {("3", "5"): stored}
    assert stored.tags == ("photobomb", "two animals")
    assert stored.evidence.score == 12.5
    assert stored.annotations_path == str(annotations.resolve())


def test_pair_key_is_unordered(store, annotations):
    file = store.open_annotation_file(annotations)
    store.record(file, _record("5", "3", "match"))
    store.record(file, _record("3", "5", "nomatch"))
    current = store.current(file)
    assert list(current) == [("3", "5")]
    assert current[("3", "5")].decision == "nomatch"


def test_undo_restores_previous_decision(store, annotations):
    file = store.open_annotation_file(annotations)
    store.record(file, _record(decision="match"))
    store.record(file, _record(decision="nomatch"))
    undone = store.undo_last(file)
    assert undone.decision == "nomatch"
    assert store.current(file)[("3", "5")].decision == "match"


def test_undo_twice_reopens_pair(store, annotations):
    file = store.open_annotation_file(annotations)
    store.record(file, _record(decision="match"))
    store.record(file, _record("1", "2", decision="notcomp"))
    store.undo_last(file)
    store.undo_last(file)
    assert store.current(file) == {}
    assert store.undo_last(file) is None


def test_log_is_append_only(store, annotations):
    store.record(store.open_annotation_file(annotations), _record())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._conn.execute("DELETE FROM events")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._conn.execute("UPDATE events SET decision = 'nomatch'")


def test_files_keep_their_own_decisions(store, annotations, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(annotations.read_text().replace('"id"', '"id" ', 1))
    store.record(store.open_annotation_file(annotations), _record())
    assert store.current(store.open_annotation_file(other)) == {}


def test_edited_file_keeps_decisions(store, annotations):
    store.record(store.open_annotation_file(annotations), _record())
    annotations.write_text(annotations.read_text() + "\n")
    file = store.open_annotation_file(annotations)
    assert list(store.current(file)) == [("3", "5")]


def test_moved_file_keeps_decisions(store, annotations, tmp_path):
    store.record(store.open_annotation_file(annotations), _record())
    moved = annotations.rename(tmp_path / "moved.json")
    file = store.open_annotation_file(moved)
    assert list(store.current(file)) == [("3", "5")]
    assert file.path == str(moved.resolve())


def test_copied_file_shares_decisions(store, annotations, tmp_path):
    original = store.open_annotation_file(annotations)
    store.record(original, _record())
    copy = tmp_path / "copy.json"
    copy.write_bytes(annotations.read_bytes())
    file = store.open_annotation_file(copy)
    assert file.file_id == original.file_id
    assert file.path == str(annotations.resolve())


def test_last_pair_round_trip(tmp_path, annotations):
    path = tmp_path / "d.sqlite"
    with DecisionStore(path) as store:
        file = store.open_annotation_file(annotations)
        assert store.last_pair(file) is None
        store.set_last_pair(file, "4", "5")
    with DecisionStore(path) as store:
        assert store.last_pair(store.open_annotation_file(annotations)) == ("4", "5")


def test_missing_file_without_create(tmp_path):
    with pytest.raises(DecisionStoreError, match="not found"):
        DecisionStore(tmp_path / "none.sqlite", create=False)
    assert not (tmp_path / "none.sqlite").exists()


def test_corrupt_file_left_unchanged(tmp_path):
    path = tmp_path / "d.sqlite"
    garbage = b"not a database " * 500
    path.write_bytes(garbage)
    with pytest.raises(DecisionStoreError, match=str(path)):
        DecisionStore(path)
    assert path.read_bytes() == garbage


def test_foreign_sqlite_file_rejected(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(DecisionStoreError, match="not a decision store"):
        DecisionStore(path)


def test_newer_schema_rejected(tmp_path):
    path = tmp_path / "d.sqlite"
    DecisionStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(DecisionStoreError, match="newer reviewer"):
        DecisionStore(path)


def test_locked_file_is_clear_error(tmp_path, annotations, monkeypatch):
    monkeypatch.setattr(decisions, "BUSY_TIMEOUT_S", 0.05)
    path = tmp_path / "d.sqlite"
    store = DecisionStore(path)
    file = store.open_annotation_file(annotations)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DecisionStoreError, match="locked"):
            store.record(file, _record())
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.current(file) == {}
    store.close()


def test_wal_and_full_sync(store):
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_default_path_beside_annotations(annotations):
    expected = annotations.parent / "zebras.json.reviews.sqlite"
    assert paths.default_decisions_path(annotations) == expected


def test_default_path_of_demo_in_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path))
    path = paths.default_decisions_path(DEMO_ANNOTATIONS)
    assert path.parent == tmp_path
    assert path.name.startswith(DEMO_ANNOTATIONS.name)


def test_default_path_of_readonly_folder(tmp_path, annotations, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(paths.os, "access", lambda path, mode: False)
    assert paths.default_decisions_path(annotations).parent == tmp_path / "data"


def test_data_dir_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("REVIEWER_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(paths.sys, "platform", "linux")
    assert paths.user_data_dir() == tmp_path / "wildlife-reviewer"


CHILD = """
import sys
from reviewer.review.decisions import DecisionStore
from reviewer.review.records import DecisionRecord, Evidence

store = DecisionStore(sys.argv[1])
file = store.open_annotation_file(sys.argv[2])
for i in range(1_000_000):
    record = DecisionRecord(
        str(i), str(i + 1), "match", "sure", Evidence(0.5, True, score=float(i)), note=f"n{i}"
    )
    print(store.record(file, record).aid_a, flush=True)
"""


def test_sigkill_loses_no_committed_decision(tmp_path, annotations):
    path = tmp_path / "d.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(annotations)],
        stdout=subprocess.PIPE,
        text=True,
    )
    committed = [child.stdout.readline().strip() for _ in range(KILL_AFTER)]
    os.kill(child.pid, signal.SIGKILL)
    committed += child.stdout.read().split()  # lines printed before the kill landed
    child.wait()

    with DecisionStore(path) as store:
        assert store.integrity_check() == "ok"
        current = store.current(store.open_annotation_file(annotations))
    stored = {record.aid_a: record for record in current.values()}
    assert child.returncode == -signal.SIGKILL
    for aid in committed:
        assert stored[aid].note == f"n{aid}"
        assert stored[aid].evidence.score == float(aid)
