"""Loading of Wildbook / LILA COCO annotation files.

The layout is COCO with Wildbook's extra fields: ``theta``, ``viewpoint``,
``name`` or ``individual_ids`` on each annotation, ``date_captured`` on each
image and the species code as the category ``name``. Unknown fields are ignored.

An annotation with an invalid field is skipped and reported in
``AnnotationSet.problems`` with the file, the aid and the field; the rest of the
file still loads. A file that cannot be read as JSON at all raises
``AnnotationFileError``.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reviewer.engine.errors import AnnotationFileError

log = logging.getLogger(__name__)

#: Name Wildbook uses for "individual not known".
UNKNOWN_NAME = "____"

_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y:%m:%d %H:%M:%S", "%Y-%m-%d")


@dataclass(frozen=True)
class Annotation:
    """One animal in one photo."""

    aid: int | str
    image_id: int | str
    image_path: Path  # absolute
    bbox: tuple[float, float, float, float]  # x, y, w, h in image pixels
    theta: float  # rotation of the box in radians; the chip is rotated by -theta
    species: str  # Wildbook species code, e.g. "zebra_plains"
    name: str | None  # individual; None when unknown
    viewpoint: str | None = None
    capture_time: datetime | None = None
    image_size: tuple[int, int] | None = None  # (width, height) as the file states it
    segmentation: Any = None  # COCO polygons or RLE, kept for training

    @property
    def key(self) -> str:
        """The aid as a string, the form used for lookups and on the command line."""
        return str(self.aid)


@dataclass
class AnnotationSet:
    """The annotations of one file, plus what was skipped and why."""

    path: Path
    annots: dict[str, Annotation] = field(default_factory=dict)  # keyed by ``Annotation.key``
    problems: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # aid as text -> why it was skipped

    def __len__(self) -> int:
        return len(self.annots)

    def __iter__(self):
        return iter(self.annots.values())

    def get(self, aid: int | str) -> Annotation:
        """Return the annotation with this aid, or raise ``KeyError`` with a usable message."""
        try:
            return self.annots[str(aid)]
        except KeyError:
            if str(aid) in self.skipped:
                raise KeyError(
                    f"aid {aid} of {self.path} was skipped when the file was loaded: "
                    f"{self.skipped[str(aid)]}"
                ) from None
            if not self.annots:
                raise KeyError(
                    f"aid {aid} is not in {self.path}: it has no valid annotations"
                ) from None
            known = ", ".join(list(self.annots)[:20]) + (", ..." if len(self.annots) > 20 else "")
            raise KeyError(f"aid {aid} is not in {self.path}; known aids: {known}") from None


class _FieldError(ValueError):
    """A field of one annotation is invalid; the message names the field."""


def load_annotations(path: str | Path) -> AnnotationSet:
    """Load a COCO annotation file.

    Raises
    ------
    AnnotationFileError
        The file is missing, not JSON, or has no ``annotations`` list.
    """
    path = Path(path).expanduser().resolve()
    data = _read_json(path)

    result = AnnotationSet(path=path)
    images = _index_images(path, data.get("images"), result.problems)
    for message in result.problems:
        log.warning(message)
    categories = data.get("categories") if isinstance(data.get("categories"), list) else []
    species = {str(c.get("id")): c.get("name") for c in categories if isinstance(c, dict)}
    for position, raw in enumerate(data["annotations"]):
        aid = raw.get("id", f"#{position}") if isinstance(raw, dict) else f"#{position}"
        try:
            annot = _parse_annotation(raw, path, images, species)
        except _FieldError as err:
            message = f"{path.name}: skipped annotation aid={aid}: {err}"
            log.warning(message)
            result.problems.append(message)
            result.skipped.setdefault(str(aid), str(err))
            continue
        if annot.key in result.annots:
            message = f"{path.name}: skipped annotation aid={aid}: duplicate id"
            log.warning(message)
            result.problems.append(message)
            continue
        result.annots[annot.key] = annot

    log.info("Loaded %d annotations from %s (%d problems)", len(result), path, len(result.problems))
    return result


def _read_json(path: Path) -> dict:
    if not path.exists():
        raise AnnotationFileError(f"Annotation file not found: {path}. Check the path.")
    if path.is_dir():
        raise AnnotationFileError(
            f"{path} is a folder. Give the COCO annotation file (a .json file) instead."
        )
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as err:
        raise AnnotationFileError(
            f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}). "
            "Export the annotations again or fix the file."
        ) from None
    except UnicodeDecodeError:
        raise AnnotationFileError(
            f"{path} is not UTF-8 text, so it is not a COCO annotation file. Check the path."
        ) from None
    except OSError as err:
        raise AnnotationFileError(
            f"Cannot read {path}: {err.strerror}. Check its permissions."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise AnnotationFileError(
            f"{path} is not a COCO annotation file: it has no 'annotations' list."
        )
    return data


def _index_images(path: Path, raw_images: Any, problems: list[str]) -> dict[str, dict | None]:
    """Index image entries by id; an id used twice maps to None, so no photo is guessed."""
    if not isinstance(raw_images, list):
        problems.append(f"{path.name}: 'images' is missing or not a list, so no photo can be found")
        return {}
    images: dict[str, dict | None] = {}
    for raw in raw_images:
        if not (isinstance(raw, dict) and "id" in raw and isinstance(raw.get("file_name"), str)):
            problems.append(f"{path.name}: ignored an image entry without id or file_name: {raw!r}")
            continue
        key = str(raw["id"])
        if key in images:
            if images[key] is not None:
                problems.append(
                    f"{path.name}: image id {raw['id']!r} is used by more than one image "
                    f"({images[key]['file_name']}, {raw['file_name']}); its annotations "
                    "are skipped. Give each image its own id."
                )
            images[key] = None
            continue
        images[key] = raw
    return images


def _parse_annotation(raw: Any, path: Path, images: dict, species: dict) -> Annotation:
    if not isinstance(raw, dict):
        raise _FieldError("entry is not an object")
    if "id" not in raw:
        raise _FieldError("field 'id' is missing")
    aid = raw["id"]
    if not isinstance(aid, int | str) or isinstance(aid, bool):
        raise _FieldError(f"field 'id' must be an integer or a string, not {aid!r}")

    image_key = str(raw.get("image_id"))
    if image_key in images and images[image_key] is None:
        raise _FieldError(f"field 'image_id' ({raw.get('image_id')!r}) names more than one image")
    image = images.get(image_key)
    if image is None:
        raise _FieldError(f"field 'image_id' ({raw.get('image_id')!r}) names no entry in 'images'")

    code = species.get(str(raw.get("category_id")))
    if isinstance(code, str) and not code.strip():
        raise _FieldError(f"category {raw.get('category_id')!r} has an empty species name")
    if not isinstance(code, str):
        raise _FieldError(f"field 'category_id' ({raw.get('category_id')!r}) names no category")

    bbox = _parse_bbox(raw.get("bbox"))
    theta = _parse_theta(raw.get("theta", 0.0))
    image_size = _parse_image_size(image)
    if image_size is not None:
        _check_bbox_overlaps(bbox, image_size)

    return Annotation(
        aid=aid,
        image_id=image["id"],
        image_path=(path.parent / image["file_name"]).resolve(),
        bbox=bbox,
        theta=theta,
        species=code,
        name=_parse_name(raw),
        viewpoint=raw.get("viewpoint") if isinstance(raw.get("viewpoint"), str) else None,
        capture_time=_parse_time(image.get("date_captured"), path, aid),
        image_size=image_size,
        segmentation=raw.get("segmentation") or None,
    )


def _parse_bbox(value: Any) -> tuple[float, float, float, float]:
    if value is None:
        raise _FieldError("field 'bbox' is missing")
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise _FieldError(f"field 'bbox' must be [x, y, w, h], not {value!r}")
    try:
        x, y, w, h = (float(v) for v in value)
    except (TypeError, ValueError):
        raise _FieldError(f"field 'bbox' must hold four numbers, not {value!r}") from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise _FieldError(f"field 'bbox' must hold finite numbers, not {value!r}")
    if w <= 0 or h <= 0:
        raise _FieldError(f"field 'bbox' {value!r} has no area: width and height must be > 0")
    return (x, y, w, h)


def _parse_theta(value: Any) -> float:
    if value is None:
        return 0.0
    try:
        theta = float(value)
    except (TypeError, ValueError):
        raise _FieldError(f"field 'theta' must be a number of radians, not {value!r}") from None
    if not math.isfinite(theta):
        raise _FieldError(f"field 'theta' must be finite, not {value!r}")
    return theta


def _parse_image_size(image: dict) -> tuple[int, int] | None:
    try:
        width, height = int(image["width"]), int(image["height"])
    except (KeyError, TypeError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None


def _check_bbox_overlaps(bbox: tuple[float, float, float, float], size: tuple[int, int]) -> None:
    x, y, w, h = bbox
    width, height = size
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise _FieldError(
            f"field 'bbox' {list(bbox)} lies outside the image ({width}x{height} px); "
            "redraw the box"
        )


def _parse_name(raw: dict) -> str | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        ids = raw.get("individual_ids")
        name = ids[0] if isinstance(ids, list) and ids and isinstance(ids[0], str) else None
    if name is None or name.strip() in ("", UNKNOWN_NAME):
        return None
    return name.strip()


def _parse_time(value: Any, path: Path, aid: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        for fmt in _TIME_FORMATS:
            try:
                return datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
    log.warning(
        "%s: aid=%s: unreadable date_captured %r, treated as unknown", path.name, aid, value
    )
    return None
