"""HotSpotter spatial verification (sver) of feature correspondences.

The steps follow ``spatially_verify_kpts`` in vtool_ibeis 2.x
(``vtool_ibeis/spatial_verification.py``):

1. Every correspondence gives one affine hypothesis: the transform that maps
   keypoint A's ellipse, orientation included, onto keypoint B's.
2. A hypothesis's inliers are the correspondences it maps within the xy, scale
   and orientation thresholds. The hypothesis with the largest sum of ``fs``
   over its inliers wins.
3. A homography is fitted to the winner's inliers with the normalised DLT, and
   the final inliers are the correspondences it maps within the thresholds.
   With ``refine_method="affine"`` a least-squares affine transform replaces
   the homography.

A pair is verified when step 3 yields a transform. That needs at least
``min_nInliers`` affine inliers, and at least ``min_nInliers_homog`` for a
homography.

Errors are measured in chip B, the database chip. The xy threshold is a
fraction of chip B's squared diagonal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from reviewer.engine.features import kpts_to_invVR
from reviewer.engine.transforms import (
    apply_transform,
    estimate_affine,
    estimate_homography,
    transfer_error_sqrd,
)

log = logging.getLogger(__name__)

TAU = 2.0 * np.pi

_REFINE_METHODS = ("homog", "affine")


@dataclass(frozen=True)
class SverConfig:
    """Thresholds and refinement settings. The defaults are vtool_ibeis 2.x's."""

    # An inlier's squared xy error in chip B, in px^2, must be below
    # xy_thresh * (width^2 + height^2) of chip B: 0.01 is 10% of the diagonal.
    xy_thresh: float = 0.01
    # Maximum ratio of keypoint areas (squared scales), larger over smaller.
    scale_thresh: float = 2.0
    # Maximum orientation difference, in radians.
    ori_thresh: float = TAU / 4
    # Fewer affine inliers than this and the pair is not verified.
    min_nInliers: int = 4  # noqa: N815 -- vtool's parameter name
    # "homog": fit a homography to the affine inliers (vtool's default).
    # "affine": fit an affine transform to them by least squares.
    refine_method: str = "homog"
    # Under "homog", fewer affine inliers than this and the pair is not verified.
    # Deviation from the plain reading "affine below 7 inliers, homography from
    # 7": vtool rejects such a pair instead of keeping its affine hypothesis, so
    # 4 to 6 affine inliers never verify. We follow vtool to keep scores
    # comparable with HotSpotter's. The value 7 is vtool's. 4 points already fix
    # the 8 unknowns of a homography, so 7 leaves the fit some redundancy.
    min_nInliers_homog: int = 7  # noqa: N815 -- named after min_nInliers
    # With this many affine inliers or more, the affine hypothesis is taken as
    # the final transform and no homography is fitted, as in vtool.
    max_nInliers: int = 5000  # noqa: N815 -- vtool's parameter name
    # True: a homography inlier must also pass the scale and orientation tests,
    # measured with a reference point one keypoint scale away along the
    # keypoint's orientation. False: the xy test alone.
    full_homog_checks: bool = True
    # (hypothesis, correspondence) pairs tested together: the hypotheses of a
    # chunk times M. 16384 float64 values (128 KiB) per temporary array keep
    # the temporaries in the CPU cache; twice that ran about 1.6 times slower.
    chunk_size: int = 16384

    def __post_init__(self):
        if not self.xy_thresh > 0:
            raise ValueError(f"xy_thresh must be > 0, not {self.xy_thresh}")
        if not self.scale_thresh >= 1:
            raise ValueError(f"scale_thresh must be >= 1, not {self.scale_thresh}")
        if not 0 < self.ori_thresh <= TAU:
            raise ValueError(f"ori_thresh must be in (0, tau] radians, not {self.ori_thresh}")
        if self.min_nInliers < 1:
            raise ValueError(f"min_nInliers must be >= 1, not {self.min_nInliers}")
        if self.refine_method not in _REFINE_METHODS:
            raise ValueError(
                f"refine_method must be one of {_REFINE_METHODS}, not {self.refine_method!r}"
            )
        if self.min_nInliers_homog < 4:
            raise ValueError(f"min_nInliers_homog must be >= 4, not {self.min_nInliers_homog}")
        if self.max_nInliers < self.min_nInliers:
            raise ValueError(
                f"max_nInliers ({self.max_nInliers}) must be >= min_nInliers ({self.min_nInliers})"
            )
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, not {self.chunk_size}")


@dataclass(frozen=True)
class SverResult:
    """Outcome of spatial verification for one pair of chips."""

    inliers: np.ndarray  # (I,) int64 indices into fm; empty when not verified
    H: np.ndarray | None  # (3, 3) float64, chip A xy -> chip B xy; None when not verified
    aff_inliers: np.ndarray  # (J,) int64 indices into fm of the best affine hypothesis
    Aff: np.ndarray | None  # (3, 3) float64 best affine hypothesis; None when fm is empty
    xy_err: np.ndarray  # (I,) float64 squared xy error of each inlier under H, px^2
    reason: str = ""  # why the pair is not verified; empty when verified
    config: SverConfig | None = field(default=None, compare=False)

    @property
    def verified(self) -> bool:
        """True when a final transform ``H`` was found."""
        return self.H is not None


def spatially_verify(
    kpts_a: np.ndarray,
    kpts_b: np.ndarray,
    fm: np.ndarray,
    fs: np.ndarray,
    chip_size_b: tuple[int, int],
    config: SverConfig | None = None,
) -> SverResult:
    """Find the correspondences consistent with one transform from chip A to chip B.

    Parameters
    ----------
    kpts_a : (Na, 6) float
        Keypoints of chip A: x, y, iv11, iv21, iv22, ori.
    kpts_b : (Nb, 6) float
        Keypoints of chip B.
    fm : (M, 2) int
        Correspondences as (index into kpts_a, index into kpts_b).
    fs : (M,) float
        Correspondence scores. They weight the inlier count of each affine
        hypothesis.
    chip_size_b : (int, int)
        (width, height) of chip B in pixels.
    config : SverConfig, optional
        Defaults to ``SverConfig()``.

    Returns
    -------
    SverResult
        ``aff_inliers`` and ``Aff`` describe the best affine hypothesis
        whenever ``fm`` is not empty, even when the pair is not verified.
    """
    config = config or SverConfig()
    fm, fs = _check_inputs(kpts_a, kpts_b, fm, fs, chip_size_b)
    width, height = chip_size_b
    xy_thresh_sqrd = config.xy_thresh * (float(width) ** 2 + float(height) ** 2)
    if len(fm) == 0:
        return _not_verified("no correspondences", config)

    # Shapes of the matched keypoints, in float64 as vtool casts them.
    shapes_a = _KeypointShapes.from_kpts(np.asarray(kpts_a, dtype=np.float64)[fm[:, 0]])
    shapes_b = _KeypointShapes.from_kpts(np.asarray(kpts_b, dtype=np.float64)[fm[:, 1]])
    thresholds = _Thresholds(xy_thresh_sqrd, config.scale_thresh, config.ori_thresh)

    # Steps 1 and 2: the best affine hypothesis.
    Aff = _best_affine_hypothesis(shapes_a, shapes_b, fs, thresholds, config.chunk_size)
    aff_inliers = _affine_inliers(Aff, shapes_a, shapes_b, thresholds)
    min_inliers = config.min_nInliers
    if config.refine_method == "homog":
        min_inliers = max(min_inliers, config.min_nInliers_homog)
    if len(aff_inliers) < min_inliers:
        reason = f"{len(aff_inliers)} affine inliers, fewer than {min_inliers}"
        return _not_verified(reason, config, aff_inliers, Aff)
    if len(aff_inliers) >= config.max_nInliers:
        xy_err = transfer_error_sqrd(Aff, shapes_a.xy[aff_inliers], shapes_b.xy[aff_inliers])
        return SverResult(aff_inliers, Aff, aff_inliers, Aff, xy_err, config=config)

    # Step 3: fit the final transform to the affine inliers and test all of fm.
    xy_a, xy_b = shapes_a.xy[aff_inliers], shapes_b.xy[aff_inliers]
    if config.refine_method == "homog":
        H = estimate_homography(xy_a, xy_b)
    else:
        H = estimate_affine(xy_a, xy_b)
    if H is None:
        return _not_verified("the refined transform is degenerate", config, aff_inliers, Aff)
    if config.refine_method == "homog":
        inliers, xy_err = _homography_inliers(
            H, shapes_a, shapes_b, thresholds, config.full_homog_checks
        )
    else:
        inliers = _affine_inliers(H, shapes_a, shapes_b, thresholds)
        xy_err = transfer_error_sqrd(H, shapes_a.xy[inliers], shapes_b.xy[inliers])
    # NOTE: as in vtool, the refined inlier count is not checked against
    # min_nInliers, so a verified pair may keep fewer inliers than that.
    log.debug(
        "sver: %d correspondences, %d affine inliers, %d refined inliers",
        len(fm),
        len(aff_inliers),
        len(inliers),
    )
    return SverResult(inliers, H, aff_inliers, Aff, xy_err, config=config)


def _not_verified(
    reason: str,
    config: SverConfig,
    aff_inliers: np.ndarray | None = None,
    Aff: np.ndarray | None = None,
) -> SverResult:
    log.debug("sver: not verified: %s", reason)
    if aff_inliers is None:
        aff_inliers = np.empty(0, dtype=np.int64)
    return SverResult(
        inliers=np.empty(0, dtype=np.int64),
        H=None,
        aff_inliers=aff_inliers,
        Aff=Aff,
        xy_err=np.empty(0, dtype=np.float64),
        reason=reason,
        config=config,
    )


def _check_inputs(kpts_a, kpts_b, fm, fs, chip_size_b) -> tuple[np.ndarray, np.ndarray]:
    """Validate shapes and index ranges; return fm as int64 and fs as float64."""
    for name, kpts in (("kpts_a", kpts_a), ("kpts_b", kpts_b)):
        shape = np.shape(kpts)
        if len(shape) != 2 or shape[1] != 6:
            raise ValueError(f"{name} must have shape (N, 6), got {shape}")
    fm = np.asarray(fm)
    if fm.ndim != 2 or fm.shape[1] != 2:
        raise ValueError(f"fm must have shape (M, 2), got {fm.shape}")
    if len(fm) and not np.issubdtype(fm.dtype, np.integer):
        raise ValueError(f"fm must be an integer array, got {fm.dtype}")
    fm = fm.astype(np.int64, copy=False)
    fs = np.asarray(fs, dtype=np.float64)
    if fs.shape != (len(fm),):
        raise ValueError(f"fs must have shape ({len(fm)},), got {fs.shape}")
    if len(fm):
        for column, name, kpts in ((0, "kpts_a", kpts_a), (1, "kpts_b", kpts_b)):
            low, high = fm[:, column].min(), fm[:, column].max()
            if low < 0 or high >= len(kpts):
                raise ValueError(
                    f"fm[:, {column}] has invalid indices ({low} to {high}) for the "
                    f"{len(kpts)} rows of {name}; pass the kpts that fm was made from"
                )
    if len(chip_size_b) != 2 or min(chip_size_b) <= 0:
        raise ValueError(f"chip_size_b must be (width, height) > 0 in pixels, got {chip_size_b}")
    return fm, fs


# --- Keypoint geometry -------------------------------------------------------


@dataclass(frozen=True)
class _Thresholds:
    xy_sqrd: float  # px^2 in chip B
    scale: float  # ratio of squared scales
    ori: float  # radians


@dataclass(frozen=True)
class _KeypointShapes:
    """Matched keypoints as affine frames: the unit circle mapped onto each ellipse."""

    xy: np.ndarray  # (M, 2) float64 position in px
    invVR: np.ndarray  # noqa: N815 -- (M, 2, 2) float64: [[iv11, 0], [iv21, iv22]] @ rotation(ori)
    det: np.ndarray  # (M,) float64 squared scale iv11 * iv22, in px^2
    ori: np.ndarray  # (M,) float64 orientation in radians

    @classmethod
    def from_kpts(cls, kpts: np.ndarray) -> _KeypointShapes:
        x, y, iv11, _, iv22, ori = kpts.T
        invVR = kpts_to_invVR(kpts)
        return cls(xy=np.stack([x, y], axis=1), invVR=invVR, det=iv11 * iv22, ori=ori)


def _best_affine_hypothesis(
    shapes_a: _KeypointShapes,
    shapes_b: _KeypointShapes,
    fs: np.ndarray,
    thresholds: _Thresholds,
    chunk_size: int,
) -> np.ndarray:
    """Return the (3, 3) hypothesis whose inliers have the largest sum of fs.

    Hypothesis i maps keypoint frame A_i onto frame B_i:
    ``invVR_b[i] @ inv(invVR_a[i])``, plus the translation that takes
    ``xy_a[i]`` to ``xy_b[i]``. Ties go to the first hypothesis, as numpy's
    argmax does in vtool's Python path. (vtool's C++ path keeps the last one
    found, in an order that depends on its threads.)
    """
    linear = shapes_b.invVR @ _inverse_2x2(shapes_a.invVR)
    shift = shapes_b.xy - np.einsum("mij,mj->mi", linear, shapes_a.xy)

    best_index, best_weight = 0, -np.inf
    rows = max(1, chunk_size // max(1, len(linear)))  # hypotheses per chunk
    for start in range(0, len(linear), rows):
        stop = start + rows
        flags = _hypothesis_inlier_flags(
            linear[start:stop], shift[start:stop], shapes_a, shapes_b, thresholds
        )
        # A row sum gives equal hypotheses equal weights whatever the chunk
        # shape, which a matrix product does not guarantee.
        weights = (flags * fs).sum(axis=1)  # the same values as np.where(flags, fs, 0)
        index = int(np.argmax(weights))
        if weights[index] > best_weight:
            best_index, best_weight = start + index, weights[index]
    return _to_3x3(linear[best_index], shift[best_index])


def _affine_inliers(
    Aff: np.ndarray, shapes_a: _KeypointShapes, shapes_b: _KeypointShapes, thresholds: _Thresholds
) -> np.ndarray:
    """Return the int64 indices of the correspondences that ``Aff`` maps within the thresholds."""
    flags = _hypothesis_inlier_flags(
        Aff[None, :2, :2], Aff[None, :2, 2], shapes_a, shapes_b, thresholds
    )
    return np.flatnonzero(flags[0]).astype(np.int64)


def _hypothesis_inlier_flags(
    linear: np.ndarray,
    shift: np.ndarray,
    shapes_a: _KeypointShapes,
    shapes_b: _KeypointShapes,
    thresholds: _Thresholds,
) -> np.ndarray:
    """Test C affine hypotheses on all M correspondences; return (C, M) bool.

    Each keypoint frame of A is mapped by the hypothesis and compared with its
    partner in B: squared xy distance, ratio of squared scales and orientation
    difference.
    """
    # Broadcast (C, 1) hypothesis terms against (M,) correspondence terms.
    l00, l01 = linear[:, 0, 0, None], linear[:, 0, 1, None]
    l10, l11 = linear[:, 1, 0, None], linear[:, 1, 1, None]
    x_a, y_a = shapes_a.xy[:, 0], shapes_a.xy[:, 1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dx = l00 * x_a + l01 * y_a + shift[:, 0, None] - shapes_b.xy[:, 0]
        dy = l10 * x_a + l11 * y_a + shift[:, 1, None] - shapes_b.xy[:, 1]
        flags = dx**2 + dy**2 < thresholds.xy_sqrd

        det_mapped = (l00 * l11 - l01 * l10) * shapes_a.det
        flags &= _within_scale(det_mapped, shapes_b.det, thresholds.scale)

        # Only the first row of linear @ invVR_a is needed for the orientation.
        row_0 = l00 * shapes_a.invVR[:, 0, 0] + l01 * shapes_a.invVR[:, 1, 0]
        row_1 = l00 * shapes_a.invVR[:, 0, 1] + l01 * shapes_a.invVR[:, 1, 1]
        ori_mapped = -np.arctan2(row_1, row_0)
        flags &= _ori_distance(ori_mapped, shapes_b.ori) < thresholds.ori
    return flags


def _homography_inliers(
    H: np.ndarray,
    shapes_a: _KeypointShapes,
    shapes_b: _KeypointShapes,
    thresholds: _Thresholds,
    full_checks: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the indices of H's inliers and their squared xy errors in px^2.

    A homography does not map an ellipse onto an ellipse, so scale and
    orientation are measured with one reference point per keypoint. It lies one
    scale away along the keypoint's "up" direction, image up (0, -1) rotated
    by ori.
    """
    xy_mapped = apply_transform(H, shapes_a.xy)
    with np.errstate(invalid="ignore"):
        xy_err = np.sum((xy_mapped - shapes_b.xy) ** 2, axis=1)
        flags = xy_err < thresholds.xy_sqrd

        if full_checks:
            up = np.stack([np.sin(shapes_a.ori), -np.cos(shapes_a.ori)], axis=1)
            reference = shapes_a.xy + np.sqrt(shapes_a.det)[:, None] * up
            up_mapped = apply_transform(H, reference) - xy_mapped
            scale_sqrd_mapped = np.sum(up_mapped**2, axis=1)
            ori_mapped = np.arctan2(up_mapped[:, 1], up_mapped[:, 0]) + TAU / 4
            flags &= _within_scale(scale_sqrd_mapped, shapes_b.det, thresholds.scale)
            flags &= _ori_distance(ori_mapped, shapes_b.ori) < thresholds.ori

    inliers = np.flatnonzero(flags).astype(np.int64)
    return inliers, xy_err[inliers]


def _inverse_2x2(mats: np.ndarray) -> np.ndarray:
    """Invert (N, 2, 2) matrices; a singular one gives inf or NaN, never an error."""
    a, b = mats[:, 0, 0], mats[:, 0, 1]
    c, d = mats[:, 1, 0], mats[:, 1, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 1.0 / (a * d - b * c)
        return np.stack([np.stack([d, -b], -1), np.stack([-c, a], -1)], 1) * scale[:, None, None]


def _to_3x3(linear: np.ndarray, shift: np.ndarray) -> np.ndarray:
    M = np.eye(3)
    M[:2, :2] = linear
    M[:2, 2] = shift
    return M


def _within_scale(det_1: np.ndarray, det_2: np.ndarray, thresh: float) -> np.ndarray:
    """Flag pairs whose ratio of squared scales, larger over smaller, is below ``thresh``.

    For ``thresh >= 1`` the test "max(r, 1/r) < thresh" equals "r < thresh and
    1/r < thresh", which needs no ``np.where``. Degenerate shapes (NaN or inf)
    fail it.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = det_1 / det_2
        flags = ratio < thresh
        flags &= 1.0 / ratio < thresh
    return flags


def _ori_distance(ori_1: np.ndarray, ori_2: np.ndarray) -> np.ndarray:
    """Unsigned angle between two orientations, in [0, pi] radians."""
    delta = np.abs(ori_1 - ori_2)
    if np.any(delta >= 2 * TAU):
        delta %= TAU
    else:
        # Orientations come in [-pi, 2 pi), so delta < 3 pi and one subtraction
        # does what % TAU does, much faster. It is exact: for TAU <= d < 2 TAU,
        # d - TAU is a representable number (Sterbenz lemma).
        np.subtract(delta, TAU, out=delta, where=delta >= TAU)
    return np.minimum(delta, TAU - delta)
