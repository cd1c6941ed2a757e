"""Hessian-affine keypoints and SIFT descriptors from pyhesaff."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters passed to ``pyhesaff.detect_feats_in_image``.

    The defaults are pyhesaff's own (version 2.x), which are HotSpotter's.
    """

    numberOfScales: int = 3  # noqa: N815 -- pyhesaff's parameter names
    threshold: float = 16.0 / 3.0  # Hessian response threshold
    edgeEigenValueRatio: float = 10.0  # noqa: N815 -- reject edge-like responses above this
    maxPyramidLevels: int = -1  # noqa: N815 -- -1 means as many as the chip allows
    rotation_invariance: bool = False  # gravity is assumed, as in HotSpotter
    affine_invariance: bool = True

    def __post_init__(self):
        if self.numberOfScales < 1:
            raise ValueError(f"numberOfScales must be >= 1, not {self.numberOfScales}")
        if self.threshold <= 0:
            raise ValueError(f"threshold must be > 0, not {self.threshold}")


@dataclass(frozen=True)
class Features:
    """Keypoints and descriptors of one chip."""

    kpts: np.ndarray  # (N, 6) float32: x, y, iv11, iv21, iv22, ori in chip pixels
    vecs: np.ndarray  # (N, 128) uint8 SIFT

    def __post_init__(self):
        if self.kpts.ndim != 2 or self.kpts.shape[1] != 6:
            raise ValueError(f"kpts must have shape (N, 6), got {self.kpts.shape}")
        if self.vecs.shape != (len(self.kpts), 128):
            raise ValueError(f"vecs must have shape ({len(self.kpts)}, 128), got {self.vecs.shape}")
        if self.vecs.dtype != np.uint8:
            raise ValueError(f"vecs must be uint8, got {self.vecs.dtype}")

    def __len__(self) -> int:
        return len(self.kpts)


def extract_features(chip: np.ndarray, config: FeatureConfig | None = None) -> Features:
    """Detect Hessian-affine keypoints in a chip and describe them with SIFT.

    Parameters
    ----------
    chip : (H, W, 3) or (H, W) uint8
        The chip, BGR or grey.

    Returns
    -------
    Features
        With zero rows when the chip has no texture.
    """
    import pyhesaff  # deferred: the C++ library takes a moment to load

    config = config or FeatureConfig()
    if chip.dtype != np.uint8 or chip.ndim not in (2, 3):
        raise ValueError(f"chip must be a (H, W[, 3]) uint8 array, got {chip.dtype} {chip.shape}")

    kpts, vecs = pyhesaff.detect_feats_in_image(np.ascontiguousarray(chip), **asdict(config))
    kpts = np.ascontiguousarray(kpts, dtype=np.float32).reshape(-1, 6)
    vecs = np.ascontiguousarray(vecs, dtype=np.uint8).reshape(-1, 128)
    return Features(kpts=kpts, vecs=vecs)


def kpts_to_invVR(kpts: np.ndarray) -> np.ndarray:
    """Return the (N, 2, 2) float64 matrices ``invV @ R(ori)`` of each keypoint.

    Each maps the unit circle, turned by the keypoint's orientation, onto the
    keypoint's ellipse in chip pixels (before the translation to ``x, y``).
    """
    kpts = np.asarray(kpts, dtype=np.float64)
    _, _, iv11, iv21, iv22, ori = kpts.T
    cos, sin = np.cos(ori), np.sin(ori)
    invVR = np.empty((len(kpts), 2, 2))
    invVR[:, 0, 0] = iv11 * cos
    invVR[:, 0, 1] = -iv11 * sin
    invVR[:, 1, 0] = iv21 * cos + iv22 * sin
    invVR[:, 1, 1] = iv22 * cos - iv21 * sin
    return invVR
