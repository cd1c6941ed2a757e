"""Reference methods that a background model must beat.

GrabCut (``cv2.grabCut``) segments an object from a box alone: it fits colour
mixture models to the pixels outside the box (background) and inside it
(probably foreground), then cuts the image graph. It needs no training, so it
is the baseline a trained model has to beat to be worth shipping.

The baseline runs on the photo, not on the chip. It takes a crop of the photo
around the box, with some context on each side so that GrabCut sees background
pixels, and initialises GrabCut with the box as its rectangle. The resulting
label mask is then warped into the chip with the chip's own affine transform
and nearest-neighbour sampling, exactly as the true mask is, so the two share
the chip grid of ``extract_chip``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from reviewer.engine.chips import ChipConfig, chip_size, photo_to_chip_transform
from reviewer.training.data import BBox

log = logging.getLogger(__name__)

#: GrabCut fits 5-component Gaussian mixtures to each side; with fewer pixels
#: than that on one side its k-means initialisation fails.
MIN_SIDE_PIXELS = 5


@dataclass(frozen=True)
class GrabCutConfig:
    """How the GrabCut baseline runs."""

    iterations: int = 5  # GrabCut iterations after the box initialisation
    context_fraction: float = 0.15  # crop margin on each side, as a fraction of the box side
    seed: int = 0  # OpenCV RNG seed, set before every call so that results repeat

    def __post_init__(self):
        if self.iterations < 1:
            raise ValueError(f"iterations must be >= 1, not {self.iterations}")
        if self.context_fraction < 0.0:
            raise ValueError(f"context_fraction must be >= 0, not {self.context_fraction}")


def grabcut_probchip(
    photo: np.ndarray,
    bbox: BBox,
    config: GrabCutConfig | None = None,
    chip_config: ChipConfig | None = None,
) -> np.ndarray:
    """Segment the box with GrabCut and return the result on the chip's grid.

    Parameters
    ----------
    photo : (H, W, 3) uint8
        BGR photo.
    bbox
        x, y, w, h in photo pixels; the chip is ``extract_chip(photo, bbox, 0)``.
    config, chip_config
        GrabCut settings, and the chip settings that fix the chip size.

    Returns
    -------
    probchip : (h, w) float32
        1.0 where GrabCut labels the pixel foreground or probable foreground,
        else 0.0. When the crop has too few pixels inside or outside the box to
        fit GrabCut's models, every pixel is 1.0, so the box itself is the segmentation.
    """
    config = config or GrabCutConfig()
    chip_config = chip_config or ChipConfig()
    crop_box, rect = _context_crop(photo.shape, bbox, config.context_fraction)
    x0, y0, x1, y1 = crop_box
    crop = np.ascontiguousarray(photo[y0:y1, x0:x1])
    labels = _run_grabcut(crop, rect, config)

    # Into the chip: photo -> chip transform after the crop's offset.
    dsize = chip_size(bbox, chip_config.dim_size_px)
    crop_to_chip = photo_to_chip_transform(bbox, 0.0, dsize) @ _translation(x0, y0)
    warped = cv2.warpAffine(
        labels,
        crop_to_chip[:2],
        dsize,
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return warped.astype(np.float32)


def _context_crop(shape, bbox: BBox, context_fraction: float):
    """Return the crop (x0, y0, x1, y1) around the box and the box inside it (x, y, w, h)."""
    height, width = shape[:2]
    x, y, w, h = bbox
    # The box in whole pixels: every pixel the box touches.
    bx0, by0 = max(0, math.floor(x)), max(0, math.floor(y))
    bx1, by1 = min(width, math.ceil(x + w)), min(height, math.ceil(y + h))
    x0 = max(0, math.floor(x - context_fraction * w))
    y0 = max(0, math.floor(y - context_fraction * h))
    x1 = min(width, math.ceil(x + w + context_fraction * w))
    y1 = min(height, math.ceil(y + h + context_fraction * h))
    rect = (bx0 - x0, by0 - y0, max(1, bx1 - bx0), max(1, by1 - by0))
    return (x0, y0, x1, y1), rect


def _run_grabcut(crop: np.ndarray, rect, config: GrabCutConfig) -> np.ndarray:
    """Return GrabCut's foreground of the crop, (h, w) uint8 with 1 = foreground."""
    height, width = crop.shape[:2]
    inside = rect[2] * rect[3]
    outside = height * width - inside
    if inside < MIN_SIDE_PIXELS or outside < MIN_SIDE_PIXELS:
        log.debug("GrabCut skipped: %d px inside and %d px outside the box", inside, outside)
        labels = np.zeros((height, width), np.uint8)
        x, y, w, h = rect
        labels[y : y + h, x : x + w] = 1
        return labels

    mask = np.zeros((height, width), np.uint8)
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(config.seed)
    cv2.grabCut(
        crop,
        mask,
        rect,
        background_model,
        foreground_model,
        config.iterations,
        cv2.GC_INIT_WITH_RECT,
    )
    return ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)


def _translation(tx: float, ty: float) -> np.ndarray:
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])
