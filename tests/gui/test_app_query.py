"""``reviewer --query``: the window opens first, then ranks the query in its worker."""

import json

import pytest

import reviewer.gui.app as app
from reviewer import DEMO_ANNOTATIONS
from reviewer.gui.app import build_session, run_gui
from reviewer.review.pairs import named_pairs


@pytest.fixture
def screenshot_state(monkeypatch):
    """Record the pair keys and the selected pair's result at the moment of the screenshot."""
    state = {}
    save = app._save_screenshot

    def record_then_save(window, path):
        state["keys"] = [pair.key for pair in window.session.pairs]
        state["index"] = window.session.index
        state["has_result"] = window.session.result() is not None
        return save(window, path)

    monkeypatch.setattr(app, "_save_screenshot", record_then_save)
    return state


def test_session_without_named_pairs(tmp_path):
    csv = tmp_path / "pairs.csv"
    csv.write_text("aid_a,aid_b\n1,2\n3,5\n")
    session = build_session(DEMO_ANNOTATIONS, csv, include_named=False)
    assert [p.key for p in session.pairs] == [("1", "2"), ("3", "5")]


def test_session_lists_named_pairs_by_default(demo_annots):
    session = build_session(DEMO_ANNOTATIONS)
    assert [p.key for p in session.pairs] == [p.key for p in named_pairs(demo_annots)]


def test_screenshot_waits_for_ranking(qapp, tmp_path, shared_matcher, screenshot_state):
    shot = tmp_path / "shot.png"
    code = run_gui(DEMO_ANNOTATIONS, screenshot=shot, matcher=shared_matcher, query=5, top=2)
    assert code == 0
    assert shot.is_file()
    assert screenshot_state["keys"] == [("5", "3"), ("5", "4")]
    assert screenshot_state["index"] == 0
    assert screenshot_state["has_result"]


def test_csv_pairs_follow_the_ranking(qapp, tmp_path, shared_matcher, screenshot_state):
    csv = tmp_path / "pairs.csv"
    csv.write_text("aid_a,aid_b\n1,2\n")
    code = run_gui(
        DEMO_ANNOTATIONS,
        csv,
        screenshot=tmp_path / "shot.png",
        matcher=shared_matcher,
        query=5,
        top=1,
    )
    assert code == 0
    assert screenshot_state["keys"] == [("5", "3"), ("1", "2")]


def test_run_gui_unknown_query(qapp, tmp_path, capsys, shared_matcher):
    code = run_gui(
        DEMO_ANNOTATIONS, screenshot=tmp_path / "shot.png", matcher=shared_matcher, query=999
    )
    assert code == 2
    assert "aid 999 is not in" in capsys.readouterr().err
    assert not (tmp_path / "shot.png").exists()


def test_failed_ranking_exits_2(qapp, tmp_path, capsys, shared_matcher):
    # A copy of the demo file with absolute image paths, the query's photo missing.
    data = json.loads(DEMO_ANNOTATIONS.read_text(encoding="utf-8"))
    query = next(annot for annot in data["annotations"] if annot["id"] == 5)
    for image in data["images"]:
        image["file_name"] = str(DEMO_ANNOTATIONS.parent / image["file_name"])
        if image["id"] == query["image_id"]:
            image["file_name"] = str(tmp_path / "missing.jpg")
    broken = tmp_path / "broken.coco.json"
    broken.write_text(json.dumps(data), encoding="utf-8")

    code = run_gui(broken, screenshot=tmp_path / "shot.png", matcher=shared_matcher, query=5)
    err = capsys.readouterr().err
    assert code == 2
    assert "Ranking aid 5 failed" in err
    assert "missing.jpg" in err
    assert not (tmp_path / "shot.png").exists()
