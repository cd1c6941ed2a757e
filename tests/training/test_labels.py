"""Training labels: box labels, GrabCut refinement, box rasterising and COCO segmentation."""

import math

import cv2
import numpy as np
import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.engine.chips import ChipConfig, extract_chip, load_photo
from reviewer.training.labels import (
    BoxLabelConfig,
    SegmentationError,
    annotation_labels,
    box_prior,
    decode_rle,
    decode_rle_counts,
    plain_box_labels,
    refined_box_labels,
    segmentation_to_chip,
)

IDENTITY = np.eye(3)


def _disc_scene(seed=0):
    """A bright disc on dark noise, and a box around it with a margin.

    Returns the image (120, 160, 3), the disc mask and the box prior, both (120, 160) bool.
    """
    rng = np.random.default_rng(seed)
    height, width = 120, 160
    image = rng.integers(0, 90, (height, width, 3), dtype=np.uint8)
    ys, xs = np.mgrid[:height, :width]
    disc = (xs - 80) ** 2 + (ys - 60) ** 2 <= 28**2
    image[disc] = rng.integers(190, 255, (int(disc.sum()), 3), dtype=np.uint8)
    prior = np.zeros((height, width), bool)
    prior[22:99, 42:119] = True  # a box 10 px wider than the disc on each side
    return image, disc, prior


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_plain_labels_are_the_box():
    _, _, prior = _disc_scene()
    labels = plain_box_labels(prior)
    assert np.array_equal(labels.target >= 0.5, prior)
    assert labels.weight.min() == 1.0


def test_refined_beats_plain_on_disc():
    image, disc, prior = _disc_scene()
    refined = refined_box_labels(image, prior)
    plain = plain_box_labels(prior)
    assert _iou(refined.target >= 0.5, disc) > _iou(plain.target >= 0.5, disc)


def test_refined_close_to_disc():
    image, disc, prior = _disc_scene()
    refined = refined_box_labels(image, prior)
    assert _iou(refined.target >= 0.5, disc) > 0.9


def test_refined_outside_box_background():
    image, _, prior = _disc_scene()
    refined = refined_box_labels(image, prior)
    assert refined.target[~prior].max() == 0.0
    assert refined.weight[~prior].min() == 1.0


def test_refined_disagreement_weight():
    image, disc, prior = _disc_scene()
    config = BoxLabelConfig(disagree_weight=0.25, boundary_band=0.0)
    refined = refined_box_labels(image, prior, config)
    disagree = prior & (refined.target < 0.5)
    assert disagree.any()
    assert np.all(refined.weight[disagree] == 0.25)
    assert np.all(refined.weight[refined.target >= 0.5] == 1.0)


def test_refined_boundary_band_ignored():
    image, disc, prior = _disc_scene()
    refined = refined_box_labels(image, prior, BoxLabelConfig(boundary_band=0.02))
    # The disc's edge lies inside the box, so the band around it has weight 0.
    ys, xs = np.mgrid[: disc.shape[0], : disc.shape[1]]
    radius = np.hypot(xs - 80, ys - 60)
    edge = (np.abs(radius - 28) < 1.0) & prior
    assert np.all(refined.weight[edge] == 0.0)
    assert refined.weight[60, 80] == 1.0  # the disc's centre is far from the edge


def test_refined_failure_ignores_inside():
    image, _, prior = _disc_scene()
    config = BoxLabelConfig(min_foreground_fraction=1.0)  # every result counts as failed
    refined = refined_box_labels(image, prior, config)
    assert refined.failed
    assert refined.weight[prior].max() == 0.0
    assert refined.weight[~prior].min() == 1.0


def test_refined_box_covering_chip_is_plain():
    image, _, _ = _disc_scene()
    prior = np.ones(image.shape[:2], bool)
    refined = refined_box_labels(image, prior)
    assert not refined.refined
    assert refined.target.min() == 1.0


def test_refined_shape_mismatch():
    image, _, prior = _disc_scene()
    with pytest.raises(ValueError, match="differ in size"):
        refined_box_labels(image, prior[:, :-1])


def test_box_label_config_rejects_mode():
    with pytest.raises(ValueError, match="mode"):
        BoxLabelConfig(mode="grabcut")


def test_box_prior_upright_area():
    prior = box_prior([((10.0, 20.0, 30.0, 40.0), 0.0)], IDENTITY, (100, 100))
    assert abs(int(prior.sum()) - 30 * 40) <= 30 + 40 + 1  # fillPoly includes both edges


def test_box_prior_rotated_quarter_turn():
    # A 60 x 10 box turned by 90 degrees about its centre (50, 50) becomes upright.
    prior = box_prior([((20.0, 45.0, 60.0, 10.0), math.pi / 2)], IDENTITY, (100, 100))
    ys, xs = np.nonzero(prior)
    assert xs.max() - xs.min() <= 11
    assert ys.max() - ys.min() >= 58


def test_box_prior_empty_list():
    assert not box_prior([], IDENTITY, (8, 6)).any()


def test_polygon_square_area():
    square = [[10, 10, 50, 10, 50, 40, 10, 40]]
    mask = segmentation_to_chip(square, (64, 64), IDENTITY, (64, 64))
    assert abs(float(mask.sum()) - 40 * 30) <= 40 + 30 + 1  # fillPoly includes both edges


def test_polygon_flat_list():
    flat = [10, 10, 50, 10, 50, 40, 10, 40]
    nested = segmentation_to_chip([flat], (64, 64), IDENTITY, (64, 64))
    assert np.array_equal(segmentation_to_chip(flat, (64, 64), IDENTITY, (64, 64)), nested)


def test_polygon_follows_chip_transform():
    photo = np.zeros((100, 200, 3), np.uint8)
    chip = extract_chip(photo, (100.0, 0.0, 100.0, 100.0), 0.0)
    left_half = [[0, 0, 100, 0, 100, 100, 0, 100]]
    mask = segmentation_to_chip(left_half, (200, 100), chip.M, chip.size)
    assert mask.sum() <= chip.size[1]  # at most the column where the halves meet


@pytest.mark.parametrize(
    "segmentation",
    [
        [[1, 2, 3, 4]],
        [[1, 2, 3, 4, 5]],
        "polygon",
        [],
        [["a", 1, 2, 3, 4, 5]],
        [[1, 2, 3, 4, 5, math.nan]],
    ],
)
def test_polygon_invalid(segmentation):
    with pytest.raises(SegmentationError):
        segmentation_to_chip(segmentation, (64, 64), IDENTITY, (64, 64))


def test_rle_uncompressed_known_case():
    # Column-major runs: background 1, animal 2, background 1 over a 2 x 2 mask.
    mask = decode_rle({"size": [2, 2], "counts": [1, 2, 1]}, (2, 2))
    assert mask.tolist() == [[False, True], [True, False]]


def test_rle_uncompressed_wide_mask():
    # Height 1, width 3: column-major equals row-major.
    mask = decode_rle({"size": [1, 3], "counts": [0, 1, 2]}, (3, 1))
    assert mask.tolist() == [[True, False, False]]


@pytest.mark.parametrize(
    ("text", "counts"),
    [("324", [3, 2, 4]), ("3243", [3, 2, 4, 5]), ("354L", [3, 5, 4, 1]), ("T3", [100])],
)
def test_rle_counts_known_strings(text, counts):
    assert decode_rle_counts(text) == counts


def _encode_counts(counts):
    """Encode run lengths as compressed COCO RLE, written from the format's description."""
    characters = []
    for index, count in enumerate(counts):
        value = count - counts[index - 2] if index > 2 else count
        while True:
            group = value & 0x1F
            value >>= 5
            more = value != -1 if group & 0x10 else value != 0
            if more:
                group |= 0x20
            characters.append(chr(group + 48))
            if not more:
                break
    return "".join(characters)


def test_rle_compressed_round_trip():
    rng = np.random.default_rng(3)
    mask = rng.random((23, 31)) < 0.3
    flat = mask.T.reshape(-1)
    changes = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts = [0, *counts]
    rle = {"size": [23, 31], "counts": _encode_counts(counts)}
    assert np.array_equal(decode_rle(rle, (31, 23)), mask)


def test_rle_size_mismatch():
    with pytest.raises(SegmentationError, match="does not match"):
        decode_rle({"size": [2, 2], "counts": [4]}, (3, 2))


def test_rle_runs_short():
    with pytest.raises(SegmentationError, match="corrupt"):
        decode_rle({"size": [2, 2], "counts": [1, 2]}, (2, 2))


def test_rle_truncated_string():
    with pytest.raises(SegmentationError, match="ends inside"):
        decode_rle_counts("T")


def test_rle_bad_counts_type():
    with pytest.raises(SegmentationError, match="counts"):
        decode_rle({"size": [2, 2], "counts": 4}, (2, 2))


def test_rle_warped_into_chip():
    rle = {"size": [2, 2], "counts": [0, 4]}  # all animal
    mask = segmentation_to_chip(rle, (2, 2), IDENTITY, (2, 2))
    assert mask.min() > 0.99


def test_annotation_labels_segmentation_source():
    photo = np.zeros((40, 40, 3), np.uint8)
    chip = extract_chip(photo, (0.0, 0.0, 40.0, 40.0), 0.0)
    union = np.zeros((40, 40), np.uint8)
    union[10:30, 10:30] = 1
    labels, source = annotation_labels(chip, True, [], union, BoxLabelConfig())
    assert source == "segmentation"
    assert labels.target.max() == pytest.approx(1.0)
    assert labels.weight.min() == 1.0


def test_annotation_labels_unsegmented_neighbour_ignored():
    photo = np.zeros((40, 40, 3), np.uint8)
    chip = extract_chip(photo, (0.0, 0.0, 40.0, 40.0), 0.0)
    union = np.zeros((40, 40), np.uint8)
    union[5:15, 5:15] = 1
    neighbour = [((25.0, 25.0, 10.0, 10.0), 0.0)]
    labels, _ = annotation_labels(chip, True, neighbour, union, BoxLabelConfig())
    centre = chip.from_photo(np.array([[30.0, 30.0]]))[0].astype(int)
    assert labels.weight[centre[1], centre[0]] == 0.0


def test_annotation_labels_plain_with_known_mask():
    photo = np.zeros((40, 40, 3), np.uint8)
    chip = extract_chip(photo, (0.0, 0.0, 40.0, 40.0), 0.0)
    union = np.zeros((40, 40), np.uint8)
    union[0:8, 0:8] = 1  # another animal's mask, outside every box
    boxes = [((20.0, 20.0, 15.0, 15.0), 0.0)]
    labels, source = annotation_labels(chip, False, boxes, union, BoxLabelConfig(mode="plain"))
    assert source == "boxes plain"
    assert labels.target[20, 20] == 1.0
    assert labels.target[400, 400] == 1.0


def test_refined_ignores_opencv_rng_state():
    # On this demo chip GrabCut's k-means result depends on OpenCV's RNG state.
    annots = load_annotations(DEMO_ANNOTATIONS)
    annot = annots.get(2)
    x, y, w, h = annot.bbox
    photo = load_photo(annot.image_path).pixels
    context = (x - 0.2 * w, y - 0.2 * h, 1.4 * w, 1.4 * h)
    chip = extract_chip(photo, context, 0.0, ChipConfig(dim_size_px=90))
    prior = box_prior([(annot.bbox, 0.0)], chip.M, chip.size)
    first = refined_box_labels(chip.pixels, prior)
    cv2.setRNGSeed(77)
    second = refined_box_labels(chip.pixels, prior)
    assert np.array_equal(first.target, second.target)
