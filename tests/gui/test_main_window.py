"""The main window on the demo annotations, driven through its widgets with qtbot."""

import json
import logging
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.cache import DiskCache
from reviewer.engine.pipeline import Matcher
from reviewer.engine.registry import ModelChoice
from reviewer.gui.app import _route_callback_errors, build_session, run_gui
from reviewer.gui.main_window import MainWindow

#: Maximum wait for the heavy path of one pair, in ms. The shared matcher
#: usually has the zebra pair in memory already.
RESULT_TIMEOUT_MS = 180_000


def _row_of(session, aid_a, aid_b) -> int:
    keys = [pair.key for pair in session.pairs]
    return keys.index((str(aid_a), str(aid_b)))


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rows = data.reshape(image.height(), image.bytesPerLine())[:, : 3 * image.width()]
    # Copy, because the buffer belongs to the QImage and dies with it.
    return rows.reshape(image.height(), image.width(), 3).copy()


def _distinct_colours(pixels: np.ndarray) -> int:
    return len(np.unique(pixels.reshape(-1, 3), axis=0))


@pytest.fixture
def open_window(qtbot, shared_matcher):
    """Return a function that opens a 1600x1000 window on an annotation file."""

    def open_(annotations=DEMO_ANNOTATIONS) -> MainWindow:
        window = MainWindow(build_session(annotations), shared_matcher)
        qtbot.addWidget(window)
        window.resize(1600, 1000)
        window.show()
        return window

    return open_


@pytest.fixture
def zebra_window(qtbot, open_window, zebra_match):
    """A window showing aid 3 vs aid 5, with its result arrived."""
    window = open_window()
    window.pair_list.setCurrentRow(_row_of(window.session, 3, 5))
    qtbot.waitUntil(lambda: window.session.result() is not None, timeout=RESULT_TIMEOUT_MS)
    return window


def test_slider_sets_threshold(zebra_window):
    zebra_window.controls.slider.setValue(50)
    assert zebra_window.session.threshold == pytest.approx(0.5)
    assert zebra_window.numbers.text("mask threshold t") == "0.50"


def test_slider_rescores_live(zebra_window, zebra_match):
    # One slider step above the weakest inlier's fgweight cuts at least that inlier.
    w_a, w_b = zebra_match.inlier_weights
    step = int(np.floor(100 * np.minimum(w_a, w_b).min())) + 1
    session = zebra_window.session
    shown_before = zebra_window.numbers.text("score")
    score_before = session.current_score().score
    zebra_window.controls.slider.setValue(step)
    assert session.threshold == pytest.approx(step / 100)
    assert zebra_window.numbers.text("score") != shown_before
    assert session.current_score().score < score_before


def test_weighting_toggle_rescores(zebra_window):
    session = zebra_window.session
    shown_before = zebra_window.numbers.text("score")
    zebra_window.controls.weighting.setChecked(False)
    assert session.fg_weighting is False
    assert zebra_window.numbers.text("score") != shown_before
    assert zebra_window.numbers.text("foreground weighting") == "off (switched off)"


def test_session_change_moves_slider(zebra_window):
    zebra_window.session.threshold = 0.3
    assert zebra_window.controls.slider.value() == 30


def test_views_zoom_together(zebra_window):
    # The views differ in size by a few pixels, and each keeps its aspect
    # ratio, so their ranges agree to within a few percent, not exactly.
    views = zebra_window.views
    (x0, x1), _ = views.chips.viewbox.viewRange()
    views.matches.viewbox.scaleBy((0.5, 0.5))
    (z0, z1), _ = views.matches.viewbox.viewRange()
    assert z1 - z0 < 0.6 * (x1 - x0)
    for view in views.views:
        (v0, v1), _ = view.viewbox.viewRange()
        assert v0 == pytest.approx(z0, abs=0.02 * (z1 - z0))
        assert v1 == pytest.approx(z1, abs=0.02 * (z1 - z0))
    views.fit_button.click()
    (f0, f1), _ = views.chips.viewbox.viewRange()
    assert f1 - f0 > 0.9 * (x1 - x0)


def test_screenshot_is_not_blank(zebra_window):
    pixels = _pixels(zebra_window.grab().toImage())
    assert pixels.shape[:2] == (1000, 1600)
    assert _distinct_colours(pixels) > 5000
    assert pixels.std() > 20


def test_chip_labels_name_model(zebra_window):
    text = zebra_window.header.label_a.text()
    assert "aid 3" in text
    assert "IBEIS_PZ_1281" in text
    assert zebra_window.session.result().a.model.reason in text


def _without_model(match, warning="Foreground weighting is OFF for zebra_plains: unreadable."):
    """``match`` with chip A's background model unusable."""
    choice = ModelChoice("zebra_plains", None, None, "zebra_plains: no usable model", warning)
    no_model = replace(match.a, probchip=None, fgweights=None, model=choice)
    return replace(match, a=no_model)


def test_model_warning_is_visible(zebra_window, zebra_match):
    warning = "Foreground weighting is OFF for zebra_plains: model file unreadable."
    zebra_window.session.set_result(
        zebra_window.session.current.key, _without_model(zebra_match, warning)
    )
    assert zebra_window.header.warning.isVisible()
    assert warning in zebra_window.header.warning.full_text()
    assert zebra_window.numbers.text("score_background") == "n/a (no fgweights)"


def test_long_warning_keeps_one_line(zebra_window, zebra_match):
    detail = ", ".join(f"model file {k} unreadable" for k in range(40))
    warning = f"Foreground weighting is OFF for zebra_plains: {detail}."
    zebra_window.session.set_result(
        zebra_window.session.current.key, _without_model(zebra_match, warning)
    )
    banner = zebra_window.header.warning
    assert "\n" not in banner.text()
    assert banner.text().endswith("…")


def test_numbers_fit_without_model(zebra_window, zebra_match):
    zebra_window.session.set_result(zebra_window.session.current.key, _without_model(zebra_match))
    for name in ("score_foreground", "foreground weighting"):
        label = zebra_window.numbers._values[name]
        assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())


def test_weighting_box_disabled_without_model(zebra_window, zebra_match):
    session = zebra_window.session
    session.set_result(session.current.key, _without_model(zebra_match))
    box = zebra_window.controls.weighting
    assert not box.isEnabled()
    assert not box.isChecked()
    assert "aid 3" in box.toolTip()
    assert session.fg_weighting is True


def test_weighting_box_returns_with_model(zebra_window, zebra_match):
    session = zebra_window.session
    session.set_result(session.current.key, _without_model(zebra_match))
    session.set_result(session.current.key, zebra_match)
    box = zebra_window.controls.weighting
    assert box.isEnabled()
    assert box.isChecked()


def test_weighting_off_kept_while_disabled(zebra_window, zebra_match):
    session = zebra_window.session
    zebra_window.controls.weighting.setChecked(False)
    session.set_result(session.current.key, _without_model(zebra_match))
    session.set_result(session.current.key, zebra_match)
    assert session.fg_weighting is False
    assert not zebra_window.controls.weighting.isChecked()


def test_missing_image_shows_error(qtbot, open_window, tmp_path, zebra_match):
    # A copy of the demo file with absolute image paths, one of them missing.
    data = json.loads(DEMO_ANNOTATIONS.read_text(encoding="utf-8"))
    for image in data["images"]:
        image["file_name"] = str(DEMO_ANNOTATIONS.parent / image["file_name"])
    data["images"][0]["file_name"] = str(tmp_path / "missing.jpg")  # the photo of aid 1
    broken = tmp_path / "broken.coco.json"
    broken.write_text(json.dumps(data), encoding="utf-8")

    window = open_window(broken)
    session = window.session
    window.pair_list.setCurrentRow(_row_of(session, 1, 2))
    qtbot.waitUntil(lambda: session.error() is not None, timeout=RESULT_TIMEOUT_MS)
    assert window.error.isVisible()
    assert "missing.jpg" in window.error.text()

    # Another pair of the same window still works.
    window.pair_list.setCurrentRow(_row_of(session, 3, 5))
    qtbot.waitUntil(lambda: session.result() is not None, timeout=RESULT_TIMEOUT_MS)
    assert not window.error.isVisible()
    assert window.numbers.text("score") != "–"


def test_cancel_stops_matching(qtbot, tmp_path):
    # A matcher with an empty cache, so the job is still running when cancelled.
    matcher = Matcher(cache=DiskCache(tmp_path / "cache"))
    window = MainWindow(build_session(DEMO_ANNOTATIONS), matcher)
    qtbot.addWidget(window)
    window.show()
    window.pair_list.setCurrentRow(_row_of(window.session, 1, 2))
    assert window.cancel_button.isEnabled()
    window.cancel_button.click()
    qtbot.waitUntil(lambda: "cancelled" in window.status.text(), timeout=RESULT_TIMEOUT_MS)
    assert window.session.result() is None
    assert window.session.error() is None
    assert window.match_button.isEnabled()


def test_run_gui_screenshot(qapp, tmp_path, shared_matcher, zebra_match):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("aid_a,aid_b\n3,5\n", encoding="utf-8")
    shot = tmp_path / "shot.png"
    code = run_gui(DEMO_ANNOTATIONS, pairs, screenshot=shot, matcher=shared_matcher)
    assert code == 0
    image = QImage(str(shot))
    assert image.width() == 1600
    assert _distinct_colours(_pixels(image)) > 5000


def test_run_gui_screenshot_as_jpeg(qapp, tmp_path, shared_matcher, zebra_match):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("aid_a,aid_b\n3,5\n", encoding="utf-8")
    shot = tmp_path / "shot.jpg"
    assert run_gui(DEMO_ANNOTATIONS, pairs, screenshot=shot, matcher=shared_matcher) == 0
    assert shot.read_bytes()[:3] == b"\xff\xd8\xff"


def test_run_gui_screenshot_unknown_suffix(qapp, tmp_path, shared_matcher, capsys):
    code = run_gui(DEMO_ANNOTATIONS, screenshot=tmp_path / "shot.tif", matcher=shared_matcher)
    assert code == 1
    assert "must end in .png, .jpg or .bmp" in capsys.readouterr().err


def test_run_gui_logs_qt_messages(qapp, tmp_path, shared_matcher, zebra_match, caplog):
    # Offscreen, Qt warns about size hints for each window it shows.
    caplog.set_level(logging.DEBUG, logger="reviewer.qt")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("aid_a,aid_b\n3,5\n", encoding="utf-8")
    run_gui(DEMO_ANNOTATIONS, pairs, screenshot=tmp_path / "shot.png", matcher=shared_matcher)
    qt_records = [record for record in caplog.records if record.name == "reviewer.qt"]
    assert qt_records
    assert all(record.levelno == logging.DEBUG for record in qt_records)


def test_run_gui_bad_annotations(qapp, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code = run_gui(bad, screenshot=tmp_path / "shot.png")
    assert code == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_bad_annotations_reported_once(qapp, tmp_path, capsys, caplog):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    run_gui(bad, screenshot=tmp_path / "shot.png")
    assert capsys.readouterr().err.count("not valid JSON") == 1
    assert not [record for record in caplog.records if "not valid JSON" in record.getMessage()]


def test_callback_error_shows_in_window(zebra_window, qtbot, caplog):
    def fail() -> None:
        raise RuntimeError("boom")

    restore = _route_callback_errors(zebra_window)
    try:
        QTimer.singleShot(0, fail)
        qtbot.waitUntil(lambda: "RuntimeError: boom" in zebra_window.status.text())
    finally:
        restore()
    assert "Unexpected error in a window callback" in caplog.text
    assert "Traceback" not in zebra_window.status.text()
