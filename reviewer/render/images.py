"""numpy arrays to QImages, and the images of the chip, mask and heatmap views."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QImage

from reviewer.engine.heatmap import evidence_heatmap
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.colors import evidence_rgba


def bgr_to_qimage(pixels: np.ndarray) -> QImage:
    """Copy a (H, W, 3) uint8 BGR image (OpenCV order) into a QImage."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8 BGR pixels, got {pixels.shape} {pixels.dtype}")
    rgb = np.ascontiguousarray(pixels[..., ::-1])
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """Copy a (H, W, 4) uint8 RGBA image (straight alpha) into a QImage."""
    rgba = np.ascontiguousarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 4) uint8 RGBA pixels, got {rgba.shape} {rgba.dtype}")
    height, width = rgba.shape[:2]
    return QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()


def probchip_to_qimage(probchip: np.ndarray) -> QImage:
    """Copy a (H, W) foreground probability map in [0, 1] into a greyscale QImage.

    Black is background (0) and white is animal (1).
    """
    probchip = np.asarray(probchip, dtype=np.float32)
    if probchip.ndim != 2:
        raise ValueError(f"probchip must have shape (H, W), got {probchip.shape}")
    grey = np.ascontiguousarray(np.round(np.clip(probchip, 0.0, 1.0) * 255).astype(np.uint8))
    height, width = grey.shape
    return QImage(grey.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


def dimmed_grey(pixels: np.ndarray, brightness: float = 0.6) -> np.ndarray:
    """Return a (H, W, 3) uint8 BGR greyscale copy of a chip, darkened to ``brightness``.

    The heatmap view draws its colours over this, so they stand out from the chip.
    """
    grey = pixels.astype(np.float32) @ np.array([0.114, 0.587, 0.299], dtype=np.float32)
    grey = np.clip(grey * brightness, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


@dataclass(frozen=True)
class EvidenceMaps:
    """Evidence heatmaps of both chips under one normalisation."""

    heat_a: np.ndarray  # (h_a, w_a) float32 evidence density over chip A
    heat_b: np.ndarray  # (h_b, w_b) float32 evidence density over chip B
    vmax: float  # the larger maximum of the two; 0 when no evidence counts

    def overlays(self) -> tuple[QImage, QImage]:
        """Return the RGBA overlays of chip A and chip B."""
        return (
            rgba_to_qimage(evidence_rgba(self.heat_a, self.vmax)),
            rgba_to_qimage(evidence_rgba(self.heat_b, self.vmax)),
        )


def evidence_maps(match: PairMatch, score: PairScore) -> EvidenceMaps:
    """Spread each inlier's weighted score ``fs * weight`` over both chips.

    Excluded inliers and inliers cut by the threshold have weight 0 in
    ``score.weights`` and add nothing.
    """
    fm = match.inlier_fm
    values = match.inlier_fs.astype(np.float32) * score.weights
    heat_a = evidence_heatmap(match.a.chip.size, match.a.features.kpts[fm[:, 0]], values)
    heat_b = evidence_heatmap(match.b.chip.size, match.b.features.kpts[fm[:, 1]], values)
    vmax = float(max(heat_a.max(initial=0.0), heat_b.max(initial=0.0)))
    return EvidenceMaps(heat_a, heat_b, vmax)
