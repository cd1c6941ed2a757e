"""The JSON sidecar of a figure: every correspondence in photo pixels, score and provenance."""

import json
from dataclasses import replace

import numpy as np
import pytest

from reviewer.engine.registry import ModelChoice
from reviewer.engine.scoring import ScoreConfig
from reviewer.render.sidecar import (
    SIDECAR_FORMAT,
    correspondence_records,
    sidecar,
    sidecar_path,
    write_sidecar,
)


@pytest.fixture(scope="module")
def same_image_match(demo_annots, shared_matcher):
    """aid 3 vs aid 4: two zebras boxed in one photo."""
    return shared_matcher.match(demo_annots.get(3), demo_annots.get(4))


def test_one_record_per_match(zebra_match):
    records = correspondence_records(zebra_match, zebra_match.score())
    assert len(records) == len(zebra_match.matches)
    assert [r["index"] for r in records] == list(range(len(records)))


def test_inlier_flags(zebra_match):
    records = correspondence_records(zebra_match, zebra_match.score())
    inliers = [r["index"] for r in records if r["inlier"]]
    assert inliers == sorted(zebra_match.sver.inliers.tolist())


def test_inlier_weights_follow_score(zebra_match):
    score = zebra_match.score(ScoreConfig(threshold=0.6))
    records = correspondence_records(zebra_match, score)
    weights = [records[i]["weight"] for i in zebra_match.sver.inliers]
    np.testing.assert_allclose(weights, score.weights, atol=1e-6)


def test_outliers_have_no_weight(zebra_match):
    records = correspondence_records(zebra_match, zebra_match.score())
    outliers = [r for r in records if not r["inlier"]]
    assert outliers
    assert all(r["weight"] == 0 for r in outliers)
    assert not any(r["counted"] for r in outliers)
    assert all(r["background"] is None for r in outliers)


def test_photo_coordinates(zebra_match):
    records = correspondence_records(zebra_match, zebra_match.score())
    fm = zebra_match.matches.fm
    expected_a = zebra_match.a.chip.to_photo(zebra_match.a.features.kpts[fm[:, 0], :2])
    expected_b = zebra_match.b.chip.to_photo(zebra_match.b.features.kpts[fm[:, 1], :2])
    np.testing.assert_allclose([r["photo_xy_a"] for r in records], expected_a, atol=1e-3)
    np.testing.assert_allclose([r["photo_xy_b"] for r in records], expected_b, atol=1e-3)


def test_fgweights_and_fs(zebra_match):
    records = correspondence_records(zebra_match, zebra_match.score())
    fm = zebra_match.matches.fm
    np.testing.assert_allclose(
        [r["fgweight_a"] for r in records], zebra_match.a.fgweights[fm[:, 0]], atol=1e-6
    )
    np.testing.assert_allclose([r["fs"] for r in records], zebra_match.matches.fs, atol=1e-6)


def test_same_photo_points_not_counted(same_image_match):
    records = correspondence_records(same_image_match, same_image_match.score())
    excluded = [r for r in records if r["inlier"] and not r["counted"]]
    assert len(excluded) == same_image_match.num_same_place
    assert all(r["weight"] == 0 for r in excluded)


def test_no_model_gives_null_fgweights(zebra_match):
    choice = ModelChoice("zebra_plains", None, None, "no usable model", "weighting is off")
    match = replace(
        zebra_match, a=replace(zebra_match.a, probchip=None, fgweights=None, model=choice)
    )
    records = correspondence_records(match, match.score())
    assert all(r["fgweight_a"] is None for r in records)
    assert all(r["background"] is None for r in records)


def test_empty_matches(zebra_match):
    empty = replace(
        zebra_match.matches,
        fm=np.empty((0, 2), np.int32),
        fs=np.empty(0, np.float32),
        ratio=np.empty(0, np.float32),
    )
    sver = replace(zebra_match.sver, inliers=np.empty(0, np.int64), xy_err=np.empty(0), H=None)
    match = replace(zebra_match, matches=empty, sver=sver, counted=np.empty(0, bool))
    assert correspondence_records(match, match.score()) == []


def test_sidecar_fields(zebra_match):
    data = sidecar(zebra_match, zebra_match.score())
    assert data["format"] == SIDECAR_FORMAT
    assert data["aid_a"] == 3
    assert data["flags"]["time_gap_s"] == 29 * 60 + 22
    assert data["score"]["num_inliers"] == len(zebra_match.sver.inliers)
    assert data["provenance"]["preset"] == "vsone"


def test_write_beside_figure(zebra_match, tmp_path):
    figure = tmp_path / "aid3_vs_aid5.svg"
    path = write_sidecar(zebra_match, zebra_match.score(), figure)
    assert path == sidecar_path(figure) == tmp_path / "aid3_vs_aid5.svg.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["figure"] == "aid3_vs_aid5.svg"
    assert len(data["correspondences"]) == len(zebra_match.matches)
