"""Consistency checks of cache entries read back from disk."""

import numpy as np
import pytest

from reviewer.engine.cache_checks import check_annot_entry, check_pair_entry
from reviewer.engine.features import Features
from reviewer.engine.matching import Matches
from reviewer.engine.sver import SverResult


def _features(num_kpts: int) -> Features:
    return Features(np.zeros((num_kpts, 6), np.float32), np.zeros((num_kpts, 128), np.uint8))


def _matches(fm) -> Matches:
    fm = np.asarray(fm, dtype=np.int32).reshape(-1, 2)
    scores = np.full(len(fm), 0.5, np.float32)
    return Matches(fm=fm, fs=scores, ratio=scores)


def _sver(inliers, aff_inliers=None, xy_err=None) -> SverResult:
    inliers = np.asarray(inliers, dtype=np.int64)
    return SverResult(
        inliers=inliers,
        H=np.eye(3),
        aff_inliers=inliers if aff_inliers is None else np.asarray(aff_inliers),
        Aff=np.eye(3),
        xy_err=np.zeros(len(inliers)) if xy_err is None else np.asarray(xy_err),
    )


def test_pair_entry_in_range_passes():
    check_pair_entry(_matches([[0, 1], [2, 0]]), _sver([0, 1]), 3, 2)


def test_pair_entry_empty_passes():
    check_pair_entry(_matches([]), _sver([]), 0, 0)


@pytest.mark.parametrize(
    ("fm", "message"),
    [
        ([[3, 0]], "3 kpts of chip A"),
        ([[-1, 0]], "3 kpts of chip A"),
        ([[0, 2]], "2 kpts of chip B"),
    ],
)
def test_pair_entry_fm_outside_kpts(fm, message):
    with pytest.raises(ValueError, match=message):
        check_pair_entry(_matches(fm), _sver([0]), 3, 2)


def test_pair_entry_inlier_outside_fm():
    with pytest.raises(ValueError, match="inliers points outside the 1 matches"):
        check_pair_entry(_matches([[0, 0]]), _sver([1]), 3, 2)


def test_pair_entry_float_aff_inliers():
    with pytest.raises(ValueError, match="aff_inliers must be a 1-D integer array"):
        check_pair_entry(_matches([[0, 0]]), _sver([0], aff_inliers=[0.0]), 3, 2)


def test_pair_entry_xy_err_length():
    with pytest.raises(ValueError, match="xy_err has 2 values for 1 inliers"):
        check_pair_entry(_matches([[0, 0]]), _sver([0], xy_err=[0.0, 1.0]), 3, 2)


def test_annot_entry_fitting_passes():
    check_annot_entry((4, 5, 3), _features(2), np.zeros((4, 5)), np.zeros(2))


def test_annot_entry_without_fg_passes():
    check_annot_entry((4, 5, 3), _features(2), None, None)


def test_annot_entry_probchip_shape():
    with pytest.raises(ValueError, match="probchip has shape"):
        check_annot_entry((4, 5, 3), _features(2), np.zeros((5, 4)), np.zeros(2))


def test_annot_entry_fgweights_length():
    with pytest.raises(ValueError, match=r"fgweights has shape \(3,\), not \(2,\)"):
        check_annot_entry((4, 5, 3), _features(2), np.zeros((4, 5)), np.zeros(3))
