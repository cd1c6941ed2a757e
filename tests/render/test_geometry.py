"""Keypoint ellipse outlines and the side-by-side layout."""

import numpy as np
import pytest

from reviewer.render.geometry import PairLayout, kpt_ellipses, side_by_side


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
