"""Evidence heatmaps."""

import numpy as np

from reviewer.engine.heatmap import evidence_heatmap


def test_shape_and_mass():
    kpts = np.array([[100, 80, 8, 0, 8, 0], [300, 150, 20, 0, 20, 0]], np.float32)
    heat = evidence_heatmap((400, 300), kpts, np.array([1.0, 2.0]))
    assert heat.shape == (300, 400)
    assert abs(heat.sum() - 3.0) < 0.1


def test_peak_at_keypoint():
    kpts = np.array([[100, 80, 6, 0, 6, 0]], np.float32)
    heat = evidence_heatmap((400, 300), kpts, np.array([1.0]))
    row, col = np.unravel_index(np.argmax(heat), heat.shape)
    assert abs(col - 100) <= 3
    assert abs(row - 80) <= 3


def test_zero_values_give_empty_map():
    kpts = np.array([[100, 80, 6, 0, 6, 0]], np.float32)
    heat = evidence_heatmap((40, 30), kpts, np.array([0.0]))
    assert heat.shape == (30, 40)
    assert not heat.any()


def test_no_kpts():
    heat = evidence_heatmap((40, 30), np.zeros((0, 6), np.float32), np.zeros(0))
    assert heat.shape == (30, 40)
