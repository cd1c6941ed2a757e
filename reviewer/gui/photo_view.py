"""The original photos of a pair, each with its annotation's rotated box.

A chip is the box turned by ``-theta``, so the box outline in the photo is the
chip's border mapped back through ``Chip.to_photo``. The sver inliers are
marked at their photo positions, coloured by fgweight as in view (d), and the
selected correspondence is ringed. Photos are decoded only when this tab is
first shown for a pair, and each view opens fitted to its box.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsPolygonItem,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.engine.chips import load_photo
from reviewer.engine.errors import ReviewerError
from reviewer.engine.pipeline import AnnotResult, PairMatch
from reviewer.gui.titled_view import TitledView
from reviewer.render.colors import HIGHLIGHT_RGB, NO_WEIGHT_RGB, ramp, rgb_qcolor
from reviewer.render.correspondences import soft_weights
from reviewer.render.geometry import chip_outline_in_photo
from reviewer.render.images import bgr_to_qimage

log = logging.getLogger(__name__)

#: Room around the box when a view is fitted to it, as a fraction of the box size.
BOX_PADDING = 0.15
#: Colour of the box outline.
BOX_RGB = (255, 220, 0)


class PhotoView(QWidget):
    """Photo A and photo B side by side, each with its rotated box and its inliers."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view_a, self.view_b = TitledView("Photo A"), TitledView("Photo B")
        self.fit_button = QPushButton("Fit to boxes")
        self.fit_button.setToolTip("Zoom each photo to its annotation box")
        self.whole_button = QPushButton("Whole photos")
        self.whole_button.setToolTip("Zoom out to each whole photo")

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.fit_button)
        buttons.addWidget(self.whole_button)
        row = QHBoxLayout()
        row.addWidget(self.view_a)
        row.addWidget(self.view_b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.addLayout(buttons)
        layout.addLayout(row, 1)

        self._match: PairMatch | None = None
        self._loaded = False
        self._selected: int | None = None
        self._markers: list[pg.ScatterPlotItem] = []
        self._photo_sizes: list[tuple[int, int] | None] = [None, None]
        self.fit_button.clicked.connect(self.fit_boxes)
        self.whole_button.clicked.connect(self.show_whole)

    @property
    def is_loaded(self) -> bool:
        """True once the photos of the current pair are drawn."""
        return self._loaded

    def clear(self) -> None:
        """Show nothing."""
        self._match, self._loaded, self._selected = None, False, None
        self._markers = []
        self._photo_sizes = [None, None]
        for view, side in ((self.view_a, "A"), (self.view_b, "B")):
            view.replace_items()
            view.title.setText(f"<b>Photo {side}</b>")
            view.note.setText("")

    def show_match(self, match: PairMatch) -> None:
        """Take a new pair; its photos load now if the view is visible, else when shown."""
        self.clear()
        self._match = match
        if self.isVisible():
            self.load()

    def showEvent(self, event) -> None:  # noqa: N802 -- Qt override
        super().showEvent(event)
        if self._match is not None and not self._loaded:
            self.load()

    def load(self) -> None:
        """Decode both photos and draw them with their boxes and inliers, fitted to the boxes."""
        if self._match is None:
            return
        weights = soft_weights(self._match)
        fm = self._match.inlier_fm
        for k, (view, result, side) in enumerate(self._sides()):
            keypoints = result.features.kpts[fm[:, k], :2]
            self._photo_sizes[k] = self._draw_side(view, result, side, keypoints, weights)
        self._loaded = True
        self.fit_boxes()
        self.set_selected(self._selected)

    def box_outline(self, side: str) -> np.ndarray:
        """Return the (4, 2) corners of chip ``side``'s box ("A" or "B") in photo px."""
        result = self._match.a if side == "A" else self._match.b
        return chip_outline_in_photo(result.chip)

    def fit_boxes(self) -> None:
        """Zoom each photo to its box, with some room around it."""
        if not self._loaded:
            return
        for view, result, _ in self._sides():
            corners = chip_outline_in_photo(result.chip)
            low, high = corners.min(axis=0), corners.max(axis=0)
            view.viewbox.setRange(QRectF(*low, *(high - low)), padding=BOX_PADDING)

    def show_whole(self) -> None:
        """Zoom each view out to its whole photo."""
        for (view, _, _), size in zip(self._sides(), self._photo_sizes, strict=True):
            if size is not None:
                view.viewbox.setRange(QRectF(0, 0, *size), padding=0.02)

    def set_selected(self, index: int | None) -> None:
        """Ring ratio-test match ``index`` in both photos; None removes the rings."""
        self._selected = index
        for marker in self._markers:
            marker.getViewBox().removeItem(marker)
        self._markers = []
        if index is None or not self._loaded:
            return
        fm = self._match.matches.fm[index]
        pen = pg.mkPen(rgb_qcolor(HIGHLIGHT_RGB), width=2.5)
        for k, (view, result, _) in enumerate(self._sides()):
            xy = result.chip.to_photo(result.features.kpts[fm[k] : fm[k] + 1, :2])
            marker = pg.ScatterPlotItem(pos=xy, size=22, pen=pen, brush=None, symbol="o")
            view.viewbox.addItem(marker)
            self._markers.append(marker)

    def _sides(self) -> list[tuple[TitledView, AnnotResult, str]]:
        if self._match is None:
            return []
        return [(self.view_a, self._match.a, "A"), (self.view_b, self._match.b, "B")]

    def _draw_side(self, view, result: AnnotResult, side: str, keypoints, weights):
        """Draw one photo, its box and its inliers; return the photo size, or None."""
        annot = result.annot
        try:
            photo = load_photo(annot.image_path, annot.image_size)
        except ReviewerError as err:
            log.error("Cannot show the photo of aid %s: %s", annot.aid, err)
            view.note.setText(f"cannot show the photo: {err}")
            return None
        view.title.setText(f"<b>Photo {side}</b>: {Path(annot.image_path).name}")
        theta_deg = np.degrees(result.chip.theta)
        view.note.setText(
            f"aid {annot.aid} · {photo.size[0]}x{photo.size[1]} px · box θ = {theta_deg:.1f}°"
        )
        image = QGraphicsPixmapItem(QPixmap.fromImage(bgr_to_qimage(photo.pixels)))
        image.setTransformationMode(pg.QtCore.Qt.TransformationMode.SmoothTransformation)
        view.replace_items(image, *_box_items(result), _inlier_item(result, keypoints, weights))
        return photo.size


def _box_items(result: AnnotResult) -> list[QGraphicsPolygonItem]:
    """Return the rotated box as a dark wide outline under a bright one."""
    polygon = QPolygonF(
        [QPointF(float(x), float(y)) for x, y in chip_outline_in_photo(result.chip)]
    )
    items = []
    for colour, width in ((QColor(0, 0, 0, 180), 4.0), (rgb_qcolor(BOX_RGB), 2.0)):
        item = QGraphicsPolygonItem(polygon)
        pen = QPen(colour, width)
        pen.setCosmetic(True)
        item.setPen(pen)
        items.append(item)
    return items


def _inlier_item(result: AnnotResult, keypoints: np.ndarray, weights) -> pg.ScatterPlotItem:
    """Return the inliers' keypoints at their photo positions, coloured by soft fgweight."""
    xy = result.chip.to_photo(keypoints) if len(keypoints) else np.empty((0, 2))
    rgb = ramp(weights) if weights is not None else np.tile(NO_WEIGHT_RGB, (len(xy), 1))
    brushes = [pg.mkBrush(int(r), int(g), int(b), 220) for r, g, b in rgb]
    return pg.ScatterPlotItem(pos=xy, size=7, pen=pg.mkPen(0, 0, 0, 200), brush=brushes)
