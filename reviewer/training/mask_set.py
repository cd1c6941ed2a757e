"""Training set of a masks folder: photos and masks in memory, and the chips of each epoch.

Each epoch draws a random box per training photo (see ``augment``) and groups
chips of equal network input size into batches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from reviewer.engine.chips import ChipConfig, chip_size
from reviewer.engine.foreground import net_input_size
from reviewer.training.augment import (
    AugmentConfig,
    ColourJitter,
    apply_colour_jitter,
    draw_colour_jitter,
    jitter_box,
)
from reviewer.training.data import (
    BBox,
    MaskSetError,
    component_bboxes,
    cut_chip_and_mask,
    iter_masked_photos,
    read_mask_index,
)

if TYPE_CHECKING:
    from pathlib import Path

    from reviewer.training.background import TrainConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplePlan:
    """Recipe of one training chip in one epoch: photo, box, flip and colour change."""

    index: int  # into the training photos
    bbox: BBox
    flip: bool
    colour: ColourJitter
    net_size: tuple[int, int]  # (width, height) of the network input


class TrainingSet:
    """Training photos and masks held in memory, with their candidate boxes."""

    def __init__(self, data_dir: Path, augment: AugmentConfig, split: str = "train"):
        records = read_mask_index(data_dir, split)
        self.records, self.images, self.masks = [], [], []
        self.full_boxes, self.component_boxes = [], []
        for record, image, mask, box in iter_masked_photos(records):
            self.records.append(record)
            self.images.append(image)
            self.masks.append(mask)
            self.full_boxes.append(box)
            self.component_boxes.append(component_bboxes(mask, augment.min_component_fraction))
        if not self.records:
            raise MaskSetError(f"The masks folder {data_dir} has no usable {split!r} images.")

    def __len__(self) -> int:
        return len(self.records)

    def plan_epoch(self, config: TrainConfig, rng: np.random.Generator) -> list[list[SamplePlan]]:
        """Draw one chip per photo and group chips of equal input size into batches.

        Batches come in random order. The last batch of each input size may be
        smaller than ``batch_size``.
        """
        groups: dict[tuple[int, int], list[SamplePlan]] = {}
        for index in rng.permutation(len(self)):
            plan = self._plan_sample(int(index), config, rng)
            groups.setdefault(plan.net_size, []).append(plan)

        batches = []
        for size in sorted(groups):
            plans = groups[size]
            batches += [
                plans[i : i + config.batch_size] for i in range(0, len(plans), config.batch_size)
            ]
        order = rng.permutation(len(batches))
        return [batches[i] for i in order]

    def _plan_sample(self, index: int, config: TrainConfig, rng) -> SamplePlan:
        augment = config.augment
        box = self.full_boxes[index]
        components = self.component_boxes[index]
        if len(components) > 1 and rng.random() < augment.component_prob:
            box = components[int(rng.integers(len(components)))]
        height, width = self.masks[index].shape
        box = jitter_box(box, (width, height), augment, rng)
        size = chip_size(box, ChipConfig().dim_size_px)
        return SamplePlan(
            index=index,
            bbox=box,
            flip=bool(rng.random() < augment.flip_prob),
            colour=draw_colour_jitter(augment, rng),
            net_size=net_input_size(size, config.arch.input_size_px, config.arch.stride),
        )

    def make_batch(self, plans: list[SamplePlan]) -> tuple[torch.Tensor, torch.Tensor, None]:
        """Cut and augment the chips of one batch.

        Returns images (B, 3, h, w) float32 BGR in [0, 255], targets
        (B, 1, h, w) float32 in [0, 1], and None for the loss weights, because
        every pixel of a mask counts fully.
        """
        images, targets = [], []
        for plan in plans:
            chip, chip_mask = cut_chip_and_mask(
                self.images[plan.index], self.masks[plan.index], plan.bbox
            )
            # The same resize as BackgroundModel.predict; the target becomes soft at edges.
            small = cv2.resize(chip.pixels, plan.net_size, interpolation=cv2.INTER_AREA)
            target = cv2.resize(
                chip_mask.astype(np.float32), plan.net_size, interpolation=cv2.INTER_AREA
            )
            if plan.flip:
                small, target = small[:, ::-1], target[:, ::-1]
            images.append(apply_colour_jitter(np.ascontiguousarray(small), plan.colour))
            targets.append(np.ascontiguousarray(target))
        image_batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
        target_batch = torch.from_numpy(np.stack(targets))[:, None]
        return image_batch, target_batch, None
