"""The pair views: layer toggles, clicking a correspondence, the patch dialog and the photos."""

import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QImage

from reviewer.engine.scoring import ScoreConfig
from reviewer.gui.app import build_session
from reviewer.gui.layers import LAYER_TOGGLES
from reviewer.gui.main_window import MainWindow
from reviewer.gui.views import PairViews
from reviewer.render.correspondences import outlier_indices
from reviewer.render.figure import FigureOptions
from reviewer.render.geometry import chip_outline_in_photo

RESULT_TIMEOUT_MS = 180_000


def _pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rows = data.reshape(image.height(), image.bytesPerLine())[:, : 3 * image.width()]
    return rows.reshape(image.height(), image.width(), 3).copy()


def _matches_view(views) -> np.ndarray:
    return _pixels(views.matches.graphics)


@pytest.fixture
def views(qtbot, zebra_match):
    """Pair views showing aid 3 vs aid 5."""
    widget = PairViews()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    widget.show_match(zebra_match, zebra_match.score())
    qtbot.waitExposed(widget)
    return widget


def _click_keypoint(qtbot, views, match, index: int) -> None:
    """Click the chip A keypoint of ratio-test match ``index`` in view (d)."""
    x, y = match.a.features.kpts[match.matches.fm[index, 0], :2]
    view = views.matches
    scene_pos = view.viewbox.mapViewToScene(QPointF(float(x), float(y)))
    widget_pos = view.graphics.mapFromScene(scene_pos)
    qtbot.mouseClick(view.graphics.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)


def test_toggles_are_named_actions(views):
    for toggle in LAYER_TOGGLES:
        action = views.findChild(QAction, toggle.name)
        assert action is not None, toggle.name
        assert action.isCheckable()
        assert action.isChecked() == toggle.checked


def test_lines_toggle(views):
    before = _matches_view(views)
    views.layers["toggle_lines"].setChecked(False)
    assert views.correspondence_item.layers == (True, False, False)
    assert not np.array_equal(_matches_view(views), before)


def test_ellipses_toggle(views):
    views.layers["toggle_ellipses"].setChecked(False)
    assert views.correspondence_item.layers == (False, True, False)


def test_outliers_toggle(views):
    views.layers["toggle_outliers"].setChecked(True)
    assert views.correspondence_item.layers == (True, True, True)


@pytest.mark.parametrize("name", ["toggle_heatmap", "toggle_mask_overlay"])
def test_overlay_toggles_change_view(views, name):
    before = _matches_view(views)
    views.layers[name].setChecked(True)
    assert not np.array_equal(_matches_view(views), before)


def test_clean_hides_and_restores(views):
    views.layers["toggle_heatmap"].setChecked(True)
    before = _matches_view(views)
    views.layers["toggle_clean"].setChecked(True)
    assert not views.correspondence_item.isVisible()
    assert not views.masks.split_contours.isVisible()
    assert views.layers.is_checked("toggle_heatmap")
    views.layers["toggle_clean"].setChecked(False)
    assert np.array_equal(_matches_view(views), before)


def test_clean_applies_to_next_pair(views, zebra_match):
    views.layers["toggle_clean"].setChecked(True)
    views.show_match(zebra_match, zebra_match.score())
    assert not views.correspondence_item.isVisible()
    assert not views.masks.split_contours.isVisible()


def test_click_selects_correspondence(qtbot, views, zebra_match):
    index = int(zebra_match.sver.inliers[0])
    _click_keypoint(qtbot, views, zebra_match, index)
    assert views.selected == index
    assert views.correspondence_item.selected == index
    assert views.patch_dialog.isVisible()


def test_click_away_clears_selection(qtbot, views, zebra_match):
    views.select_correspondence(int(zebra_match.sver.inliers[0]))
    corner = QPoint(2, views.matches.graphics.height() - 3)
    qtbot.mouseClick(views.matches.graphics.viewport(), Qt.MouseButton.LeftButton, pos=corner)
    assert views.selected is None
    assert views.correspondence_item.selected is None


def test_dialog_numbers(views, zebra_match):
    index = int(zebra_match.sver.inliers[2])
    views.select_correspondence(index)
    dialog = views.patch_dialog
    fx_a, fx_b = zebra_match.matches.fm[index]
    assert dialog.text("fs") == f"{zebra_match.matches.fs[index]:.3f}"
    assert dialog.text("fgweight A") == f"{zebra_match.a.fgweights[fx_a]:.3f}"
    assert dialog.text("fgweight B") == f"{zebra_match.b.fgweights[fx_b]:.3f}"
    assert dialog.text("status") == "sver inlier, counted"
    assert not dialog.patch_a.pixmap().isNull()
    assert not dialog.patch_b.pixmap().isNull()


def test_dialog_outlier_status(views, zebra_match):
    views.layers["toggle_outliers"].setChecked(True)
    views.select_correspondence(int(outlier_indices(zebra_match)[0]))
    assert views.patch_dialog.text("status").startswith("rejected by sver")
    assert views.patch_dialog.text("weight") == "0.000"


def test_dialog_follows_threshold(views, zebra_match):
    views.select_correspondence(int(zebra_match.sver.inliers[0]))
    views.show_score(zebra_match.score(ScoreConfig(threshold=1.0)))
    assert views.patch_dialog.text("weight") == "0.000"
    assert "weight 0 under the mask threshold" in views.patch_dialog.text("status")


def test_new_pair_opens_fitted(views, zebra_match):
    (x0, x1), _ = views.chips.viewbox.viewRange()
    views.matches.viewbox.scaleBy((0.3, 0.3))
    views.show_match(zebra_match, zebra_match.score())
    (f0, f1), _ = views.chips.viewbox.viewRange()
    assert f1 - f0 == pytest.approx(x1 - x0, rel=0.02)


def test_photo_tab_draws_boxes(qtbot, views, zebra_match):
    views.tabs.setCurrentWidget(views.photos)
    qtbot.waitUntil(lambda: views.photos.is_loaded)
    outline = views.photos.box_outline("A")
    assert np.allclose(outline, chip_outline_in_photo(zebra_match.a.chip))
    assert "000000000629.jpg" in views.photos.view_a.title.text()


def test_photo_views_fit_their_boxes(qtbot, views, zebra_match):
    views.tabs.setCurrentWidget(views.photos)
    qtbot.waitUntil(lambda: views.photos.is_loaded)
    for view, result in (
        (views.photos.view_a, zebra_match.a),
        (views.photos.view_b, zebra_match.b),
    ):
        (x0, x1), (y0, y1) = view.viewbox.viewRange()
        corners = chip_outline_in_photo(result.chip)
        assert x0 <= corners[:, 0].min()
        assert corners[:, 0].max() <= x1
        assert y0 <= corners[:, 1].min()
        assert corners[:, 1].max() <= y1
        assert x1 - x0 < 2.0 * np.ptp(corners[:, 0]) or y1 - y0 < 2.0 * np.ptp(corners[:, 1])


# Main window: menus and export --------------------------------------------------------------


@pytest.fixture
def zebra_window(qtbot, shared_matcher, demo_annots, zebra_match):
    from reviewer import DEMO_ANNOTATIONS

    window = MainWindow(build_session(DEMO_ANNOTATIONS), shared_matcher)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    keys = [pair.key for pair in window.session.pairs]
    window.pair_list.setCurrentRow(keys.index(("3", "5")))
    qtbot.waitUntil(lambda: window.session.result() is not None, timeout=RESULT_TIMEOUT_MS)
    return window


def test_file_menu_has_export(zebra_window):
    first = zebra_window.menuBar().actions()[0]
    assert first.text() == "&File"
    action = zebra_window.findChild(QAction, "export_figure")
    assert action in first.menu().actions()


def test_export_sidecar_matches_screen(zebra_window, tmp_path):
    from reviewer.gui.export_dialog import export_selected_pair

    zebra_window.controls.slider.setValue(60)
    written = export_selected_pair(
        zebra_window.session, tmp_path / "fig.svg", FigureOptions(dpi=100, width_mm=120)
    )
    data = json.loads(written.sidecar.read_text(encoding="utf-8"))
    item = zebra_window.views.correspondence_item
    inliers = [r for r in data["correspondences"] if r["inlier"]]
    fm = [[r["fx_a"], r["fx_b"]] for r in inliers]
    assert fm == item.match.inlier_fm.tolist()
    np.testing.assert_allclose([r["weight"] for r in inliers], item.score.weights, atol=1e-6)
    assert data["provenance"]["threshold"] == pytest.approx(0.6)


def test_window_shows_flags(zebra_window):
    flags = zebra_window.flags
    assert "capture-time gap 29 min 22 s" in flags.flags_label.text()
    assert flags.score_label.text().startswith("score ")
    assert "preset vsone" in flags.provenance.text()
