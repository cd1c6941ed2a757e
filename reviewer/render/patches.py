"""Keypoint patches: the chip region under a keypoint, warped to a square.

The warp undoes the keypoint's affine shape, so its ellipse becomes a circle of
radius ``size_px / (2 * extent)`` in the middle of the patch. Two patches of one
correspondence then show what the SIFT descriptors compared.
"""

from __future__ import annotations

import cv2
import numpy as np

from reviewer.engine.features import kpts_to_invVR

#: Side of a patch, in px.
PATCH_SIZE_PX = 96
#: Half-width of the patch in units of the keypoint's ellipse radius.
PATCH_EXTENT = 3.0


def keypoint_patch(
    pixels: np.ndarray,
    kpt: np.ndarray,
    size_px: int = PATCH_SIZE_PX,
    extent: float = PATCH_EXTENT,
) -> np.ndarray:
    """Warp the region of one keypoint to a square patch.

    Parameters
    ----------
    pixels : (H, W, 3) uint8
        The chip, BGR.
    kpt : (6,) float
        ``x, y, iv11, iv21, iv22, ori`` in chip pixels and radians.
    size_px : int
        Side of the patch.
    extent : float
        The patch spans ``extent`` ellipse radii on each side of the centre.

    Returns
    -------
    (size_px, size_px, 3) uint8
        BGR patch; chip pixels outside the chip come out black.
    """
    pixels = np.asarray(pixels)
    kpt = np.asarray(kpt, dtype=np.float64).reshape(-1)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8 pixels, got {pixels.shape} {pixels.dtype}")
    if kpt.shape != (6,):
        raise ValueError(f"kpt must have shape (6,), got {kpt.shape}")
    if size_px < 4 or extent <= 0:
        raise ValueError(f"size_px must be >= 4 and extent > 0, got {size_px} and {extent}")

    # Patch pixel centre (j + 0.5, i + 0.5) is the unit-circle point u = step * (j + 0.5) - extent,
    # and the keypoint's matrix maps u into the chip.
    step = 2.0 * extent / size_px
    shape = kpts_to_invVR(kpt[None, :])[0]
    offset = shape @ np.array([0.5 * step - extent, 0.5 * step - extent]) + kpt[:2]
    patch_to_chip = np.hstack([shape * step, offset[:, None]])
    return cv2.warpAffine(
        pixels,
        patch_to_chip,
        (size_px, size_px),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
    )


def patch_circle_radius(size_px: int = PATCH_SIZE_PX, extent: float = PATCH_EXTENT) -> float:
    """Return the radius, in patch px, of the keypoint's ellipse inside its patch."""
    return size_px / (2.0 * extent)
