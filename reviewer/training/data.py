"""The masks layout: photos, binary animal masks and an index.

A masks folder contains::

    index.csv          id,source_repo,source_path,classes,split,width,height,mask_fraction
    images/<id>.jpg    the photo
    masks/<id>.png     single channel, 255 = animal, 0 = background

``classes`` lists every animal class in the photo, separated by ``;`` or
spaces. Only ``id``, ``classes`` and ``split`` are required.

``is_coco_file`` distinguishes such a folder from a COCO annotation file, the
other kind of training data.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reviewer.engine.chips import Chip, extract_chip
from reviewer.engine.errors import ReviewerError

log = logging.getLogger(__name__)

BBox = tuple[float, float, float, float]  # x, y, w, h in photo pixels

DATA_HINT = (
    "DATA must be a masks folder (index.csv, images/, masks/) or a COCO annotation file (.json)."
)
_SNIFF_BYTES = 4096  # read from the start of a file to tell JSON from anything else


class TrainingDataError(ReviewerError):
    """The training data path does not exist or is neither a masks folder nor a COCO file."""


class MaskSetError(ReviewerError):
    """A masks folder is missing, incomplete or malformed."""


def is_coco_file(path: str | Path) -> bool:
    """Return True for a COCO annotation file and False for a folder.

    A file counts as COCO when its first non-blank character opens a JSON
    object; the COCO loader then reports any error inside it.

    Raises
    ------
    TrainingDataError
        The path does not exist, cannot be read, or is a file that is not JSON.
    """
    path = Path(path)
    if not path.exists():
        raise TrainingDataError(f"Training data not found: {path}. {DATA_HINT}")
    if path.is_dir():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as err:
        raise TrainingDataError(f"Cannot read {path}: {err.strerror}. {DATA_HINT}") from None
    # A UTF-8 byte order mark is left to the JSON reader, which names it.
    if not head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{"):
        raise TrainingDataError(f"{path} is neither a folder nor a JSON file. {DATA_HINT}")
    return True


@dataclass(frozen=True)
class MaskRecord:
    """One row of ``index.csv`` and the paths of its photo and mask."""

    id: str
    image_path: Path
    mask_path: Path
    classes: tuple[str, ...]
    split: str  # "train" or "val"
    source: str = ""  # the optional source_repo column: where the photo and mask came from


def read_mask_index(data_dir: str | Path, split: str | None = None) -> list[MaskRecord]:
    """Read ``index.csv`` of a masks folder, keeping one split or all rows.

    Raises
    ------
    MaskSetError
        The index is missing or lacks a required column, or a listed photo or
        mask file does not exist.
    """
    data_dir = Path(data_dir)
    index_path = data_dir / "index.csv"
    if not index_path.is_file():
        raise MaskSetError(f"{data_dir} is not a masks folder: it has no index.csv. {DATA_HINT}")
    with index_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"id", "classes", "split"} - set(reader.fieldnames or ())
        if missing:
            raise MaskSetError(f"{index_path} lacks the columns {sorted(missing)}; add them.")
        rows = list(reader)

    records = []
    for row in rows:
        if split is not None and row["split"] != split:
            continue
        record = MaskRecord(
            id=row["id"],
            image_path=data_dir / "images" / f"{row['id']}.jpg",
            mask_path=data_dir / "masks" / f"{row['id']}.png",
            classes=tuple(c for c in re.split(r"[;,\s]+", row["classes"]) if c),
            split=row["split"],
            source=row.get("source_repo") or "",
        )
        for path in (record.image_path, record.mask_path):
            if not path.is_file():
                raise MaskSetError(f"{path} is listed in {index_path} but does not exist.")
        records.append(record)
    return records


def load_image_and_mask(record: MaskRecord) -> tuple[np.ndarray, np.ndarray]:
    """Read a photo, (H, W, 3) uint8 BGR, and its mask, (H, W) bool.

    Raises
    ------
    MaskSetError
        A file cannot be decoded, or the two sizes differ.
    """
    image = cv2.imread(str(record.image_path), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(record.mask_path), cv2.IMREAD_GRAYSCALE)
    if image is None or mask is None:
        bad = record.image_path if image is None else record.mask_path
        raise MaskSetError(
            f"Cannot decode {bad}. Replace the file or remove its row from index.csv."
        )
    if image.shape[:2] != mask.shape:
        raise MaskSetError(
            f"{record.mask_path} is {mask.shape[1]}x{mask.shape[0]} px but "
            f"{record.image_path} is {image.shape[1]}x{image.shape[0]} px; they must match."
        )
    return image, mask >= 128


def iter_masked_photos(
    records: list[MaskRecord],
) -> Iterator[tuple[MaskRecord, np.ndarray, np.ndarray, BBox]]:
    """Yield (record, photo, mask, bbox of all mask pixels), skipping empty masks with a warning."""
    for record in records:
        image, mask = load_image_and_mask(record)
        bbox = mask_bbox(mask)
        if bbox is None:
            log.warning("Skipping %s: its mask is empty", record.mask_path)
            continue
        yield record, image, mask, bbox


def mask_bbox(mask: np.ndarray) -> BBox | None:
    """Return the bounding box of all mask pixels, or None for an empty mask."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    x0, y0 = int(xs.min()), int(ys.min())
    return (float(x0), float(y0), float(xs.max() - x0 + 1), float(ys.max() - y0 + 1))


def component_bboxes(mask: np.ndarray, min_area_fraction: float = 0.02) -> list[BBox]:
    """Return the boxes of 8-connected mask components.

    Components with less than ``min_area_fraction`` of the mask's pixels are
    dropped, because such specks are not worth a chip of their own.
    """
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    total = max(int(mask.sum()), 1)
    boxes = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area >= min_area_fraction * total:
            boxes.append((float(x), float(y), float(w), float(h)))
    return boxes


def cut_chip_and_mask(image: np.ndarray, mask: np.ndarray, bbox: BBox) -> tuple[Chip, np.ndarray]:
    """Cut the chip of a box and warp the mask with the same transform.

    Returns
    -------
    chip : Chip
        From ``extract_chip`` with ``theta = 0``.
    chip_mask : (h, w) bool
        The mask warped by the chip's ``M`` with nearest-neighbour sampling.
    """
    chip = extract_chip(image, bbox, theta=0.0)
    warped = cv2.warpAffine(
        mask.astype(np.uint8),
        chip.M[:2],
        chip.size,
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return chip, warped.astype(bool)
