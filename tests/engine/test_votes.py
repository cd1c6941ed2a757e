"""LNBNN votes, nsum name scores, the sver shortlist and the same-place test, by hand."""

import numpy as np
import pytest

from reviewer.engine.votes import lnbnn, nsum_scores, same_place_mask, shortlist

# --- lnbnn ---------------------------------------------------------------------------------


def test_lnbnn_known_case():
    dist = np.array([[0.1, 0.2, 0.5], [0.0, 0.3, 0.4]])
    fs = lnbnn(dist, num_votes=2)
    np.testing.assert_allclose(fs, [[0.4, 0.3], [0.4, 0.1]], rtol=1e-6)


def test_lnbnn_normaliser_is_last_column():
    dist = np.array([[0.1, 0.2, 0.3, 0.9]])
    fs = lnbnn(dist, num_votes=1)
    np.testing.assert_allclose(fs, [[0.8]], rtol=1e-6)


def test_lnbnn_shape_and_dtype():
    fs = lnbnn(np.zeros((7, 6)), num_votes=4)
    assert fs.shape == (7, 4)
    assert fs.dtype == np.float32


def test_lnbnn_empty_query():
    assert lnbnn(np.zeros((0, 5)), num_votes=4).shape == (0, 4)


@pytest.mark.parametrize("num_votes", [0, 3, 4])
def test_lnbnn_rejects_num_votes_without_normaliser(num_votes):
    with pytest.raises(ValueError, match="num_votes"):
        lnbnn(np.zeros((2, 3)), num_votes)


# --- nsum ----------------------------------------------------------------------------------


def test_nsum_known_case():
    # Name 0 has two annotations; query kpt 0 votes for both, so only its best vote counts.
    name_idx = np.array([0, 0, 0, 1, 1])
    qfx = np.array([0, 0, 1, 0, 2])
    fs = np.array([1.0, 2.0, 0.5, 3.0, 0.25])
    scores = nsum_scores(name_idx, qfx, fs, num_names=3)
    np.testing.assert_allclose(scores, [2.5, 3.25, 0.0])


def test_nsum_order_of_votes_does_not_matter():
    rng = np.random.default_rng(3)
    name_idx = rng.integers(0, 4, 200)
    qfx = rng.integers(0, 30, 200)
    fs = rng.random(200)
    order = rng.permutation(200)
    np.testing.assert_allclose(
        nsum_scores(name_idx, qfx, fs, 4),
        nsum_scores(name_idx[order], qfx[order], fs[order], 4),
    )


def test_nsum_equals_sum_when_each_kpt_votes_once():
    fs = np.array([0.5, 0.25, 0.125])
    scores = nsum_scores(np.zeros(3, int), np.arange(3), fs, num_names=1)
    assert scores[0] == pytest.approx(fs.sum())


def test_nsum_empty():
    scores = nsum_scores(np.empty(0, int), np.empty(0, int), np.empty(0), num_names=2)
    np.testing.assert_array_equal(scores, [0.0, 0.0])


# --- shortlist -----------------------------------------------------------------------------


def test_shortlist_orders_names_then_annots():
    # Annotations 0, 1, 2 show name 0; 3 shows name 1; 4 shows name 2.
    name_of_annot = np.array([0, 0, 0, 1, 2])
    annot_scores = np.array([1.0, 3.0, 2.0, 9.0, 0.5])
    name_scores = np.array([4.0, 9.0, 0.5])
    chosen = shortlist(np.arange(5), annot_scores, name_of_annot, name_scores, 2, 2)
    np.testing.assert_array_equal(chosen, [3, 1, 2])


def test_shortlist_skips_annots_without_votes():
    name_of_annot = np.array([0, 0, 1])
    chosen = shortlist(
        np.array([0, 2]), np.array([1.0, 5.0, 2.0]), name_of_annot, np.array([1.0, 2.0]), 5, 5
    )
    np.testing.assert_array_equal(chosen, [2, 0])


def test_shortlist_ties_go_to_lower_index():
    chosen = shortlist(np.arange(3), np.ones(3), np.arange(3), np.ones(3), 2, 1)
    np.testing.assert_array_equal(chosen, [0, 1])


def test_shortlist_empty():
    chosen = shortlist(np.empty(0, int), np.empty(0), np.empty(0, int), np.empty(0), 40, 3)
    assert chosen.shape == (0,)


# --- same place ----------------------------------------------------------------------------


def test_same_place_within_one_percent_of_diagonal():
    # A 60 x 80 photo has a 100 px diagonal, so 1% is 1 px.
    xy_a = np.array([[10.0, 10.0], [10.0, 10.0], [50.0, 50.0]])
    xy_b = np.array([[10.5, 10.0], [12.0, 10.0], [50.0, 50.9]])
    mask = same_place_mask(xy_a, xy_b, (60, 80), 0.01)
    np.testing.assert_array_equal(mask, [True, False, True])


def test_same_place_empty():
    assert same_place_mask(np.empty((0, 2)), np.empty((0, 2)), (60, 80), 0.01).shape == (0,)
