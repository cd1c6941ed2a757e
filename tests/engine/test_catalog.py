"""The catalog: stacked vecs, the persisted FLANN index and what happens when it is damaged."""

import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine import catalog as catalog_module
from reviewer.engine.annotations import load_annotations
from reviewer.engine.cache import DiskCache
from reviewer.engine.catalog import Catalog
from reviewer.engine.flann_index import FlannIndexConfig
from reviewer.engine.pipeline import Matcher
from tests.engine.synthetic_catalog import catalog_annot, random_kpts, random_vecs

KDTREE = FlannIndexConfig()


@pytest.fixture(scope="module")
def features():
    """Three annotations: two named ones of one individual and an unnamed one."""
    rng = np.random.default_rng(1)
    counts = {1: 30, 2: 50, 3: 20}
    names = {1: "zebra_a", 2: "zebra_a", 3: None}
    items = [
        catalog_annot(aid, f"img{aid}", names[aid], random_kpts(rng, n))
        for aid, n in counts.items()
    ]
    vecs = [random_vecs(rng, n) for n in counts.values()]
    return items, vecs


def _build(features, cache):
    items, vecs = features
    return Catalog.from_features(items, vecs, index_config=KDTREE, cache=cache)


def _index_files(root: Path) -> tuple[Path, Path]:
    (index,) = root.glob("flann/*/*.flann")
    return index, index.with_suffix(".json")


# --- Layout ----------------------------------------------------------------------------------


def test_vecs_map_back_to_annot_and_kpt(features):
    catalog = _build(features, DiskCache(enabled=False))
    items, vecs = features
    row = 30 + 7  # kpt 7 of the second annotation
    assert catalog.annot_of_vec[row] == 1
    assert catalog.fx_of_vec[row] == 7
    np.testing.assert_array_equal(catalog.vecs[row], vecs[1][7])


def test_stacked_shapes(features):
    catalog = _build(features, DiskCache(enabled=False))
    assert catalog.vecs.shape == (100, 128)
    assert catalog.annot_of_vec.shape == (100,)
    assert catalog.fgweights_of_vec.shape == (100,)


def test_each_unnamed_annotation_is_its_own_name(features):
    catalog = _build(features, DiskCache(enabled=False))
    assert catalog.name_of_annot[0] == catalog.name_of_annot[1]
    assert catalog.name_of_annot[2] != catalog.name_of_annot[0]
    assert catalog.name_keys[catalog.name_of_annot[2]] == "____ aid 3"


def test_missing_fgweights_leave_none(features):
    items, vecs = features
    items = [replace(items[0], fgweights=None), *items[1:]]
    catalog = Catalog.from_features(items, vecs, cache=DiskCache(enabled=False))
    assert catalog.fgweights_of_vec is None


def test_position_of_aid(features):
    catalog = _build(features, DiskCache(enabled=False))
    assert catalog.position(3) == 2
    assert catalog.position("3") == 2
    assert catalog.position(99) is None


def test_nearest_finds_exact_copy(features):
    catalog = _build(features, DiskCache(enabled=False))
    neighbours, dist = catalog.nearest(features[1][2][:5], 3, checks=800)
    np.testing.assert_array_equal(neighbours[:, 0], np.arange(80, 85))
    np.testing.assert_allclose(dist[:, 0], 0.0)


def test_vecs_shape_mismatch_is_rejected(features):
    items, vecs = features
    with pytest.raises(ValueError, match="must have shape"):
        Catalog.from_features(items, [vecs[0], vecs[0], vecs[2]], cache=DiskCache(enabled=False))


def test_empty_catalog():
    catalog = Catalog.from_features([], [], cache=DiskCache(enabled=False))
    assert len(catalog) == 0
    assert catalog.vecs.shape == (0, 128)
    with pytest.raises(ValueError, match="num_neighbours"):
        catalog.nearest(np.zeros((1, 128), np.uint8), 1, checks=800)


# --- Persisted index -------------------------------------------------------------------------


def test_index_is_saved_and_reused(features, tmp_path, monkeypatch):
    first = _build(features, DiskCache(tmp_path))
    assert not first.index_from_cache

    def no_build(*args, **kwargs):
        raise AssertionError("the index was built again")

    monkeypatch.setattr(catalog_module, "_build_flann", no_build)
    second = _build(features, DiskCache(tmp_path))
    assert second.index_from_cache
    query = features[1][1][:20]
    np.testing.assert_array_equal(
        first.nearest(query, 4, checks=800)[0], second.nearest(query, 4, checks=800)[0]
    )


def test_index_key_follows_the_vecs(features, tmp_path):
    items, vecs = features
    _build(features, DiskCache(tmp_path))
    reordered = Catalog.from_features(
        items[::-1], vecs[::-1], index_config=KDTREE, cache=DiskCache(tmp_path)
    )
    assert not reordered.index_from_cache


def test_disabled_cache_writes_nothing(features, tmp_path):
    _build(features, DiskCache(tmp_path, enabled=False))
    assert not list(tmp_path.rglob("*"))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "no sidecar", "bad sidecar"])
def test_damaged_index_is_rebuilt(features, tmp_path, caplog, damage):
    _build(features, DiskCache(tmp_path))
    index, sidecar = _index_files(tmp_path)
    if damage == "truncate":
        index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    elif damage == "garbage":
        index.write_bytes(b"not a flann index" * 100)
    elif damage == "no sidecar":
        sidecar.unlink()
    else:
        sidecar.write_text("{not json", encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="reviewer.engine.flann_index"):
        rebuilt = _build(features, DiskCache(tmp_path))
    assert not rebuilt.index_from_cache
    assert "Rebuilding the FLANN index" in caplog.text
    assert rebuilt.nearest(features[1][0][:3], 2, checks=800)[0].shape == (3, 2)


def test_damaged_index_is_replaced_on_disk(features, tmp_path):
    _build(features, DiskCache(tmp_path))
    index, sidecar = _index_files(tmp_path)
    index.write_bytes(b"broken")
    _build(features, DiskCache(tmp_path))
    assert json.loads(sidecar.read_text())["size"] == index.stat().st_size
    assert _build(features, DiskCache(tmp_path)).index_from_cache


# --- From annotations ------------------------------------------------------------------------


def test_build_leaves_out_unreadable_photo(tmp_path):
    annots = load_annotations(DEMO_ANNOTATIONS)
    broken = replace(annots.get(1), aid=1001, image_path=tmp_path / "missing.jpg")
    matcher = Matcher(cache=DiskCache(tmp_path / "cache"))
    catalog = Catalog.build([annots.get(1), broken], matcher)
    assert len(catalog) == 1
    assert "1001" in catalog.problems[0]


def test_build_reports_progress(tmp_path):
    annots = load_annotations(DEMO_ANNOTATIONS)
    fractions = []
    Catalog.build(
        [annots.get(1), annots.get(2)],
        Matcher(cache=DiskCache(tmp_path)),
        progress=lambda fraction, message: fractions.append(fraction),
    )
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
