"""``reviewer decisions``: the summary and the CSV and JSON exports."""

import csv
import io
import json

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.cli import main
from reviewer.review.decisions import DecisionStore
from reviewer.review.records import EXPORT_COLUMNS, DecisionRecord, Evidence


@pytest.fixture
def db(tmp_path):
    """A decision file with two current decisions and one undone decision."""
    path = tmp_path / "d.reviews.sqlite"
    with DecisionStore(path) as store:
        file = store.open_annotation_file(DEMO_ANNOTATIONS)
        evidence = Evidence(0.2, True, score=7.5, score_background=1.5, background_share=0.2)
        store.record(file, DecisionRecord("3", "5", "match", "sure", evidence, ("photobomb",)))
        store.record(file, DecisionRecord("1", "2", "notcomp", "guessing", evidence))
        store.record(file, DecisionRecord("3", "4", "match", "unsure", evidence))
        store.undo_last(file)
    return path


def test_csv_export(db, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert main(["decisions", str(db), "--csv", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [(row["aid_a"], row["aid_b"]) for row in rows] == [("3", "5"), ("1", "2")]
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert rows[0]["tags"] == "photobomb"
    assert float(rows[0]["score"]) == 7.5
    assert "2 pairs decided (1 match, 0 no match, 1 can't tell)" in capsys.readouterr().out


def test_csv_to_stdout(db, capsys):
    assert main(["decisions", str(db), "--csv", "-"]) == 0
    out, err = capsys.readouterr()
    assert len(list(csv.DictReader(io.StringIO(out)))) == 2
    assert "pairs decided" in err


def test_json_to_stdout(db, capsys):
    assert main(["decisions", str(db), "--json", "-"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["tags"] == ["photobomb"]
    assert rows[1]["decision"] == "notcomp"
    assert rows[0]["engine_version"]


def test_empty_store_summary(tmp_path, capsys):
    path = tmp_path / "empty.sqlite"
    DecisionStore(path).close()
    assert main(["decisions", str(path)]) == 0
    assert "no decisions" in capsys.readouterr().out


def test_missing_file_creates_nothing(tmp_path, capsys):
    path = tmp_path / "none.sqlite"
    assert main(["decisions", str(path)]) == 2
    assert "not found" in capsys.readouterr().err
    assert not path.exists()


def test_empty_file_left_empty(tmp_path, capsys):
    path = tmp_path / "empty.sqlite"
    path.touch()
    assert main(["decisions", str(path)]) == 2
    assert "is empty" in capsys.readouterr().err
    assert path.stat().st_size == 0


def test_export_writes_nothing_to_store(db, tmp_path):
    before = db.read_bytes()
    assert main(["decisions", str(db), "--csv", str(tmp_path / "out.csv")]) == 0
    assert db.read_bytes() == before


def test_annotation_file_as_store(capsys):
    assert main(["decisions", str(DEMO_ANNOTATIONS)]) == 2
    err = capsys.readouterr().err
    assert "not an SQLite file" in err
    assert "Traceback" not in err


def test_failed_write_keeps_old_csv(db, tmp_path, capsys, monkeypatch):
    import reviewer.commands

    out = tmp_path / "out.csv"
    out.write_text("the previous export\n")

    def fail_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reviewer.commands.os, "replace", fail_replace)
    assert main(["decisions", str(db), "--csv", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.reviews.sqlite", "out.csv"]


def test_csv_gets_usual_mode(db, tmp_path):
    out = tmp_path / "out.csv"
    assert main(["decisions", str(db), "--csv", str(out)]) == 0
    reference = tmp_path / "reference.txt"
    reference.write_text("")
    assert out.stat().st_mode == reference.stat().st_mode


def test_both_outputs_on_stdout_rejected(db, capsys):
    assert main(["decisions", str(db), "--csv", "-", "--json", "-"]) == 2
    assert "both write to stdout" in capsys.readouterr().err


def test_output_folder_missing(db, tmp_path, capsys):
    assert main(["decisions", str(db), "--csv", str(tmp_path / "no" / "x.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_gui_options_reach_run_gui(tmp_path, monkeypatch):
    import reviewer.gui.app

    calls = []
    monkeypatch.setattr(reviewer.gui.app, "run_gui", lambda *args, **kw: calls.append(kw) or 0)
    db = tmp_path / "d.sqlite"
    argv = ["--screenshot", str(tmp_path / "s.png"), "--decisions", str(db), "--reviewer", "ana"]
    assert main(argv) == 0
    assert calls[0]["decisions"] == db
    assert calls[0]["reviewer"] == "ana"
