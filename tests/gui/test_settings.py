"""What the window remembers between runs, in a private settings file."""

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QWidget

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.errors import ReviewerError
from reviewer.gui import app
from reviewer.gui.app import build_session
from reviewer.gui.main_window import MainWindow
from reviewer.gui.settings import WindowSettings


class NoMatcher:
    """A matcher that fails at once, so these tests never wait for the heavy path."""

    def match(self, annot_a, annot_b, progress=None, cancel=None):
        raise ReviewerError("matching is switched off in this test")


@pytest.fixture
def settings(tmp_path):
    return WindowSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def open_window(qtbot, settings):
    def open_() -> MainWindow:
        window = MainWindow(build_session(DEMO_ANNOTATIONS), NoMatcher(), settings=settings)
        qtbot.addWidget(window)
        window.show()
        return window

    return open_


def test_scoring_and_toggles_restored(open_window):
    window = open_window()
    window.controls.slider.setValue(35)
    window.controls.weighting.click()
    window.views.layers["toggle_heatmap"].toggle()
    window.views.masks.mode.setCurrentIndex(1)
    window.decision_panel.set_confidence("guessing")
    heatmap_on = window.views.layers["toggle_heatmap"].isChecked()
    window.close()

    reopened = open_window()
    assert reopened.session.threshold == pytest.approx(0.35)
    assert reopened.session.fg_weighting is False
    assert reopened.views.layers["toggle_heatmap"].isChecked() == heatmap_on
    assert reopened.views.masks.mode.currentIndex() == 1
    assert reopened.decision_panel.confidence() == "guessing"


def _plain_window(qtbot) -> QMainWindow:
    """A small window with a two-pane splitter; it fits the offscreen screen, unlike MainWindow."""
    window = QMainWindow()
    window.splitter = QSplitter()
    window.splitter.addWidget(QWidget())
    window.splitter.addWidget(QWidget())
    window.setCentralWidget(window.splitter)
    qtbot.addWidget(window)
    window.show()
    return window


def test_window_layout_restored(qtbot, settings):
    window = _plain_window(qtbot)
    window.resize(600, 400)
    window.splitter.setSizes([150, 450])
    sizes = window.splitter.sizes()
    settings.save_window(window, window.splitter)

    reopened = _plain_window(qtbot)
    assert settings.restore_window(reopened, reopened.splitter) is True
    assert reopened.size().width() == 600
    assert reopened.size().height() == 400
    assert reopened.splitter.sizes() == sizes


def test_main_window_saves_layout(open_window, settings):
    open_window().close()
    assert settings.qsettings.value("window/geometry") is not None


def test_nothing_stored(settings, open_window):
    window = open_window()
    assert settings.restore_window(window, window.splitter) is False
    assert settings.threshold() is None
    assert settings.last_file() is None


def test_invalid_threshold_ignored(settings):
    settings.qsettings.setValue("scoring/threshold", "3.5")
    assert settings.threshold() is None


def test_last_file_round_trip(settings, tmp_path):
    path = tmp_path / "a.json"
    path.write_text("{}")
    settings.set_last_file(path)
    assert settings.last_file() == path.resolve()
    path.unlink()
    assert settings.last_file() is None


def test_gui_opens_last_file(settings, tmp_path):
    path = tmp_path / "a.json"
    path.write_text("{}")
    settings.set_last_file(path)
    assert app._annotations_to_open(None, settings) == path.resolve()


def test_gui_opens_demo_first(settings):
    assert app._annotations_to_open(None, settings) == DEMO_ANNOTATIONS


def test_screenshot_creates_no_decision_file(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEWER_DATA_DIR", str(tmp_path))
    assert app._decisions_to_open(DEMO_ANNOTATIONS, None, screenshot=True) is None
    assert app._decisions_to_open(DEMO_ANNOTATIONS, None, screenshot=False).parent == tmp_path
