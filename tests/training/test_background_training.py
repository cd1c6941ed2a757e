"""End-to-end training of the background model on a tiny synthetic masks folder."""

import argparse
import csv
import logging

import cv2
import numpy as np
import pytest
import torch

from reviewer import cli
from reviewer.engine.foreground import load_background_model
from reviewer.training import add_train_arguments, evaluate_masks_split, run_train
from reviewer.training import background as background_training
from reviewer.training.background import TrainOptionError
from reviewer.training.data import MaskSetError, TrainingDataError

CLASSES = ["zebra", "horse", "zebra;giraffe"]


def _write_masks_folder(root, train_count=6, val_count=3):
    """Photos of a textured background with one or two coloured ellipses as animals."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = []
    for index in range(train_count + val_count):
        height, width = int(rng.integers(60, 90)), int(rng.integers(70, 110))
        image = rng.integers(0, 120, (height, width, 3), dtype=np.uint8)
        mask = np.zeros((height, width), np.uint8)
        for _ in range(1 + index % 2):
            centre = (int(rng.integers(20, width - 20)), int(rng.integers(15, height - 15)))
            axes = (int(rng.integers(8, 18)), int(rng.integers(6, 14)))
            cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, -1)
        image[mask > 0] = (40, 200, 230)
        image_id = f"synthetic_{index:02d}"
        cv2.imwrite(str(root / "images" / f"{image_id}.jpg"), image)
        cv2.imwrite(str(root / "masks" / f"{image_id}.png"), mask)
        split = "train" if index < train_count else "val"
        rows.append(
            {
                "id": image_id,
                "source_repo": "example/synthetic",
                "classes": CLASSES[index % 3],
                "split": split,
            }
        )
    with (root / "index.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "source_repo", "classes", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return root


def _train_args(data_dir, out_path, seed=0, epochs=2):
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(
        [
            str(data_dir),
            "--out",
            str(out_path),
            "--epochs",
            str(epochs),
            "--seed",
            str(seed),
            "--batch-size",
            "4",
            "--input-size",
            "64",
            "--threads",
            "1",
        ]
    )


@pytest.fixture(scope="module")
def masks_dir(tmp_path_factory):
    return _write_masks_folder(tmp_path_factory.mktemp("masks"))


@pytest.fixture(scope="module")
def trained(masks_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "background_test.pt"
    exit_code = run_train(_train_args(masks_dir, out))
    return exit_code, out


def _weights(path):
    return load_background_model(path).net.state_dict()


def test_train_exit_code(trained):
    exit_code, _ = trained
    assert exit_code == 0


def test_train_writes_loadable_model(trained):
    _, out = trained
    model = load_background_model(out)
    assert model.input_size_px == 64


def test_train_model_meta(trained):
    _, out = trained
    meta = load_background_model(out).meta
    assert meta["train_images"] == 6
    assert meta["val_images"] == 3
    assert meta["classes"] == ["giraffe", "horse", "zebra"]


def test_train_writes_model_card(trained):
    _, out = trained
    card = out.with_suffix(".md").read_text()
    assert "## Validation IoU" in card
    assert "| zebra and giraffe |" in card
    assert "--seed 0" in card
    assert "checkpoint" in card
    assert "| example/synthetic | 9 |" in card


def test_same_seed_same_weights(trained, masks_dir, tmp_path):
    _, out = trained
    again = tmp_path / "again.pt"
    run_train(_train_args(masks_dir, again))
    first, second = _weights(out), _weights(again)
    assert all(torch.equal(first[key], second[key]) for key in first)


def test_other_seed_other_weights(trained, masks_dir, tmp_path):
    _, out = trained
    other = tmp_path / "other.pt"
    run_train(_train_args(masks_dir, other, seed=1))
    first, second = _weights(out), _weights(other)
    assert not all(torch.equal(first[key], second[key]) for key in first)


def test_evaluate_split_counts(trained, masks_dir):
    _, out = trained
    scores = evaluate_masks_split(load_background_model(out), masks_dir, "val")
    assert scores["count"] == 3
    assert set(scores["per_class"]) == {"zebra", "horse", "giraffe"}
    assert scores["groups"]["zebra+giraffe"]["count"] == 2
    assert 0.0 <= scores["mean_iou"] <= 1.0


def test_interrupt_keeps_best_checkpoint(masks_dir, tmp_path, monkeypatch):
    original = background_training._train_one_epoch

    def stop_in_epoch_two(net, optimizer, train_set, config, rng, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return original(net, optimizer, train_set, config, rng, epoch)

    monkeypatch.setattr(background_training, "_train_one_epoch", stop_in_epoch_two)
    out = tmp_path / "interrupted.pt"
    exit_code = run_train(_train_args(masks_dir, out, epochs=3))
    assert exit_code == background_training.EXIT_INTERRUPTED
    assert load_background_model(out).meta["epoch"] == 1
    assert "interrupted" in out.with_suffix(".md").read_text()


def test_interrupt_in_first_epoch_writes_nothing(masks_dir, tmp_path, monkeypatch, caplog):
    def stop_at_once(net, optimizer, train_set, config, rng, epoch):
        raise KeyboardInterrupt

    monkeypatch.setattr(background_training, "_train_one_epoch", stop_at_once)
    out = tmp_path / "interrupted.pt"
    with caplog.at_level(logging.WARNING):
        exit_code = run_train(_train_args(masks_dir, out))
    assert exit_code == background_training.EXIT_INTERRUPTED
    assert not out.exists()
    assert "nothing was written" in caplog.text


def test_missing_data_folder(tmp_path):
    with pytest.raises(TrainingDataError, match="Training data not found"):
        run_train(_train_args(tmp_path / "nowhere", tmp_path / "m.pt"))


def test_folder_without_index(tmp_path):
    with pytest.raises(MaskSetError, match="no index.csv"):
        run_train(_train_args(tmp_path, tmp_path / "m.pt"))


def test_image_as_data_rejected(tmp_path):
    photo = tmp_path / "photo.jpg"
    cv2.imwrite(str(photo), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(TrainingDataError, match=r"masks folder \(index.csv, images/, masks/\)"):
        run_train(_train_args(photo, tmp_path / "m.pt"))


@pytest.mark.parametrize("size", [50, 4096])
def test_invalid_input_size(masks_dir, tmp_path, size):
    args = _train_args(masks_dir, tmp_path / "m.pt")
    args.input_size = size
    with pytest.raises(TrainOptionError, match=f"--input-size.*{size}"):
        run_train(args)


def test_out_required(masks_dir):
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args([str(masks_dir)])


def test_out_folder_rejected(masks_dir, tmp_path):
    with pytest.raises(TrainOptionError, match="is a folder"):
        run_train(_train_args(masks_dir, tmp_path))


def test_cli_error_line(tmp_path, capsys):
    words = ["train-background", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.pt")]
    assert cli.main(words) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: Training data not found")
    assert "ERROR" not in stderr
