"""Opening a query's best candidates as pairs to review."""

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.errors import ReviewerError
from reviewer.gui.app import build_session, run_gui


def test_session_lists_query_candidates_in_rank_order(shared_matcher):
    session = build_session(DEMO_ANNOTATIONS, query=5, top=2, matcher=shared_matcher)
    assert [p.key for p in session.pairs][0] == ("5", "3")
    assert [p.rank for p in session.pairs] == [1, 2]
    assert all(p.query_aid == 5 for p in session.pairs)


def test_session_with_query_leaves_out_named_pairs(shared_matcher):
    session = build_session(DEMO_ANNOTATIONS, query=5, top=10, matcher=shared_matcher)
    assert all(p.a.aid == 5 for p in session.pairs)


def test_session_csv_pairs_follow_the_ranking(tmp_path, shared_matcher):
    csv = tmp_path / "pairs.csv"
    csv.write_text("aid_a,aid_b\n1,2\n")
    session = build_session(DEMO_ANNOTATIONS, csv, query=5, top=1, matcher=shared_matcher)
    assert [p.key for p in session.pairs] == [("5", "3"), ("1", "2")]


def test_session_unknown_query(shared_matcher):
    with pytest.raises(ReviewerError, match="aid 999 is not in"):
        build_session(DEMO_ANNOTATIONS, query=999, matcher=shared_matcher)


def test_run_gui_unknown_query(qapp, tmp_path, capsys, shared_matcher):
    code = run_gui(
        DEMO_ANNOTATIONS, screenshot=tmp_path / "shot.png", matcher=shared_matcher, query=999
    )
    assert code == 2
    assert "aid 999 is not in" in capsys.readouterr().err
