"""The heavy path end to end on the demo photos, and the live re-scoring."""

import json
import shutil

import numpy as np
import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine import pipeline
from reviewer.engine.annotations import load_annotations
from reviewer.engine.cache import DiskCache
from reviewer.engine.errors import BBoxError, Cancelled, ImageLoadError
from reviewer.engine.pipeline import Matcher
from reviewer.engine.scoring import ScoreConfig


@pytest.fixture(scope="module")
def annots():
    return load_annotations(DEMO_ANNOTATIONS)


@pytest.fixture(scope="module")
def matcher(tmp_path_factory):
    return Matcher(cache=DiskCache(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def same_zebra(annots, matcher):
    return matcher.match(annots.get(3), annots.get(5))


@pytest.fixture(scope="module")
def two_zebras_one_photo(annots, matcher):
    return matcher.match(annots.get(3), annots.get(4))


def test_same_zebra_is_verified(same_zebra):
    assert same_zebra.sver.verified
    assert len(same_zebra.sver.inliers) >= 10


def test_same_zebra_outscores_other_zebra(same_zebra, annots, matcher):
    other = matcher.match(annots.get(3), annots.get(6))
    assert same_zebra.score().score > 3 * other.score().score


def test_result_shapes(same_zebra):
    a = same_zebra.a
    assert a.probchip.shape == a.chip.pixels.shape[:2]
    assert a.fgweights.shape == (len(a.features),)
    assert same_zebra.inlier_fm.shape == (len(same_zebra.sver.inliers), 2)
    assert same_zebra.counted.shape == (len(same_zebra.sver.inliers),)


def test_model_is_named(same_zebra):
    assert same_zebra.a.model.model_name == "background_generic"
    assert "zebra_plains" in same_zebra.a.model.reason


def test_same_zebra_evidence_is_mostly_foreground(same_zebra):
    assert same_zebra.score().background_share < 0.5


def test_threshold_lowers_or_keeps_score(same_zebra):
    assert same_zebra.score(ScoreConfig(0.5)).score <= same_zebra.score().score


def test_rescoring_never_reruns_matching(same_zebra, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("re-scoring called the heavy path")

    monkeypatch.setattr(pipeline, "match_vsone", forbidden)
    monkeypatch.setattr(pipeline, "spatially_verify", forbidden)
    for t in np.linspace(0, 1, 11):
        same_zebra.score(ScoreConfig(float(t)))


def test_same_photo_points_are_excluded(two_zebras_one_photo):
    match = two_zebras_one_photo
    if len(match.sver.inliers) == 0:
        pytest.skip("no inliers between aid 3 and aid 4 to test exclusion on")
    xy_a = match.a.chip.to_photo(match.a.features.kpts[match.inlier_fm[:, 0], :2])
    xy_b = match.b.chip.to_photo(match.b.features.kpts[match.inlier_fm[:, 1], :2])
    near = np.linalg.norm(xy_a - xy_b, axis=1) < 0.01 * np.hypot(1600, 1067)
    np.testing.assert_array_equal(match.counted, ~near)


def test_second_run_comes_from_disk_cache(annots, same_zebra, tmp_path_factory):
    cache_root = tmp_path_factory.mktemp("cache2")
    first = Matcher(cache=DiskCache(cache_root)).match(annots.get(3), annots.get(5))
    again = Matcher(cache=DiskCache(cache_root)).match(annots.get(3), annots.get(5))
    assert again.a.from_cache
    assert again.score().score == pytest.approx(first.score().score, rel=1e-6)
    assert "flann" not in again.timings_ms


def test_timings_name_stages(same_zebra):
    for stage in ("load_image", "chip", "features", "probchip", "fgweights", "flann", "sver"):
        assert stage in same_zebra.timings_ms


def test_blank_chip_has_no_keypoints_and_scores_zero(tmp_path, annots, matcher):
    import cv2

    cv2.imwrite(str(tmp_path / "blank.png"), np.full((300, 400, 3), 128, np.uint8))
    data = {
        "images": [{"id": 1, "file_name": "blank.png", "width": 400, "height": 300}],
        "categories": [{"id": 1, "name": "zebra_plains"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 200, 150]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [150, 100, 200, 150]},
        ],
    }
    (tmp_path / "blank.json").write_text(json.dumps(data))
    blank = load_annotations(tmp_path / "blank.json")
    match = matcher.match(blank.get(1), blank.get(2))
    assert len(match.a.features) == 0
    assert len(match.matches) == 0
    assert match.score().score == 0.0
    assert match.score().background_share is None


def test_missing_image_raises_for_that_annotation(tmp_path, annots, matcher):
    data = json.loads(DEMO_ANNOTATIONS.read_text())
    shutil.copytree(DEMO_ANNOTATIONS.parent / "images", tmp_path / "images")
    (tmp_path / "images" / "gzgc" / "000000003362.jpg").unlink()
    (tmp_path / "a.json").write_text(json.dumps(data))
    copy = load_annotations(tmp_path / "a.json")
    with pytest.raises(ImageLoadError, match="000000003362.jpg"):
        matcher.match(copy.get(3), copy.get(5))
    assert matcher.match(copy.get(1), copy.get(2)).sver.verified


def test_bbox_outside_image_raises(tmp_path, annots, matcher):
    data = json.loads(DEMO_ANNOTATIONS.read_text())
    # The file does not say the photo's size, so the loader cannot catch the box.
    for image in data["images"]:
        image.pop("width")
        image.pop("height")
    data["annotations"][0]["bbox"] = [5000, 5000, 100, 100]
    shutil.copytree(DEMO_ANNOTATIONS.parent / "images", tmp_path / "images")
    (tmp_path / "a.json").write_text(json.dumps(data))
    copy = load_annotations(tmp_path / "a.json")
    with pytest.raises(BBoxError, match=r"bbox \[5000.0, 5000.0, 100.0, 100.0\] lies outside"):
        matcher.match(copy.get(1), copy.get(2))


def test_cancel_stops_heavy_path(annots, tmp_path):
    import threading

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        Matcher(cache=DiskCache(tmp_path)).match(annots.get(1), annots.get(2), cancel=cancel)


def test_progress_reaches_one(annots, matcher):
    seen = []
    matcher.match(annots.get(3), annots.get(5), progress=lambda f, m: seen.append(f))
    assert seen[-1] == pytest.approx(1.0)
    assert all(b >= a for a, b in zip(seen, seen[1:], strict=False))


def test_corrupt_cache_entries_are_recomputed(annots, same_zebra, tmp_path, caplog):
    cache_root = tmp_path / "cache"
    Matcher(cache=DiskCache(cache_root)).match(annots.get(3), annots.get(5))
    entries = list(cache_root.rglob("*.npz"))
    for entry in entries:
        entry.write_bytes(b"not an npz file")
    again = Matcher(cache=DiskCache(cache_root)).match(annots.get(3), annots.get(5))
    assert len(entries) == 3  # two annotations and the pair
    assert not again.a.from_cache
    assert again.score().score == pytest.approx(same_zebra.score().score, rel=1e-6)
    assert "because it is unreadable" in caplog.text


def _rewrite_entries(root, edit):
    """Load every cache entry under ``root``, change its arrays with ``edit`` and save it."""
    for entry in root.rglob("*.npz"):
        with np.load(entry) as data:
            arrays = {name: data[name] for name in data.files}
        edit(arrays)
        with entry.open("wb") as fh:
            np.savez(fh, **arrays)


def test_pair_entry_out_of_range_recomputed(annots, same_zebra, tmp_path, caplog):
    cache_root = tmp_path / "cache"
    Matcher(cache=DiskCache(cache_root)).match(annots.get(3), annots.get(5))

    def shift_fm(arrays):
        if "fm" in arrays:
            arrays["fm"] = arrays["fm"] + 100_000

    _rewrite_entries(cache_root / "pair", shift_fm)
    again = Matcher(cache=DiskCache(cache_root)).match(annots.get(3), annots.get(5))
    assert again.score().score == pytest.approx(same_zebra.score().score, rel=1e-6)
    assert "cache entry" in caplog.text
    assert "fm points outside" in caplog.text


def test_annot_entry_short_fgweights_recomputed(annots, same_zebra, tmp_path, caplog):
    cache_root = tmp_path / "cache"
    Matcher(cache=DiskCache(cache_root)).match(annots.get(3), annots.get(5))

    def cut_fgweights(arrays):
        arrays["fgweights"] = arrays["fgweights"][:10]

    _rewrite_entries(cache_root / "annot", cut_fgweights)
    again = Matcher(cache=DiskCache(cache_root)).match(annots.get(3), annots.get(5))
    assert not again.a.from_cache
    assert again.score().score == pytest.approx(same_zebra.score().score, rel=1e-6)
    assert "fgweights has shape (10,)" in caplog.text


def test_parallel_pair_equals_one_annotation_at_a_time(annots, same_zebra):
    alone = Matcher(cache=DiskCache(enabled=False)).annot_result(annots.get(5))
    np.testing.assert_array_equal(same_zebra.b.features.kpts, alone.features.kpts)
    np.testing.assert_allclose(same_zebra.b.fgweights, alone.fgweights, atol=1e-3)


def test_annot_results_keep_order(annots, matcher):
    results = matcher.annot_results([annots.get(5), annots.get(3), annots.get(5)])
    assert [r.annot.aid for r in results] == [5, 3, 5]
