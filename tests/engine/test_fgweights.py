"""fgweights: the probchip averaged over each keypoint's ellipse."""

import numpy as np
import pytest

from reviewer.engine.fgweights import compute_fgweights


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
