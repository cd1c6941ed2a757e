"""The main window driven by the keyboard alone: decisions, navigation, undo, toggles, help."""

from collections import Counter

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.errors import ReviewerError
from reviewer.gui.app import build_session
from reviewer.gui.main_window import MainWindow
from reviewer.gui.settings import WindowSettings
from reviewer.gui.shortcuts import BY_NAME, SHORTCUTS, ShortcutsDialog

#: Maximum wait for the heavy path of one pair, in ms.
RESULT_TIMEOUT_MS = 180_000


class NoMatcher:
    """A matcher that fails at once, so these tests never wait for the heavy path."""

    def match(self, annot_a, annot_b, progress=None, cancel=None):
        raise ReviewerError("matching is switched off in this test")


def _key(name: str) -> QKeySequence:
    return QKeySequence(BY_NAME[name].keys[0])


@pytest.fixture
def open_window(qtbot, tmp_path):
    """Return a function that opens an active demo window with a private store and settings."""
    settings = WindowSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    windows = []

    def open_(matcher=None) -> MainWindow:
        session = build_session(DEMO_ANNOTATIONS, decisions=tmp_path / "d.sqlite", reviewer="ana")
        window = MainWindow(session, matcher or NoMatcher(), settings=settings)
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        session.index = session.resume_index()
        windows.append(window)
        return window

    yield open_
    for window in windows:
        if window.session.store is not None:
            window.session.store.close()


def _press(qtbot, window, name: str) -> None:
    """Press the first key of a shortcut where the focus is."""
    qtbot.keySequence(window.focusWidget() or window, _key(name))


def test_review_all_pairs_then_reopen(qtbot, open_window):
    window = open_window()
    steps = [
        ((), "decide_match"),
        (("confidence_unsure",), "decide_nomatch"),
        (("tag_photobomb",), "decide_notcomp"),
        (("confidence_doubtless", "tag_scenerymatch"), "decide_match"),
    ]
    for before, decision in steps:
        for name in before:
            _press(qtbot, window, name)
        _press(qtbot, window, decision)
    assert window.session.num_decided == 4
    window.close()

    reopened = open_window()
    session = reopened.session
    records = [session.decision(index) for index in range(4)]
    assert [r.decision for r in records] == ["match", "nomatch", "notcomp", "match"]
    assert [r.confidence for r in records] == ["sure", "unsure", "unsure", "doubtless"]
    assert records[2].tags == ("photobomb",)
    assert records[3].tags == ("scenerymatch",)
    assert records[0].reviewer == "ana"
    assert reopened.pair_list.item(1).text().startswith("[no match]")
    assert reopened.decision_panel.progress.text() == "4 of 4 pairs decided"


def test_decision_selects_next_open_pair(qtbot, open_window):
    window = open_window()
    window.session.index = 2
    _press(qtbot, window, "decide_match")
    assert window.session.index == 3
    _press(qtbot, window, "decide_match")
    assert window.session.index == 0


def test_pair_list_shows_open_pairs(open_window):
    window = open_window()
    assert window.pair_list.item(0).text().startswith("[open]")


def test_undo_key_reopens_pair(qtbot, open_window):
    window = open_window()
    _press(qtbot, window, "decide_nomatch")
    _press(qtbot, window, "undo")
    assert window.session.index == 0
    assert window.session.decision() is None
    assert window.pair_list.item(0).text().startswith("[open]")


def test_next_and_previous_keys(qtbot, open_window):
    window = open_window()
    window.session.index = 1
    _press(qtbot, window, "next_pair")
    assert window.session.index == 2
    _press(qtbot, window, "previous_pair")
    assert window.session.index == 1


def test_next_undecided_key_skips_decided(qtbot, open_window):
    window = open_window()
    window.session.index = 1
    window.session.decide("match", "sure")
    window.session.index = 0
    _press(qtbot, window, "next_undecided")
    assert window.session.index == 2


def test_second_keys_navigate(qtbot, open_window):
    window = open_window()
    qtbot.keySequence(window.focusWidget(), QKeySequence(BY_NAME["next_pair"].keys[1]))
    assert window.session.index == 1
    qtbot.keySequence(window.focusWidget(), QKeySequence(BY_NAME["previous_pair"].keys[1]))
    assert window.session.index == 0


def test_text_field_keeps_letters(qtbot, open_window):
    window = open_window()
    _press(qtbot, window, "edit_note")
    note = window.decision_panel.note
    assert note.hasFocus()
    qtbot.keyClicks(note, "mn")
    assert note.text() == "mn"
    assert window.session.num_decided == 0
    qtbot.keyClick(note, Qt.Key.Key_Escape)
    assert not note.hasFocus()
    _press(qtbot, window, "decide_match")
    assert window.session.decision(0).note == "mn"


def test_return_leaves_text_field(qtbot, open_window):
    window = open_window()
    _press(qtbot, window, "edit_tags")
    qtbot.keyClicks(window.decision_panel.other_tags, "fence")
    qtbot.keyClick(window.decision_panel.other_tags, Qt.Key.Key_Return)
    _press(qtbot, window, "decide_nomatch")
    assert window.session.decision(0).tags == ("fence",)


def test_layer_toggle_keys(qtbot, open_window):
    window = open_window()
    for name, action in window.views.layers.actions.items():
        before = action.isChecked()
        _press(qtbot, window, name)
        assert action.isChecked() != before, name


def test_view_keys(qtbot, open_window):
    window = open_window()
    mode = window.views.masks.mode
    mode_before = mode.currentIndex()
    _press(qtbot, window, "toggle_mask_mode")
    assert mode.currentIndex() != mode_before
    _press(qtbot, window, "toggle_weighting")
    assert window.session.fg_weighting is False
    _press(qtbot, window, "threshold_up")
    assert window.session.threshold == pytest.approx(0.05)
    _press(qtbot, window, "threshold_down")
    _press(qtbot, window, "threshold_down")
    assert window.session.threshold == 0.0


def test_every_shortcut_has_an_action(open_window):
    window = open_window()
    assert set(window.actions) == {shortcut.name for shortcut in SHORTCUTS}


def test_no_key_is_bound_twice(open_window):
    window = open_window()
    keys = Counter(
        key.toString() for action in window.findChildren(QAction) for key in action.shortcuts()
    )
    assert [key for key, count in keys.items() if count > 1] == []


def test_shortcuts_dialog_lists_table(qtbot):
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == len(SHORTCUTS)
    assert dialog.table.item(0, 0).text() == SHORTCUTS[0].keys[0]
    assert dialog.table.item(len(SHORTCUTS) - 1, 1).text() == SHORTCUTS[-1].description


def test_help_menu_lists_shortcuts(open_window):
    window = open_window()
    menus = {action.text().replace("&", ""): action.menu() for action in window.menuBar().actions()}
    assert window.actions["show_shortcuts"] in menus["Help"].actions()


def test_panel_disabled_without_store(qtbot):
    window = MainWindow(build_session(DEMO_ANNOTATIONS), NoMatcher())
    qtbot.addWidget(window)
    window.session.index = 0
    window.actions["decide_match"].trigger()
    assert window.decision_panel.buttons["match"].isEnabled() is False
    assert window.session.num_decided == 0


def test_decision_keeps_evidence(qtbot, open_window, shared_matcher, zebra_match):
    window = open_window(shared_matcher)
    window.session.index = 2  # aid 3 vs aid 5
    qtbot.waitUntil(lambda: window.session.result() is not None, timeout=RESULT_TIMEOUT_MS)
    window.controls.slider.setValue(30)
    score = window.session.current_score()
    _press(qtbot, window, "decide_match")
    evidence = window.session.decision(2).evidence
    assert evidence.threshold == pytest.approx(0.3)
    assert evidence.score == pytest.approx(score.score)
    assert evidence.score_foreground == pytest.approx(score.score_foreground)
    assert evidence.model_a == zebra_match.a.model.model_name


def test_ctrl_q_closes_window(qtbot, open_window):
    window = open_window()
    qtbot.keySequence(window.focusWidget() or window, QKeySequence("Ctrl+Q"))
    qtbot.waitUntil(lambda: not window.isVisible())
    assert window.quit_action in window.findChildren(QAction)


def test_rerun_button_not_named_as_decision(open_window):
    window = open_window()
    decision_texts = {BY_NAME[f"decide_{d}"].text for d in ("match", "nomatch", "notcomp")}
    assert window.match_button.text() not in decision_texts
