"""The mask view (b): threshold and 0.5 iso-lines, overlay mode, chips without a model.

The window gets the zebra pair's result straight from the shared fixture, so
no test waits for the worker thread.
"""

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtGui import QImage

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.registry import ModelChoice
from reviewer.gui.app import build_session
from reviewer.gui.main_window import MainWindow
from reviewer.gui.mask_view import (
    MAP_MODE,
    NO_MODEL_TEXT,
    NO_PROBCHIP_CAPTION,
    OVERLAY_MODE,
    SPLIT_LEVEL,
)
from reviewer.render.masks import ContourCache, background_tint, iso_contours

NO_MODEL_WARNING = "Foreground weighting is OFF for zebra_plains: model file unreadable."


def _open_with(qtbot, shared_matcher, match) -> MainWindow:
    """Open a window whose session already contains ``match`` and select its pair."""
    session = build_session(DEMO_ANNOTATIONS)
    key = (match.a.annot.key, match.b.annot.key)
    session.set_result(key, match)
    window = MainWindow(session, shared_matcher)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    session.index = [pair.key for pair in session.pairs].index(key)
    return window


@pytest.fixture
def window(qtbot, shared_matcher, zebra_match):
    """A window showing aid 3 vs aid 5."""
    return _open_with(qtbot, shared_matcher, zebra_match)


@pytest.fixture
def no_model_match(zebra_match):
    """aid 3 vs aid 5 with chip B's background model unusable."""
    reason = "zebra_plains: no usable model"
    choice = ModelChoice("zebra_plains", None, None, reason, NO_MODEL_WARNING)
    b = replace(zebra_match.b, probchip=None, fgweights=None, model=choice)
    return replace(zebra_match, b=b)


def _values_at(probchip: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Probchip values of the pixels whose centres are the polygon's vertices."""
    cols, rows = np.floor(polygon - 0.5).astype(int).T
    return probchip[rows, cols]


def _grab(view) -> np.ndarray:
    image = view.graphics.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rows = data.reshape(image.height(), image.bytesPerLine())[:, : 3 * image.width()]
    return rows.reshape(image.height(), image.width(), 3).copy()


def _coloured_fraction(pixels: np.ndarray) -> float:
    """Fraction of pixels whose channels differ by more than 10 levels."""
    spread = pixels.max(axis=2).astype(int) - pixels.min(axis=2).astype(int)
    return float(np.mean(spread > 10))


# Threshold line ---------------------------------------------------------------------------


def test_slider_sets_contour_level(window):
    window.controls.slider.setValue(60)
    assert window.views.masks.threshold_contours.level == pytest.approx(0.6)


def test_threshold_moves_contour(window, zebra_match):
    masks, session = window.views.masks, window.session
    session.threshold = 0.3
    low_a, _ = masks.threshold_contours.contours()
    session.threshold = 0.7
    high_a, high_b = masks.threshold_contours.contours()
    probchip_a = zebra_match.a.probchip

    assert len(high_a) > 0
    assert len(high_b) > 0
    assert sum(map(len, low_a)) != sum(map(len, high_a))
    # cv2 traces the pixels inside the region, so every vertex lies on a pixel >= t.
    assert min(_values_at(probchip_a, p).min() for p in high_a) >= 0.7
    assert min(_values_at(probchip_a, p).min() for p in low_a) < 0.7


def test_zero_threshold_hides_line(window):
    window.session.threshold = 0.4
    window.session.threshold = 0.0
    assert window.views.masks.threshold_contours.contours() == ((), ())
    assert "t = 0" in window.views.masks.note.text()


def test_split_line_always_drawn(window):
    split = window.views.masks.split_contours
    window.session.threshold = 0.0
    contours_a, contours_b = split.contours()
    assert split.level == SPLIT_LEVEL
    assert len(contours_a) > 0
    assert len(contours_b) > 0


def test_legend_names_both_lines(window):
    window.session.threshold = 0.6
    note = window.views.masks.note.text()
    assert "t = 0.60" in note
    assert "0.5" in note
    assert "no effect" not in note


def test_legend_marks_weighting_off(window):
    window.session.threshold = 0.6
    window.controls.weighting.setChecked(False)
    assert "no effect" in window.views.masks.note.text()


# Display mode -----------------------------------------------------------------------------


def test_overlay_changes_image(window):
    masks = window.views.masks
    masks.mode.setCurrentText(MAP_MODE)
    grey_map = _grab(masks)
    masks.mode.setCurrentText(OVERLAY_MODE)
    overlay = _grab(masks)
    assert grey_map.shape == overlay.shape
    assert not np.array_equal(grey_map, overlay)
    # The map is grey apart from its lines; the overlay shows the chip's colours.
    assert _coloured_fraction(overlay) > 2 * _coloured_fraction(grey_map)


def test_overlay_keeps_contours(window):
    masks = window.views.masks
    window.session.threshold = 0.6
    before = masks.threshold_contours.contours()
    masks.mode.setCurrentText(OVERLAY_MODE)
    after = masks.threshold_contours.contours()
    assert masks.threshold_contours.isVisible()
    assert masks.split_contours.isVisible()
    assert len(after[0]) == len(before[0])


# Chips without a model --------------------------------------------------------------------


def test_no_model_shows_text(qtbot, shared_matcher, no_model_match):
    masks = _open_with(qtbot, shared_matcher, no_model_match).views.masks
    texts = masks.message_texts()
    assert len(texts) == 1
    assert NO_MODEL_TEXT in texts[0]
    assert "zebra_plains: no usable model" in texts[0]


def test_no_model_note_leaves_warning_to_tooltip(qtbot, shared_matcher, no_model_match):
    masks = _open_with(qtbot, shared_matcher, no_model_match).views.masks
    assert NO_MODEL_WARNING not in masks.message_texts()[0]
    assert masks._messages[0].toolTip() == NO_MODEL_WARNING


def test_no_probchip_caption_fits(qtbot, shared_matcher, no_model_match):
    a = replace(no_model_match.a, probchip=None, fgweights=None, model=no_model_match.b.model)
    masks = _open_with(qtbot, shared_matcher, replace(no_model_match, a=a)).views.masks
    assert masks.note.text() == NO_PROBCHIP_CAPTION
    assert masks.note.width() >= masks.note.fontMetrics().horizontalAdvance(NO_PROBCHIP_CAPTION)


def test_no_model_keeps_other_chip(qtbot, shared_matcher, no_model_match):
    window = _open_with(qtbot, shared_matcher, no_model_match)
    window.session.threshold = 0.6
    contours_a, contours_b = window.views.masks.threshold_contours.contours()
    assert len(contours_a) > 0
    assert contours_b == ()
    assert "no effect" in window.views.masks.note.text()


def test_no_model_header_names_reason(qtbot, shared_matcher, no_model_match):
    window = _open_with(qtbot, shared_matcher, no_model_match)
    assert "zebra_plains: no usable model" in window.header.label_b.text()
    assert no_model_match.a.model.model_name in window.header.label_a.text()


def test_model_pair_has_no_text(window):
    assert window.views.masks.message_texts() == []


# Drawing helpers --------------------------------------------------------------------------


def _disk(size_px: int, radius_px: float) -> np.ndarray:
    """A probchip of 1 inside a centred disk and 0 outside."""
    yy, xx = np.mgrid[:size_px, :size_px] + 0.5
    centre = size_px / 2.0
    return (np.hypot(xx - centre, yy - centre) <= radius_px).astype(np.float32)


@pytest.mark.parametrize("max_side_px", [1024, 64])
def test_iso_contours_disk(max_side_px):
    polygons = iso_contours(_disk(256, 80.0), 0.5, max_side_px=max_side_px)
    radii = np.hypot(*(polygons[0] - 128.0).T)
    assert len(polygons) == 1
    assert radii.min() > 80.0 - 5.0
    assert radii.max() < 80.0 + 5.0


def test_iso_contours_above_max():
    assert iso_contours(_disk(64, 20.0), 1.5) == []


def test_iso_contours_empty():
    assert iso_contours(np.zeros((0, 0), np.float32), 0.5) == []


def test_iso_contours_bad_shape():
    with pytest.raises(ValueError, match="shape"):
        iso_contours(np.zeros((4, 4, 3), np.float32), 0.5)


def test_contour_cache_reuses_levels():
    cache = ContourCache(_disk(64, 20.0))
    first = cache.contours(0.3)
    again = cache.contours(0.1 + 0.2)
    assert again is first
    assert len(cache) == 1


def test_background_tint_keeps_animal():
    pixels = np.full((2, 2, 3), 200, np.uint8)
    probchip = np.array([[1.0, 1.0], [0.0, 0.0]], np.float32)
    tinted = background_tint(pixels, probchip, 0.75)
    assert np.array_equal(tinted[0], pixels[0])
    assert tinted[1, 0, 2] > tinted[1, 0, 0]  # BGR: red now exceeds blue
