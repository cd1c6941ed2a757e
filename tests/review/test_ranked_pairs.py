"""Pairs from a one-vs-many ranking: rank order and labels."""

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.review.pairs import named_pairs, ranked_pairs


@pytest.fixture(scope="module")
def annots():
    return load_annotations(DEMO_ANNOTATIONS)


def test_ranked_pairs_keep_rank_order(annots):
    pairs = ranked_pairs(annots.get(5), [annots.get(3), annots.get(4)])
    assert [p.key for p in pairs] == [("5", "3"), ("5", "4")]
    assert [p.rank for p in pairs] == [1, 2]


def test_ranked_pair_fields(annots):
    pair = ranked_pairs(annots.get(5), [annots.get(3), annots.get(4)])[1]
    assert pair.query_aid == 5
    assert pair.num_ranked == 2
    assert pair.source == "rank"


def test_ranked_pair_label(annots):
    pair = ranked_pairs(annots.get(5), [annots.get(3), annots.get(4)])[1]
    assert pair.label.endswith("rank 2 of 2 for query 5")


def test_named_pair_has_no_rank(annots):
    pair = named_pairs(annots)[0]
    assert pair.rank is None
    assert "rank" not in pair.label


def test_no_candidates(annots):
    assert ranked_pairs(annots.get(5), []) == []
