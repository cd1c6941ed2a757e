"""Consistency checks of cache entries that were read back from disk.

A cache entry can be a valid ``.npz`` archive and still not fit the
annotations it is used with: a file edited by hand, or written by a buggy
version under the same key. Indices that point past the keypoints would fail
far from the cache, as an IndexError while scoring or drawing. These checks
raise ``ValueError`` at once, so the caller treats the entry as a miss and
recomputes it.
"""

from __future__ import annotations

import numpy as np

from reviewer.engine.features import Features
from reviewer.engine.matching import Matches
from reviewer.engine.sver import SverResult


def check_annot_entry(
    chip_shape: tuple[int, ...],
    features: Features,
    probchip: np.ndarray | None,
    fgweights: np.ndarray | None,
) -> None:
    """Raise ``ValueError`` when the probchip or fgweights do not fit the chip and kpts.

    Parameters
    ----------
    chip_shape : tuple
        Shape of the chip's pixels, (H, W) or (H, W, 3).
    features : Features
        Its kpts (N, 6) and vecs (N, 128); ``Features`` checks their shapes.
    probchip : (H, W) array or None
    fgweights : (N,) array or None
    """
    if probchip is not None and probchip.shape != tuple(chip_shape[:2]):
        raise ValueError(f"probchip has shape {probchip.shape}, not the chip's {chip_shape[:2]}")
    if fgweights is not None and fgweights.shape != (len(features),):
        raise ValueError(f"fgweights has shape {fgweights.shape}, not ({len(features)},)")


def check_pair_entry(
    matches: Matches, verified: SverResult, num_kpts_a: int, num_kpts_b: int
) -> None:
    """Raise ``ValueError`` when an index of a cached pair points outside its arrays.

    ``fm`` must index the kpts of chip A (``num_kpts_a``) and chip B
    (``num_kpts_b``), and the sver inliers must index ``fm``.
    """
    fm = matches.fm
    for column, num_kpts, chip in ((0, num_kpts_a, "A"), (1, num_kpts_b, "B")):
        if not _all_below(fm[:, column], num_kpts):
            raise ValueError(f"fm points outside the {num_kpts} kpts of chip {chip}")
    for name in ("inliers", "aff_inliers"):
        index = np.asarray(getattr(verified, name))
        if index.ndim != 1 or not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"{name} must be a 1-D integer array, got {index.dtype} {index.shape}")
        if not _all_below(index, len(fm)):
            raise ValueError(f"{name} points outside the {len(fm)} matches")
    if len(verified.xy_err) != len(verified.inliers):
        raise ValueError(
            f"xy_err has {len(verified.xy_err)} values for {len(verified.inliers)} inliers"
        )


def _all_below(index: np.ndarray, size: int) -> bool:
    """True when every index is in [0, size); an empty array passes."""
    return len(index) == 0 or (index.min() >= 0 and index.max() < size)
