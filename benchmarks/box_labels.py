"""Compare plain and GrabCut-refined box labels for training the background model.

    python benchmarks/box_labels.py [--data DIR] [--epochs N] [--work DIR] [--threads N]

The masks set is treated as a boxes-only COCO file: the train split becomes
one annotation per photo, whose box is the bounding box of all mask pixels and
which has no segmentation. Two runs of ``reviewer train-background`` on that
file, with the same seed, epochs and options, differ only in ``--box-labels``:
``plain`` (inside the box animal, outside background) or ``refined`` (GrabCut
inside the box, with loss weights). Each run picks its best epoch on its own
held-out images against its own labels, as the command does, so no true mask
takes part in training or checkpoint choice.

Each chosen model is then scored on the masks set's val split with the
protocol of ``reviewer.training.evaluate``: the chip is ``extract_chip`` of the
box of all mask pixels, foreground is probchip >= 0.5, and IoU with the true
mask is averaged over images.

Before training, the script also reports label quality on the train photos:
the IoU of each kind of label with the true mask on the chip with context,
over pixels whose label weight is above 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from reviewer.engine.chips import ChipConfig, extract_chip
from reviewer.engine.foreground import ForegroundArch, load_background_model, torch_threads
from reviewer.training.background import TrainConfig, train_background
from reviewer.training.coco import context_size_px, grow_box
from reviewer.training.data import load_image_and_mask, mask_bbox, read_mask_index
from reviewer.training.evaluate import HIGHLIGHT_CLASSES, evaluate_masks_split
from reviewer.training.labels import BOX_LABEL_MODES, BoxLabelConfig, annotation_labels

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "masks"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="masks folder")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of each run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--input-size", type=int, default=256, help="network input in px")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--work", type=Path, default=None, help="folder for the file and models")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    work = args.work or Path(tempfile.mkdtemp(prefix="box_labels_"))
    work.mkdir(parents=True, exist_ok=True)
    coco_path = write_boxes_only_coco(args.data, work / "masks_train_boxes.json")
    base = TrainConfig(
        data_dir=coco_path,
        out_path=work / "unused.pt",
        epochs=args.epochs,
        seed=args.seed,
        arch=ForegroundArch(input_size_px=args.input_size),
        threads=args.threads,
    )

    label_quality = {mode: label_iou(args.data, base, mode) for mode in BOX_LABEL_MODES}
    rows = []
    for mode in BOX_LABEL_MODES:
        config = _with_mode(base, mode, work)
        with torch_threads(config.threads):
            result = train_background(config)
            model = load_background_model(config.out_path, num_threads=config.threads)
            scores = evaluate_masks_split(model, args.data, "val")
        rows.append((mode, result, scores))

    _print_report(args, coco_path, label_quality, rows)
    return 0


def write_boxes_only_coco(data_dir: Path, path: Path) -> Path:
    """Write the train split of a masks folder as a COCO file with boxes only."""
    records = read_mask_index(data_dir, "train")
    categories: dict[str, int] = {}
    images, annotations = [], []
    for number, record in enumerate(records, start=1):
        image, mask = load_image_and_mask(record)
        box = mask_bbox(mask)
        if box is None:
            continue
        species = record.classes[0] if record.classes else "animal"
        category = categories.setdefault(species, len(categories) + 1)
        height, width = mask.shape
        images.append(
            {"id": number, "file_name": str(record.image_path), "width": width, "height": height}
        )
        annotations.append(
            {"id": number, "image_id": number, "category_id": category, "bbox": list(box)}
        )
    data = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": name} for name, i in categories.items()],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def label_iou(data_dir: Path, config: TrainConfig, mode: str) -> dict:
    """Score one kind of box label against the true masks of the train photos.

    The chip with context is cut as training cuts it. IoU counts only pixels
    with a label weight above 0; ``weighted_share`` is the mean weight.
    """
    labels_config = BoxLabelConfig(mode=mode)
    chip_config = ChipConfig(dim_size_px=context_size_px(config))
    ious, shares, failed = [], [], 0
    start = time.monotonic()
    for record in read_mask_index(data_dir, "train"):
        image, mask = load_image_and_mask(record)
        box = mask_bbox(mask)
        if box is None:
            continue
        grown = grow_box(box, config.augment.grow_max)
        chip = extract_chip(image, grown, 0.0, chip_config)
        truth = cv2.warpAffine(
            mask.astype(np.uint8), chip.M[:2], chip.size, flags=cv2.INTER_NEAREST
        ).astype(bool)
        labels, _ = annotation_labels(chip, False, [(box, 0.0)], None, labels_config)
        counted = labels.weight > 0
        predicted = labels.target >= 0.5
        union = (counted & (predicted | truth)).sum()
        ious.append((counted & predicted & truth).sum() / union if union else 1.0)
        shares.append(float(labels.weight.mean()))
        failed += int(labels.failed)
    return {
        "iou": float(np.mean(ious)),
        "weighted_share": float(np.mean(shares)),
        "failed": failed,
        "count": len(ious),
        "seconds": time.monotonic() - start,
    }


def _with_mode(base: TrainConfig, mode: str, work: Path) -> TrainConfig:
    return replace(base, out_path=work / f"box_{mode}.pt", box_labels=BoxLabelConfig(mode=mode))


def _print_report(args, coco_path: Path, label_quality: dict, rows: list) -> None:
    print()
    print(f"box labels benchmark: {coco_path}")
    print(
        f"seed {args.seed}, {args.epochs} epochs, input {args.input_size} px, "
        f"{args.threads} torch thread(s), {platform.machine()}"
    )
    print()
    _print_label_quality(label_quality)
    print()
    _print_models(rows)


def _print_label_quality(label_quality: dict) -> None:
    print("label quality on the train photos (IoU with the true mask, weighted pixels only)")
    print(f"{'labels':>8} {'photos':>6} {'IoU':>6} {'mean weight':>11} {'failed':>6} {'s':>6}")
    for mode, quality in label_quality.items():
        print(
            f"{mode:>8} {quality['count']:6d} {quality['iou']:6.3f} "
            f"{quality['weighted_share']:11.3f} {quality['failed']:6d} {quality['seconds']:6.0f}"
        )


def _print_models(rows: list) -> None:
    group = "+".join(HIGHLIGHT_CLASSES)
    print("models on the masks val split (evaluate.py protocol, true masks)")
    print(
        f"{'labels':>8} {'epochs':>6} {'best':>4} {'label IoU':>9} {'val IoU':>7} "
        f"{group:>14} {'minutes':>7}"
    )
    for mode, result, scores in rows:
        print(
            f"{mode:>8} {result.epochs_run:6d} {result.best_epoch:4d} "
            f"{result.best_val_iou:9.3f} {scores['mean_iou']:7.3f} "
            f"{scores['groups'][group]['iou']:14.3f} {result.seconds / 60:7.1f}"
        )
    print("(label IoU: the run's own held-out images against its own labels, used to pick")
    print(" the epoch; val IoU: the masks set's val split against true masks)")

    for mode, _, scores in rows:
        print(f"val_iou_{mode}={scores['mean_iou']:.4f}")


if __name__ == "__main__":
    sys.exit(main())
