"""One-vs-many ranking: synthetic cases checked by hand, edge cases and the demo ranking."""

import threading
from dataclasses import replace

import numpy as np
import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.engine.cache import DiskCache
from reviewer.engine.catalog import Catalog
from reviewer.engine.errors import Cancelled
from reviewer.engine.flann_index import FlannIndexConfig
from reviewer.engine.matching import PSEUDO_MAX_DIST
from reviewer.engine.pipeline import Matcher
from reviewer.engine.scoring import ScoreConfig
from reviewer.engine.vsmany import VsManyConfig, rank_aid, rank_query
from tests.engine.synthetic_catalog import (
    annot_result,
    catalog_annot,
    random_kpts,
    random_vecs,
)

NUM_KPTS = 40
SHIFT_PX = np.array([15.0, -10.0])  # the matching annotation's kpts, relative to the query's
EXACT = FlannIndexConfig(algorithm="linear")  # exact neighbours, so the cases are repeatable


@pytest.fixture(scope="module")
def scene():
    """Query aid 1; aid 2 the same animal; aids 3, 4 others; aid 5 shares the query's photo."""
    rng = np.random.default_rng(7)
    kpts_q, vecs_q = random_kpts(rng, NUM_KPTS), random_vecs(rng, NUM_KPTS)
    noise = rng.integers(-2, 3, vecs_q.shape)
    kpts_match = kpts_q.copy()
    kpts_match[:, :2] += SHIFT_PX
    kpts_sibling = kpts_q.copy()
    kpts_sibling[:, :2] += (30.0, 20.0)
    items = {
        1: (catalog_annot(1, "q", "zebra_a", kpts_q), vecs_q),
        2: (
            catalog_annot(2, "m", "zebra_a", kpts_match),
            np.clip(vecs_q.astype(int) + noise, 0, 255).astype(np.uint8),
        ),
        3: (catalog_annot(3, "d", None, random_kpts(rng, 60)), random_vecs(rng, 60)),
        4: (catalog_annot(4, "e", "zebra_b", random_kpts(rng, 60)), random_vecs(rng, 60)),
        # The sibling's chip sits 30 px left and 20 px up of the query's chip in one
        # photo, so each copied kpt is the same photo point as the query's.
        5: (catalog_annot(5, "q", None, kpts_sibling, offset_px=(-30.0, -20.0)), vecs_q.copy()),
    }
    return items


def _catalog(items, aids=None):
    aids = list(items) if aids is None else aids
    return Catalog.from_features(
        [items[aid][0] for aid in aids],
        [items[aid][1] for aid in aids],
        index_config=EXACT,
        cache=DiskCache(enabled=False),
    )


@pytest.fixture(scope="module")
def catalog(scene):
    return _catalog(scene)


@pytest.fixture(scope="module")
def query(scene):
    return annot_result(*scene[1])


@pytest.fixture(scope="module")
def ranked(catalog, query):
    return rank_query(catalog, query)


def _candidate(result, aid):
    return next(c for c in result.candidates if c.annot.aid == aid)


# --- Config ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["K", "Knorm", "checks", "name_shortlist", "annots_per_name"])
def test_config_rejects_zero(field):
    with pytest.raises(ValueError, match=field):
        VsManyConfig(**{field: 0})


def test_fast_preset_changes_checks_only():
    fast, default = VsManyConfig.fast(), VsManyConfig()
    assert fast.checks == 128
    assert replace(fast, checks=default.checks) == default


def test_one_core_ranks_like_all_cores(catalog, query):
    one = rank_query(catalog, query, VsManyConfig(cores=1))
    every = rank_query(catalog, query, VsManyConfig(cores=0))
    assert [c.annot.aid for c in one.candidates] == [c.annot.aid for c in every.candidates]
    assert [c.score for c in one.candidates] == [c.score for c in every.candidates]


# --- Synthetic scene -------------------------------------------------------------------------


def test_same_animal_ranks_first(ranked):
    assert ranked.candidates[0].annot.aid == 2


def test_query_is_never_a_candidate(ranked):
    assert 1 not in [c.annot.aid for c in ranked.candidates]


def test_same_image_is_excluded_by_default(ranked):
    assert 5 not in [c.annot.aid for c in ranked.candidates]


def test_candidates_ordered_by_name_score_then_score(ranked):
    keys = [(c.name_score, c.score) for c in ranked.candidates]
    assert keys == sorted(keys, reverse=True)


def test_known_sver_case_keeps_every_true_correspondence(ranked):
    # The matching kpts are the query's moved by one translation, so sver must
    # keep every (i, i) correspondence as an inlier.
    inliers = {tuple(row) for row in _candidate(ranked, 2).fm.tolist()}
    assert {(i, i) for i in range(NUM_KPTS)} <= inliers


def test_known_lnbnn_case(scene, catalog, ranked):
    # fs = d(normaliser) - d(vote), with distances over every catalog vec. The
    # query is in the catalog, so K + 1 neighbours vote and the normaliser is
    # the (K + 1 + Knorm)-th.
    config = VsManyConfig()
    vecs_q = scene[1][1].astype(np.float64)
    vecs_match = scene[2][1].astype(np.float64)
    all_vecs = catalog.vecs.astype(np.float64)
    candidate = _candidate(ranked, 2)
    for (qfx, dfx), fs in zip(candidate.fm, candidate.fs, strict=True):
        if qfx != dfx:
            continue
        dist = np.sort(np.linalg.norm(all_vecs - vecs_q[qfx], axis=1)) / PSEUDO_MAX_DIST
        normaliser = dist[config.K + 1 + config.Knorm - 1]
        vote = np.linalg.norm(vecs_match[dfx] - vecs_q[qfx]) / PSEUDO_MAX_DIST
        assert fs == pytest.approx(normaliser - vote, abs=1e-5)


def test_name_score_is_nsum_of_counted_inliers(ranked):
    candidate = _candidate(ranked, 2)
    contrib = candidate.fs * candidate.pair_score.weights
    best = {}
    for qfx, value in zip(candidate.fm[:, 0], contrib, strict=True):
        best[qfx] = max(best.get(qfx, 0.0), float(value))
    assert candidate.name_score == pytest.approx(sum(best.values()), rel=1e-6)


def test_score_splits_into_foreground_and_background(ranked):
    pair = _candidate(ranked, 2).pair_score
    assert pair.score_foreground + pair.score_background == pytest.approx(pair.score)


def test_same_image_included_on_request(catalog, query):
    result = rank_query(catalog, query, VsManyConfig(include_same_image=True))
    sibling = _candidate(result, 5)
    assert sibling.same_image
    assert sibling.flags.same_image


def test_same_place_inliers_do_not_count(catalog, query):
    result = rank_query(catalog, query, VsManyConfig(include_same_image=True))
    sibling = _candidate(result, 5)
    copies = sibling.fm[:, 0] == sibling.fm[:, 1]
    assert copies.any()
    assert not sibling.counted[copies].any()
    assert sibling.num_same_place >= np.count_nonzero(copies)


def test_fgweights_scale_the_score(scene, query):
    # Catalog fgweights of 0.25 give every vote the weight sqrt(1 * 0.25) = 0.5.
    items = {
        aid: (replace(item, fgweights=np.full(len(item.kpts), 0.25, np.float32)), vecs)
        for aid, (item, vecs) in scene.items()
    }
    items[1] = scene[1]
    catalog = _catalog(items)
    weighted = _candidate(rank_query(catalog, query), 2)
    unweighted = _candidate(
        rank_query(catalog, query, score_config=ScoreConfig(fg_weighting=False)), 2
    )
    assert weighted.score == pytest.approx(0.5 * unweighted.score, rel=1e-5)


def test_missing_fgweights_turn_weighting_off_with_warning(scene, catalog):
    item, vecs = scene[1]
    query = annot_result(replace(item, fgweights=None), vecs)
    result = rank_query(catalog, query)
    assert not result.fg_weighting
    assert any("weighting is off" in w for w in result.warnings)


# --- Edge cases ------------------------------------------------------------------------------


def test_empty_catalog(query):
    catalog = Catalog.from_features([], [], cache=DiskCache(enabled=False))
    result = rank_query(catalog, query)
    assert result.candidates == ()
    assert result.num_votes == 0


def test_catalog_of_the_query_alone(scene, query):
    result = rank_query(_catalog(scene, [1]), query)
    assert result.candidates == ()


def test_query_with_no_matches(scene):
    # Five random kpts cannot reach the 7 inliers that homography refinement needs.
    rng = np.random.default_rng(11)
    lonely = catalog_annot(9, "z", "zebra_c", random_kpts(rng, 5))
    query = annot_result(lonely, random_vecs(rng, 5))
    result = rank_query(_catalog(scene, [3, 4]), query)
    assert result.candidates == ()


def test_query_without_keypoints(catalog):
    empty = catalog_annot(9, "z", "zebra_c", np.empty((0, 6), np.float32))
    result = rank_query(catalog, annot_result(empty, np.empty((0, 128), np.uint8)))
    assert result.candidates == ()


def test_reason_alone_in_catalog(scene, query):
    reason = rank_query(_catalog(scene, [1]), query).no_candidates_reason()
    assert "no annotation other than aid 1" in reason


def test_reason_only_own_photo(scene, query):
    reason = rank_query(_catalog(scene, [1, 5]), query).no_candidates_reason()
    assert "all 1 other annotations of the catalog are in the photo of aid 1" in reason


def test_reason_own_photo_included(scene, query):
    result = rank_query(_catalog(scene, [1, 5]), query, VsManyConfig(include_same_image=True))
    assert result.num_eligible == 1


def test_reason_no_keypoints(catalog):
    empty = catalog_annot(9, "z", "zebra_c", np.empty((0, 6), np.float32))
    result = rank_query(catalog, annot_result(empty, np.empty((0, 128), np.uint8)))
    assert "aid 9 has no keypoints" in result.no_candidates_reason()


def test_reason_nothing_verified(scene):
    rng = np.random.default_rng(11)
    lonely = catalog_annot(9, "z", "zebra_c", random_kpts(rng, 5))
    query = annot_result(lonely, random_vecs(rng, 5))
    result = rank_query(_catalog(scene, [3, 4]), query)
    assert result.no_candidates_reason() == (
        "none of the 2 other annotations passed spatial verification"
    )


def test_reason_empty_with_candidates(ranked):
    assert ranked.no_candidates_reason() == ""


def test_catalog_smaller_than_k(query):
    # Four vecs in all: K + Knorm = 5 neighbours do not exist, so each query vec
    # gets the 4 there are, and the last of them is the normaliser of 3 votes.
    rng = np.random.default_rng(5)
    tiny = catalog_annot(8, "t", None, random_kpts(rng, 4))
    catalog = Catalog.from_features(
        [tiny], [random_vecs(rng, 4)], index_config=EXACT, cache=DiskCache(enabled=False)
    )
    result = rank_query(catalog, query)
    assert result.num_votes == NUM_KPTS * 3


# --- Demo ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_matcher():
    return Matcher()


def test_demo_ranking_with_same_image(demo_matcher):
    annots = load_annotations(DEMO_ANNOTATIONS)
    result = rank_aid(annots, 5, demo_matcher, VsManyConfig(include_same_image=True))
    assert result.candidates[0].annot.aid == 3


def test_demo_ranking_excludes_own_photo(demo_matcher):
    annots = load_annotations(DEMO_ANNOTATIONS)
    result = rank_aid(annots, 5, demo_matcher)
    assert result.candidates[0].annot.aid == 3
    assert not any(c.same_image for c in result.candidates)


def test_demo_unknown_aid(demo_matcher):
    annots = load_annotations(DEMO_ANNOTATIONS)
    with pytest.raises(KeyError, match="999"):
        rank_aid(annots, 999, demo_matcher)


def test_cancel_stops_ranking(catalog, query):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        rank_query(catalog, query, cancel=stop)
