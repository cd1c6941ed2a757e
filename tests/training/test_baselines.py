"""GrabCut baseline: the box's segmentation on the chip grid."""

import cv2
import numpy as np
import pytest

from reviewer.engine.chips import ChipConfig, extract_chip
from reviewer.training.baselines import GrabCutConfig, grabcut_probchip
from reviewer.training.data import cut_chip_and_mask, mask_bbox
from reviewer.training.evaluate import iou

CHIPS = ChipConfig(dim_size_px=120)


def _scene():
    """A saturated ellipse (the animal) on grey noise, and its mask."""
    rng = np.random.default_rng(0)
    photo = rng.integers(90, 140, (90, 120, 3), dtype=np.uint8)
    mask = np.zeros((90, 120), np.uint8)
    cv2.ellipse(mask, (60, 45), (30, 18), 0, 0, 360, 1, -1)
    photo[mask > 0] = (30, 180, 230)
    return photo, mask.astype(bool)


def test_probchip_on_chip_grid():
    photo, mask = _scene()
    bbox = mask_bbox(mask)
    probchip = grabcut_probchip(photo, bbox, chip_config=CHIPS)
    assert probchip.shape == extract_chip(photo, bbox, config=CHIPS).pixels.shape[:2]
    assert probchip.dtype == np.float32


def test_probchip_binary():
    photo, mask = _scene()
    probchip = grabcut_probchip(photo, mask_bbox(mask), chip_config=CHIPS)
    assert set(np.unique(probchip)) <= {0.0, 1.0}


def test_easy_scene_segmented():
    photo, mask = _scene()
    bbox = mask_bbox(mask)
    _, truth = cut_chip_and_mask(photo, mask, bbox)
    probchip = grabcut_probchip(photo, bbox)
    assert iou(probchip >= 0.5, truth) > 0.9


def test_easy_scene_beats_box():
    photo, mask = _scene()
    bbox = mask_bbox(mask)
    _, truth = cut_chip_and_mask(photo, mask, bbox)
    probchip = grabcut_probchip(photo, bbox)
    assert iou(probchip >= 0.5, truth) > iou(np.ones_like(truth), truth)


def test_repeatable():
    photo, mask = _scene()
    bbox = mask_bbox(mask)
    first = grabcut_probchip(photo, bbox, chip_config=CHIPS)
    assert np.array_equal(first, grabcut_probchip(photo, bbox, chip_config=CHIPS))


def test_box_filling_photo_all_ones():
    # No pixel lies outside the box, so there is no background to model.
    photo, _ = _scene()
    probchip = grabcut_probchip(photo, (0.0, 0.0, 120.0, 90.0), chip_config=CHIPS)
    assert probchip.min() == 1.0


def test_box_at_photo_corner_runs():
    # Context exists only on the right and bottom of this box.
    photo, _ = _scene()
    bbox = (0.0, 0.0, 95.0, 70.0)
    probchip = grabcut_probchip(photo, bbox, chip_config=CHIPS)
    assert probchip.shape == extract_chip(photo, bbox, config=CHIPS).pixels.shape[:2]


@pytest.mark.parametrize("field, value", [("iterations", 0), ("context_fraction", -0.1)])
def test_invalid_config_raises(field, value):
    with pytest.raises(ValueError, match=field):
        GrabCutConfig(**{field: value})
