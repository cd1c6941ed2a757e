"""ReviewSession.show_ranking headless: list order, replacement, decisions kept, events."""

import pytest

from reviewer.review.decisions import DecisionStore
from reviewer.review.pairs import named_pairs
from reviewer.review.session import ReviewSession


@pytest.fixture
def session(demo_annots):
    """A session of the demo's named pairs, without a decision file."""
    return ReviewSession(demo_annots, named_pairs(demo_annots))


def _rank(session, query, candidates, top=10, warnings=()):
    annots = session.annots
    return session.show_ranking(
        annots.get(query), [annots.get(aid) for aid in candidates], top, warnings
    )


def test_ranked_pairs_come_first(session):
    _rank(session, 5, [3, 4, 26])
    assert [p.key for p in session.pairs[:3]] == [("5", "3"), ("5", "4"), ("5", "26")]
    assert [p.rank for p in session.pairs[:3]] == [1, 2, 3]


def test_top_limits_listed_candidates(session):
    ranked = _rank(session, 5, [3, 4, 26], top=2)
    assert [p.key for p in ranked] == [("5", "3"), ("5", "4")]
    assert ranked[0].num_ranked == 2


def test_other_pairs_follow_without_repeats(session, demo_annots):
    named_keys = {frozenset(p.key) for p in named_pairs(demo_annots)}
    _rank(session, 5, [3])
    following = session.pairs[1:]
    assert {frozenset(p.key) for p in following} == named_keys - {frozenset(("3", "5"))}
    assert all(p.source == "named" for p in following)


def test_new_ranking_replaces_earlier_one(session):
    _rank(session, 5, [3, 4])
    _rank(session, 3, [4])
    ranked = [p for p in session.pairs if p.source == "rank"]
    assert [p.key for p in ranked] == [("3", "4")]


def test_named_pair_of_earlier_ranking_comes_back(session):
    # The first ranking lists 5-3 in place of the named pair 3-5; the second one does not.
    _rank(session, 5, [3])
    _rank(session, 3, [4])
    assert ("3", "5") in [p.key for p in session.pairs]


def test_ranking_selects_rank_one(session):
    session.index = 3
    _rank(session, 5, [3, 4])
    assert session.index == 0
    assert session.current.rank == 1


def test_events_fire_pairs_then_selection(session):
    seen = []
    session.events.pairs.connect(lambda: seen.append(("pairs", session.index)))
    session.events.selection.connect(lambda index: seen.append(("selection", index)))
    _rank(session, 5, [3])
    assert seen == [("pairs", -1), ("selection", 0)]


def test_ranking_keeps_decisions(demo_annots, tmp_path):
    store = DecisionStore(tmp_path / "d.reviews.sqlite")
    try:
        session = ReviewSession(demo_annots, named_pairs(demo_annots), store=store, reviewer="ana")
        session.index = [p.key for p in session.pairs].index(("3", "5"))
        session.decide("match", "sure")
        _rank(session, 5, [3, 4])
        assert session.decision(0).decision == "match"
        assert session.decision(1) is None
    finally:
        store.close()


def test_ranking_keeps_results(session):
    match = object()  # the session stores a result without reading it
    session.set_result(("3", "5"), match)
    _rank(session, 5, [3])
    assert session.result(("3", "5")) is match


def test_no_candidates_leaves_other_pairs(session):
    before = [p.key for p in session.pairs]
    ranked = _rank(session, 5, [])
    assert ranked == []
    assert [p.key for p in session.pairs] == before


def test_empty_list_selects_nothing(demo_annots):
    session = ReviewSession(demo_annots, [])
    seen = []
    session.events.selection.connect(seen.append)
    _rank(session, 5, [])
    assert session.index == -1
    assert seen == [-1]


def test_warnings_added_once(session):
    _rank(session, 5, [3], warnings=["aid 7 left out: photo not found"])
    _rank(session, 5, [3], warnings=["aid 7 left out: photo not found"])
    assert session.problems.count("aid 7 left out: photo not found") == 1


def test_top_below_one(session):
    with pytest.raises(ValueError, match="top must be at least 1"):
        _rank(session, 5, [3], top=0)


def test_ranked_pairs_name_query(session):
    ranked = _rank(session, 5, [3, 4])
    assert [p.query_aid for p in ranked] == [5, 5]
    assert session.pairs[:2] == ranked
