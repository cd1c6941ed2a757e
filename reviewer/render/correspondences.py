"""QPainter drawing of chips, keypoint ellipses and the lines between them.

Drawing happens in pair coordinates (see ``reviewer.render.geometry``). The
caller sets the painter's transform: the exported figure scales pair
coordinates onto the page, and the GUI's view draws them into a zoomable scene.

Each sver inlier is drawn in one of three ways:

* counted, weight > 0: solid, coloured by its soft fgweight sqrt(w_a * w_b);
* weight 0 under the current threshold: the same colour, faded and dashed;
* excluded as the same point of one photo: magenta and dotted.

Without fgweights (no background model) counted inliers are light blue.
Ratio-test matches that sver rejected (outliers) are drawn thin, grey and
dotted when asked for, and one selected correspondence can be highlighted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF

from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.colors import (
    EXCLUDED_RGB,
    HIGHLIGHT_RGB,
    NO_WEIGHT_RGB,
    OUTLIER_RGB,
    ramp,
    rgb_qcolor,
)
from reviewer.render.geometry import PairLayout, kpt_ellipses
from reviewer.render.images import bgr_to_qimage

COUNTED, CUT, EXCLUDED = 0, 1, 2


@dataclass(frozen=True)
class MatchStyle:
    """Pens of the correspondence drawing."""

    line_width: float = 1.5  # chip px, or screen px when cosmetic
    ellipse_width: float = 1.5  # chip px, or screen px when cosmetic
    cosmetic: bool = False  # True: widths stay constant on screen while zooming
    alpha: int = 220  # opacity of counted correspondences, 0-255
    faded_alpha: int = 110  # opacity of correspondences cut by the threshold, 0-255
    ellipse_points: int = 24  # vertices per ellipse polygon
    draw_ellipses: bool = True  # False leaves out the keypoint ellipses
    draw_lines: bool = True  # False leaves out the lines between the chips

    def __post_init__(self):
        if self.line_width <= 0 or self.ellipse_width <= 0:
            raise ValueError("line_width and ellipse_width must be > 0")
        if not (0 <= self.faded_alpha <= 255 and 0 <= self.alpha <= 255):
            raise ValueError("alpha and faded_alpha must be in 0..255")


def soft_weights(match: PairMatch) -> np.ndarray | None:
    """Return the (I,) soft fgweight sqrt(w_a * w_b) of each inlier, or None without a model."""
    w_a, w_b = match.inlier_weights
    if w_a is None or w_b is None:
        return None
    return np.sqrt(np.clip(w_a, 0.0, 1.0) * np.clip(w_b, 0.0, 1.0))


def inlier_kinds(match: PairMatch, score: PairScore) -> np.ndarray:
    """Return the (I,) kind of each inlier: ``COUNTED``, ``CUT`` or ``EXCLUDED``."""
    kinds = np.where(score.weights > 0, COUNTED, CUT)
    kinds[~np.asarray(match.counted, bool)] = EXCLUDED
    return kinds


def paint_chips(painter: QPainter, match: PairMatch, layout: PairLayout) -> None:
    """Draw chip A and chip B at their places in pair coordinates."""
    paint_image_pair(
        painter, bgr_to_qimage(match.a.chip.pixels), bgr_to_qimage(match.b.chip.pixels), layout
    )


def paint_image_pair(
    painter: QPainter, image_a: QImage, image_b: QImage, layout: PairLayout
) -> None:
    """Draw one image over each chip's rectangle in pair coordinates."""
    width_a, height_a = layout.size_a
    width_b, height_b = layout.size_b
    painter.drawImage(QRectF(0, 0, width_a, height_a), image_a)
    painter.drawImage(QRectF(layout.offset_b, 0, width_b, height_b), image_b)


def paint_correspondences(
    painter: QPainter,
    match: PairMatch,
    score: PairScore,
    layout: PairLayout,
    style: MatchStyle | None = None,
) -> None:
    """Draw every sver inlier as two ellipses joined by a line."""
    style = style or MatchStyle()
    fm = match.inlier_fm
    if len(fm) == 0:
        return

    polygons_a, polygons_b, start_a, end_b = _geometry(match, layout, style.ellipse_points, INLIERS)

    # Colours and order: cut and excluded first, so counted evidence stays on top,
    # and within each kind the lowest weight first.
    kinds = inlier_kinds(match, score)
    weights = soft_weights(match)
    rgb = ramp(weights) if weights is not None else np.tile(NO_WEIGHT_RGB, (len(fm), 1))
    colour_key = weights if weights is not None else np.zeros(len(fm))
    order = np.lexsort((colour_key, kinds == COUNTED))

    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for i in order:
        line_pen, ellipse_pen = _pens(kinds[i], tuple(rgb[i]), style)
        shapes = (polygons_a[i], polygons_b[i], start_a[i], end_b[i])
        _draw_correspondence(painter, shapes, line_pen, ellipse_pen, style)
    painter.restore()


def outlier_indices(match: PairMatch) -> np.ndarray:
    """Return the (O,) indices into ``match.matches`` of the matches sver rejected."""
    rejected = np.ones(len(match.matches), dtype=bool)
    rejected[match.sver.inliers] = False
    return np.flatnonzero(rejected)


def paint_outliers(
    painter: QPainter, match: PairMatch, layout: PairLayout, style: MatchStyle | None = None
) -> None:
    """Draw the ratio-test matches that sver rejected: thin, grey and dotted."""
    style = style or MatchStyle()
    if len(outlier_indices(match)) == 0:
        return
    polygons_a, polygons_b, start_a, end_b = _geometry(
        match, layout, style.ellipse_points, OUTLIERS
    )
    colour = rgb_qcolor(OUTLIER_RGB, style.faded_alpha)
    ellipse_pen = _pen(colour, 0.7 * style.ellipse_width, Qt.PenStyle.DotLine, style.cosmetic)
    line_pen = _pen(colour, 0.7 * style.line_width, Qt.PenStyle.DotLine, style.cosmetic)

    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for shapes in zip(polygons_a, polygons_b, start_a, end_b, strict=True):
        _draw_correspondence(painter, shapes, line_pen, ellipse_pen, style)
    painter.restore()


def _draw_correspondence(painter, shapes, line_pen, ellipse_pen, style: MatchStyle) -> None:
    """Draw one correspondence: shapes are (ellipse in A, ellipse in B, line start, line end)."""
    polygon_a, polygon_b, start, end = shapes
    if style.draw_ellipses:
        painter.setPen(ellipse_pen)
        painter.drawPolygon(polygon_a)
        painter.drawPolygon(polygon_b)
    if style.draw_lines:
        painter.setPen(line_pen)
        painter.drawLine(start, end)


def paint_highlight(
    painter: QPainter,
    match: PairMatch,
    layout: PairLayout,
    index: int,
    style: MatchStyle | None = None,
) -> None:
    """Draw ratio-test match ``index`` thick, over a dark halo, so it stands out.

    Parameters
    ----------
    index : int
        Row of ``match.matches.fm``; it may be an inlier or an outlier.
    """
    style = style or MatchStyle()
    if not 0 <= index < len(match.matches):
        raise IndexError(f"correspondence {index} is outside 0..{len(match.matches) - 1}")
    fm = match.matches.fm[index]
    kpt_a = match.a.features.kpts[fm[0] : fm[0] + 1]
    kpt_b = match.b.features.kpts[fm[1] : fm[1] + 1]
    outline_a = _polygon(kpt_ellipses(kpt_a, style.ellipse_points)[0])
    outline_b = _polygon(kpt_ellipses(kpt_b, style.ellipse_points)[0] + (layout.offset_b, 0.0))
    start = QPointF(float(kpt_a[0, 0]), float(kpt_a[0, 1]))
    end_xy = layout.to_pair_b(kpt_b[:, :2])[0]
    end = QPointF(float(end_xy[0]), float(end_xy[1]))

    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    halo = _pen(QColor(0, 0, 0, 220), 3.5 * style.line_width, Qt.PenStyle.SolidLine, style.cosmetic)
    bright = _pen(
        rgb_qcolor(HIGHLIGHT_RGB), 1.6 * style.line_width, Qt.PenStyle.SolidLine, style.cosmetic
    )
    for pen in (halo, bright):
        painter.setPen(pen)
        painter.drawPolygon(outline_a)
        painter.drawPolygon(outline_b)
        painter.drawLine(start, end)
    painter.restore()


def pick_correspondence(
    match: PairMatch,
    layout: PairLayout,
    xy: tuple[float, float],
    max_dist: float,
    include_outliers: bool = False,
) -> int | None:
    """Return the correspondence whose keypoint lies nearest to a point, or None.

    Parameters
    ----------
    xy : (x, y)
        The point in pair coordinates. Left of chip B's offset it is compared with
        the keypoints on chip A, otherwise with those on chip B.
    max_dist : float
        Largest distance from a keypoint centre, in pair coordinates, that still picks it.
    include_outliers : bool
        Also pick ratio-test matches that sver rejected.

    Returns
    -------
    int or None
        Row of ``match.matches.fm``.
    """
    candidates = np.asarray(match.sver.inliers, dtype=np.int64)
    if include_outliers:
        candidates = np.concatenate([candidates, outlier_indices(match)])
    if len(candidates) == 0:
        return None

    on_b = xy[0] >= layout.offset_b
    fm = match.matches.fm[candidates]
    if on_b:
        centres = layout.to_pair_b(match.b.features.kpts[fm[:, 1], :2])
    else:
        centres = match.a.features.kpts[fm[:, 0], :2].astype(np.float64)
    dist = np.hypot(centres[:, 0] - xy[0], centres[:, 1] - xy[1])
    nearest = int(np.argmin(dist))
    return int(candidates[nearest]) if dist[nearest] <= max_dist else None


#: Which correspondences ``_geometry`` outlines: the sver inliers or the rejected matches.
INLIERS, OUTLIERS = "inliers", "outliers"

#: The last pair's ellipses and line ends, per set. Moving the threshold repaints the
#: same geometry in new colours, and building QPolygonF objects is most of that cost.
_last_geometry: dict[str, tuple] = {}


def _geometry(match: PairMatch, layout: PairLayout, points: int, which: str) -> tuple:
    """Return the ellipse polygons on A and B and the line ends of one set, as Qt objects."""
    key = (layout.offset_b, points)
    cached = _last_geometry.get(which)
    if cached is not None and cached[0] is match and cached[1] == key:
        return cached[2]

    rows = match.sver.inliers if which == INLIERS else outlier_indices(match)
    fm = match.matches.fm[rows]
    kpts_a = match.a.features.kpts[fm[:, 0]]
    kpts_b = match.b.features.kpts[fm[:, 1]]
    outline_a = kpt_ellipses(kpts_a, points)
    outline_b = kpt_ellipses(kpts_b, points) + (layout.offset_b, 0.0)
    geometry = (
        [_polygon(outline) for outline in outline_a],
        [_polygon(outline) for outline in outline_b],
        [QPointF(float(x), float(y)) for x, y in kpts_a[:, :2]],
        [QPointF(float(x), float(y)) for x, y in layout.to_pair_b(kpts_b[:, :2])],
    )
    _last_geometry[which] = (match, key, geometry)
    return geometry


def _pens(kind: int, rgb: tuple[int, int, int], style: MatchStyle) -> tuple[QPen, QPen]:
    if kind == EXCLUDED:
        colour, dash = rgb_qcolor(EXCLUDED_RGB, style.alpha), Qt.PenStyle.DotLine
    elif kind == CUT:
        colour, dash = rgb_qcolor(rgb, style.faded_alpha), Qt.PenStyle.DashLine
    else:
        colour, dash = rgb_qcolor(rgb, style.alpha), Qt.PenStyle.SolidLine
    return (
        _pen(colour, style.line_width, dash, style.cosmetic),
        _pen(colour, style.ellipse_width, dash, style.cosmetic),
    )


def _pen(colour: QColor, width: float, dash: Qt.PenStyle, cosmetic: bool) -> QPen:
    pen = QPen(colour, width, dash)
    pen.setCosmetic(cosmetic)
    return pen


def _polygon(points: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in points])
