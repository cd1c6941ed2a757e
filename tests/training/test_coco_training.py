"""Training a background model from a COCO file: boxes only, segmentation, and bad inputs."""

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.errors import AnnotationFileError
from reviewer.engine.foreground import ForegroundArch, load_background_model
from reviewer.training import add_train_arguments, run_train
from reviewer.training import background as background_training
from reviewer.training import coco as coco_training
from reviewer.training.background import TrainConfig, TrainOptionError, segmentation_loss
from reviewer.training.coco import CocoDataError, load_coco_data, split_images
from reviewer.training.coco_set import ValChip, score_val_chips, weighted_iou

DEMO_DIR = DEMO_ANNOTATIONS.parent


def _demo_coco(tmp_path, edit=None, name="demo.json"):
    """Copy the demo annotations with absolute image paths, optionally edited."""
    data = json.loads(DEMO_ANNOTATIONS.read_text())
    for image in data["images"]:
        image["file_name"] = str(DEMO_DIR / image["file_name"])
    if edit is not None:
        edit(data)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _ellipse_polygon(bbox, points=24):
    x, y, w, h = bbox
    angles = np.linspace(0.0, 2.0 * np.pi, points, endpoint=False)
    xs = x + w / 2 + 0.4 * w * np.cos(angles)
    ys = y + h / 2 + 0.4 * h * np.sin(angles)
    return [np.column_stack([xs, ys]).reshape(-1).round(1).tolist()]


def _add_polygons(data):
    for annot in data["annotations"]:
        annot["segmentation"] = _ellipse_polygon(annot["bbox"])


def _train_args(data, out, *extra, epochs=1):
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    words = [str(data), "--out", str(out), "--epochs", str(epochs), "--seed", "0"]
    words += ["--batch-size", "8", "--input-size", "64", "--threads", "1", *extra]
    return parser.parse_args(words)


def _config(path, **changes):
    return TrainConfig(
        data_dir=path,
        out_path=path.with_suffix(".pt"),
        arch=ForegroundArch(input_size_px=64),
        threads=1,
        **changes,
    )


@pytest.fixture(scope="module")
def boxes_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("boxes")
    out = root / "boxes.pt"
    exit_code = run_train(_train_args(_demo_coco(root), out))
    return exit_code, out


@pytest.fixture(scope="module")
def polygon_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("polygons")
    out = root / "polygons.pt"
    exit_code = run_train(_train_args(_demo_coco(root, _add_polygons), out))
    return exit_code, out


def test_boxes_exit_code(boxes_run):
    exit_code, _ = boxes_run
    assert exit_code == 0


def test_boxes_checkpoint_loads(boxes_run):
    _, out = boxes_run
    assert load_background_model(out).input_size_px == 64


def test_boxes_card_names_label_source(boxes_run):
    _, out = boxes_run
    card = out.with_suffix(".md").read_text()
    assert "Label source: **boxes refined**" in card
    assert "GrabCut tells animal from background" in card
    assert "--box-labels refined" in card


def test_boxes_card_counts(boxes_run):
    _, out = boxes_run
    card = out.with_suffix(".md").read_text()
    assert "COCO annotation file `demo.json`" in card
    assert "repository" not in card
    assert "| zebra_plains |" in card
    assert "## Validation IoU" in card


def test_boxes_meta(boxes_run):
    _, out = boxes_run
    meta = load_background_model(out).meta
    assert meta["label_source"] == "boxes refined"
    assert meta["train_annotations"] + meta["val_annotations"] == 26
    assert meta["train_images"] + meta["val_images"] == 10


def test_plain_labels_card(tmp_path):
    out = tmp_path / "plain.pt"
    assert run_train(_train_args(_demo_coco(tmp_path), out, "--box-labels", "plain")) == 0
    card = out.with_suffix(".md").read_text()
    limitations = card[card.index("## Limitations") :]
    assert "Label source: **boxes plain**" in card
    assert "Labels from plain boxes" in limitations
    assert "GrabCut" not in limitations


def test_polygons_exit_code(polygon_run):
    exit_code, _ = polygon_run
    assert exit_code == 0


def test_polygons_train_from_masks(polygon_run):
    _, out = polygon_run
    assert load_background_model(out).meta["label_source"] == "segmentation"
    card = out.with_suffix(".md").read_text()
    assert "Label source: **segmentation**" in card
    assert "against the segmentation mask" in card


def test_some_polygons_mixed(tmp_path):
    def add_two(data):
        for annot in data["annotations"][:2]:
            annot["segmentation"] = _ellipse_polygon(annot["bbox"])

    data = load_coco_data(_config(_demo_coco(tmp_path, add_two)))
    sources = data.coco.label_sources
    assert sum(sources["segmentation"].values()) == 2
    assert sum(sources["boxes refined"].values()) == 24
    assert data.coco.label_source == "mixed"


def test_rle_segmentation_used(tmp_path):
    def add_rle(data):
        image = data["images"][0]
        annot = next(a for a in data["annotations"] if a["image_id"] == image["id"])
        width, height = image["width"], image["height"]
        x, y, w, h = (int(v) for v in annot["bbox"])
        mask = np.zeros((height, width), bool)
        mask[y : y + h // 2, x : x + w // 2] = True
        flat = mask.T.reshape(-1).astype(np.int8)
        bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
        annot["segmentation"] = {"size": [height, width], "counts": np.diff(bounds).tolist()}

    data = load_coco_data(_config(_demo_coco(tmp_path, add_rle)))
    assert sum(data.coco.label_sources["segmentation"].values()) == 1


def test_invalid_segmentation_skipped(tmp_path, caplog):
    def break_one(data):
        data["annotations"][0]["segmentation"] = {"size": [3, 3], "counts": [9]}

    with caplog.at_level(logging.WARNING):
        data = load_coco_data(_config(_demo_coco(tmp_path, break_one)))
    assert data.coco.annotation_count("train") + data.coco.annotation_count("val") == 25
    assert "aid=1: invalid segmentation" in caplog.text


def test_missing_image_skipped(tmp_path, caplog):
    def lose_one(data):
        data["images"][0]["file_name"] = str(tmp_path / "gone.jpg")

    with caplog.at_level(logging.WARNING):
        data = load_coco_data(_config(_demo_coco(tmp_path, lose_one)))
    assert "gone.jpg" in caplog.text
    assert len(data.coco.skipped) == 1


def test_all_images_missing(tmp_path):
    def lose_all(data):
        for image in data["images"]:
            image["file_name"] = "nowhere/" + Path(image["file_name"]).name

    with pytest.raises(CocoDataError, match="image not found"):
        load_coco_data(_config(_demo_coco(tmp_path, lose_all)))


def test_no_annotations(tmp_path):
    def drop_all(data):
        data["annotations"] = []

    with pytest.raises(CocoDataError, match="no usable annotations"):
        load_coco_data(_config(_demo_coco(tmp_path, drop_all)))


def test_invalid_boxes_only(tmp_path):
    def break_boxes(data):
        for annot in data["annotations"]:
            annot["bbox"] = [0, 0, 0, 0]

    with pytest.raises(CocoDataError, match="bbox"):
        load_coco_data(_config(_demo_coco(tmp_path, break_boxes)))


def test_one_image_rejected(tmp_path):
    def keep_first_image(data):
        first = data["images"][0]["id"]
        data["annotations"] = [a for a in data["annotations"] if a["image_id"] == first]

    with pytest.raises(CocoDataError, match="at least 2"):
        load_coco_data(_config(_demo_coco(tmp_path, keep_first_image)))


def test_missing_file(tmp_path):
    with pytest.raises(AnnotationFileError, match="missing.json"):
        load_coco_data(_config(tmp_path / "missing.json"))


def test_malformed_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"annotations": [')
    with pytest.raises(AnnotationFileError, match="not valid JSON"):
        load_coco_data(_config(path))


def test_bad_file_raises(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(AnnotationFileError, match="broken.json"):
        run_train(_train_args(path, tmp_path / "m.pt"))


def test_invalid_val_fraction_raises(tmp_path):
    args = _train_args(_demo_coco(tmp_path), tmp_path / "m.pt", "--val-fraction", "1.5")
    with pytest.raises(TrainOptionError, match="--val-fraction"):
        run_train(args)


def test_interrupt_while_labelling(tmp_path, monkeypatch, caplog):
    def stop(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(coco_training, "_prepare_image", stop)
    out = tmp_path / "labelling.pt"
    with caplog.at_level(logging.WARNING), pytest.raises(KeyboardInterrupt):
        run_train(_train_args(_demo_coco(tmp_path), out))
    assert "training had not started" in caplog.text
    assert not out.exists()


def test_split_by_seed_repeats():
    keys = [str(i) for i in range(20)]
    assert split_images(keys, 0.15, 4, Path("x")) == split_images(keys, 0.15, 4, Path("x"))


def test_split_size():
    keys = [str(i) for i in range(20)]
    assert len(split_images(keys, 0.15, 0, Path("x"))) == 3


def test_split_keeps_training_image():
    assert len(split_images(["a", "b"], 0.9, 0, Path("x"))) == 1


def test_same_seed_same_weights(boxes_run, tmp_path):
    _, out = boxes_run
    again = tmp_path / "again.pt"
    run_train(_train_args(_demo_coco(tmp_path), again))
    first = load_background_model(out).net.state_dict()
    second = load_background_model(again).net.state_dict()
    assert all(torch.equal(first[key], second[key]) for key in first)


def test_interrupt_keeps_best_checkpoint(tmp_path, monkeypatch):
    original = background_training._train_one_epoch

    def stop_in_epoch_two(net, optimizer, train_set, config, rng, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return original(net, optimizer, train_set, config, rng, epoch)

    monkeypatch.setattr(background_training, "_train_one_epoch", stop_in_epoch_two)
    out = tmp_path / "interrupted.pt"
    exit_code = run_train(_train_args(_demo_coco(tmp_path), out, epochs=3))
    assert exit_code == background_training.EXIT_INTERRUPTED
    assert load_background_model(out).meta["epoch"] == 1
    assert "boxes refined" in out.with_suffix(".md").read_text()


def test_loss_ignores_zero_weight_pixels():
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 4, 4)
    targets = (torch.rand(2, 1, 8, 8) > 0.5).float()
    weights = torch.ones_like(targets)
    weights[..., :4] = 0.0
    flipped = targets.clone()
    flipped[..., :4] = 1.0 - flipped[..., :4]
    assert torch.allclose(
        segmentation_loss(logits, targets, weights), segmentation_loss(logits, flipped, weights)
    )


def test_loss_unit_weights_match_unweighted():
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 4, 4)
    targets = (torch.rand(2, 1, 8, 8) > 0.5).float()
    weighted = segmentation_loss(logits, targets, torch.ones_like(targets))
    assert torch.allclose(weighted, segmentation_loss(logits, targets))


def test_weighted_iou_known_case():
    predicted = np.array([[True, True], [False, False]])
    truth = np.array([[True, False], [True, False]])
    weight = np.array([[1.0, 0.0], [0.5, 1.0]], np.float32)
    # Intersection: one pixel of weight 1. Union: weights 1 + 0 + 0.5.
    assert weighted_iou(predicted, truth, weight) == pytest.approx(1.0 / 1.5)


def test_score_val_chips_groups_species():
    pixels, truth, weight = np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), bool), np.ones((4, 4))
    chips = [
        ValChip("1", ("zebra_plains",), pixels, truth, weight, "segmentation"),
        ValChip("2", ("wild_dog",), pixels, truth, weight, "segmentation"),
    ]
    scores = score_val_chips(lambda pixels: np.ones(pixels.shape[:2]), chips)
    assert scores["groups"]["zebra+giraffe"]["count"] == 1
    assert scores["mean_iou"] == pytest.approx(1.0)
