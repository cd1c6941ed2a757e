"""Keypoint ellipse outlines and the side-by-side layout."""

import numpy as np
import pytest

from reviewer.engine.chips import ChipConfig, extract_chip
from reviewer.render.geometry import PairLayout, chip_outline_in_photo, kpt_ellipses, side_by_side


def test_ellipses_shape():
    kpts = np.array([[10, 20, 3, 0, 3, 0], [5, 5, 2, 1, 4, 0.5]], dtype=np.float32)
    assert kpt_ellipses(kpts, num_points=16).shape == (2, 16, 2)


def test_ellipses_empty():
    assert kpt_ellipses(np.zeros((0, 6)), num_points=8).shape == (0, 8, 2)


def test_circle_radius_and_centre():
    outline = kpt_ellipses(np.array([[10.0, 20.0, 3.0, 0.0, 3.0, 1.2]]))[0]
    radii = np.linalg.norm(outline - (10.0, 20.0), axis=1)
    assert np.allclose(radii, 3.0)


def test_ellipse_axes_follow_inv_v():
    # invV = diag(4, 1): 4 px wide along x and 1 px along y, whatever ori is.
    outline = kpt_ellipses(np.array([[0.0, 0.0, 4.0, 0.0, 1.0, 0.7]]), num_points=360)[0]
    assert np.abs(outline[:, 0]).max() == pytest.approx(4.0, abs=1e-3)
    assert np.abs(outline[:, 1]).max() == pytest.approx(1.0, abs=1e-3)


def test_ellipses_bad_shape():
    with pytest.raises(ValueError, match=r"\(N, 6\)"):
        kpt_ellipses(np.zeros((3, 5)))


def test_layout_offset_and_size():
    layout = PairLayout((700, 500), (600, 700), gap_px=20)
    assert layout.offset_b == 720
    assert layout.size == (1320, 700)


def test_side_by_side_gap():
    assert side_by_side((700, 400), (700, 400)).gap_px == pytest.approx(28.0)


def test_layout_rejects_empty_chip():
    with pytest.raises(ValueError, match="size_b"):
        PairLayout((700, 500), (0, 10))


def test_chip_outline_without_rotation():
    photo = np.zeros((300, 400, 3), dtype=np.uint8)
    chip = extract_chip(photo, (50.0, 40.0, 200.0, 100.0), 0.0, ChipConfig(dim_size_px=100))
    corners = chip_outline_in_photo(chip)
    expected = [[50, 40], [250, 40], [250, 140], [50, 140]]
    np.testing.assert_allclose(corners, expected, atol=1e-6)


def test_chip_outline_rotated_keeps_box():
    photo = np.zeros((300, 400, 3), dtype=np.uint8)
    bbox, theta = (100.0, 80.0, 200.0, 100.0), 0.4
    chip = extract_chip(photo, bbox, theta, ChipConfig(dim_size_px=100))
    corners = chip_outline_in_photo(chip)
    sides = np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1)
    np.testing.assert_allclose(sides, [200, 100, 200, 100], atol=1e-6)
    np.testing.assert_allclose(corners.mean(axis=0), (200.0, 130.0), atol=1e-6)
    top = corners[1] - corners[0]
    assert np.arctan2(top[1], top[0]) == pytest.approx(theta)
