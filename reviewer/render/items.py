"""QGraphicsItems that put the figure's drawing into a zoomable scene.

The GUI adds them to pyqtgraph ViewBoxes. They paint in pair coordinates with
the same functions as the exported figure. Only the pens differ: on screen the
lines keep their width while the user zooms.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.correspondences import (
    MatchStyle,
    paint_correspondences,
    paint_highlight,
    paint_image_pair,
    paint_outliers,
)
from reviewer.render.geometry import PairLayout

#: Pens of the screen view: constant width in screen pixels while zooming.
SCREEN_STYLE = MatchStyle(line_width=1.4, ellipse_width=1.2, cosmetic=True)


class ImagePairItem(QGraphicsItem):
    """Two images, one over each chip's rectangle."""

    def __init__(self, layout: PairLayout, image_a: QImage, image_b: QImage):
        super().__init__()
        self._layout = layout
        self._images = (image_a, image_b)

    def set_images(self, image_a: QImage, image_b: QImage) -> None:
        """Replace both images and repaint."""
        self._images = (image_a, image_b)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 -- Qt override
        return QRectF(0, 0, *self._layout.size)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        paint_image_pair(painter, *self._images, self._layout)


class CorrespondenceItem(QGraphicsItem):
    """The correspondences of a pair, redrawn whenever the live score changes.

    It draws the sver inliers, optionally the matches sver rejected, and the
    selected correspondence on top.
    """

    def __init__(self, match: PairMatch, score: PairScore, layout: PairLayout):
        super().__init__()
        self._match, self._score, self._layout = match, score, layout
        self._style = SCREEN_STYLE
        self._outliers = False
        self._selected: int | None = None

    @property
    def match(self) -> PairMatch:
        """The pair drawn."""
        return self._match

    @property
    def score(self) -> PairScore:
        """The live score whose weights colour the correspondences."""
        return self._score

    @property
    def layers(self) -> tuple[bool, bool, bool]:
        """Whether ellipses, lines and the matches sver rejected are drawn."""
        return (self._style.draw_ellipses, self._style.draw_lines, self._outliers)

    @property
    def selected(self) -> int | None:
        """Row of ``match.matches`` drawn highlighted, or None."""
        return self._selected

    def set_score(self, score: PairScore) -> None:
        """Redraw with new weights (threshold or weighting changed)."""
        self._score = score
        self.update()

    def set_layers(self, ellipses: bool, lines: bool, outliers: bool) -> None:
        """Choose which parts are drawn: ellipses, lines, and the rejected matches."""
        self._style = replace(SCREEN_STYLE, draw_ellipses=ellipses, draw_lines=lines)
        self._outliers = outliers
        self.update()

    def set_selected(self, index: int | None) -> None:
        """Highlight ratio-test match ``index``; None removes the highlight."""
        self._selected = index
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 -- Qt override
        # Ellipses near the border may reach a little past the chips.
        width, height = self._layout.size
        margin = 0.1 * max(width, height)
        return QRectF(-margin, -margin, width + 2 * margin, height + 2 * margin)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._outliers:
            paint_outliers(painter, self._match, self._layout, self._style)
        paint_correspondences(painter, self._match, self._score, self._layout, self._style)
        if self._selected is not None:
            paint_highlight(painter, self._match, self._layout, self._selected, SCREEN_STYLE)
