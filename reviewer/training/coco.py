"""Training data from a COCO annotation file.

Each annotation becomes one training sample: its chip with context, cut once
with ``extract_chip`` at the annotation's theta after moving every side of the
box outward by ``AugmentConfig.grow_max`` of the box size, and the labels of
that chip (see ``labels``). The training chips of an epoch are jittered boxes
inside it, like the chips of a masks folder, and the labels are warped with the
same transform.

Labels come from the annotation's segmentation where it has one, and from
boxes otherwise, refined by GrabCut or plain (``BoxLabelConfig.mode``). Every
annotated animal of the photo counts: the masks and boxes of the photo's other
annotations are drawn into each chip too.

Validation holds out ``val_fraction`` of the images, drawn with the seed, so
that no photo is in both splits. A held-out annotation with segmentation is
scored like the masks protocol of ``evaluate``: its own chip, without context,
against its mask. One without segmentation is scored on its chip with context
against its box labels, weighted by the label weights, so that ignored pixels
do not count.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reviewer.engine.annotations import Annotation, load_annotations
from reviewer.engine.chips import Chip, ChipConfig, extract_chip, load_photo
from reviewer.engine.errors import BBoxError, ImageLoadError, ReviewerError
from reviewer.training.background import TrainConfig, TrainingData
from reviewer.training.coco_set import (
    CocoSample,
    CocoTrainingSet,
    ValChip,
    all_ones_iou,
    score_val_chips,
)
from reviewer.training.data import BBox
from reviewer.training.labels import (
    SEGMENTATION,
    BoxLabelConfig,
    ChipLabels,
    SegmentationError,
    annotation_labels,
    segmentation_to_chip,
)

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 10.0  # seconds between progress lines while labels are made


class CocoDataError(ReviewerError):
    """A COCO file cannot give a training run: no usable annotations or too few images."""


@dataclass(frozen=True)
class CocoSummary:
    """Data facts of a COCO training run, reported by the model card."""

    path: Path
    box_labels: BoxLabelConfig
    val_fraction: float
    images: dict  # "train" / "val" -> images with at least one usable annotation
    species: dict  # species -> {"train": annotations, "val": annotations}
    label_sources: dict  # label source -> {"train": annotations, "val": annotations}
    grabcut_failed: int  # chips whose GrabCut result was rejected
    skipped: tuple[str, ...]  # one warning per annotation or image left out

    @property
    def label_source(self) -> str:
        """The one label source of every annotation, or "mixed"."""
        return next(iter(self.label_sources)) if len(self.label_sources) == 1 else "mixed"

    def annotation_count(self, split: str) -> int:
        return sum(counts[split] for counts in self.species.values())

    def validation_target(self) -> str:
        """Describe what the val IoU is measured against."""
        kinds = []
        if SEGMENTATION in self.label_sources:
            kinds.append("the segmentation mask, on the annotation's chip without context")
        box_sources = sorted(set(self.label_sources) - {SEGMENTATION})
        if box_sources:
            kinds.append(f"the {' and '.join(box_sources)} labels, on the chip with context")
        return " or ".join(kinds)


def context_size_px(config: TrainConfig) -> int:
    """Longer side of a chip with context, so that its box is the network input size."""
    return round(config.arch.input_size_px * (1.0 + 2.0 * config.augment.grow_max))


def load_coco_data(config: TrainConfig) -> TrainingData:
    """Read a COCO file and make the training set and the validation chips.

    Annotations the loader rejects, whose image is missing or unreadable, or
    whose segmentation is invalid are skipped with a warning.

    Raises
    ------
    AnnotationFileError
        The file is missing or not COCO JSON.
    CocoDataError
        No usable annotation is left, or fewer than 2 images have one.
    """
    path = config.data_dir
    annotations = load_annotations(path)
    skipped = list(annotations.problems)
    by_image = _group_by_image(list(annotations), skipped)
    if not by_image:
        raise CocoDataError(_no_usable_message(path, skipped))
    val_images = split_images(sorted(by_image), config.val_fraction, config.seed, path)

    # Labels: one photo in memory at a time.
    samples, val_chips = [], []
    image_counts = {"train": 0, "val": 0}
    grabcut_failed = 0
    progress = _Progress(len(by_image))
    for done, image_key in enumerate(sorted(by_image), start=1):
        is_val = image_key in val_images
        prepared = _prepare_image(by_image[image_key], is_val, config, skipped)
        samples += prepared.samples
        val_chips += prepared.val_chips
        grabcut_failed += prepared.grabcut_failed
        if prepared.samples or prepared.val_chips:
            image_counts["val" if is_val else "train"] += 1
        progress.update(done, len(samples) + len(val_chips))

    if not samples or not val_chips:
        split = "training" if not samples else "validation"
        raise CocoDataError(_no_usable_message(path, skipped, f"{split} "))
    summary = CocoSummary(
        path=path,
        box_labels=config.box_labels,
        val_fraction=config.val_fraction,
        images=image_counts,
        species=_split_counts(samples, val_chips, lambda item: item.classes[0]),
        label_sources=_split_counts(samples, val_chips, lambda item: item.label_source),
        grabcut_failed=grabcut_failed,
        skipped=tuple(skipped),
    )
    log.info(
        "%s: %d training and %d validation annotations, labels from %s; %d skipped",
        path.name,
        len(samples),
        len(val_chips),
        summary.label_source,
        len(skipped),
    )
    return TrainingData(
        train_set=CocoTrainingSet(samples),
        val_chips=val_chips,
        score=score_val_chips,
        all_ones_iou=all_ones_iou(val_chips),
        coco=summary,
    )


def _group_by_image(annotations: list[Annotation], skipped: list[str]) -> dict:
    """Group annotations by image, leaving out those whose image file is missing."""
    by_image: dict[str, list[Annotation]] = defaultdict(list)
    for annot in annotations:
        if not annot.image_path.is_file():
            _skip(skipped, f"aid={annot.aid}: image not found: {annot.image_path}")
            continue
        by_image[str(annot.image_id)].append(annot)
    return dict(by_image)


def split_images(keys: Sequence[str], val_fraction: float, seed: int, path: Path) -> set[str]:
    """Draw the validation images: ``val_fraction`` of them, at least 1, never all.

    Raises
    ------
    CocoDataError
        Fewer than 2 images, so none can be held out.
    """
    if len(keys) < 2:
        raise CocoDataError(
            f"{path}: only {len(keys)} image has usable annotations, but training needs at "
            "least 2, so that one can be held out for validation. Add images."
        )
    count = min(len(keys) - 1, max(1, round(val_fraction * len(keys))))
    order = np.random.default_rng(seed).permutation(len(keys))
    return {keys[i] for i in order[:count]}


@dataclass
class _PreparedImage:
    samples: list
    val_chips: list
    grabcut_failed: int = 0


def _prepare_image(
    annots: list[Annotation], is_val: bool, config: TrainConfig, skipped: list[str]
) -> _PreparedImage:
    """Make the samples, or the validation chips, of one image's annotations."""
    prepared = _PreparedImage([], [])
    first = annots[0]
    try:
        photo = load_photo(first.image_path, first.image_size)
    except ImageLoadError as err:
        for annot in annots:
            _skip(skipped, f"aid={annot.aid}: {err}")
        return prepared

    image_size = (photo.pixels.shape[1], photo.pixels.shape[0])
    masks = _segmentation_masks(annots, image_size, skipped)
    usable = [a for a in annots if not a.segmentation or a.key in masks]
    union = _union(masks.values())
    boxes = [(a.bbox, a.theta) for a in usable if not a.segmentation]

    for annot in usable:
        try:
            chip = _cut_chip(photo.pixels, annot, is_val, config)
        except BBoxError as err:
            _skip(skipped, f"aid={annot.aid}: {err}")
            continue
        has_segmentation = bool(annot.segmentation)
        labels, source = annotation_labels(chip, has_segmentation, boxes, union, config.box_labels)
        prepared.grabcut_failed += int(labels.failed)
        # NOTE: every context chip and its labels stay in memory for the whole run,
        # about 0.5 MB per annotation at the default input size, so tens of
        # thousands of annotations need several GB of RAM.
        if is_val:
            prepared.val_chips.append(_val_chip(annot, chip, labels, source))
        else:
            prepared.samples.append(_train_sample(annot, chip, labels, source, config))
    return prepared


def _segmentation_masks(annots, image_size, skipped) -> dict[str, np.ndarray]:
    """Rasterise each annotation's segmentation on the photo's grid; skip invalid ones."""
    identity = np.eye(3)
    masks = {}
    for annot in annots:
        if not annot.segmentation:
            continue
        try:
            mask = segmentation_to_chip(annot.segmentation, image_size, identity, image_size)
        except SegmentationError as err:
            _skip(skipped, f"aid={annot.aid}: invalid segmentation: {err}")
            continue
        masks[annot.key] = mask >= 0.5
    return masks


def _union(masks) -> np.ndarray | None:
    masks = list(masks)
    if not masks:
        return None
    return np.logical_or.reduce(masks).astype(np.uint8)


def _cut_chip(pixels: np.ndarray, annot: Annotation, is_val: bool, config: TrainConfig) -> Chip:
    """Cut an annotation's chip: with context, or as the product cuts it.

    A held-out annotation with segmentation is scored on the product's chip,
    as in the masks protocol. Every other chip keeps context around the box,
    because a plain box label of the box alone would be all animal.
    """
    if is_val and annot.segmentation:
        return extract_chip(pixels, annot.bbox, annot.theta)
    return extract_chip(
        pixels,
        grow_box(annot.bbox, config.augment.grow_max),
        annot.theta,
        ChipConfig(dim_size_px=context_size_px(config)),
    )


def _train_sample(annot, chip: Chip, labels: ChipLabels, source: str, config) -> CocoSample:
    return CocoSample(
        id=annot.key,
        classes=(annot.species,),
        pixels=chip.pixels,
        target=_to_uint8(labels.target),
        weight=_to_uint8(labels.weight),
        box=_inner_box(chip, config.augment.grow_max),
        label_source=source,
    )


def _val_chip(annot, chip: Chip, labels: ChipLabels, source: str) -> ValChip:
    return ValChip(
        id=annot.key,
        classes=(annot.species,),
        pixels=chip.pixels,
        truth=labels.target >= 0.5,
        weight=labels.weight,
        label_source=source,
    )


def grow_box(bbox: BBox, margin: float) -> BBox:
    """Move every side of a box outward by ``margin`` of its size, keeping the centre."""
    x, y, w, h = bbox
    return (x - margin * w, y - margin * h, w * (1.0 + 2.0 * margin), h * (1.0 + 2.0 * margin))


def _inner_box(chip: Chip, margin: float) -> BBox:
    """Return the original box inside a chip cut from the box grown by ``margin``."""
    width, height = chip.size
    grown = 1.0 + 2.0 * margin
    return (margin * width / grown, margin * height / grown, width / grown, height / grown)


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.round(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)


def _skip(skipped: list[str], message: str) -> None:
    log.warning("Skipping %s", message)
    skipped.append(message)


def _no_usable_message(path: Path, skipped: list[str], split: str = "") -> str:
    first = f" The first problem: {skipped[0]}." if skipped else ""
    return (
        f"{path} has no usable {split}annotations ({len(skipped)} skipped).{first} Check that each "
        "annotation has a valid bbox and that each file_name is relative to the JSON file."
    )


def _split_counts(samples, val_chips, key) -> dict:
    """Count training and validation annotations per value of ``key``."""
    counts: dict = defaultdict(lambda: {"train": 0, "val": 0})
    for split, items in (("train", samples), ("val", val_chips)):
        for item in items:
            counts[key(item)][split] += 1
    return dict(sorted(counts.items()))


class _Progress:
    """Log how many images are labelled, with an ETA, every ``PROGRESS_INTERVAL_S``."""

    def __init__(self, total: int):
        self.total = total
        self.start = self.last = time.monotonic()

    def update(self, done: int, annotations: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL_S and done < self.total:
            return
        self.last = now
        left = (now - self.start) / done * (self.total - done)
        log.info(
            "Labelled %d/%d images (%d annotations), ETA %.0f s",
            done,
            self.total,
            annotations,
            left,
        )
