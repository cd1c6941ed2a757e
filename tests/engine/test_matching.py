"""Tests of one-vs-one matching: FLANN neighbours and the ratio test."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from reviewer.engine import matching
from reviewer.engine.matching import (
    PSEUDO_MAX_DIST,
    Matches,
    VsOneConfig,
    _split_rows,
    exact_neighbours,
    match_vsone,
    nearest_neighbours,
    normalized_sift_distance,
)

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "annotations.coco.json"


def _random_vecs(rng, n):
    return rng.integers(0, 256, size=(n, 128), dtype=np.uint8)


def _perturb(rng, vecs, amplitude):
    """Add uniform integer noise; ``amplitude`` is a scalar or one value per row."""
    amplitude = np.broadcast_to(np.asarray(amplitude), (len(vecs),))[:, None]
    noise = np.round(rng.uniform(-1.0, 1.0, size=vecs.shape) * amplitude).astype(np.int64)
    return np.clip(vecs.astype(np.int64) + noise, 0, 255).astype(np.uint8)


def _brute_force_ratio(vecs_a, vecs_b):
    """Euclidean ratio of nearest to second nearest vec of A, for each vec of B."""
    diff = vecs_b[:, None, :].astype(np.float64) - vecs_a[None, :, :].astype(np.float64)
    dist = np.sort(np.sqrt(np.sum(diff**2, axis=-1)), axis=1)
    return dist[:, 0] / dist[:, 1]


@pytest.fixture(scope="module")
def demo_vecs():
    """SIFT vecs of the demo chips: aid 3 and aid 5 show one zebra, aid 6 another."""
    from reviewer.engine.annotations import load_annotations
    from reviewer.engine.chips import extract_chip, load_photo
    from reviewer.engine.features import extract_features

    annots = load_annotations(DEMO)
    vecs = {}
    for aid in (3, 5, 6):
        annot = annots.get(aid)
        photo = load_photo(annot.image_path, annot.image_size)
        chip = extract_chip(photo.pixels, annot.bbox, annot.theta)
        vecs[aid] = extract_features(chip.pixels).vecs
    return vecs


# --- Shapes and known cases ----------------------------------------------------


def test_match_shapes_and_dtypes():
    rng = np.random.default_rng(0)
    vecs_a = _random_vecs(rng, 50)
    matches = match_vsone(vecs_a, _perturb(rng, vecs_a[:30], 40))
    assert matches.fm.shape == (len(matches), 2)
    assert matches.fm.dtype == np.int32
    assert matches.fs.shape == (len(matches),)
    assert matches.fs.dtype == np.float32
    assert matches.ratio.shape == (len(matches),)
    assert matches.ratio.dtype == np.float32


@pytest.mark.parametrize("algorithm", ["blas", "linear"])
def test_match_known_permutation(algorithm):
    rng = np.random.default_rng(1)
    vecs_a = _random_vecs(rng, 40)
    perm = rng.permutation(40)
    vecs_b = _perturb(rng, vecs_a[perm], 3)
    matches = match_vsone(vecs_a, vecs_b, VsOneConfig(algorithm=algorithm))
    assert len(matches) == 40
    assert np.array_equal(matches.fm[:, 1], np.arange(40))
    assert np.array_equal(matches.fm[:, 0], perm)


def test_match_fs_is_one_minus_ratio():
    rng = np.random.default_rng(2)
    vecs_a = _random_vecs(rng, 60)
    matches = match_vsone(vecs_a, _perturb(rng, vecs_a, 60))
    assert len(matches) > 0
    np.testing.assert_allclose(matches.fs, 1.0 - matches.ratio, rtol=1e-6)


@pytest.mark.parametrize("algorithm", ["blas", "linear"])
def test_match_ratio_is_euclidean(algorithm):
    # The ratio is of Euclidean distances, not of the squared distances.
    rng = np.random.default_rng(3)
    vecs_a = _random_vecs(rng, 60)
    vecs_b = _perturb(rng, vecs_a[:40], np.linspace(10, 250, 40))
    expected = _brute_force_ratio(vecs_a, vecs_b)
    matches = match_vsone(vecs_a, vecs_b, VsOneConfig(algorithm=algorithm))
    passing = np.flatnonzero(expected < 0.625)
    assert 0 < len(passing) < len(vecs_b)
    assert np.array_equal(matches.fm[:, 1], passing)
    np.testing.assert_allclose(matches.ratio, expected[passing], rtol=1e-5)


def test_match_ratio_thresh_filters():
    rng = np.random.default_rng(4)
    vecs_a = _random_vecs(rng, 60)
    vecs_b = _perturb(rng, vecs_a, np.linspace(10, 250, 60))
    strict = match_vsone(vecs_a, vecs_b, VsOneConfig(ratio_thresh=0.5))
    loose = match_vsone(vecs_a, vecs_b, VsOneConfig(ratio_thresh=0.8))
    assert len(strict) < len(loose)
    assert np.all(strict.ratio < 0.5)
    assert set(map(tuple, strict.fm)) <= set(map(tuple, loose.fm))


def test_match_each_query_once_with_k1():
    rng = np.random.default_rng(5)
    vecs_a = _random_vecs(rng, 30)
    vecs_b = _perturb(rng, np.concatenate([vecs_a, vecs_a]), 5)
    matches = match_vsone(vecs_a, vecs_b)
    assert len(np.unique(matches.fm[:, 1])) == len(matches)
    assert len(matches) == 60


def test_match_k2_gives_two_rows_per_query():
    rng = np.random.default_rng(6)
    vecs_a = _random_vecs(rng, 30)
    vecs_b = _perturb(rng, vecs_a, 5)
    matches = match_vsone(vecs_a, vecs_b, VsOneConfig(K=2, Knorm=1, ratio_thresh=1.0))
    rows = matches.fm[matches.fm[:, 1] == 0]
    assert len(rows) == 2
    assert rows[0, 0] == 0


@pytest.mark.parametrize("algorithm", ["blas", "linear"])
def test_match_is_deterministic(algorithm):
    rng = np.random.default_rng(7)
    vecs_a = _random_vecs(rng, 200)
    vecs_b = _perturb(rng, vecs_a, 60)
    config = VsOneConfig(algorithm=algorithm)
    first = match_vsone(vecs_a, vecs_b, config)
    second = match_vsone(vecs_a, vecs_b, config)
    assert np.array_equal(first.fm, second.fm)
    assert np.array_equal(first.fs, second.fs)


def test_match_kdtree_finds_permutation():
    # With checks above the number of indexed vecs, the kd-tree search is exact.
    rng = np.random.default_rng(8)
    vecs_a = _random_vecs(rng, 40)
    perm = rng.permutation(40)
    config = VsOneConfig(algorithm="kdtree", checks=128)
    matches = match_vsone(vecs_a, _perturb(rng, vecs_a[perm], 3), config)
    assert len(matches) == 40
    assert np.array_equal(matches.fm[:, 0], perm[matches.fm[:, 1]])


def test_match_records_config():
    rng = np.random.default_rng(9)
    config = VsOneConfig(ratio_thresh=0.7)
    matches = match_vsone(_random_vecs(rng, 5), _random_vecs(rng, 5), config)
    assert matches.config == config


# --- Empty input, too few vecs, duplicates --------------------------------------


@pytest.mark.parametrize(("num_a", "num_b"), [(0, 10), (10, 0), (0, 0), (1, 10)])
def test_match_too_few_vecs_is_empty(num_a, num_b):
    rng = np.random.default_rng(10)
    matches = match_vsone(_random_vecs(rng, num_a), _random_vecs(rng, num_b))
    assert len(matches) == 0
    assert matches.fm.shape == (0, 2)
    assert matches.fm.dtype == np.int32
    assert matches.fs.shape == (0,)
    assert matches.ratio.shape == (0,)


def test_match_shrinks_k_for_few_vecs():
    # Two indexed vecs cannot give K=2 plus a normaliser, so K drops to 1.
    rng = np.random.default_rng(11)
    vecs_a = _random_vecs(rng, 2)
    vecs_b = _perturb(rng, vecs_a, 3)
    shrunk = match_vsone(vecs_a, vecs_b, VsOneConfig(K=2, Knorm=1))
    plain = match_vsone(vecs_a, vecs_b, VsOneConfig(K=1, Knorm=1))
    assert np.array_equal(shrunk.fm, plain.fm)
    assert np.array_equal(shrunk.fm[:, 0], [0, 1])


@pytest.mark.parametrize("algorithm", ["blas", "linear"])
def test_match_duplicate_index_vecs_fail_ratio(algorithm):
    # A query whose two nearest vecs are both at distance 0 has ratio 0 / 0;
    # vtool drops it, and no warning is raised.
    rng = np.random.default_rng(12)
    vec = _random_vecs(rng, 1)
    vecs_a = np.concatenate([vec, vec, _random_vecs(rng, 10)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        matches = match_vsone(vecs_a, vec.copy(), VsOneConfig(algorithm=algorithm))
    assert len(matches) == 0


def test_match_single_duplicate_gives_ratio_zero():
    rng = np.random.default_rng(13)
    vecs_a = _random_vecs(rng, 10)
    matches = match_vsone(vecs_a, vecs_a[3:4].copy())
    assert matches.ratio.tolist() == [0.0]
    assert matches.fs.tolist() == [1.0]


# --- Bad input --------------------------------------------------------------------


def test_match_rejects_float_vecs():
    rng = np.random.default_rng(14)
    with pytest.raises(ValueError, match="uint8"):
        match_vsone(_random_vecs(rng, 5).astype(np.float32), _random_vecs(rng, 5))


def test_match_rejects_1d_vecs():
    rng = np.random.default_rng(15)
    with pytest.raises(ValueError, match="vecs_b"):
        match_vsone(_random_vecs(rng, 5), _random_vecs(rng, 5)[0])


def test_match_rejects_length_mismatch():
    rng = np.random.default_rng(16)
    with pytest.raises(ValueError, match="same length"):
        match_vsone(_random_vecs(rng, 5), _random_vecs(rng, 5)[:, :64])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"K": 0},
        {"Knorm": 0},
        {"checks": 0},
        {"ratio_thresh": 0.0},
        {"ratio_thresh": 1.5},
        {"algorithm": "lsh"},
        {"trees": 0},
    ],
)
def test_config_rejects_invalid(kwargs):
    with pytest.raises(ValueError):
        VsOneConfig(**kwargs)


def test_matches_rejects_wrong_dtype():
    with pytest.raises(ValueError, match="int32"):
        Matches(
            fm=np.zeros((1, 2), dtype=np.int64),
            fs=np.zeros(1, dtype=np.float32),
            ratio=np.zeros(1, dtype=np.float32),
        )


# --- Exact BLAS search -------------------------------------------------------------


def _brute_force_sqrd(vecs_index, vecs_query):
    diff = vecs_query[:, None, :].astype(np.int64) - vecs_index[None, :, :].astype(np.int64)
    return np.sum(diff**2, axis=-1)


def test_exact_neighbours_match_brute_force():
    rng = np.random.default_rng(20)
    vecs_index = _random_vecs(rng, 70)
    vecs_query = _perturb(rng, vecs_index[:50], 80)
    neighbours, dist_sqrd = exact_neighbours(vecs_index, vecs_query, 3)
    expected = _brute_force_sqrd(vecs_index, vecs_query)
    rows = np.arange(len(vecs_query))[:, None]
    np.testing.assert_array_equal(dist_sqrd, np.sort(expected, axis=1)[:, :3])
    np.testing.assert_array_equal(expected[rows, neighbours], dist_sqrd)


def test_exact_neighbours_ties_go_to_lower_index():
    vec = np.full((1, 128), 10, dtype=np.uint8)
    far = np.full((1, 128), 200, dtype=np.uint8)
    vecs_index = np.concatenate([far, vec, far, vec])
    neighbours, _ = exact_neighbours(vecs_index, vec, 4)
    assert neighbours.tolist() == [[1, 3, 0, 2]]


def test_exact_neighbours_extreme_values_are_exact():
    # The largest uint8 distances still fit float32 exactly.
    vecs_index = np.array([np.zeros(128), np.full(128, 255), np.full(128, 254)], dtype=np.uint8)
    vecs_query = np.array([np.full(128, 255), np.zeros(128)], dtype=np.uint8)
    _, dist_sqrd = exact_neighbours(vecs_index, vecs_query, 3)
    np.testing.assert_array_equal(dist_sqrd, np.sort(_brute_force_sqrd(vecs_index, vecs_query)))


def test_exact_neighbours_blocks_agree(monkeypatch):
    rng = np.random.default_rng(21)
    vecs_index = _random_vecs(rng, 40)
    vecs_query = _perturb(rng, np.concatenate([vecs_index, vecs_index]), 50)
    whole = exact_neighbours(vecs_index, vecs_query, 2)
    monkeypatch.setattr(matching, "_BLAS_BLOCK_VALUES", 7 * len(vecs_index))
    blocked = exact_neighbours(vecs_index, vecs_query, 2)
    np.testing.assert_array_equal(blocked[0], whole[0])
    np.testing.assert_array_equal(blocked[1], whole[1])


def test_exact_neighbours_long_vecs_use_float64():
    # Beyond 129 dimensions float32 would round; the float64 path stays exact.
    rng = np.random.default_rng(22)
    vecs_index = rng.integers(0, 256, size=(30, 300), dtype=np.uint8)
    vecs_query = rng.integers(0, 256, size=(10, 300), dtype=np.uint8)
    _, dist_sqrd = exact_neighbours(vecs_index, vecs_query, 2)
    expected = np.sort(_brute_force_sqrd(vecs_index, vecs_query), axis=1)[:, :2]
    np.testing.assert_array_equal(dist_sqrd, expected)


@pytest.mark.parametrize("count", [0, 4])
def test_exact_neighbours_rejects_bad_count(count):
    rng = np.random.default_rng(23)
    with pytest.raises(ValueError, match="num_neighbours"):
        exact_neighbours(_random_vecs(rng, 3), _random_vecs(rng, 2), count)


def test_normalized_distance_convention():
    # FLANN returns squared distances; the maximum SIFT distance maps to 1.
    dist = normalized_sift_distance(np.array([0.0, PSEUDO_MAX_DIST**2, 4.0]))
    np.testing.assert_allclose(dist, [0.0, 1.0, 2.0 / PSEUDO_MAX_DIST])


# --- Real photos -------------------------------------------------------------------


def test_match_demo_same_zebra_beats_other(demo_vecs):
    same = match_vsone(demo_vecs[3], demo_vecs[5])
    other = match_vsone(demo_vecs[3], demo_vecs[6])
    assert len(same) > 3 * len(other)


@pytest.mark.parametrize(("aid_a", "aid_b"), [(3, 5), (5, 3), (5, 6)])
def test_blas_equals_pyflann_linear_on_demo(demo_vecs, aid_a, aid_b):
    blas = match_vsone(demo_vecs[aid_a], demo_vecs[aid_b], VsOneConfig(algorithm="blas"))
    linear = match_vsone(demo_vecs[aid_a], demo_vecs[aid_b], VsOneConfig(algorithm="linear"))
    assert len(blas) > 0
    np.testing.assert_array_equal(blas.fm, linear.fm)
    np.testing.assert_array_equal(blas.fs, linear.fs)
    np.testing.assert_array_equal(blas.ratio, linear.ratio)


def test_blas_neighbours_equal_pyflann_linear_on_demo(demo_vecs):
    # Every neighbour, not only those that pass the ratio test.
    blas = nearest_neighbours(demo_vecs[3], demo_vecs[5], 3, VsOneConfig(algorithm="blas"))
    linear = nearest_neighbours(demo_vecs[3], demo_vecs[5], 3, VsOneConfig(algorithm="linear"))
    np.testing.assert_array_equal(blas[0], linear[0])
    np.testing.assert_array_equal(blas[1], linear[1])


def test_match_demo_indices_valid(demo_vecs):
    matches = match_vsone(demo_vecs[3], demo_vecs[5])
    assert len(matches) > 0
    assert matches.fm[:, 0].max() < len(demo_vecs[3])
    assert matches.fm[:, 1].max() < len(demo_vecs[5])
    assert matches.fm.min() >= 0
    assert np.all(matches.ratio < VsOneConfig().ratio_thresh)
    assert len(np.unique(matches.fm[:, 1])) == len(matches)


@pytest.mark.parametrize(
    ("rows", "block", "workers"), [(10, 3, 2), (10, 20, 4), (7, 1, 3), (0, 5, 2)]
)
def test_split_rows_covers_every_row_once(rows, block, workers):
    parts = _split_rows(rows, block, workers)
    covered = [i for part in parts for i in range(part.start, part.stop)]
    assert covered == list(range(rows))
    assert len(parts) <= workers
