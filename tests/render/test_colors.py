"""The fgweight colour scale and the evidence heatmap colours."""

import numpy as np
import pytest

from reviewer.render.colors import WEIGHT_STOPS, evidence_rgba, ramp


def test_ramp_endpoints_are_stops():
    colours = ramp(np.array([0.0, 1.0]))
    assert tuple(colours[0]) == WEIGHT_STOPS[0][1]
    assert tuple(colours[1]) == WEIGHT_STOPS[-1][1]


def test_ramp_clips_and_handles_nan():
    colours = ramp(np.array([-1.0, 2.0, np.nan]))
    assert tuple(colours[0]) == WEIGHT_STOPS[0][1]
    assert tuple(colours[1]) == WEIGHT_STOPS[-1][1]
    assert tuple(colours[2]) == WEIGHT_STOPS[0][1]


def test_ramp_keeps_shape():
    assert ramp(np.zeros((4, 5))).shape == (4, 5, 3)


def test_evidence_transparent_without_evidence():
    rgba = evidence_rgba(np.array([[0.0, 1.0], [2.0, 4.0]]), vmax=4.0)
    assert rgba[0, 0, 3] == 0
    assert rgba[1, 1, 3] > rgba[0, 1, 3]


def test_evidence_zero_vmax_is_transparent():
    assert evidence_rgba(np.ones((3, 3)), vmax=0.0)[..., 3].max() == 0


def test_evidence_bad_shape():
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        evidence_rgba(np.ones((3, 3, 3)), vmax=1.0)
