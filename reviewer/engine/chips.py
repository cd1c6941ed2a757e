"""Photos and chips.

A chip is the annotation box cut out of the photo by one affine warp: the box
centre goes to the chip centre, the box is rotated by ``-theta`` and scaled so
that its longer side is ``dim_size_px``. The 3x3 matrix of that warp is kept, so
that chip coordinates map back to the photo.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reviewer.engine.errors import BBoxError, ImageLoadError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Photo:
    """A decoded photo and the hash of its file content."""

    path: Path
    pixels: np.ndarray  # (H, W, 3) uint8, BGR
    content_hash: str  # blake2b of the file bytes, hex

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return (self.pixels.shape[1], self.pixels.shape[0])


def read_photo_file(path: str | Path) -> tuple[bytes, str]:
    """Read a photo file's bytes and hash them (blake2b, hex), without decoding.

    Raises
    ------
    ImageLoadError
        The file is missing or unreadable.
    """
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(
            f"Image not found: {path}. Check that the file exists next to the "
            "annotation file, or fix 'file_name' in the annotation file."
        )
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ImageLoadError(f"Cannot read image {path}: {err.strerror}") from None
    return data, hashlib.blake2b(data, digest_size=16).hexdigest()


def decode_photo(
    data: bytes, path: str | Path, expected_size: tuple[int, int] | None = None
) -> np.ndarray:
    """Decode photo bytes into a (H, W, 3) uint8 BGR array.

    EXIF orientation is applied, unless the annotation file's ``width`` and
    ``height`` show that the boxes were drawn on the unrotated pixels.

    Raises
    ------
    ImageLoadError
        The bytes are empty, corrupt or not an image.
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    pixels = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if buffer.size else None
    if pixels is None:
        raise ImageLoadError(
            f"Cannot decode image {path}: the file is empty, corrupt or not an image. "
            "Replace it with a valid JPEG or PNG."
        )
    if expected_size is None or (pixels.shape[1], pixels.shape[0]) == tuple(expected_size):
        return pixels

    unrotated = cv2.imdecode(buffer, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if unrotated is not None and (unrotated.shape[1], unrotated.shape[0]) == tuple(expected_size):
        return unrotated
    log.warning(
        "%s is %dx%d px but the annotation file says %dx%d; boxes may be misplaced",
        path,
        pixels.shape[1],
        pixels.shape[0],
        *expected_size,
    )
    return pixels


def load_photo(path: str | Path, expected_size: tuple[int, int] | None = None) -> Photo:
    """Read and decode a photo. See ``decode_photo`` for EXIF orientation.

    Raises
    ------
    ImageLoadError
        The file is missing, unreadable or not a decodable image.
    """
    data, digest = read_photo_file(path)
    pixels = decode_photo(data, path, expected_size)
    return Photo(path=Path(path), pixels=pixels, content_hash=digest)


@dataclass(frozen=True)
class ChipConfig:
    """How a chip is cut from a photo."""

    dim_size_px: int = 700  # length of the chip's longer side, as in HotSpotter
    # Deviation from HotSpotter, which warps with Lanczos straight from the photo:
    # when the photo is shrunk by more than 2x, a Gaussian low-pass first removes
    # the aliasing that would otherwise add spurious keypoints on large photos.
    antialias: bool = True

    def __post_init__(self):
        if self.dim_size_px < 16:
            raise ValueError(f"dim_size_px must be >= 16, not {self.dim_size_px}")


@dataclass(frozen=True)
class Chip:
    """An annotation's chip and its place in the photo."""

    pixels: np.ndarray  # (h, w, 3) uint8, BGR
    M: np.ndarray  # (3, 3) float64, photo pixel coordinates -> chip pixel coordinates
    bbox: tuple[float, float, float, float]  # x, y, w, h in photo pixels
    theta: float  # radians

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return (self.pixels.shape[1], self.pixels.shape[0])

    def to_photo(self, xy: np.ndarray) -> np.ndarray:
        """Map (N, 2) chip coordinates to photo coordinates."""
        return apply_homogeneous(np.linalg.inv(self.M), xy)

    def from_photo(self, xy: np.ndarray) -> np.ndarray:
        """Map (N, 2) photo coordinates to chip coordinates."""
        return apply_homogeneous(self.M, xy)


def chip_size(bbox: tuple[float, float, float, float], dim_size_px: int) -> tuple[int, int]:
    """Return the (width, height) of the chip for a box, longer side ``dim_size_px``."""
    _, _, w, h = bbox
    scale = dim_size_px / max(w, h)
    return (max(1, round(w * scale)), max(1, round(h * scale)))


def photo_to_chip_transform(
    bbox: tuple[float, float, float, float], theta: float, dsize: tuple[int, int]
) -> np.ndarray:
    """Return the 3x3 matrix mapping photo pixels into a chip of size ``dsize``.

    The box centre is moved to the origin, scaled to the chip size, rotated by
    ``-theta`` and moved to the chip centre.
    """
    x, y, w, h = bbox
    chip_w, chip_h = dsize
    to_origin = _translation(-(x + w / 2.0), -(y + h / 2.0))
    scale = np.diag([chip_w / w, chip_h / h, 1.0])
    cos, sin = np.cos(-theta), np.sin(-theta)
    rotate = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
    to_centre = _translation(chip_w / 2.0, chip_h / 2.0)
    return to_centre @ rotate @ scale @ to_origin


def extract_chip(
    photo: np.ndarray,
    bbox: tuple[float, float, float, float],
    theta: float = 0.0,
    config: ChipConfig | None = None,
) -> Chip:
    """Cut the chip of one box from a photo.

    Parts of the box outside the photo come out black.

    Raises
    ------
    BBoxError
        The box has no area or does not overlap the photo.
    """
    config = config or ChipConfig()
    _check_bbox(bbox, photo.shape)
    dsize = chip_size(bbox, config.dim_size_px)
    M = photo_to_chip_transform(bbox, theta, dsize)

    # Only the photo region under the rotated box is filtered and sampled.
    source, offset = _source_region(photo, M, dsize)
    M_source = M @ _translation(*offset)
    scale = np.sqrt(abs(np.linalg.det(M[:2, :2])))
    if config.antialias and scale < 0.5:
        sigma = 0.5 / scale  # about half a chip pixel, measured in photo pixels
        source = cv2.GaussianBlur(source, (0, 0), sigmaX=sigma, sigmaY=sigma)

    pixels = _pixel_aligned_copy(source, M_source, dsize)
    if pixels is None:
        pixels = cv2.warpAffine(
            source, M_source[:2], dsize, flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_CONSTANT
        )
    return Chip(pixels=pixels, M=M, bbox=tuple(float(v) for v in bbox), theta=float(theta))


def _pixel_aligned_copy(source: np.ndarray, M: np.ndarray, dsize) -> np.ndarray | None:
    """Return the chip as a plain copy when ``M`` only shifts by whole pixels, else None.

    Lanczos weights at whole-pixel offsets are 1 and 0, so the copy equals what
    ``cv2.warpAffine`` gives, and it skips the filter. This is the case of a
    photo that is already a chip: an unrotated box of the chip's size.
    """
    shift = M[:2, 2]
    if not (np.array_equal(M[:2, :2], np.eye(2)) and np.array_equal(shift, np.round(shift))):
        return None
    x0, y0 = int(-shift[0]), int(-shift[1])
    width, height = dsize
    if x0 < 0 or y0 < 0 or x0 + width > source.shape[1] or y0 + height > source.shape[0]:
        return None
    return source[y0 : y0 + height, x0 : x0 + width].copy()


def apply_homogeneous(M: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Apply a 3x3 transform to (N, 2) points."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    out = xy @ M[:2, :2].T + M[:2, 2]
    if not np.allclose(M[2], (0.0, 0.0, 1.0)):
        out /= (xy @ M[2, :2] + M[2, 2])[:, None]
    return out


def _check_bbox(bbox, shape) -> None:
    x, y, w, h = bbox
    height, width = shape[:2]
    if not (w > 0 and h > 0):
        raise BBoxError(f"bbox {list(bbox)} has no area: width and height must be > 0")
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise BBoxError(
            f"bbox {list(bbox)} lies outside the {width}x{height} px image; redraw the box"
        )


def _source_region(photo: np.ndarray, M: np.ndarray, dsize) -> tuple[np.ndarray, tuple[int, int]]:
    """Crop the photo to the bounding rectangle of the chip's footprint plus a margin."""
    chip_w, chip_h = dsize
    corners = np.array([[0, 0], [chip_w, 0], [chip_w, chip_h], [0, chip_h]], dtype=np.float64)
    footprint = apply_homogeneous(np.linalg.inv(M), corners)
    margin = 8 + 3.0 / np.sqrt(abs(np.linalg.det(M[:2, :2])))  # room for filter kernels
    height, width = photo.shape[:2]
    x0 = int(np.clip(np.floor(footprint[:, 0].min() - margin), 0, width - 1))
    y0 = int(np.clip(np.floor(footprint[:, 1].min() - margin), 0, height - 1))
    x1 = int(np.clip(np.ceil(footprint[:, 0].max() + margin), x0 + 1, width))
    y1 = int(np.clip(np.ceil(footprint[:, 1].max() + margin), y0 + 1, height))
    return photo[y0:y1, x0:x1], (x0, y0)


def _translation(tx: float, ty: float) -> np.ndarray:
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])
