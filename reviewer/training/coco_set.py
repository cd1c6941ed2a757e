"""Training set and validation scoring for samples made from a COCO file (see ``coco``).

Training chips are jittered boxes inside each annotation's chip with context,
and their labels come with per-pixel loss weights. The validation IoU weights
every pixel by its label weight, so that pixels the label ignores do not count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from reviewer.engine.chips import Chip, ChipConfig, chip_size, extract_chip
from reviewer.engine.foreground import net_input_size
from reviewer.training.augment import apply_colour_jitter, draw_colour_jitter, jitter_box
from reviewer.training.background import TrainConfig
from reviewer.training.data import BBox
from reviewer.training.evaluate import FOREGROUND_THRESHOLD, HIGHLIGHT_CLASSES
from reviewer.training.mask_set import SamplePlan, TrainingSet


@dataclass(frozen=True)
class CocoSample:
    """One training annotation: its chip with context and the labels of that chip."""

    id: str  # the aid
    classes: tuple[str, ...]  # (species,)
    pixels: np.ndarray  # (h, w, 3) uint8 BGR chip with context
    target: np.ndarray  # (h, w) uint8, 255 = animal
    weight: np.ndarray  # (h, w) uint8, loss weight x 255
    box: BBox  # the annotation's box in chip pixels
    label_source: str  # "segmentation", "boxes refined" or "boxes plain"
    source: str = ""  # always empty; the model card lists the sources of masks folders


@dataclass(frozen=True)
class ValChip:
    """One held-out annotation, ready to score."""

    id: str  # the aid
    classes: tuple[str, ...]  # (species,)
    pixels: np.ndarray  # (h, w, 3) uint8 BGR
    truth: np.ndarray  # (h, w) bool, True = animal
    weight: np.ndarray  # (h, w) float32 in [0, 1], the weight of each pixel in the IoU
    label_source: str
    source: str = ""  # always empty, as in CocoSample


class CocoTrainingSet(TrainingSet):
    """The training annotations of a COCO file, as chips with context and labels.

    ``plan_epoch`` is inherited: one chip per annotation and epoch, batched by
    network input size.
    """

    def __init__(self, samples: list[CocoSample]):
        # TrainingSet.__init__ reads a masks folder, so it is not called.
        self.samples = samples
        self.records = samples  # TrainResult.start reads .classes and .source

    def _plan_sample(self, index: int, config: TrainConfig, rng) -> SamplePlan:
        sample = self.samples[index]
        height, width = sample.target.shape
        box = jitter_box(sample.box, (width, height), config.augment, rng)
        size = chip_size(box, ChipConfig().dim_size_px)
        return SamplePlan(
            index=index,
            bbox=box,
            flip=bool(rng.random() < config.augment.flip_prob),
            colour=draw_colour_jitter(config.augment, rng),
            net_size=net_input_size(size, config.arch.input_size_px, config.arch.stride),
        )

    def make_batch(
        self, plans: list[SamplePlan]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Cut and augment the chips of one batch.

        Returns images (B, 3, h, w) float32 BGR in [0, 255], targets and loss
        weights, both (B, 1, h, w) float32 in [0, 1].
        """
        images, targets, weights = [], [], []
        for plan in plans:
            sample = self.samples[plan.index]
            chip = extract_chip(
                sample.pixels, plan.bbox, 0.0, ChipConfig(dim_size_px=max(plan.net_size))
            )
            small = cv2.resize(chip.pixels, plan.net_size, interpolation=cv2.INTER_AREA)
            target = _warp_label(sample.target, chip, plan.net_size)
            weight = _warp_label(sample.weight, chip, plan.net_size)
            if plan.flip:
                small, target, weight = small[:, ::-1], target[:, ::-1], weight[:, ::-1]
            images.append(apply_colour_jitter(np.ascontiguousarray(small), plan.colour))
            targets.append(np.ascontiguousarray(target))
            weights.append(np.ascontiguousarray(weight))
        image_batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
        target_batch = torch.from_numpy(np.stack(targets))[:, None]
        weight_batch = torch.from_numpy(np.stack(weights))[:, None]
        return image_batch, target_batch, weight_batch


def _warp_label(label: np.ndarray, chip: Chip, net_size: tuple[int, int]) -> np.ndarray:
    """Warp a uint8 label map (255 = 1.0) into a chip, then shrink it to the network input."""
    warped = cv2.warpAffine(
        label.astype(np.float32) / 255.0,
        chip.M[:2],
        chip.size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return cv2.resize(warped, net_size, interpolation=cv2.INTER_AREA)


def weighted_iou(predicted: np.ndarray, truth: np.ndarray, weight: np.ndarray) -> float:
    """IoU of two (h, w) bool masks with each pixel counted by its weight; 1.0 when empty."""
    union = float((weight * (predicted | truth)).sum())
    if union <= 0.0:
        return 1.0
    return float((weight * (predicted & truth)).sum()) / union


def score_val_chips(predict: Callable[[np.ndarray], np.ndarray], chips: Sequence[ValChip]) -> dict:
    """Score a probchip function on validation chips.

    Returns the dict of ``evaluate.score_eval_chips``, with weighted IoU. A
    species counts for the highlighted group when one of its ``_``-separated
    parts is a highlighted class, so ``zebra_plains`` counts as a zebra.
    """
    per_image = {}
    for chip in chips:
        predicted = predict(chip.pixels) >= FOREGROUND_THRESHOLD
        per_image[chip.id] = weighted_iou(predicted, chip.truth, chip.weight)

    species = sorted({name for chip in chips for name in chip.classes})
    per_class = {
        name: _mean_of(per_image, [c.id for c in chips if name in c.classes]) for name in species
    }
    highlighted = [c.id for c in chips if _is_highlighted(c.classes)]
    return {
        "mean_iou": float(np.mean(list(per_image.values()))) if per_image else math.nan,
        "count": len(per_image),
        "per_class": per_class,
        "groups": {"+".join(HIGHLIGHT_CLASSES): _mean_of(per_image, highlighted)},
        "per_image": per_image,
    }


def _is_highlighted(classes: tuple[str, ...]) -> bool:
    parts = {part for name in classes for part in name.split("_")}
    return bool(parts & set(HIGHLIGHT_CLASSES))


def _mean_of(per_image: dict, ids: list[str]) -> dict:
    values = [per_image[i] for i in ids]
    return {"iou": float(np.mean(values)) if values else math.nan, "count": len(values)}


def all_ones_iou(chips: Sequence[ValChip]) -> float:
    """Mean weighted IoU of a probchip that is 1 everywhere."""
    values = [weighted_iou(np.ones_like(c.truth), c.truth, c.weight) for c in chips]
    return float(np.mean(values)) if values else math.nan
