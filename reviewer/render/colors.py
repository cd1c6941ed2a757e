"""Colour scales of the match views, as numpy lookups and QColors.

* The fgweight scale runs from dark red (background, weight 0) through red to
  yellow (animal, weight 1). It colours correspondences and their ellipses.
* The evidence scale colours the heatmap. It runs from blue through cyan to
  white, so that it cannot be mistaken for the fgweight scale. Its opacity
  grows with the value, so that chip pixels without evidence stay visible.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PySide6.QtGui import QColor

#: (position in [0, 1], (r, g, b)) stops of the fgweight scale.
WEIGHT_STOPS = (
    (0.0, (110, 0, 0)),
    (0.45, (215, 40, 0)),
    (0.75, (250, 150, 0)),
    (1.0, (255, 240, 0)),
)

#: Stops of the evidence scale: blue through cyan to white ("ice").
EVIDENCE_STOPS = (
    (0.0, (20, 60, 255)),
    (0.4, (0, 200, 255)),
    (0.75, (120, 255, 230)),
    (1.0, (255, 255, 255)),
)

#: Correspondences that are excluded as the same point of one photo (magenta).
EXCLUDED_RGB = (255, 0, 220)
#: Correspondences coloured without fgweights, when no background model applies.
NO_WEIGHT_RGB = (90, 200, 255)
#: Warning text and frames.
WARNING_RGB = (200, 80, 0)
#: Ratio-test matches that sver rejected, drawn only on request.
OUTLIER_RGB = (170, 170, 170)
#: The selected correspondence, drawn over a dark halo. Green is on neither colour
#: scale and differs from the magenta of excluded and the light blue of unweighted ones.
HIGHLIGHT_RGB = (60, 255, 60)


def ramp(values: np.ndarray, stops=WEIGHT_STOPS) -> np.ndarray:
    """Map values in [0, 1] to colours by linear interpolation between stops.

    Parameters
    ----------
    values : (...) float
        Values outside [0, 1] are clipped; NaN maps to 0.

    Returns
    -------
    (..., 3) uint8
        RGB colours.
    """
    values = np.nan_to_num(np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0))
    positions = np.array([p for p, _ in stops])
    colours = np.array([c for _, c in stops], dtype=np.float64)
    channels = [np.interp(values, positions, colours[:, k]) for k in range(3)]
    return np.round(np.stack(channels, axis=-1)).astype(np.uint8)


def rgb_qcolor(rgb: tuple[int, int, int], alpha: int = 255) -> QColor:
    """Return a QColor from an (r, g, b) tuple."""
    return QColor(rgb[0], rgb[1], rgb[2], alpha)


def evidence_rgba(heat: np.ndarray, vmax: float, max_alpha: int = 220) -> np.ndarray:
    """Colour an evidence heatmap, transparent where there is no evidence.

    Parameters
    ----------
    heat : (H, W) float
        Evidence density.
    vmax : float
        Value drawn in white at full opacity; shared by chip A and chip B so
        that their maps compare. 0 or less gives a fully transparent image.
        Colour and opacity follow ``sqrt(heat / vmax)``.

    Returns
    -------
    (H, W, 4) uint8
        RGBA pixels.
    """
    heat = np.asarray(heat, dtype=np.float32)
    if heat.ndim != 2:
        raise ValueError(f"heat must have shape (H, W), got {heat.shape}")
    if vmax <= 0:
        return np.zeros(heat.shape + (4,), dtype=np.uint8)
    # The slider recolours both maps on every step, so each pixel is one
    # lookup into a 1024-entry table instead of an interpolation.
    index = np.clip(heat * np.float32((_EVIDENCE_STEPS - 1) / vmax), 0, _EVIDENCE_STEPS - 1)
    return _evidence_table(max_alpha)[index.astype(np.intp)]


_EVIDENCE_STEPS = 1024


@lru_cache(maxsize=4)
def _evidence_table(max_alpha: int) -> np.ndarray:
    """Return the (_EVIDENCE_STEPS, 4) RGBA colours of heat / vmax from 0 to 1."""
    # A square root scale, so that evidence spread over large keypoints still
    # shows next to a compact cluster of small ones.
    level = np.sqrt(np.linspace(0.0, 1.0, _EVIDENCE_STEPS))
    table = np.empty((_EVIDENCE_STEPS, 4), dtype=np.uint8)
    table[:, :3] = ramp(level, EVIDENCE_STOPS)
    table[:, 3] = np.round(max_alpha * np.clip(1.5 * level, 0.0, 1.0)).astype(np.uint8)
    return table
