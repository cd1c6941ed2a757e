"""Placement of two chips side by side, and keypoint ellipses as polygons.

Everything here is numpy only. The figure and the GUI views share one
coordinate system, "pair coordinates": chip A's pixels at the origin and chip
B's pixels shifted right by ``PairLayout.offset_b``. Both chips keep their own
pixel scale, so one unit is one chip pixel everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reviewer.engine.chips import Chip
from reviewer.engine.features import kpts_to_invVR


@dataclass(frozen=True)
class PairLayout:
    """Two chips side by side, top-aligned, with a gap between them."""

    size_a: tuple[int, int]  # (width, height) of chip A in px
    size_b: tuple[int, int]  # (width, height) of chip B in px
    gap_px: float = 24.0  # horizontal space between the chips, in chip px

    def __post_init__(self):
        for name in ("size_a", "size_b"):
            width, height = getattr(self, name)
            if width < 1 or height < 1:
                raise ValueError(f"{name} must be at least 1x1 px, got {width}x{height}")
        if self.gap_px < 0:
            raise ValueError(f"gap_px must be >= 0, not {self.gap_px}")

    @property
    def offset_b(self) -> float:
        """x offset of chip B in pair coordinates."""
        return self.size_a[0] + self.gap_px

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) of both chips together, in pair coordinates."""
        return (self.offset_b + self.size_b[0], float(max(self.size_a[1], self.size_b[1])))

    def to_pair_b(self, xy: np.ndarray) -> np.ndarray:
        """Shift (N, 2) chip B coordinates into pair coordinates."""
        return np.asarray(xy, dtype=np.float64) + (self.offset_b, 0.0)


def side_by_side(size_a: tuple[int, int], size_b: tuple[int, int]) -> PairLayout:
    """Return the layout of two chips with a gap of 4 % of chip A's width."""
    return PairLayout(size_a, size_b, gap_px=0.04 * size_a[0])


def kpt_ellipses(kpts: np.ndarray, num_points: int = 24) -> np.ndarray:
    """Outline each keypoint's ellipse as a closed polygon.

    The ellipse is ``invV @ R(ori)`` applied to the unit circle and moved to
    ``(x, y)``, where ``invV = [[iv11, 0], [iv21, iv22]]``.

    Parameters
    ----------
    kpts : (N, 6) float
        ``x, y, iv11, iv21, iv22, ori`` in chip pixels and radians.
    num_points : int
        Vertices per polygon.

    Returns
    -------
    (N, num_points, 2) float64
        Polygon vertices in chip pixels.
    """
    kpts = np.asarray(kpts, dtype=np.float64)
    if kpts.ndim != 2 or kpts.shape[1] != 6:
        raise ValueError(f"kpts must have shape (N, 6), got {kpts.shape}")
    if num_points < 3:
        raise ValueError(f"num_points must be >= 3, not {num_points}")

    shape = kpts_to_invVR(kpts)
    x, y = kpts[:, 0], kpts[:, 1]

    # Map the unit circle through each matrix, then translate.
    angles = np.linspace(0.0, 2.0 * np.pi, num_points, endpoint=False)
    circle = np.stack([np.cos(angles), np.sin(angles)])  # (2, P)
    outline = np.einsum("nij,jp->npi", shape, circle)  # (N, P, 2)
    return outline + np.stack([x, y], axis=1)[:, None, :]


def chip_outline_in_photo(chip: Chip) -> np.ndarray:
    """Return the (4, 2) corners of a chip's border in photo pixels.

    They are the corners of the annotation's rotated box, in the order top-left,
    top-right, bottom-right, bottom-left of the chip.
    """
    width, height = chip.size
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    return chip.to_photo(corners)
