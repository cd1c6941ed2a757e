"""Drawing of the mask view: probchip iso-lines and the probchip tint over a chip.

An iso-line at level ``t`` is the outline of the pixels whose probchip value is
at least ``t``, traced by ``cv2.findContours``. Its vertices sit at pixel
centres, so pixel ``(i, j)`` of the probchip is the point ``(j + 0.5, i + 0.5)``
in chip pixels. ``ContourCache`` keeps the outlines of one probchip per level,
so that moving the threshold slider back and forth costs nothing after the first
visit of each level.

NOTE: the threshold cuts a correspondence by its keypoints' fgweights, which
average the probchip over each keypoint's ellipse. A keypoint just inside the
``t`` line can still fall below ``t``, so the line is a guide to the cut, not
its exact boundary.
"""

from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem

from reviewer.render.colors import WEIGHT_STOPS
from reviewer.render.geometry import PairLayout

#: Maximum probchip side traced at full resolution, in px; larger probchips are subsampled.
MAX_TRACE_SIDE_PX = 1024
#: Maximum distance between a traced outline and its simplified polygon, in chip px.
SIMPLIFY_TOLERANCE_PX = 0.7
#: Levels one ``ContourCache`` keeps; the slider has 101 levels.
MAX_CACHED_LEVELS = 128
#: Tint of the background in the overlay: the dark red of weight 0 on the fgweight scale.
BACKGROUND_TINT_RGB = WEIGHT_STOPS[0][1]


def iso_contours(
    probchip: np.ndarray,
    level: float,
    max_side_px: int = MAX_TRACE_SIDE_PX,
    tolerance_px: float = SIMPLIFY_TOLERANCE_PX,
) -> list[np.ndarray]:
    """Outline the region ``probchip >= level`` as closed polygons.

    Parameters
    ----------
    probchip : (H, W) float
        Foreground probability in [0, 1].
    level : float
        Iso-level. At 0 or below the outline is the chip border; above the
        probchip's maximum there is no outline.
    max_side_px : int
        A probchip with a longer side is subsampled by a whole step first, so
        tracing time stays bounded for large chips.
    tolerance_px : float
        ``cv2.approxPolyDP`` tolerance, in chip px; 0 keeps every traced vertex.

    Returns
    -------
    list of (P, 2) float64
        ``x, y`` vertices in chip px, one array per outer boundary or hole, each
        with at least 3 vertices. Smaller specks are dropped.
    """
    probchip = np.asarray(probchip)
    if probchip.ndim != 2:
        raise ValueError(f"probchip must have shape (H, W), got {probchip.shape}")
    if max_side_px < 1:
        raise ValueError(f"max_side_px must be >= 1, not {max_side_px}")
    if probchip.size == 0:
        return []

    # Subsample large probchips: sample k stands for chip pixel k * step.
    step = max(1, int(np.ceil(max(probchip.shape) / max_side_px)))
    mask = (probchip[::step, ::step] >= level).astype(np.uint8)

    traced, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    polygons = []
    for contour in traced:
        if tolerance_px > 0:
            contour = cv2.approxPolyDP(contour, tolerance_px / step, closed=True)
        if len(contour) >= 3:
            polygons.append(contour.reshape(-1, 2).astype(np.float64) * step + 0.5)
    return polygons


class ContourCache:
    """Iso-lines of one probchip, traced once per level and kept for the slider.

    Parameters
    ----------
    probchip : (H, W) float
        Foreground probability in [0, 1]; it is not copied, so do not change it.
    max_levels : int
        Number of levels kept; the least recently used level goes first.
    """

    def __init__(self, probchip: np.ndarray, max_levels: int = MAX_CACHED_LEVELS):
        if max_levels < 1:
            raise ValueError(f"max_levels must be >= 1, not {max_levels}")
        self.probchip = probchip
        self.max_levels = max_levels
        self._levels: OrderedDict[float, tuple[np.ndarray, ...]] = OrderedDict()

    def contours(self, level: float) -> tuple[np.ndarray, ...]:
        """Return the (P, 2) polygons of ``iso_contours(probchip, level)``, cached."""
        # Rounding merges levels that differ by float noise, e.g. 0.3 and 0.1 + 0.2.
        key = round(float(level), 6)
        if key in self._levels:
            self._levels.move_to_end(key)
            return self._levels[key]
        polygons = tuple(iso_contours(self.probchip, key))
        self._levels[key] = polygons
        while len(self._levels) > self.max_levels:
            self._levels.popitem(last=False)
        return polygons

    def __len__(self) -> int:
        return len(self._levels)


def background_tint(pixels: np.ndarray, probchip: np.ndarray, max_alpha: float) -> np.ndarray:
    """Tint a chip dark red where its probchip is low (background).

    Each pixel is blended with ``BACKGROUND_TINT_RGB`` at opacity
    ``max_alpha * (1 - p)``, so the animal (p = 1) keeps its own colours.

    Parameters
    ----------
    pixels : (H, W, 3) uint8
        Chip in BGR order.
    probchip : (H, W) float
        Foreground probability in [0, 1] of the same chip.
    max_alpha : float
        Opacity of the tint where p = 0, in [0, 1].

    Returns
    -------
    (H, W, 3) uint8
        Tinted chip in BGR order.
    """
    pixels, probchip = np.asarray(pixels), np.asarray(probchip, dtype=np.float32)
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"pixels must have shape (H, W, 3), got {pixels.shape}")
    if probchip.shape != pixels.shape[:2]:
        raise ValueError(
            f"probchip shape {probchip.shape} does not match the chip's {pixels.shape[:2]}"
        )
    if not 0.0 <= max_alpha <= 1.0:
        raise ValueError(f"max_alpha must be in [0, 1], not {max_alpha}")

    alpha = (max_alpha * (1.0 - np.clip(probchip, 0.0, 1.0)))[..., None]
    tint_bgr = np.array(BACKGROUND_TINT_RGB[::-1], dtype=np.float32)
    blended = pixels.astype(np.float32) * (1.0 - alpha) + tint_bgr * alpha
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)


class ContourItem(QGraphicsItem):
    """Iso-lines of both chips' probchips at one level, in pair coordinates.

    Each pen in ``pens`` strokes the whole outline in turn, so a dark wide pen
    under a light dashed one stays visible on any image.
    """

    def __init__(
        self,
        layout: PairLayout,
        cache_a: ContourCache | None,
        cache_b: ContourCache | None,
        pens: tuple[QPen, ...],
    ):
        super().__init__()
        self._layout = layout
        self._caches = (cache_a, cache_b)
        self._pens = pens
        self._level: float | None = None
        self._path = QPainterPath()

    @property
    def level(self) -> float | None:
        """Iso-level drawn; None draws nothing."""
        return self._level

    def set_level(self, level: float | None) -> None:
        """Trace (or fetch) the outlines at ``level`` and repaint."""
        if level == self._level:
            return
        self._level = level
        self._path = QPainterPath()
        for cache, dx in zip(self._caches, (0.0, self._layout.offset_b), strict=True):
            for polygon in self._contours_of(cache):
                self._path.addPolygon(_closed_polygon(polygon, dx))
        self.update()

    def contours(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Return the (P, 2) polygons drawn over chip A and chip B, in chip px."""
        return (self._contours_of(self._caches[0]), self._contours_of(self._caches[1]))

    def boundingRect(self) -> QRectF:  # noqa: N802 -- Qt override
        return QRectF(0, 0, *self._layout.size)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for pen in self._pens:
            painter.strokePath(self._path, pen)

    def _contours_of(self, cache: ContourCache | None) -> tuple[np.ndarray, ...]:
        if cache is None or self._level is None:
            return ()
        return cache.contours(self._level)


def _closed_polygon(points: np.ndarray, dx: float) -> QPolygonF:
    vertices = [QPointF(float(x) + dx, float(y)) for x, y in points]
    vertices.append(vertices[0])
    return QPolygonF(vertices)
