"""Per-pixel training labels of a chip: from COCO segmentation, or from boxes alone.

Every label is a pair of (h, w) float32 maps on the chip's grid: ``target``, the
foreground probability in [0, 1], and ``weight``, the loss weight in [0, 1].
A weight of 0 marks a pixel whose label is unreliable, so the loss ignores it.

Boxes alone give noisy labels: inside a box = animal, outside = background.
Wildbook IA trained its background models on such labels. Here they are
refined with GrabCut, initialised with the boxes: outside every box is fixed
background and inside is "probably animal". Inside a box the GrabCut result
becomes the target. Pixels where GrabCut disagrees with the box (background
inside a box) get a reduced weight, and a band around the GrabCut boundary,
where its errors concentrate, gets weight 0.

Segmentation may be COCO polygons, uncompressed RLE (``counts`` a list of
ints) or compressed RLE (``counts`` a string), each with ``size`` [height, width].
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from reviewer.engine.chips import Chip, apply_homogeneous

log = logging.getLogger(__name__)

BOX_LABEL_MODES = ("refined", "plain")
SEGMENTATION = "segmentation"  # label source of an annotation with segmentation
GRABCUT_RNG_SEED = 0


class SegmentationError(ValueError):
    """A segmentation field is malformed or of an unsupported kind, named in the message."""


@dataclass(frozen=True)
class BoxLabelConfig:
    """Settings of the labels of annotations that have a box but no segmentation."""

    mode: str = "refined"  # "refined": GrabCut inside the box; "plain": the box itself
    grabcut_iterations: int = 5
    # GrabCut runs on the chip shrunk to at most this longer side; about 0.3 s per
    # chip at 320 px on one core. Smaller is faster and coarser.
    grabcut_size_px: int = 320
    # Loss weight of pixels that GrabCut calls background inside a box, where
    # GrabCut and the box disagree.
    disagree_weight: float = 0.5
    # Half-width of the weight-0 band around the GrabCut boundary, as a fraction
    # of the chip diagonal.
    boundary_band: float = 0.015
    # GrabCut results that keep less than this share of the box area as animal
    # count as failed. Such a chip keeps only its outside-the-box background
    # label, and the inside gets weight 0.
    min_foreground_fraction: float = 0.1

    def __post_init__(self):
        if self.mode not in BOX_LABEL_MODES:
            raise ValueError(f"box label mode must be one of {BOX_LABEL_MODES}, not {self.mode!r}")
        if self.grabcut_iterations < 1:
            raise ValueError(f"grabcut_iterations must be >= 1, not {self.grabcut_iterations}")
        if self.grabcut_size_px < 16:
            raise ValueError(f"grabcut_size_px must be >= 16, not {self.grabcut_size_px}")
        for name in ("disagree_weight", "min_foreground_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], not {value}")
        if not 0.0 <= self.boundary_band < 0.5:
            raise ValueError(f"boundary_band must be in [0, 0.5), not {self.boundary_band}")


@dataclass(frozen=True)
class ChipLabels:
    """Training labels on a chip's grid."""

    target: np.ndarray  # (h, w) float32 in [0, 1], 1 = animal
    weight: np.ndarray  # (h, w) float32 in [0, 1], loss weight; 0 = ignored
    refined: bool = False  # True when GrabCut refined the box label
    failed: bool = False  # True when GrabCut ran but its result was rejected


def plain_box_labels(prior: np.ndarray) -> ChipLabels:
    """Label every pixel inside a box as animal and every other pixel as background.

    ``prior`` is an (h, w) bool mask of the union of the boxes in the chip.
    """
    target = prior.astype(np.float32)
    return ChipLabels(target=target, weight=np.ones_like(target))


def refined_box_labels(
    pixels: np.ndarray, prior: np.ndarray, config: BoxLabelConfig | None = None
) -> ChipLabels:
    """Label a chip with GrabCut, initialised with the union of its boxes.

    Parameters
    ----------
    pixels : (h, w, 3) uint8
        BGR chip, with some context around the boxes.
    prior : (h, w) bool
        Union of the boxes in the chip.

    Returns
    -------
    ChipLabels
        Outside every box: background, weight 1. Inside: the GrabCut result,
        weight 1 where it is animal, ``disagree_weight`` where it is
        background, 0 in the band around its boundary. When GrabCut cannot run
        (no pixel outside or inside the boxes) the plain box labels; when it
        fails, background outside and weight 0 inside.
    """
    config = config or BoxLabelConfig()
    if pixels.shape[:2] != prior.shape:
        raise ValueError(f"pixels {pixels.shape[:2]} and prior {prior.shape} differ in size")
    if prior.all() or not prior.any():
        return plain_box_labels(prior)

    foreground = _grabcut_foreground(pixels, prior, config)
    if foreground is None:
        return plain_box_labels(prior)
    if foreground.sum() < config.min_foreground_fraction * prior.sum():
        target = np.zeros(prior.shape, np.float32)
        weight = (~prior).astype(np.float32)
        return ChipLabels(target=target, weight=weight, refined=True, failed=True)

    target = foreground.astype(np.float32)
    weight = np.ones(prior.shape, np.float32)
    weight[prior & ~foreground] = config.disagree_weight
    weight[prior & _boundary_band(foreground, config.boundary_band)] = 0.0
    return ChipLabels(target=target, weight=weight, refined=True)


def annotation_labels(
    chip: Chip,
    has_segmentation: bool,
    boxes: list[tuple[tuple[float, float, float, float], float]],
    union: np.ndarray | None,
    config: BoxLabelConfig,
) -> tuple[ChipLabels, str]:
    """Label one annotation's chip, with every annotated animal of its photo.

    Parameters
    ----------
    chip
        The annotation's chip, with or without context.
    has_segmentation
        Whether the annotation itself has segmentation.
    boxes
        ``((x, y, w, h), theta)`` of the photo's annotations without segmentation.
    union : (H, W) uint8 or None
        Union of the photo's segmentation masks on the photo's grid; None when
        no annotation of the photo has segmentation.

    Returns
    -------
    labels : ChipLabels
        With segmentation: the union of the photo's masks, weight 0 inside the
        boxes of animals without one. Without: box labels of the photo's boxes,
        and every pixel of a mask in the union is animal with weight 1.
    label_source : str
        "segmentation", "boxes refined" or "boxes plain".
    """
    prior = box_prior(boxes, chip.M, chip.size)
    known = np.zeros(prior.shape, np.float32)
    if union is not None:
        known = cv2.warpAffine(
            union.astype(np.float32), chip.M[:2], chip.size, flags=cv2.INTER_LINEAR
        )

    if has_segmentation:
        weight = np.where(prior & (known < 0.5), 0.0, 1.0).astype(np.float32)
        return ChipLabels(target=known, weight=weight), SEGMENTATION

    if config.mode == "refined":
        labels = refined_box_labels(chip.pixels, prior, config)
    else:
        labels = plain_box_labels(prior)
    animal = known >= 0.5
    target = np.where(animal, 1.0, labels.target).astype(np.float32)
    weight = np.where(animal, 1.0, labels.weight).astype(np.float32)
    labels = ChipLabels(target=target, weight=weight, refined=labels.refined, failed=labels.failed)
    return labels, f"boxes {config.mode}"


def _grabcut_foreground(
    pixels: np.ndarray, prior: np.ndarray, config: BoxLabelConfig
) -> np.ndarray | None:
    """Return GrabCut's animal pixels, (h, w) bool, or None when GrabCut cannot run."""
    height, width = prior.shape
    scale = min(1.0, config.grabcut_size_px / max(height, width))
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(pixels, small_size, interpolation=cv2.INTER_AREA)
    small_prior = cv2.resize(prior.astype(np.uint8), small_size, interpolation=cv2.INTER_NEAREST)

    mask = np.where(small_prior > 0, cv2.GC_PR_FGD, cv2.GC_BGD).astype(np.uint8)
    if mask.min() == mask.max():  # the shrink lost every pixel of one side
        return None
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    # GrabCut's k-means draws from OpenCV's global RNG. Reseeding it before each
    # call makes every chip's labels independent of what ran before.
    cv2.setRNGSeed(GRABCUT_RNG_SEED)
    try:
        cv2.grabCut(
            small,
            mask,
            None,
            background_model,
            foreground_model,
            config.grabcut_iterations,
            cv2.GC_INIT_WITH_MASK,
        )
    except cv2.error as err:  # too few pixels on one side to fit its colour model
        log.debug("GrabCut failed on a %dx%d chip: %s", width, height, err)
        return None
    foreground = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    foreground = cv2.resize(foreground, (width, height), interpolation=cv2.INTER_NEAREST) > 0
    return foreground & prior


def _boundary_band(foreground: np.ndarray, band: float) -> np.ndarray:
    """Return the pixels within ``band`` x the chip diagonal of the foreground boundary."""
    height, width = foreground.shape
    radius = band * math.hypot(width, height)
    if radius <= 0.0:
        return np.zeros_like(foreground)
    inside = foreground.astype(np.uint8)
    to_background = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    to_foreground = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)
    return np.where(foreground, to_background, to_foreground) <= radius


def box_prior(
    boxes: list[tuple[tuple[float, float, float, float], float]],
    M: np.ndarray,
    chip_size: tuple[int, int],
) -> np.ndarray:
    """Rasterise the union of rotated boxes into a chip.

    Parameters
    ----------
    boxes
        ``((x, y, w, h), theta)`` per box, in photo pixels and radians.
    M : (3, 3)
        Photo-to-chip transform of the chip.
    chip_size
        (width, height) of the chip.

    Returns
    -------
    (height, width) bool
    """
    width, height = chip_size
    canvas = np.zeros((height, width), np.uint8)
    for bbox, theta in boxes:
        corners = apply_homogeneous(M, _box_corners(bbox, theta))
        _fill_polygon(canvas, corners)
    return canvas > 0


def _box_corners(bbox: tuple[float, float, float, float], theta: float) -> np.ndarray:
    """Return the (4, 2) photo corners of a box rotated by theta about its centre."""
    x, y, w, h = bbox
    half = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2.0
    cos, sin = math.cos(theta), math.sin(theta)
    rotation = np.array([[cos, -sin], [sin, cos]])
    return half @ rotation.T + (x + w / 2.0, y + h / 2.0)


def _fill_polygon(canvas: np.ndarray, points: np.ndarray) -> None:
    """Fill a polygon of (N, 2) pixel-centre coordinates, with 1/16 pixel precision."""
    shift = 4
    fixed = np.round(points * (1 << shift)).astype(np.int32)
    cv2.fillPoly(canvas, [fixed], 1, lineType=cv2.LINE_8, shift=shift)


def segmentation_to_chip(
    segmentation: Any, image_size: tuple[int, int], M: np.ndarray, chip_size: tuple[int, int]
) -> np.ndarray:
    """Rasterise one annotation's COCO segmentation into a chip.

    Parameters
    ----------
    segmentation
        Polygons (a list of [x1, y1, x2, y2, ...] lists, or one such list) or
        RLE (a dict with ``counts`` and ``size``), in photo pixels.
    image_size
        (width, height) of the photo; an RLE ``size`` must match it.
    M : (3, 3)
        Photo-to-chip transform of the chip.
    chip_size
        (width, height) of the chip.

    Returns
    -------
    (height, width) float32 in [0, 1]
        1 = animal. RLE masks are warped with bilinear sampling, so edges are soft.

    Raises
    ------
    SegmentationError
        The field is malformed, an unknown kind, or an RLE of another size.
    """
    width, height = chip_size
    if isinstance(segmentation, dict):
        mask = decode_rle(segmentation, image_size)
        warped = cv2.warpAffine(
            mask.astype(np.float32), M[:2], chip_size, flags=cv2.INTER_LINEAR, borderValue=0.0
        )
        return np.clip(warped, 0.0, 1.0)

    canvas = np.zeros((height, width), np.uint8)
    for polygon in _polygons(segmentation):
        _fill_polygon(canvas, apply_homogeneous(M, polygon))
    return canvas.astype(np.float32)


def _polygons(segmentation: Any) -> list[np.ndarray]:
    """Return the (N, 2) point arrays of COCO polygons."""
    if not isinstance(segmentation, list) or not segmentation:
        raise SegmentationError(
            "segmentation must be a list of polygons or an RLE object with 'counts' and "
            f"'size', not {type(segmentation).__name__}"
        )
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in segmentation):
        segmentation = [segmentation]  # one polygon written as a flat list
    polygons = []
    for polygon in segmentation:
        if not isinstance(polygon, list) or any(
            not isinstance(v, int | float) or isinstance(v, bool) for v in polygon
        ):
            raise SegmentationError("a segmentation polygon must be a list of numbers")
        if len(polygon) < 6 or len(polygon) % 2:
            raise SegmentationError(
                f"a segmentation polygon needs an even count of at least 6 numbers "
                f"(3 points), not {len(polygon)}"
            )
        points = np.asarray(polygon, np.float64).reshape(-1, 2)
        if not np.isfinite(points).all():
            raise SegmentationError("a segmentation polygon contains a non-finite number")
        polygons.append(points)
    return polygons


def decode_rle(rle: dict, image_size: tuple[int, int]) -> np.ndarray:
    """Decode COCO RLE, compressed or not, into an (H, W) bool mask.

    Runs alternate background and animal, starting with background, over the
    pixels in column-major order.

    Raises
    ------
    SegmentationError
        ``size`` or ``counts`` is missing or malformed, ``size`` is not
        [height, width] of the photo, or the runs do not cover the mask.
    """
    size, counts = rle.get("size"), rle.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) for v in size)):
        raise SegmentationError(f"RLE 'size' must be [height, width], not {size!r}")
    height, width = size
    if (width, height) != tuple(image_size):
        raise SegmentationError(
            f"RLE 'size' {size} does not match the {image_size[0]}x{image_size[1]} px image"
        )
    if isinstance(counts, str):
        counts = decode_rle_counts(counts)
    elif not isinstance(counts, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in counts
    ):
        raise SegmentationError("RLE 'counts' must be a string or a list of integers")
    if any(v < 0 for v in counts) or sum(counts) != height * width:
        raise SegmentationError(
            f"RLE runs cover {sum(counts)} pixels, but a {width}x{height} mask has "
            f"{width * height}; the segmentation is corrupt"
        )
    values = np.arange(len(counts)) % 2
    flat = np.repeat(values.astype(bool), counts)
    return flat.reshape(width, height).T


def decode_rle_counts(text: str) -> list[int]:
    """Decode the run lengths of compressed COCO RLE.

    Each run is stored as 5-bit groups, least significant first, in characters
    offset by 48. Bit 0x20 of a character means "another group follows", and
    bit 0x10 of the last group is the sign. From the third run on, the stored
    number is the difference to the run two places earlier.

    Raises
    ------
    SegmentationError
        The string ends inside a number or contains a character outside the code.
    """
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, shift = 0, 0
        while True:
            if position >= len(text):
                raise SegmentationError("compressed RLE 'counts' ends inside a number")
            group = ord(text[position]) - 48
            if not 0 <= group < 64:
                raise SegmentationError(
                    f"compressed RLE 'counts' contains an invalid character {text[position]!r}"
                )
            position += 1
            value |= (group & 0x1F) << shift
            shift += 5
            if not group & 0x20:
                if group & 0x10:
                    value -= 1 << shift
                break
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts
