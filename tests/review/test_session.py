"""The review session headless: selection, decisions, undo, resume and events."""

import pytest

from reviewer.engine.errors import ReviewerError
from reviewer.review.decisions import DecisionStore
from reviewer.review.pairs import named_pairs
from reviewer.review.session import ReviewSession


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "d.reviews.sqlite"


@pytest.fixture
def open_session(demo_annots, store_path):
    """Return a function that opens a session of the demo pairs on one decision file."""
    stores = []

    def open_(reviewer="ana") -> ReviewSession:
        stores.append(DecisionStore(store_path))
        return ReviewSession(
            demo_annots, named_pairs(demo_annots), store=stores[-1], reviewer=reviewer
        )

    yield open_
    for store in stores:
        store.close()


def test_decide_records_selected_pair(open_session):
    session = open_session()
    session.index = 2
    record = session.decide("match", "sure", ("photobomb",), " same stripes ")
    assert record.key == ("3", "5")
    assert record.note == "same stripes"
    assert record.reviewer == "ana"
    assert session.decision().decision == "match"
    assert session.num_decided == 1


def test_decide_emits_event(open_session):
    session = open_session()
    session.index = 0
    seen = []
    session.events.decision.connect(seen.append)
    session.decide("nomatch", "unsure")
    assert seen == [("1", "2")]


def test_decide_without_selection(open_session):
    with pytest.raises(ReviewerError, match="Select a pair"):
        open_session().decide("match", "sure")


def test_decide_without_store(demo_annots):
    session = ReviewSession(demo_annots, named_pairs(demo_annots))
    session.index = 0
    assert session.can_decide is False
    with pytest.raises(ReviewerError, match="No decision file"):
        session.decide("match", "sure")
    assert session.undo() is None


def test_evidence_from_result(open_session, zebra_match):
    session = open_session()
    session.index = 2
    session.threshold = 0.4
    session.set_result(session.current.key, zebra_match)
    evidence = session.decide("match", "doubtless").evidence
    score = session.current_score()
    assert evidence.threshold == 0.4
    assert evidence.score == score.score
    assert evidence.score_background == score.score_background
    assert evidence.background_share == score.background_share
    assert evidence.model_a == zebra_match.a.model.model_name
    assert evidence.model_reason_b.startswith(zebra_match.b.model.reason)
    assert '"ratio_thresh"' in evidence.config


def test_evidence_before_result(open_session):
    session = open_session()
    session.index = 1
    evidence = session.decide("notcomp", "guessing").evidence
    assert evidence.score is None
    assert evidence.model_a is None


def test_undo_selects_and_reopens_pair(open_session):
    session = open_session()
    session.index = 1
    session.decide("match", "sure")
    session.index = 3
    undone = session.undo()
    assert undone.key == ("3", "4")
    assert session.index == 1
    assert session.decision() is None


def test_undo_restores_earlier_decision(open_session):
    session = open_session()
    session.index = 0
    session.decide("match", "sure")
    session.decide("nomatch", "sure")
    session.undo()
    assert session.decision().decision == "match"


def test_next_undecided_wraps(open_session):
    session = open_session()
    session.index = 3
    session.decide("match", "sure")
    session.index = 0
    session.decide("match", "sure")
    assert session.next_undecided() == 1
    assert session.next_undecided(start=1) == 2
    assert session.next_undecided(start=2) == 1


def test_next_undecided_when_all_decided(open_session):
    session = open_session()
    for index in range(len(session.pairs)):
        session.index = index
        session.decide("nomatch", "sure")
    assert session.next_undecided() == -1


def test_step_stops_at_ends(open_session):
    session = open_session()
    session.index = 0
    session.step(-1)
    assert session.index == 0
    session.step(10)
    assert session.index == len(session.pairs) - 1


def test_resume_at_last_selection(open_session):
    first = open_session()
    first.index = 2
    first.decide("match", "sure")
    second = open_session()
    assert second.resume_index() == 2
    assert second.decision(2).decision == "match"


def test_resume_at_first_open_pair(open_session, store_path):
    session = open_session()
    session.index = 0
    session.decide("match", "sure")
    with DecisionStore(store_path) as store:  # forget the selection, keep the decision
        store._conn.execute("UPDATE annotation_files SET last_aid_a = NULL, last_aid_b = NULL")
    assert open_session().resume_index() == 1


def test_resume_without_store(demo_annots):
    assert ReviewSession(demo_annots, named_pairs(demo_annots)).resume_index() == 0


def test_resume_without_pairs(demo_annots):
    assert ReviewSession(demo_annots, []).resume_index() == -1
