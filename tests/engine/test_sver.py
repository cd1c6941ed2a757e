"""Tests of spatial verification: affine hypotheses and homography refinement."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from reviewer.engine.sver import TAU, SverConfig, spatially_verify

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "annotations.coco.json"
CHIP_SIZE = (700, 555)  # (width, height) of chip B in the synthetic cases
H_TRUE = np.array(
    [
        [0.92, 0.06, 25.0],
        [-0.05, 1.08, 14.0],
        [1.2e-4, -6.0e-5, 1.0],
    ]
)


# --- Synthetic keypoints --------------------------------------------------------


def _frames(kpts):
    """(N, 2, 2) matrices [[iv11, 0], [iv21, iv22]] @ rotation(ori) of kpts."""
    _, _, iv11, iv21, iv22, ori = kpts.T
    invV = np.zeros((len(kpts), 2, 2))
    invV[:, 0, 0], invV[:, 1, 0], invV[:, 1, 1] = iv11, iv21, iv22
    rotation = np.stack(
        [np.stack([np.cos(ori), -np.sin(ori)], -1), np.stack([np.sin(ori), np.cos(ori)], -1)], 1
    )
    return invV @ rotation


def _kpts_from_frames(xy, frames):
    """Split each frame into lower-triangular shape times rotation, as kpts store it."""
    ori = np.arctan2(-frames[:, 0, 1], frames[:, 0, 0])
    cos, sin = np.cos(ori), np.sin(ori)
    rotation_t = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], 1)
    shape = frames @ rotation_t
    return np.column_stack([xy, shape[:, 0, 0], shape[:, 1, 0], shape[:, 1, 1], ori % TAU])


def _random_kpts(rng, n, size=CHIP_SIZE):
    xy = rng.uniform([20, 20], [size[0] - 20, size[1] - 20], size=(n, 2))
    iv11 = rng.uniform(4, 15, n)
    iv21 = rng.uniform(-4, 4, n)
    iv22 = rng.uniform(4, 15, n)
    ori = rng.uniform(0, TAU, n)
    return np.column_stack([xy, iv11, iv21, iv22, ori])


def _apply(H, xy):
    mapped = xy @ H[:2, :2].T + H[:2, 2]
    return mapped / (xy @ H[2, :2] + H[2, 2])[:, None]


def _jacobian(H, xy):
    """(N, 2, 2) derivative of the homography at each point."""
    w = xy @ H[2, :2] + H[2, 2]
    uv = _apply(H, xy)
    jac = np.empty((len(xy), 2, 2))
    for row in range(2):
        for col in range(2):
            jac[:, row, col] = (H[row, col] - uv[:, row] * H[2, col]) / w
    return jac


def _map_kpts(H, kpts):
    """Keypoints of chip B that are the exact images of kpts under H."""
    frames = _jacobian(H, kpts[:, :2]) @ _frames(kpts)
    return _kpts_from_frames(_apply(H, kpts[:, :2]), frames)


def _far_outliers(rng, targets, size=CHIP_SIZE):
    """Random keypoints at least 30% of the diagonal away from each target."""
    diagonal = np.hypot(*size)
    kpts = _random_kpts(rng, len(targets), size)
    for i, target in enumerate(targets):
        while np.hypot(*(kpts[i, :2] - target)) < 0.3 * diagonal:
            kpts[i, :2] = rng.uniform([20, 20], [size[0] - 20, size[1] - 20])
    return kpts


def _homography_case(rng, num_inliers, num_outliers, H=H_TRUE):
    """kpts_a, kpts_b, fm, fs and the fm rows of the true inliers, rows shuffled."""
    kpts_a = _random_kpts(rng, num_inliers + num_outliers)
    inlier_b = _map_kpts(H, kpts_a[:num_inliers])
    outlier_b = _far_outliers(rng, _apply(H, kpts_a[num_inliers:, :2]))
    kpts_b = np.concatenate([inlier_b, outlier_b])
    order = rng.permutation(len(kpts_a))
    fm = np.column_stack([order, order])
    fs = rng.uniform(0.4, 1.0, len(fm))
    true_inliers = np.flatnonzero(order < num_inliers)
    return kpts_a, kpts_b, fm, fs, true_inliers


def _normalized(H):
    return H / H[2, 2]


# --- Known cases ------------------------------------------------------------------


def test_sver_recovers_homography_inliers():
    kpts_a, kpts_b, fm, fs, true_inliers = _homography_case(np.random.default_rng(0), 60, 30)
    result = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE)
    assert result.verified
    assert result.reason == ""
    assert np.array_equal(result.inliers, true_inliers)


def test_sver_recovers_homography_matrix():
    kpts_a, kpts_b, fm, fs, _ = _homography_case(np.random.default_rng(1), 60, 30)
    result = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE)
    np.testing.assert_allclose(_normalized(result.H), H_TRUE, rtol=1e-6, atol=1e-9)
    assert np.all(result.xy_err < 1e-12)


def test_sver_recovers_affine_hypothesis():
    Aff_true = np.array([[1.1, 0.2, -30.0], [-0.15, 0.95, 40.0], [0.0, 0.0, 1.0]])
    kpts_a, kpts_b, fm, fs, true_inliers = _homography_case(
        np.random.default_rng(2), 20, 10, H=Aff_true
    )
    result = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE)
    np.testing.assert_allclose(result.Aff, Aff_true, atol=1e-9)
    assert np.array_equal(result.aff_inliers, true_inliers)
    assert np.array_equal(result.inliers, true_inliers)


def test_sver_weights_hypotheses_by_fs():
    # Group one has more correspondences but low fs; group two, moved 300 px
    # away, has fewer but high fs. The fs sum decides, as in vtool.
    rng = np.random.default_rng(3)
    shift = np.array([[1.0, 0.0, 300.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    kpts_a = _random_kpts(rng, 18, size=(350, 555))
    kpts_b = np.concatenate([_map_kpts(np.eye(3), kpts_a[:10]), _map_kpts(shift, kpts_a[10:])])
    fm = np.column_stack([np.arange(18), np.arange(18)])
    fs = np.where(np.arange(18) < 10, 0.1, 1.0)
    weighted = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE)
    counted = spatially_verify(kpts_a, kpts_b, fm, np.ones(18), CHIP_SIZE)
    assert np.array_equal(weighted.aff_inliers, np.arange(10, 18))
    assert np.array_equal(counted.aff_inliers, np.arange(10))


def test_sver_scale_test_rejects():
    # Same positions and orientations, but keypoint B is 3x larger in area.
    kpts_a = _random_kpts(np.random.default_rng(4), 12)
    kpts_b = kpts_a.copy()
    kpts_b[0, 2:5] *= np.sqrt(3.0)
    fm = np.column_stack([np.arange(12), np.arange(12)])
    result = spatially_verify(kpts_a, kpts_b, fm, np.ones(12), CHIP_SIZE)
    assert 0 not in result.aff_inliers
    assert len(result.aff_inliers) == 11


def test_sver_orientation_test_rejects():
    kpts_a = _random_kpts(np.random.default_rng(5), 12)
    kpts_b = kpts_a.copy()
    kpts_b[0, 5] += np.pi
    fm = np.column_stack([np.arange(12), np.arange(12)])
    full = spatially_verify(kpts_a, kpts_b, fm, np.ones(12), CHIP_SIZE)
    xy_only = spatially_verify(
        kpts_a, kpts_b, fm, np.ones(12), CHIP_SIZE, SverConfig(full_homog_checks=False)
    )
    assert 0 not in full.aff_inliers
    assert 0 not in full.inliers
    assert 0 in xy_only.inliers


def test_sver_degenerate_keypoint_is_outlier():
    kpts_a, kpts_b, fm, fs, _ = _homography_case(np.random.default_rng(15), 20, 0)
    kpts_a[fm[0, 0], 2:5] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE)
    assert result.verified
    assert 0 not in result.inliers
    assert len(result.inliers) == 19


def test_sver_chunking_gives_same_result():
    kpts_a, kpts_b, fm, fs, _ = _homography_case(np.random.default_rng(6), 25, 40)
    whole = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE)
    chunked = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE, SverConfig(chunk_size=7))
    assert np.array_equal(whole.aff_inliers, chunked.aff_inliers)
    assert np.array_equal(whole.Aff, chunked.Aff)


def test_sver_max_inliers_keeps_affine():
    Aff_true = np.array([[0.9, 0.1, 10.0], [0.0, 1.1, -5.0], [0.0, 0.0, 1.0]])
    kpts_a, kpts_b, fm, fs, _ = _homography_case(np.random.default_rng(7), 12, 0, H=Aff_true)
    result = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE, SverConfig(max_nInliers=10))
    assert np.array_equal(result.H, result.Aff)
    assert np.array_equal(result.inliers, result.aff_inliers)


# --- Minimum inlier counts ---------------------------------------------------------


def test_sver_homog_needs_seven_affine_inliers():
    kpts_a, kpts_b, fm, fs, _ = _homography_case(np.random.default_rng(8), 6, 0)
    result = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE)
    assert not result.verified
    assert len(result.aff_inliers) == 6
    assert result.Aff is not None
    assert "fewer than 7" in result.reason


def test_sver_affine_refine_needs_four():
    kpts_a, kpts_b, fm, fs, _ = _homography_case(np.random.default_rng(9), 6, 0)
    config = SverConfig(refine_method="affine")
    six = spatially_verify(kpts_a, kpts_b, fm, fs, CHIP_SIZE, config)
    three = spatially_verify(kpts_a, kpts_b, fm[:3], fs[:3], CHIP_SIZE, config)
    assert six.verified
    assert len(six.inliers) == 6
    assert not three.verified
    assert "fewer than 4" in three.reason


# --- Empty and bad input -----------------------------------------------------------


@pytest.mark.parametrize(("num_a", "num_b"), [(10, 10), (0, 10), (10, 0), (0, 0)])
def test_sver_empty_fm(num_a, num_b):
    rng = np.random.default_rng(10)
    result = spatially_verify(
        _random_kpts(rng, num_a),
        _random_kpts(rng, num_b),
        np.empty((0, 2), dtype=np.int32),
        np.empty(0, dtype=np.float32),
        CHIP_SIZE,
    )
    assert not result.verified
    assert result.H is None
    assert result.Aff is None
    assert result.inliers.shape == (0,)
    assert result.inliers.dtype == np.int64
    assert result.aff_inliers.shape == (0,)
    assert result.xy_err.shape == (0,)


def test_sver_rejects_fm_out_of_range():
    kpts = _random_kpts(np.random.default_rng(11), 5)
    with pytest.raises(ValueError, match="kpts_b"):
        spatially_verify(kpts, kpts, np.array([[0, 5]]), np.ones(1), CHIP_SIZE)


def test_sver_rejects_fs_length():
    kpts = _random_kpts(np.random.default_rng(12), 5)
    with pytest.raises(ValueError, match="fs"):
        spatially_verify(kpts, kpts, np.array([[0, 1]]), np.ones(2), CHIP_SIZE)


def test_sver_rejects_kpts_shape():
    kpts = _random_kpts(np.random.default_rng(13), 5)
    with pytest.raises(ValueError, match="kpts_a"):
        spatially_verify(kpts[:, :5], kpts, np.array([[0, 1]]), np.ones(1), CHIP_SIZE)


def test_sver_rejects_chip_size():
    kpts = _random_kpts(np.random.default_rng(14), 5)
    with pytest.raises(ValueError, match="chip_size_b"):
        spatially_verify(kpts, kpts, np.array([[0, 1]]), np.ones(1), (0, 555))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"xy_thresh": 0.0},
        {"scale_thresh": 0.5},
        {"ori_thresh": 0.0},
        {"min_nInliers": 0},
        {"refine_method": "fundamental"},
        {"min_nInliers_homog": 3},
        {"max_nInliers": 2},
        {"chunk_size": 0},
    ],
)
def test_sver_config_rejects_invalid(kwargs):
    with pytest.raises(ValueError):
        SverConfig(**kwargs)


# --- Real photos -------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_pairs():
    """Matches and sver for aid 3 against aid 5 (same zebra) and aid 6 (another zebra)."""
    from reviewer.engine.annotations import load_annotations
    from reviewer.engine.chips import extract_chip, load_photo
    from reviewer.engine.features import extract_features
    from reviewer.engine.matching import match_vsone

    annots = load_annotations(DEMO)
    feats, sizes = {}, {}
    for aid in (3, 5, 6):
        annot = annots.get(aid)
        photo = load_photo(annot.image_path, annot.image_size)
        chip = extract_chip(photo.pixels, annot.bbox, annot.theta)
        feats[aid] = extract_features(chip.pixels)
        sizes[aid] = chip.size

    pairs = {}
    for aid_b in (5, 6):
        matches = match_vsone(feats[3].vecs, feats[aid_b].vecs)
        args = (feats[3].kpts, feats[aid_b].kpts, matches.fm, matches.fs, sizes[aid_b])
        pairs[aid_b] = (args, spatially_verify(*args))
    return pairs


def test_sver_demo_same_zebra_beats_other(demo_pairs):
    _, same = demo_pairs[5]
    _, other = demo_pairs[6]
    assert same.verified
    assert len(same.inliers) > 3 * len(other.inliers)


def test_sver_demo_inliers_are_valid_fm_rows(demo_pairs):
    (_, _, fm, _, _), result = demo_pairs[5]
    assert len(result.inliers) > 0
    assert result.inliers.min() >= 0
    assert result.inliers.max() < len(fm)
    assert np.array_equal(result.inliers, np.unique(result.inliers))
    assert result.xy_err.shape == result.inliers.shape


def test_sver_demo_h_maps_inliers_close(demo_pairs):
    (kpts_a, kpts_b, fm, _, size_b), result = demo_pairs[5]
    xy_a = kpts_a[fm[result.inliers, 0], :2].astype(np.float64)
    xy_b = kpts_b[fm[result.inliers, 1], :2].astype(np.float64)
    err = np.sum((_apply(result.H, xy_a) - xy_b) ** 2, axis=1)
    limit = SverConfig().xy_thresh * (size_b[0] ** 2 + size_b[1] ** 2)
    assert np.all(err < limit)
    np.testing.assert_allclose(result.xy_err, err, rtol=1e-9)


def test_sver_demo_is_deterministic(demo_pairs):
    args, result = demo_pairs[5]
    again = spatially_verify(*args)
    assert np.array_equal(again.inliers, result.inliers)
    assert np.array_equal(again.H, result.H)
