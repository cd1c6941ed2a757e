"""The state of a training run and the markdown model card written next to the weights."""

from __future__ import annotations

import math
import os
import platform
import shlex
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reviewer.engine.foreground import load_background_model
from reviewer.training import coco_card
from reviewer.training.evaluate import HIGHLIGHT_CLASSES, iou

if TYPE_CHECKING:
    from reviewer.training.background import TrainConfig
    from reviewer.training.coco import CocoSummary

TIMING_CHIP_SIZE = (700, 525)  # (width, height) of the chip timed for the card, a 4:3 box
TIMING_RUNS = 20
WEAK_IOU = 0.7  # classes below this val IoU are named in the limitations
#: How the training defaults of this code version were chosen; the card repeats it.
DEFAULTS_PROVENANCE = (
    "The defaults of this code version (150 epochs, input size 256, the weight average, "
    "blur and noise augmentation, flip averaging in predict) were set before the bundled "
    "model was trained: the epochs because the previous model's training loss was still "
    "falling at its last epoch, input size 256 because on the train split a mask resized "
    "to the 1/4-resolution output grid and back keeps an IoU of 0.975, and the rest as "
    "common practice. No setting was chosen by comparing runs on the val split."
)


@dataclass(frozen=True)
class TrainResult:
    """Facts about a training run, updated after every epoch."""

    config: TrainConfig
    train_classes: dict  # class -> training images that contain it
    val_classes: dict  # class -> validation images that contain it
    train_count: int
    val_count: int
    parameter_count: int
    all_ones_iou: float  # mean val IoU of a probchip that is 1 everywhere
    sources: dict  # source collection -> train and val images taken from it
    epochs_run: int = 0
    best_epoch: int | None = None
    best_scores: dict = field(default_factory=dict)  # score_eval_chips output of the best epoch
    seconds: float = 0.0  # wall time since training started
    data_seconds: float = 0.0  # wall time spent reading data and making labels before epoch 1
    last_loss: float = math.nan
    interrupted: bool = False
    coco: CocoSummary | None = None  # set when trained from a COCO file

    @classmethod
    def start(cls, config, train_records, val_chips, net) -> TrainResult:
        """Describe a run that has not trained yet."""
        ones = [iou(np.ones_like(c.truth), c.truth) for c in val_chips]
        return cls(
            config=config,
            train_classes=dict(Counter(n for r in train_records for n in r.classes)),
            val_classes=dict(Counter(n for c in val_chips for n in c.classes)),
            train_count=len(train_records),
            val_count=len(val_chips),
            parameter_count=sum(p.numel() for p in net.parameters()),
            all_ones_iou=float(np.mean(ones)) if ones else math.nan,
            sources=dict(Counter(r.source for r in (*train_records, *val_chips) if r.source)),
        )

    @property
    def best_val_iou(self) -> float:
        """Mean val IoU of the best epoch; minus infinity before the first epoch ends."""
        return self.best_scores.get("mean_iou", -math.inf)

    @property
    def seconds_per_epoch(self) -> float:
        """Mean wall time of the epochs run so far, without the data preparation."""
        return (self.seconds - self.data_seconds) / max(self.epochs_run, 1)

    @property
    def card_path(self) -> Path:
        return self.config.out_path.with_suffix(".md")

    def command_line(self) -> str:
        """Return the ``reviewer train-background`` call that repeats this run."""
        config = self.config
        words = [
            "reviewer",
            "train-background",
            str(config.data_dir),
            "--out",
            str(config.out_path),
            "--epochs",
            str(config.epochs),
            "--seed",
            str(config.seed),
            "--batch-size",
            str(config.batch_size),
            "--input-size",
            str(config.arch.input_size_px),
            "--lr",
            str(config.learning_rate),
            "--threads",
            str(config.threads),
        ]
        if config.max_minutes is not None:
            words += ["--max-minutes", str(config.max_minutes)]
        if self.coco is not None:
            words += coco_card.command_words(self)
        return shlex.join(words)

    def to_meta(self) -> dict:
        """Plain-data summary stored in the model file."""
        scores = self.best_scores
        meta = {
            "data_set": self.config.data_dir.name,
            "train_images": self.train_count,
            "val_images": self.val_count,
            "classes": sorted(set(self.train_classes) | set(self.val_classes)),
            "epoch": self.best_epoch,
            "seed": self.config.seed,
            "input_size_px": self.config.arch.input_size_px,
            "ema_decay": self.config.ema_decay,
            "val_mean_iou": scores.get("mean_iou"),
            "val_per_class_iou": {k: v["iou"] for k, v in scores.get("per_class", {}).items()},
            "command": self.command_line(),
        }
        if self.coco is not None:
            meta.update(coco_card.meta(self))
        return meta


def write_model_card(result: TrainResult) -> Path:
    """Write the markdown model card next to the weights and return its path.

    The weights file is loaded back with ``load_background_model``, which
    checks that it loads, and its inference time is measured on this machine.
    """
    model = load_background_model(result.config.out_path, num_threads=result.config.threads)
    milliseconds = _time_predict(model)
    if result.coco is not None:
        lines = _header(result, model, milliseconds) + coco_card.data_section(result)
        lines += _training_section(result) + _evaluation_section(result)
        lines += coco_card.limitations(result)
    else:
        lines = _header(result, model, milliseconds) + _data_section(result)
        lines += _training_section(result) + _evaluation_section(result) + _limitations(result)
    result.card_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return result.card_path


def _time_predict(model) -> float:
    chip = np.random.default_rng(0).integers(0, 256, (*TIMING_CHIP_SIZE[::-1], 3), dtype=np.uint8)
    model.predict(chip)  # warm-up
    start = time.perf_counter()
    for _ in range(TIMING_RUNS):
        model.predict(chip)
    return (time.perf_counter() - start) / TIMING_RUNS * 1000.0


def _header(result: TrainResult, model, milliseconds: float) -> list[str]:
    arch = model.arch
    size_kib = model.path.stat().st_size / 1024
    return [
        f"# Background model `{model.name}`",
        "",
        "Foreground probability (probchip) of an animal chip: for every chip pixel, the "
        "probability that it shows an animal rather than background. The matcher averages "
        "it under each keypoint to get the keypoint's fgweight.",
        "",
        f"- File: `{model.path.name}`, {size_kib:.0f} KiB, sha256 `{model.sha256}`",
        f"- Network: compact U-Net of depthwise-separable convolutions, "
        f"{result.parameter_count:,} parameters; encoder widths {list(arch.widths)}, "
        f"depths {list(arch.depths)}, decoder width {arch.decoder_width}, stride {arch.stride}",
        f"- Input: the chip resized so that its longer side is {arch.input_size_px} px "
        f"(both sides multiples of {arch.stride}); output logits at 1/4 of that, resized "
        "back to the chip",
        f"- Inference: {milliseconds:.1f} ms per {TIMING_CHIP_SIZE[0]}x{TIMING_CHIP_SIZE[1]} "
        f"chip including the resize back{_flip_words(model)}, with "
        f"{_threads(model.num_threads)} on "
        f"{platform.machine()} ({os.cpu_count()} logical CPUs); measured when the card "
        "was written, so other loads on the machine may inflate it",
        "",
    ]


def _flip_words(model) -> str:
    if not model.flip_average:
        return ""
    return " and the average with the mirrored chip (two network passes)"


def _threads(count: int) -> str:
    return f"{count} torch thread" + ("" if count == 1 else "s")


def _data_section(result: TrainResult) -> list[str]:
    classes = sorted(set(result.train_classes) | set(result.val_classes))
    lines = [
        "## Data",
        "",
        f"Masks folder `{result.config.data_dir.name}`: photos of animals with binary masks "
        "(255 = animal), each mask the union of every animal in the photo. "
        f"Split sizes: {result.train_count} train, {result.val_count} val. "
        "The photos are in that folder, not in the model file.",
        "",
        "| class | train images | val images |",
        "| --- | ---: | ---: |",
    ]
    for name in classes:
        lines.append(
            f"| {name} | {result.train_classes.get(name, 0)} | {result.val_classes.get(name, 0)} |"
        )
    lines += ["", "An image counts once for every class it contains.", ""]
    if result.sources:
        lines += ["| source (`source_repo` in index.csv) | images |", "| --- | ---: |"]
        lines += [f"| {name} | {count} |" for name, count in sorted(result.sources.items())]
        lines.append("")
    return lines


def _training_section(result: TrainResult) -> list[str]:
    config = result.config
    augment = config.augment
    status = "interrupted with Ctrl-C" if result.interrupted else "completed"
    return [
        "## Training",
        "",
        f"- Epochs: {result.epochs_run} of {config.epochs} run ({status}); the weights "
        f"are from epoch {result.best_epoch}",
        f"- Wall time: {result.seconds / 60:.1f} min with {_threads(config.threads)}, "
        f"{result.data_seconds / 60:.1f} min of it reading the data and making labels",
        f"- Seed: {config.seed}; batch size {config.batch_size}; AdamW, peak learning rate "
        f"{config.learning_rate}, weight decay {config.weight_decay}, linear warmup over "
        f"{config.warmup_fraction:.0%} of the steps, then cosine decay",
        "- Loss: binary cross-entropy plus (1 - soft IoU) per chip",
        _weights_line(config),
        coco_card.chips_line(result)
        if result.coco is not None
        else f"- Chips: `extract_chip` of the box of all mask pixels or, with probability "
        f"{augment.component_prob}, of one connected component; each side of the box "
        f"moved by -{augment.shrink_max:.0%} to +{augment.grow_max:.0%} of the box size with "
        f"probability {augment.jitter_prob}; horizontal flips; brightness, contrast, "
        f"saturation and hue jitter; Gaussian blur (sigma up to {augment.blur_sigma_max_px} "
        f"px) with probability {augment.blur_prob}; Gaussian noise (standard deviation up "
        f"to {augment.noise_std_max} grey levels) with probability {augment.noise_prob}",
        f"- Command: `{result.command_line()}`",
        "",
    ]


def _weights_line(config) -> str:
    if config.ema_decay is None:
        return "- Saved weights: the trained weights of the chosen epoch"
    return (
        "- Saved weights: an exponential moving average of the trained weights and "
        f"BatchNorm statistics, decay {config.ema_decay} per step, as it stood at the end "
        "of the chosen epoch; every epoch's score is that of the average"
    )


def _evaluation_section(result: TrainResult) -> list[str]:
    scores = result.best_scores
    group_name = "+".join(HIGHLIGHT_CLASSES)
    group = scores["groups"][group_name]
    lines = [
        "## Validation IoU",
        "",
        coco_card.protocol_text(result)
        if result.coco is not None
        else "Protocol: for each val image the box is the bounding box of all mask pixels, the "
        "chip is `extract_chip` of that box, and the true mask is warped into the chip with "
        "nearest-neighbour sampling. Foreground is probchip >= 0.5, the probchip coming from "
        "`BackgroundModel.predict` as the product runs it. IoU is taken over the "
        "whole chip and averaged over images; a class averages the images that contain it.",
        "",
        "The val split was used to select the checkpoint (the epoch with the best mean IoU) "
        "and for nothing else, so these figures are slightly optimistic. " + DEFAULTS_PROVENANCE,
        "",
        "| images | count | IoU |",
        "| --- | ---: | ---: |",
        f"| all | {scores['count']} | {scores['mean_iou']:.3f} |",
        f"| {group_name.replace('+', ' and ')} | {group['count']} | {group['iou']:.3f} |",
    ]
    for name, entry in sorted(scores["per_class"].items()):
        lines.append(f"| {name} | {entry['count']} | {entry['iou']:.3f} |")
    return lines + [
        "",
        f"For comparison, a probchip of all ones scores {result.all_ones_iou:.3f}.",
        "",
    ]


def _limitations(result: TrainResult) -> list[str]:
    lines = [
        "## Limitations",
        "",
        "- Trained from scratch on a few hundred photos, most of them horses; classes with "
        "one or two val images give IoU figures that are anecdotes, not estimates.",
        "- It marks every animal in the chip as foreground, not only the annotated one.",
        "- It was trained on upright boxes (theta = 0) only.",
    ]
    per_class = result.best_scores.get("per_class", {})
    weak = sorted((entry["iou"], name, entry["count"]) for name, entry in per_class.items())
    weak = [f"{name} {iou:.3f} ({count} images)" for iou, name, count in weak if iou < WEAK_IOU]
    if weak:
        lines.append(
            f"- Classes below val IoU {WEAK_IOU}: {', '.join(weak)}. "
            "`benchmarks/background_model.py` compares them with an all-ones mask and GrabCut."
        )
    return lines
