"""Per-keypoint foreground weights (fgweights) from a probchip.

HotSpotter warps the probchip under each keypoint's ellipse into a 41x41 patch
(the unit circle spans 3 * sqrt(41) patch pixels), blurs the patch with sigma
1.5, and takes its Gaussian-weighted mean with sigma 6.5 px. Blurring and then
weighting by a Gaussian equals weighting by the blurred Gaussian, so here every
patch is sampled at once with ``cv2.remap`` and reduced with one fixed 41x41
window. The two differ only where the blur meets the patch border.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reviewer.engine.features import kpts_to_invVR


@dataclass(frozen=True)
class FgWeightConfig:
    """Sampling of the probchip under each keypoint."""

    patch_size_px: int = 41  # side of the square patch each ellipse is warped to
    blur_sigma_px: float = 1.5  # blur applied to the warped patch, in patch pixels
    chunk_size: int = 256  # keypoints sampled per remap call (< 32767); ~5 MB of scratch

    def __post_init__(self):
        if self.patch_size_px < 3:
            raise ValueError(f"patch_size_px must be >= 3, not {self.patch_size_px}")
        if not 1 <= self.chunk_size < 32767:
            raise ValueError(f"chunk_size must be in [1, 32766], not {self.chunk_size}")

    @property
    def unit_circle_radius_px(self) -> float:
        """Radius of the keypoint's unit circle inside the patch."""
        return float(np.sqrt(self.patch_size_px) * 3.0)

    @property
    def window_sigma_px(self) -> float:
        """Sigma of the Gaussian window, OpenCV's default for a kernel of this size."""
        return 0.3 * ((self.patch_size_px - 1) * 0.5 - 1) + 0.8


def compute_fgweights(
    probchip: np.ndarray, kpts: np.ndarray, config: FgWeightConfig | None = None
) -> np.ndarray:
    """Average the probchip over each keypoint's ellipse under a Gaussian window.

    Parameters
    ----------
    probchip : (H, W) float32
        Foreground probability in [0, 1], in chip pixels.
    kpts : (N, 6) float32
        Keypoints in the same chip pixels.

    Returns
    -------
    (N,) float32
        fgweights in [0, 1].
    """
    config = config or FgWeightConfig()
    if probchip.ndim != 2:
        raise ValueError(f"probchip must have shape (H, W), got {probchip.shape}")
    if kpts.ndim != 2 or kpts.shape[1] != 6:
        raise ValueError(f"kpts must have shape (N, 6), got {kpts.shape}")
    if len(kpts) == 0:
        return np.zeros(0, dtype=np.float32)

    probchip = np.ascontiguousarray(probchip, dtype=np.float32)
    kpts = np.asarray(kpts, dtype=np.float32)
    window = _window(config).ravel()
    coords = _patch_coords(config)
    # One buffer for the maps of every chunk: small enough to stay in the CPU
    # cache, and reused, because fresh pages of a large array are slow to map.
    size = config.patch_size_px
    maps = np.empty((2, min(config.chunk_size, len(kpts)), size, size), dtype=np.float32)
    weights = np.empty(len(kpts), dtype=np.float32)
    for start in range(0, len(kpts), config.chunk_size):
        chunk = kpts[start : start + config.chunk_size]
        patches = _sample_patches(probchip, chunk, coords, maps[:, : len(chunk)])
        weights[start : start + len(chunk)] = np.einsum("ij,j->i", patches, window)
    return np.clip(weights, 0.0, 1.0)


def _window(config: FgWeightConfig) -> np.ndarray:
    """Return the Gaussian window, blurred like the patch, summing to one."""
    size = config.patch_size_px
    g = cv2.getGaussianKernel(size, config.window_sigma_px)
    window = (g @ g.T).astype(np.float32)
    window = cv2.GaussianBlur(
        window, (0, 0), sigmaX=config.blur_sigma_px, borderType=cv2.BORDER_REPLICATE
    )
    return window / window.sum()


def _patch_coords(config: FgWeightConfig) -> np.ndarray:
    """Return the (P,) patch pixel centres along one axis, in unit-circle coordinates."""
    size = config.patch_size_px
    coords = (np.arange(size, dtype=np.float64) - size / 2.0 + 0.5) / config.unit_circle_radius_px
    return coords.astype(np.float32)


def _sample_patches(
    probchip: np.ndarray, kpts: np.ndarray, coords: np.ndarray, maps: np.ndarray
) -> np.ndarray:
    """Sample the probchip on each keypoint's patch grid.

    Parameters
    ----------
    coords : (P,) float32
        Patch pixel centres along one axis, in unit-circle coordinates.
    maps : (2, n, P, P) float32
        Scratch space for the remap coordinates.

    Returns
    -------
    (n, P*P) float32
    """
    # Unit-circle coordinates (gx, gy) -> chip pixels: rotate by ori, apply
    # invV, then translate. Along each chip axis,
    #     map[row, col] = (x0 + b * gy[row]) + a * gx[col],
    # a row term plus a column term, so each map is written in a single pass.
    # Plain ufuncs rather than BLAS: two annotations run this at the same time
    # in two threads, and BLAS's own threads would fight over the cores.
    # One row per keypoint keeps the maps within remap's limit of 32767 rows.
    invVR = kpts_to_invVR(kpts).astype(np.float32)
    num, size = len(kpts), len(coords)
    for axis in (0, 1):
        row_term = kpts[:, axis : axis + 1] + invVR[:, axis, 1:2] * coords
        col_term = invVR[:, axis, 0:1] * coords
        np.add(row_term[:, :, None], col_term[:, None, :], out=maps[axis])
    map_x = maps[0].reshape(num, size * size)
    map_y = maps[1].reshape(num, size * size)
    return cv2.remap(
        probchip, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
