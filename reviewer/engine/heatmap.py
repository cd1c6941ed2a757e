"""Heatmaps of matching evidence over a chip.

Each counted correspondence adds a Gaussian at its keypoint, with a sigma equal
to the keypoint's scale and a mass equal to its weighted score ``fs * weight``.
Keypoints are grouped into a few scale bands so that the map costs one blur per
band instead of one stamp per keypoint; that keeps it on the live path.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Upper edges of the scale bands, in chip pixels. A keypoint's sigma is rounded
#: to the geometric centre of its band.
_BAND_EDGES_PX = np.array([3.0, 6.0, 12.0, 24.0, 48.0, np.inf])


def kpt_scales(kpts: np.ndarray) -> np.ndarray:
    """Return the (N,) scale of each keypoint, sqrt of its ellipse area / pi, in pixels."""
    return np.sqrt(np.abs(kpts[:, 2] * kpts[:, 4])).astype(np.float32)


def evidence_heatmap(
    chip_size: tuple[int, int],
    kpts: np.ndarray,
    values: np.ndarray,
    downscale: int = 2,
) -> np.ndarray:
    """Spread each keypoint's evidence over the chip.

    Parameters
    ----------
    chip_size : (width, height)
    kpts : (N, 6) float32
        Keypoints of the counted correspondences, in chip pixels.
    values : (N,) float
        Evidence of each correspondence, ``fs * weight``.
    downscale : int
        The map is built at 1/downscale of the chip and resized back.

    Returns
    -------
    (height, width) float32
        Evidence density; its sum equals ``values.sum()`` up to border losses.
    """
    width, height = chip_size
    if len(kpts) != len(values):
        raise ValueError(f"kpts and values differ in length: {len(kpts)} != {len(values)}")
    small_w, small_h = max(1, width // downscale), max(1, height // downscale)
    heat = np.zeros((small_h, small_w), dtype=np.float32)
    keep = np.asarray(values) > 0
    if not keep.any():
        return np.zeros((height, width), dtype=np.float32)

    kpts, values = kpts[keep], np.asarray(values, dtype=np.float32)[keep]
    cols = np.clip((kpts[:, 0] / downscale).astype(int), 0, small_w - 1)
    rows = np.clip((kpts[:, 1] / downscale).astype(int), 0, small_h - 1)
    band = np.searchsorted(_BAND_EDGES_PX, kpt_scales(kpts))

    for b in np.unique(band):
        impulses = np.zeros_like(heat)
        sel = band == b
        np.add.at(impulses, (rows[sel], cols[sel]), values[sel])
        low = _BAND_EDGES_PX[b - 1] if b > 0 else 1.5
        high = _BAND_EDGES_PX[b] if np.isfinite(_BAND_EDGES_PX[b]) else 2 * low
        sigma = max(0.5, np.sqrt(low * high) / downscale)
        heat += cv2.GaussianBlur(impulses, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_CONSTANT)

    heat = cv2.resize(heat, (width, height), interpolation=cv2.INTER_LINEAR)
    return heat / float(downscale * downscale)
