"""IoU of a background model on a split of a masks folder.

Protocol, the one model cards report:

1. For each image of the split, the box is the bounding box of all mask pixels.
2. The chip is ``extract_chip`` of that box (``theta = 0``). The true mask is
   warped into the chip with the same transform and nearest-neighbour sampling.
3. Predicted foreground is ``probchip >= 0.5``.
4. IoU is measured over the whole chip (the chip is the box). The mean IoU is
   the plain average over images.
5. A per-class IoU averages the images that contain the class, so an image
   with two classes counts for both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reviewer.engine.foreground import BackgroundModel
from reviewer.training.data import (
    BBox,
    MaskRecord,
    MaskSetError,
    cut_chip_and_mask,
    iter_masked_photos,
    read_mask_index,
)

log = logging.getLogger(__name__)

FOREGROUND_THRESHOLD = 0.5
#: Classes the reviewer is mostly used on, also reported as one group.
HIGHLIGHT_CLASSES = ("zebra", "giraffe")


@dataclass(frozen=True)
class EvalChip:
    """One evaluation image, cut by the protocol."""

    id: str
    classes: tuple[str, ...]
    pixels: np.ndarray  # (h, w, 3) uint8 BGR chip
    truth: np.ndarray  # (h, w) bool, true mask warped into the chip
    source: str = ""  # source collection, as in MaskRecord


@dataclass(frozen=True)
class EvalCase:
    """One evaluation image with its photo, for methods that work on the photo."""

    record: MaskRecord
    photo: np.ndarray  # (H, W, 3) uint8 BGR
    bbox: BBox  # the protocol's box: all mask pixels, in photo pixels
    chip: EvalChip


def iter_eval_cases(data_dir: str | Path, split: str = "val") -> Iterator[EvalCase]:
    """Read every image of a split and cut the protocol's chip and true mask.

    Images with an empty mask are skipped with a warning.

    Raises
    ------
    MaskSetError
        The split is empty, or a file is missing or unreadable.
    """
    records = read_mask_index(data_dir, split)
    if not records:
        raise MaskSetError(f"The masks folder {data_dir} has no images in split {split!r}.")
    for record, image, mask, bbox in iter_masked_photos(records):
        chip, truth = cut_chip_and_mask(image, mask, bbox)
        eval_chip = EvalChip(record.id, record.classes, chip.pixels, truth, record.source)
        yield EvalCase(record=record, photo=image, bbox=bbox, chip=eval_chip)


def prepare_eval_chips(data_dir: str | Path, split: str = "val") -> list[EvalChip]:
    """Cut the protocol's chip and true mask for every image of a split.

    Raises
    ------
    MaskSetError
        The split is empty, or a file is missing or unreadable.
    """
    return [case.chip for case in iter_eval_cases(data_dir, split)]


def iou(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two (h, w) bool masks; 1.0 when both are empty."""
    union = np.logical_or(predicted, truth).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(predicted, truth).sum() / union)


def score_eval_chips(
    predict: Callable[[np.ndarray], np.ndarray], chips: Sequence[EvalChip]
) -> dict:
    """Score a probchip function on prepared chips.

    Returns
    -------
    dict
        See ``score_probchips``.
    """
    return score_probchips({chip.id: predict(chip.pixels) for chip in chips}, chips)


def score_probchips(probchips: Mapping[str, np.ndarray], chips: Sequence[EvalChip]) -> dict:
    """Score probchips computed beforehand, one per chip id.

    Parameters
    ----------
    probchips
        Chip id -> (h, w) float probchip on the grid of that chip.
    chips
        The prepared chips; each needs an entry in ``probchips``.

    Returns
    -------
    dict
        ``mean_iou`` (float), ``count`` (images), ``per_class`` and ``groups``
        (name -> {"iou": float, "count": int}), and ``per_image`` (id -> IoU).

    Raises
    ------
    ValueError
        A probchip's shape differs from its chip's.
    """
    per_image = {}
    for chip in chips:
        probchip = probchips[chip.id]
        if probchip.shape != chip.truth.shape:
            raise ValueError(
                f"The probchip of {chip.id} has shape {probchip.shape}, but its chip has "
                f"shape {chip.truth.shape}; compute it on the chip's grid."
            )
        per_image[chip.id] = iou(probchip >= FOREGROUND_THRESHOLD, chip.truth)

    classes = sorted({name for chip in chips for name in chip.classes})
    per_class = {
        name: _mean_of(per_image, [c.id for c in chips if name in c.classes]) for name in classes
    }
    highlighted = [c.id for c in chips if set(c.classes) & set(HIGHLIGHT_CLASSES)]
    return {
        "mean_iou": float(np.mean(list(per_image.values()))) if per_image else float("nan"),
        "count": len(per_image),
        "per_class": per_class,
        "groups": {"+".join(HIGHLIGHT_CLASSES): _mean_of(per_image, highlighted)},
        "per_image": per_image,
    }


def _mean_of(per_image: dict, ids: list[str]) -> dict:
    values = [per_image[i] for i in ids]
    return {"iou": float(np.mean(values)) if values else float("nan"), "count": len(values)}


def evaluate_masks_split(model: BackgroundModel, data_dir: Path, split: str = "val") -> dict:
    """Compute the protocol's mean and per-class IoU of a model on one split.

    See the module docstring for the protocol and ``score_eval_chips`` for the
    returned dict.
    """
    chips = prepare_eval_chips(data_dir, split)
    result = score_eval_chips(model.predict, chips)
    log.info(
        "%s on %s/%s: mean IoU %.3f over %d images",
        model.name,
        data_dir,
        split,
        result["mean_iou"],
        result["count"],
    )
    return result
