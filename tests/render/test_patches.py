"""Keypoint patches: the affine-normalised region under one keypoint."""

import numpy as np
import pytest

from reviewer.render.patches import keypoint_patch, patch_circle_radius


def _ramp_chip(width=200, height=150) -> np.ndarray:
    """A chip whose red channel is x and green channel is y (BGR order)."""
    chip = np.zeros((height, width, 3), dtype=np.uint8)
    chip[..., 2] = np.arange(width, dtype=np.uint8)[None, :]
    chip[..., 1] = np.arange(height, dtype=np.uint8)[:, None]
    return chip


def test_patch_shape():
    kpt = np.array([100.0, 75.0, 4.0, 0.0, 4.0, 0.0])
    assert keypoint_patch(_ramp_chip(), kpt, size_px=32).shape == (32, 32, 3)


def test_patch_centre_is_keypoint():
    kpt = np.array([100.0, 75.0, 4.0, 0.0, 4.0, 0.0])
    patch = keypoint_patch(_ramp_chip(), kpt, size_px=32, extent=3.0)
    centre = patch[15:17, 15:17].astype(float).mean(axis=(0, 1))
    assert centre[2] == pytest.approx(100, abs=1)
    assert centre[1] == pytest.approx(75, abs=1)


def test_patch_scale_follows_ellipse():
    # One patch pixel spans 2 * extent / size ellipse radii, here 4 px * 6 / 24 = 1 chip px.
    kpt = np.array([100.0, 75.0, 4.0, 0.0, 4.0, 0.0])
    patch = keypoint_patch(_ramp_chip(), kpt, size_px=24, extent=3.0)
    slope = np.polyfit(np.arange(24), patch[12, :, 2].astype(float), 1)[0]
    assert slope == pytest.approx(1.0, abs=0.05)


def test_patch_outside_chip_is_black():
    kpt = np.array([2.0, 2.0, 10.0, 0.0, 10.0, 0.0])
    patch = keypoint_patch(_ramp_chip() + 50, kpt, size_px=32)
    assert patch[0, 0].sum() == 0


def test_circle_radius():
    assert patch_circle_radius(96, 3.0) == pytest.approx(16.0)


@pytest.mark.parametrize(
    ("pixels", "kpt"),
    [
        (np.zeros((10, 10), np.uint8), np.zeros(6)),
        (np.zeros((10, 10, 3), np.float32), np.zeros(6)),
        (np.zeros((10, 10, 3), np.uint8), np.zeros(5)),
    ],
)
def test_bad_input_raises(pixels, kpt):
    with pytest.raises(ValueError):
        keypoint_patch(pixels, kpt)
