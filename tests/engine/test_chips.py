"""Chip extraction, its transform and bad photos or boxes."""

import cv2
import numpy as np
import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.engine.chips import (
    ChipConfig,
    chip_size,
    extract_chip,
    load_photo,
    photo_to_chip_transform,
)
from reviewer.engine.errors import BBoxError, ImageLoadError


def _checkerboard(h=400, w=600, cell=20):
    yy, xx = np.mgrid[:h, :w]
    board = (((yy // cell) + (xx // cell)) % 2 * 255).astype(np.uint8)
    return np.dstack([board] * 3)


def test_chip_longer_side_is_700():
    chip = extract_chip(_checkerboard(), (100, 50, 300, 150))
    assert chip.size == (700, 350)
    assert chip.pixels.dtype == np.uint8


def test_chip_size_tall_box():
    assert chip_size((0, 0, 100, 400), 700) == (175, 700)


def test_transform_maps_box_corners_to_chip_corners():
    bbox = (100, 50, 300, 150)
    M = photo_to_chip_transform(bbox, 0.0, (700, 350))
    corners = np.array([[100, 50, 1], [400, 200, 1]], dtype=float)
    mapped = (M @ corners.T).T[:, :2]
    np.testing.assert_allclose(mapped, [[0, 0], [700, 350]], atol=1e-9)


def test_rotated_chip_roundtrip():
    chip = extract_chip(_checkerboard(), (100, 50, 300, 150), theta=0.4)
    xy = np.array([[10.0, 20.0], [350.0, 175.0], [690.0, 300.0]])
    np.testing.assert_allclose(chip.from_photo(chip.to_photo(xy)), xy, atol=1e-9)


def test_rotated_chip_centre_is_box_centre():
    chip = extract_chip(_checkerboard(), (100, 50, 300, 150), theta=1.0)
    np.testing.assert_allclose(chip.to_photo([[350.0, 175.0]]), [[250.0, 125.0]], atol=1e-9)


def test_chip_pixels_match_photo_under_transform():
    photo = _checkerboard()
    chip = extract_chip(photo, (100, 50, 300, 150), config=ChipConfig(antialias=False))
    # Cell centres of the checkerboard land on predictable chip values.
    x, y = chip.from_photo([[110.0, 70.0]])[0]
    assert chip.pixels[round(y), round(x), 0] == photo[70, 110, 0]


def test_box_partly_outside_is_black_there():
    chip = extract_chip(np.full((100, 100, 3), 200, np.uint8), (50, 50, 100, 100))
    assert chip.pixels[10, 10, 0] == 200
    assert chip.pixels[-10, -10, 0] == 0


def test_box_outside_photo_raises():
    with pytest.raises(BBoxError, match=r"lies outside the 600x400 px image"):
        extract_chip(_checkerboard(), (700, 10, 50, 50))


def test_box_without_area_raises():
    with pytest.raises(BBoxError, match="no area"):
        extract_chip(_checkerboard(), (10, 10, 0, 50))


def test_missing_photo_names_file(tmp_path):
    with pytest.raises(ImageLoadError, match="Image not found: .*missing.jpg"):
        load_photo(tmp_path / "missing.jpg")


def test_corrupt_photo_names_file(tmp_path):
    path = tmp_path / "corrupt.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(ImageLoadError, match="Cannot decode image .*corrupt.jpg"):
        load_photo(path)


def test_empty_photo_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty, corrupt or not an image"):
        load_photo(path)


def test_real_photo_chip():
    annot = load_annotations(DEMO_ANNOTATIONS).get(5)
    photo = load_photo(annot.image_path, annot.image_size)
    chip = extract_chip(photo.pixels, annot.bbox, annot.theta)
    assert photo.size == (1600, 1063)
    assert max(chip.size) == 700
    assert chip.pixels.std() > 20


def test_whole_pixel_box_is_copied_exactly():
    rng = np.random.default_rng(5)
    photo = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    chip = extract_chip(photo, (30.0, 20.0, 140.0, 70.0), 0.0, ChipConfig(dim_size_px=140))
    np.testing.assert_array_equal(chip.pixels, photo[20:90, 30:170])


def test_whole_pixel_copy_equals_lanczos_warp():
    rng = np.random.default_rng(6)
    photo = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    chip = extract_chip(photo, (0.0, 0.0, 160.0, 90.0), 0.0, ChipConfig(dim_size_px=160))
    warped = cv2.warpAffine(photo, chip.M[:2], (160, 90), flags=cv2.INTER_LANCZOS4)
    np.testing.assert_array_equal(chip.pixels, warped)
