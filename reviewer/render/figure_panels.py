"""The panels of an exported figure, each drawn in pair coordinates.

* ``matches``: both chips with the verified correspondences, coloured by fgweight;
* ``heatmap``: the dimmed chips under the evidence heatmap (fs * weight);
* ``mask``: the probchips in grey with the iso-lines probchip = t and 0.5.

The caller scales pair coordinates onto the figure, so every width here is in
chip pixels.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF

from reviewer.engine.pipeline import AnnotResult, PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.colorbar import THRESHOLD_COLOUR
from reviewer.render.correspondences import (
    MatchStyle,
    paint_chips,
    paint_correspondences,
    paint_image_pair,
)
from reviewer.render.geometry import PairLayout
from reviewer.render.images import bgr_to_qimage, dimmed_grey, evidence_maps, probchip_to_qimage
from reviewer.render.masks import iso_contours

#: Panel names, in the order a figure stacks them by default.
PANEL_NAMES = ("matches", "heatmap", "mask")
#: Label of each panel; the figure puts a letter in front.
PANEL_LABELS = {
    "matches": "Verified correspondences (sver inliers), coloured by soft fgweight",
    "heatmap": "Evidence heatmap: fs·weight on a shared square-root scale, blue low to white high",
    "mask": "Foreground masks: probchip from black 0 (background) to white 1 (animal); "
    "blue line probchip = t, dashed line probchip = 0.5 (the foreground/background split)",
}
#: probchip level of the foreground/background split of the score.
SPLIT_LEVEL = 0.5
#: Brightness of a chip without a probchip in the mask panel.
NO_MODEL_BRIGHTNESS = 0.3


def paint_panel(
    painter: QPainter,
    name: str,
    match: PairMatch,
    score: PairScore,
    layout: PairLayout,
    line_width: float,
) -> None:
    """Draw one panel over the rectangle ``(0, 0) .. layout.size`` in pair coordinates.

    Parameters
    ----------
    name : str
        One of ``PANEL_NAMES``.
    line_width : float
        Width of the thinnest lines, in chip pixels.
    """
    if name == "matches":
        paint_chips(painter, match, layout)
        style = MatchStyle(line_width=line_width, ellipse_width=line_width)
        paint_correspondences(painter, match, score, layout, style)
    elif name == "heatmap":
        _paint_heatmap(painter, match, score, layout)
    elif name == "mask":
        _paint_masks(painter, match, score, layout, line_width)
    else:
        raise ValueError(f"unknown panel {name!r}; choose from {', '.join(PANEL_NAMES)}")


def _paint_heatmap(painter: QPainter, match: PairMatch, score: PairScore, layout) -> None:
    grey_a = bgr_to_qimage(dimmed_grey(match.a.chip.pixels))
    grey_b = bgr_to_qimage(dimmed_grey(match.b.chip.pixels))
    paint_image_pair(painter, grey_a, grey_b, layout)
    paint_image_pair(painter, *evidence_maps(match, score).overlays(), layout)


def _paint_masks(painter, match: PairMatch, score: PairScore, layout, line_width: float) -> None:
    images = [_mask_image(result) for result in (match.a, match.b)]
    paint_image_pair(painter, *images, layout)

    # The t line only where t cuts: weighting on and both chips with fgweights.
    threshold = score.config.threshold
    cuts = threshold > 0 and score.config.fg_weighting and match.fg_weighting
    dark = QColor(0, 0, 0, 200)
    for result, dx in ((match.a, 0.0), (match.b, layout.offset_b)):
        if result.probchip is None:
            _paint_no_model_note(painter, result, dx)
            continue
        split = _iso_path(result, SPLIT_LEVEL, dx)
        painter.strokePath(split, QPen(dark, 2.2 * line_width))
        painter.strokePath(split, QPen(QColor(230, 230, 230), line_width, Qt.PenStyle.DashLine))
        if cuts:
            level = _iso_path(result, threshold, dx)
            painter.strokePath(level, QPen(dark, 3.0 * line_width))
            painter.strokePath(level, QPen(THRESHOLD_COLOUR, 1.5 * line_width))


def _mask_image(result: AnnotResult):
    if result.probchip is None:
        return bgr_to_qimage(dimmed_grey(result.chip.pixels, NO_MODEL_BRIGHTNESS))
    return probchip_to_qimage(result.probchip)


def _iso_path(result: AnnotResult, level: float, dx: float) -> QPainterPath:
    path = QPainterPath()
    for polygon in iso_contours(result.probchip, level):
        vertices = [QPointF(float(x) + dx, float(y)) for x, y in polygon]
        vertices.append(vertices[0])
        path.addPolygon(QPolygonF(vertices))
    return path


def _paint_no_model_note(painter: QPainter, result: AnnotResult, dx: float) -> None:
    width, height = result.chip.size
    font = QFont()
    font.setPixelSize(max(6, round(0.05 * width)))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(
        QRectF(dx, 0, width, height),
        Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
        "no probchip: no background model",
    )
