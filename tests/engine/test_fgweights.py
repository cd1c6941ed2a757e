"""fgweights: the probchip averaged over each keypoint's ellipse."""

import cv2
import numpy as np
import pytest

from reviewer.engine.features import kpts_to_invVR
from reviewer.engine.fgweights import FgWeightConfig, _window, compute_fgweights


def _kpt(x, y, scale=10.0, ori=0.0):
    return [x, y, scale, 0.0, scale, ori]


def test_shape_and_dtype():
    prob = np.full((50, 60), 0.5, np.float32)
    weights = compute_fgweights(prob, np.array([_kpt(10, 10), _kpt(30, 20)], np.float32))
    assert weights.shape == (2,)
    assert weights.dtype == np.float32


def test_empty_kpts():
    weights = compute_fgweights(np.ones((20, 20), np.float32), np.zeros((0, 6), np.float32))
    assert weights.shape == (0,)


def test_constant_probchip_gives_constant():
    prob = np.full((100, 100), 0.3, np.float32)
    weights = compute_fgweights(prob, np.array([_kpt(50, 50), _kpt(5, 95, 30)], np.float32))
    np.testing.assert_allclose(weights, 0.3, atol=1e-5)


def test_halves():
    prob = np.zeros((200, 400), np.float32)
    prob[:, :200] = 1.0
    kpts = np.array([_kpt(60, 100), _kpt(340, 100)], np.float32)
    weights = compute_fgweights(prob, kpts)
    assert weights[0] > 0.99
    assert weights[1] < 0.01


def test_window_averages_not_centre_pixel():
    # A keypoint centred on a thin foreground line is mostly background.
    prob = np.zeros((200, 200), np.float32)
    prob[:, 99:102] = 1.0
    weight = compute_fgweights(prob, np.array([_kpt(100, 100, scale=20)], np.float32))[0]
    assert 0.02 < weight < 0.5


def test_ellipse_orientation_matters():
    # A thin vertical ellipse on a vertical stripe sees more foreground than a wide one.
    prob = np.zeros((200, 200), np.float32)
    prob[:, 95:106] = 1.0
    tall = [100, 100, 3.0, 0.0, 30.0, 0.0]
    wide = [100, 100, 30.0, 0.0, 3.0, 0.0]
    weights = compute_fgweights(prob, np.array([tall, wide], np.float32))
    assert weights[0] > weights[1] + 0.3


def test_bad_kpts_shape():
    with pytest.raises(ValueError, match=r"kpts must have shape \(N, 6\)"):
        compute_fgweights(np.ones((10, 10), np.float32), np.zeros((3, 5), np.float32))


def _reference_fgweight(prob, kpt, config):
    """One keypoint the slow way: its own grid, one remap, the window's weighted mean."""
    size = config.patch_size_px
    coords = (np.arange(size) - size / 2.0 + 0.5) / config.unit_circle_radius_px
    gx, gy = np.meshgrid(coords, coords)
    invVR = kpts_to_invVR(kpt[None])[0]
    map_x = (kpt[0] + invVR[0, 0] * gx + invVR[0, 1] * gy).astype(np.float32)
    map_y = (kpt[1] + invVR[1, 0] * gx + invVR[1, 1] * gy).astype(np.float32)
    patch = cv2.remap(prob, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return float((patch * _window(config)).sum())


def test_matches_one_keypoint_at_a_time():
    rng = np.random.default_rng(3)
    prob = cv2.GaussianBlur(rng.random((120, 160), dtype=np.float32), (0, 0), 4.0)
    kpts = np.array([_kpt(40, 50, 6), _kpt(100, 70, 12, 0.8), _kpt(150, 10, 4, 2.5)], np.float32)
    kpts[1, 2:5] = (9.0, 3.0, 14.0)  # a sheared ellipse
    config = FgWeightConfig()
    expected = [_reference_fgweight(prob, kpt, config) for kpt in kpts]
    np.testing.assert_allclose(compute_fgweights(prob, kpts, config), expected, atol=1e-5)


def test_chunks_do_not_change_weights():
    rng = np.random.default_rng(4)
    prob = rng.random((80, 80), dtype=np.float32)
    kpts = np.array([_kpt(x, y, 5) for x, y in rng.uniform(0, 80, (37, 2))], np.float32)
    whole = compute_fgweights(prob, kpts, FgWeightConfig(chunk_size=64))
    chunked = compute_fgweights(prob, kpts, FgWeightConfig(chunk_size=5))
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
