"""Live scoring: soft weights, the mask threshold and the background split."""

import numpy as np
import pytest

from reviewer.engine.scoring import ScoreConfig, score_inliers

FS = np.array([0.5, 0.4, 0.3, 0.2])
W_A = np.array([0.9, 0.8, 0.2, 0.6])
W_B = np.array([1.0, 0.3, 0.9, 0.6])


def test_soft_weight_is_geometric_mean():
    result = score_inliers(FS, W_A, W_B)
    np.testing.assert_allclose(result.weights, np.sqrt(W_A * W_B), rtol=1e-6)
    assert result.score == pytest.approx(float((FS * np.sqrt(W_A * W_B)).sum()))


def test_threshold_zero_is_plain_weighting():
    assert score_inliers(FS, W_A, W_B, config=ScoreConfig(0.0)).score == pytest.approx(
        score_inliers(FS, W_A, W_B).score
    )


def test_threshold_cuts_either_side():
    result = score_inliers(FS, W_A, W_B, config=ScoreConfig(threshold=0.5))
    np.testing.assert_array_equal(result.weights > 0, [True, False, False, True])
    expected = 0.5 * np.sqrt(0.9) + 0.2 * 0.6
    assert result.score == pytest.approx(expected)


def test_split_by_min_weight():
    result = score_inliers(FS, W_A, W_B)
    np.testing.assert_array_equal(result.is_background, [False, True, True, False])
    assert result.score_foreground + result.score_background == pytest.approx(result.score)
    assert result.background_share == pytest.approx(result.score_background / result.score)


def test_unweighted_share_uses_raw_fs():
    result = score_inliers(FS, W_A, W_B)
    assert result.background_share_unweighted == pytest.approx((0.4 + 0.3) / 1.4)


def test_weighting_off_sets_weights_to_one_but_keeps_split():
    result = score_inliers(FS, W_A, W_B, config=ScoreConfig(fg_weighting=False))
    assert result.score == pytest.approx(1.4)
    assert result.score_background == pytest.approx(0.7)


def test_weighting_off_ignores_threshold():
    result = score_inliers(FS, W_A, W_B, config=ScoreConfig(0.9, fg_weighting=False))
    assert result.score == pytest.approx(1.4)


def test_no_model_has_no_split():
    result = score_inliers(FS, None, None)
    assert result.score == pytest.approx(1.4)
    assert result.score_background is None
    assert result.background_share is None


def test_excluded_inliers_do_not_count():
    counted = np.array([True, True, True, False])
    result = score_inliers(FS, W_A, W_B, counted)
    assert result.weights[3] == 0
    assert result.background_share_unweighted == pytest.approx(0.7 / 1.2)


def test_empty():
    result = score_inliers(np.zeros(0), np.zeros(0), np.zeros(0))
    assert result.score == 0.0
    assert result.background_share is None
    assert result.weights.shape == (0,)


def test_threshold_out_of_range():
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\]"):
        ScoreConfig(threshold=1.5)


def test_shape_mismatch():
    with pytest.raises(ValueError, match="w_a and w_b must have shape"):
        score_inliers(FS, W_A[:2], W_B)
