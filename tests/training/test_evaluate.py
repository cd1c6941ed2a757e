"""IoU protocol helpers: boxes from masks, chip and mask warping, IoU."""

import numpy as np
import pytest

from reviewer.training.data import component_bboxes, cut_chip_and_mask, mask_bbox
from reviewer.training.evaluate import EvalChip, iou, score_eval_chips, score_probchips


def _two_blobs():
    mask = np.zeros((60, 80), bool)
    mask[10:20, 5:25] = True
    mask[30:50, 40:70] = True
    return mask


def test_mask_bbox_covers_all_pixels():
    assert mask_bbox(_two_blobs()) == (5.0, 10.0, 65.0, 40.0)


def test_mask_bbox_empty():
    assert mask_bbox(np.zeros((5, 5), bool)) is None


def test_component_bboxes_two_blobs():
    assert sorted(component_bboxes(_two_blobs())) == [
        (5.0, 10.0, 20.0, 10.0),
        (40.0, 30.0, 30.0, 20.0),
    ]


def test_component_bboxes_drop_specks():
    mask = _two_blobs()
    mask[0, 79] = True
    assert len(component_bboxes(mask, min_area_fraction=0.01)) == 2


def test_cut_chip_mask_shape():
    mask = _two_blobs()
    image = np.zeros((*mask.shape, 3), np.uint8)
    chip, chip_mask = cut_chip_and_mask(image, mask, mask_bbox(mask))
    assert chip_mask.shape == chip.pixels.shape[:2]


def test_cut_chip_tight_box_mask_spans_chip():
    # The chip maps the box corner (x, y) to the centre of chip pixel 0, so the
    # far edges may lose up to one photo pixel's worth of chip pixels.
    mask = _two_blobs()
    image = np.zeros((*mask.shape, 3), np.uint8)
    chip, chip_mask = cut_chip_and_mask(image, mask, mask_bbox(mask))
    _, _, width, height = mask_bbox(chip_mask)
    scale = chip.size[0] / 65.0  # chip pixels per photo pixel
    assert width >= chip.size[0] - scale
    assert height >= chip.size[1] - scale


def test_iou_known_case():
    predicted = np.zeros((4, 4), bool)
    truth = np.zeros((4, 4), bool)
    predicted[:2] = True  # 8 pixels
    truth[1:3] = True  # 8 pixels, 4 shared
    assert iou(predicted, truth) == pytest.approx(4 / 12)


def test_iou_both_empty():
    empty = np.zeros((3, 3), bool)
    assert iou(empty, empty) == 1.0


def test_score_per_class_counts_every_class():
    truth = np.ones((4, 4), bool)
    chips = [
        EvalChip("a", ("zebra", "horse"), np.zeros((4, 4, 3), np.uint8), truth),
        EvalChip(
            "b",
            ("horse",),
            np.zeros((4, 4, 3), np.uint8),
            np.zeros((4, 4), bool) | np.eye(4, dtype=bool),
        ),
    ]
    scores = score_eval_chips(lambda pixels: np.ones(pixels.shape[:2], np.float32), chips)
    assert scores["per_class"]["horse"]["count"] == 2
    assert scores["per_class"]["zebra"]["iou"] == pytest.approx(1.0)
    assert scores["per_image"]["b"] == pytest.approx(4 / 16)
    assert scores["mean_iou"] == pytest.approx((1.0 + 0.25) / 2)


def test_score_probchips_matches_predict():
    truth = np.zeros((4, 4), bool)
    truth[:2] = True
    chips = [EvalChip("a", ("horse",), np.zeros((4, 4, 3), np.uint8), truth)]
    probchip = truth.astype(np.float32) * 0.9
    scores = score_probchips({"a": probchip}, chips)
    assert scores["mean_iou"] == score_eval_chips(lambda _: probchip, chips)["mean_iou"]


def test_score_probchips_wrong_shape_raises():
    chips = [EvalChip("a", ("horse",), np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), bool))]
    with pytest.raises(ValueError, match="shape"):
        score_probchips({"a": np.ones((4, 5), np.float32)}, chips)
