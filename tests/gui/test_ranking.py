"""Ranking from the main window: the menu action, its dialog, progress, cancel and messages."""

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.errors import ReviewerError
from reviewer.gui.app import build_session
from reviewer.gui.main_window import MainWindow
from reviewer.gui.shortcuts import BY_NAME
from tests.gui.test_rank_runner import RANK_TIMEOUT_MS, BlockingMatcher


class RankOnlyMatcher:
    """Shared matcher for ranking whose pair matching fails at once, so no test waits for it."""

    def __init__(self, matcher):
        self._matcher = matcher

    def __getattr__(self, name):
        return getattr(self._matcher, name)

    def match(self, annot_a, annot_b, progress=None, cancel=None):
        raise ReviewerError("matching is switched off in this test")


class BlockingRankMatcher(BlockingMatcher):
    """Matcher that blocks every ranking until it is cancelled and fails pair matching at once."""

    def match(self, annot_a, annot_b, progress=None, cancel=None):
        raise ReviewerError("matching is switched off in this test")


@pytest.fixture
def open_window(qtbot, shared_matcher):
    """Return a function that opens a window on the demo's named pairs."""

    def open_(matcher=None) -> MainWindow:
        window = MainWindow(
            build_session(DEMO_ANNOTATIONS), matcher or RankOnlyMatcher(shared_matcher)
        )
        qtbot.addWidget(window)
        window.resize(1600, 1000)
        window.show()
        # Select a pair and let its match fail at once, so no match reports during a ranking.
        window.session.index = 0
        qtbot.waitUntil(lambda: window.session.error() is not None)
        return window

    return open_


def _keys(window) -> list[tuple[str, str]]:
    return [pair.key for pair in window.session.pairs]


def _rank_from_menu(qtbot, window, aid: str, top: int) -> None:
    """Trigger the menu action, fill in its dialog, press OK and wait for the ranking."""
    window.actions["rank_candidates"].trigger()
    dialog = window.ranking.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.aid.setText(aid)
    dialog.top.setValue(top)
    with qtbot.waitSignal(window.ranking.ended, timeout=RANK_TIMEOUT_MS):
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()


def test_menu_action_lists_ranked_pairs(qtbot, open_window):
    window = open_window()
    _rank_from_menu(qtbot, window, "5", 2)
    assert _keys(window)[:2] == [("5", "3"), ("5", "4")]
    assert window.pair_list.count() == len(window.session.pairs)
    assert window.pair_list.item(0).text().endswith("rank 1 of 2 for query 5")
    assert window.pair_list.currentRow() == 0
    assert window.pairs_title.text() == f"<b>Pairs ({len(window.session.pairs)})</b>"


def test_ranked_pair_shows_rank_in_flags(qtbot, open_window):
    window = open_window()
    _rank_from_menu(qtbot, window, "5", 2)
    assert window.flags.score_label.text().startswith("rank 1 of 2 for query aid 5")


def test_ranking_keeps_named_pairs_after_ranked(qtbot, open_window):
    window = open_window()
    named = _keys(window)
    _rank_from_menu(qtbot, window, "5", 2)
    keys = _keys(window)
    ranked = {frozenset(key) for key in keys[:2]}
    assert keys[2:] == [key for key in named if frozenset(key) not in ranked]
    assert ("1", "2") in keys[2:]


def test_dialog_defaults_to_chip_a(qtbot, open_window):
    window = open_window()
    window.session.index = [pair.a.aid for pair in window.session.pairs].index(3)
    window.actions["rank_candidates"].trigger()
    assert window.ranking.dialog.aid.text() == "3"
    assert window.ranking.dialog.top.value() == 10


def test_dialog_rejects_unknown_aid(qtbot, open_window):
    window = open_window()
    window.actions["rank_candidates"].trigger()
    dialog = window.ranking.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.aid.setText("999")
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert dialog.isVisible()
    assert "aid '999' is not in" in dialog.error.text()
    assert not window.ranking.busy


def test_dialog_names_skip_reason(qtbot, open_window):
    window = open_window()
    window.session.annots.skipped["77"] = "field 'bbox' has no area"
    window.actions["rank_candidates"].trigger()
    dialog = window.ranking.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.aid.setText("77")
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert dialog.isVisible()
    assert "was skipped" in dialog.error.text()
    assert "has no area" in dialog.error.text()


def test_action_in_review_menu(open_window):
    window = open_window()
    menus = {action.text(): action.menu() for action in window.menuBar().actions()}
    action = window.actions["rank_candidates"]
    assert action in menus["&Review"].actions()
    assert action.shortcut().toString() == BY_NAME["rank_candidates"].keys[0]


def test_cancel_keeps_pairs(qtbot, open_window):
    window = open_window(BlockingRankMatcher())
    before = _keys(window)
    window.start_ranking(5, 10)
    assert window.cancel_button.isEnabled()
    with qtbot.waitSignal(window.ranking.ended, timeout=RANK_TIMEOUT_MS) as blocker:
        window.cancel_button.click()
    assert blocker.args[0] is False
    assert _keys(window) == before
    assert "cancelled" in window.status.text()
    assert window.progress.value() == 0
    assert not window.cancel_button.isEnabled()


def test_unknown_aid_shows_error(qtbot, open_window):
    window = open_window()
    with qtbot.waitSignal(window.ranking.ended, timeout=RANK_TIMEOUT_MS):
        window.start_ranking(999)
    assert "aid 999 is not in" in window.status.text()
    assert window.status.styleSheet() != ""


def test_nothing_verified_says_so(qtbot, open_window, demo_annots):
    # aid 16 is the only annotation of its species, so its catalog has no other chip.
    alone = demo_annots.get(16)
    assert [a.aid for a in demo_annots if a.species == alone.species] == [16]
    window = open_window()
    before = _keys(window)
    with qtbot.waitSignal(window.ranking.ended, timeout=RANK_TIMEOUT_MS):
        window.start_ranking(16)
    assert "No candidates for aid 16" in window.status.text()
    assert "no annotation other than aid 16" in window.status.text()
    assert _keys(window) == before
