"""RankRunner: rank_aid in a worker thread, with progress, cancel and user-facing errors."""

import pytest

from reviewer.engine.errors import Cancelled, ReviewerError
from reviewer.gui.rank_runner import RankRequest, RankRunner

#: Maximum wait for one ranking of the demo, in ms. A cold cache computes 8 annotations.
RANK_TIMEOUT_MS = 300_000
#: How long the blocking matcher waits for the cancel before it reports a failure, in s.
CANCEL_WAIT_S = 60


class BlockingMatcher:
    """Blocks in ``annot_result`` until the job is cancelled, so a cancel always arrives in time."""

    def annot_result(self, annot, progress=None, cancel=None):
        if cancel.wait(CANCEL_WAIT_S):
            raise Cancelled(f"aid {annot.aid}")
        raise ReviewerError(f"the ranking was not cancelled within {CANCEL_WAIT_S} s")


@pytest.fixture
def open_runner():
    """Return a function that makes a RankRunner on a matcher, shut down after the test."""
    runners = []

    def open_(matcher) -> RankRunner:
        runners.append(RankRunner(matcher))
        return runners[-1]

    yield open_
    for runner in runners:
        runner.shutdown()


def test_demo_query_ranks_same_zebra_first(qtbot, open_runner, shared_matcher, demo_annots):
    runner = open_runner(shared_matcher)
    progress = []
    runner.progress.connect(lambda fraction, message: progress.append(fraction))
    request = RankRequest(5, top=3)
    with qtbot.waitSignal(runner.finished, timeout=RANK_TIMEOUT_MS) as blocker:
        runner.start(demo_annots, request)
        assert runner.busy
    finished_request, result = blocker.args
    name_scores = [candidate.name_score for candidate in result.candidates]
    assert finished_request is request
    assert result.candidates[0].annot.aid == 3
    assert name_scores == sorted(name_scores, reverse=True)
    assert all(not candidate.same_image for candidate in result.candidates)
    assert progress[-1] == 1.0
    assert not runner.busy


def test_unknown_aid_fails_with_message(qtbot, open_runner, shared_matcher, demo_annots):
    runner = open_runner(shared_matcher)
    with qtbot.waitSignal(runner.failed, timeout=RANK_TIMEOUT_MS) as blocker:
        runner.start(demo_annots, RankRequest(999))
    request, message = blocker.args
    assert request.query == 999
    assert "aid 999 is not in" in message
    assert "Traceback" not in message


def test_cancel_reports_cancelled(qtbot, open_runner, demo_annots):
    runner = open_runner(BlockingMatcher())
    with qtbot.waitSignal(runner.cancelled, timeout=RANK_TIMEOUT_MS) as blocker:
        runner.start(demo_annots, RankRequest(5))
        runner.cancel()
    assert blocker.args[0].query == 5
    assert not runner.busy


def test_new_start_cancels_current(qtbot, open_runner, demo_annots):
    runner = open_runner(BlockingMatcher())
    cancelled = []
    runner.cancelled.connect(cancelled.append)
    runner.start(demo_annots, RankRequest(5))
    with qtbot.waitSignal(runner.cancelled, timeout=RANK_TIMEOUT_MS) as blocker:
        runner.start(demo_annots, RankRequest(3))
        runner.cancel()
    # The first job was cancelled by the second start, but only the current job reports.
    assert blocker.args[0].query == 3
    assert [request.query for request in cancelled] == [3]


def test_request_top_below_one():
    with pytest.raises(ValueError, match="top must be at least 1"):
        RankRequest(5, top=0)
