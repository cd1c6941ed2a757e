"""Drawing and picking of correspondences: layers, outliers, highlight and the click test."""

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPainter

from reviewer.render.correspondences import (
    MatchStyle,
    outlier_indices,
    paint_correspondences,
    paint_highlight,
    paint_outliers,
    pick_correspondence,
)
from reviewer.render.figure import _ensure_gui_app
from reviewer.render.geometry import side_by_side


def _layout(match):
    return side_by_side(match.a.chip.size, match.b.chip.size)


def _paint(match, draw) -> np.ndarray:
    """Return the (H, W, 4) pixels of ``draw(painter)`` on a transparent image of the pair."""
    _ensure_gui_app()
    width, height = _layout(match).size
    image = QImage(int(width), int(height), QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0, 0))
    painter = QPainter(image)
    draw(painter)
    painter.end()
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return (
        data.reshape(image.height(), -1)[:, : 4 * image.width()]
        .reshape(image.height(), image.width(), 4)
        .copy()
    )


def _drawn(pixels: np.ndarray) -> int:
    return int(np.count_nonzero(pixels[..., 3]))


def test_outliers_complement_inliers(zebra_match):
    outliers = outlier_indices(zebra_match)
    together = np.sort(np.concatenate([outliers, zebra_match.sver.inliers]))
    assert np.array_equal(together, np.arange(len(zebra_match.matches)))


def test_layers_off_draw_nothing(zebra_match):
    style = MatchStyle(draw_ellipses=False, draw_lines=False)
    score, layout = zebra_match.score(), _layout(zebra_match)
    pixels = _paint(
        zebra_match, lambda p: paint_correspondences(p, zebra_match, score, layout, style)
    )
    assert _drawn(pixels) == 0


def test_lines_add_pixels(zebra_match):
    score, layout = zebra_match.score(), _layout(zebra_match)
    ellipses = MatchStyle(draw_lines=False)
    both = MatchStyle()
    only = _paint(
        zebra_match, lambda p: paint_correspondences(p, zebra_match, score, layout, ellipses)
    )
    full = _paint(zebra_match, lambda p: paint_correspondences(p, zebra_match, score, layout, both))
    assert _drawn(only) > 0
    assert _drawn(full) > _drawn(only)


def test_outliers_drawn(zebra_match):
    layout = _layout(zebra_match)
    pixels = _paint(zebra_match, lambda p: paint_outliers(p, zebra_match, layout))
    assert _drawn(pixels) > 0


def test_highlight_drawn(zebra_match):
    layout = _layout(zebra_match)
    index = int(zebra_match.sver.inliers[0])
    pixels = _paint(zebra_match, lambda p: paint_highlight(p, zebra_match, layout, index))
    assert _drawn(pixels) > 0


def test_highlight_out_of_range_raises(zebra_match):
    layout = _layout(zebra_match)
    with pytest.raises(IndexError):
        _paint(zebra_match, lambda p: paint_highlight(p, zebra_match, layout, 10**6))


def test_pick_inlier_on_a(zebra_match):
    index = int(zebra_match.sver.inliers[3])
    x, y = zebra_match.a.features.kpts[zebra_match.matches.fm[index, 0], :2]
    assert pick_correspondence(zebra_match, _layout(zebra_match), (x + 0.5, y), 2.0) == index


def test_pick_inlier_on_b(zebra_match):
    layout = _layout(zebra_match)
    index = int(zebra_match.sver.inliers[-1])
    x, y = zebra_match.b.features.kpts[zebra_match.matches.fm[index, 1], :2]
    assert pick_correspondence(zebra_match, layout, (x + layout.offset_b, y), 2.0) == index


def test_pick_far_away_is_none(zebra_match):
    assert pick_correspondence(zebra_match, _layout(zebra_match), (-500.0, -500.0), 5.0) is None


def test_pick_outlier_only_when_asked(zebra_match):
    layout = _layout(zebra_match)
    index = int(outlier_indices(zebra_match)[0])
    xy = tuple(zebra_match.a.features.kpts[zebra_match.matches.fm[index, 0], :2])
    assert pick_correspondence(zebra_match, layout, xy, 0.01, include_outliers=True) == index
    assert pick_correspondence(zebra_match, layout, xy, 0.01) != index
