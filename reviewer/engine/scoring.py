"""Pair scores from verified correspondences and fgweights.

This is the live path: it runs on cached sver inliers every time the mask
threshold moves, so it is plain array arithmetic and never touches FLANN or sver.

For sver inlier ``i`` with score ``fs[i]`` and keypoint weights ``w_a[i]``,
``w_b[i]``:

* soft weight ``sqrt(w_a * w_b)``, HotSpotter's rule;
* with threshold ``t > 0``, weight 0 when ``w_a < t`` or ``w_b < t``;
* with weighting off, weight 1 everywhere;
* pair score ``sum(fs * weight)`` over the inliers that count;
* a correspondence is background when ``min(w_a, w_b) < background_cut``.
  The split always uses the model's fgweights, even with weighting off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScoreConfig:
    """Settings of the live re-scoring."""

    threshold: float = 0.0  # mask threshold t in [0, 1]; 0 is plain HotSpotter weighting
    fg_weighting: bool = True  # False sets every weight to 1 (HotSpotter with fg_on=False)
    background_cut: float = 0.5  # min(w_a, w_b) below this counts as background

    def __post_init__(self):
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], not {self.threshold}")
        if not 0.0 <= self.background_cut <= 1.0:
            raise ValueError(f"background_cut must be in [0, 1], not {self.background_cut}")


@dataclass(frozen=True)
class PairScore:
    """A pair's score and its foreground / background split."""

    config: ScoreConfig
    score: float
    score_foreground: float | None  # None when no fgweights exist (no usable model)
    score_background: float | None
    background_share: float | None  # score_background / score; None when score is 0
    background_share_unweighted: float | None  # the same split over raw fs sums
    weights: np.ndarray  # (I,) float32 weight of each inlier; 0 for excluded ones
    is_background: np.ndarray  # (I,) bool; all False when no fgweights exist
    num_counted: int  # inliers that contribute a non-zero weight


def score_inliers(
    fs: np.ndarray,
    w_a: np.ndarray | None,
    w_b: np.ndarray | None,
    counted: np.ndarray | None = None,
    config: ScoreConfig | None = None,
) -> PairScore:
    """Score sver inliers.

    Parameters
    ----------
    fs : (I,) float
        Match score of each inlier.
    w_a, w_b : (I,) float or None
        fgweights of each inlier's keypoints in chip A and chip B. None when no
        background model applies; weighting is then off and there is no split.
    counted : (I,) bool, optional
        False for inliers that are excluded from the score (the same physical
        point seen twice in one photo). Default: all count.
    config : ScoreConfig, optional
    """
    config = config or ScoreConfig()
    fs = np.asarray(fs, dtype=np.float64).reshape(-1)
    counted = np.ones(len(fs), bool) if counted is None else np.asarray(counted, bool)
    if counted.shape != fs.shape:
        raise ValueError(f"counted must have shape {fs.shape}, got {counted.shape}")
    has_fg = w_a is not None and w_b is not None

    # Weights: soft, then the hard cut-off, then the excluded inliers.
    if has_fg:
        w_a = np.asarray(w_a, dtype=np.float64).reshape(-1)
        w_b = np.asarray(w_b, dtype=np.float64).reshape(-1)
        if w_a.shape != fs.shape or w_b.shape != fs.shape:
            raise ValueError(
                f"w_a and w_b must have shape {fs.shape}, got {w_a.shape} and {w_b.shape}"
            )
    if has_fg and config.fg_weighting:
        weights = np.sqrt(w_a * w_b)
        if config.threshold > 0:
            weights[(w_a < config.threshold) | (w_b < config.threshold)] = 0.0
    else:
        weights = np.ones_like(fs)
    weights[~counted] = 0.0

    # Score and its split.
    contrib = fs * weights
    score = float(contrib.sum())
    if not has_fg:
        return PairScore(
            config=config,
            score=score,
            score_foreground=None,
            score_background=None,
            background_share=None,
            background_share_unweighted=None,
            weights=weights.astype(np.float32),
            is_background=np.zeros(len(fs), bool),
            num_counted=int(np.count_nonzero(contrib > 0)),
        )

    is_background = np.minimum(w_a, w_b) < config.background_cut
    score_background = float(contrib[is_background].sum())
    raw = fs * counted
    raw_total = float(raw.sum())
    return PairScore(
        config=config,
        score=score,
        score_foreground=score - score_background,
        score_background=score_background,
        background_share=score_background / score if score > 0 else None,
        background_share_unweighted=(
            float(raw[is_background].sum()) / raw_total if raw_total > 0 else None
        ),
        weights=weights.astype(np.float32),
        is_background=is_background,
        num_counted=int(np.count_nonzero(contrib > 0)),
    )
