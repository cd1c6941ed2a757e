"""The pair list: named pairs and pairs from a CSV file."""

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.engine.errors import PairsFileError
from reviewer.review.pairs import load_pairs_csv, merge_pairs, named_pairs


@pytest.fixture(scope="module")
def annots():
    return load_annotations(DEMO_ANNOTATIONS)


def test_named_pairs_of_demo(annots):
    keys = [p.key for p in named_pairs(annots)]
    assert keys == [("1", "2"), ("3", "4"), ("3", "5"), ("4", "5")]


def test_pair_relations(annots):
    pairs = {p.key: p for p in named_pairs(annots)}
    assert pairs[("3", "5")].same_name is True
    assert pairs[("3", "4")].same_name is False
    assert pairs[("3", "4")].same_photo is True


def test_csv_pairs(tmp_path, annots):
    path = tmp_path / "pairs.csv"
    path.write_text("aid_a,aid_b\n5,7\n3,999\n6,6\n")
    pairs, problems = load_pairs_csv(path, annots)
    assert [p.key for p in pairs] == [("5", "7")]
    assert len(problems) == 2
    assert "line 3: aid '999'" in problems[0]


def test_csv_without_columns(tmp_path, annots):
    path = tmp_path / "pairs.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(PairsFileError, match="needs the columns aid_a,aid_b"):
        load_pairs_csv(path, annots)


def test_csv_missing(tmp_path, annots):
    with pytest.raises(PairsFileError, match="not found"):
        load_pairs_csv(tmp_path / "none.csv", annots)


def test_merge_drops_reversed_repeat(tmp_path, annots):
    path = tmp_path / "pairs.csv"
    path.write_text("aid_a,aid_b\n5,3\n5,7\n")
    csv_pairs, _ = load_pairs_csv(path, annots)
    merged = merge_pairs(named_pairs(annots), csv_pairs)
    assert [p.key for p in merged][-1] == ("5", "7")
    assert len(merged) == 5


def test_csv_with_byte_order_mark(tmp_path, annots):
    path = tmp_path / "pairs.csv"
    path.write_bytes(b"\xef\xbb\xbfaid_a,aid_b\r\n3,5\r\n")
    pairs, problems = load_pairs_csv(path, annots)
    assert [p.key for p in pairs] == [("3", "5")]
    assert problems == []


def test_empty_csv_is_reported(tmp_path, annots):
    path = tmp_path / "pairs.csv"
    path.write_text("")
    pairs, problems = load_pairs_csv(path, annots)
    assert pairs == []
    assert "no pairs found" in problems[0]


def test_reversed_repeat_in_one_csv_is_dropped(tmp_path, annots):
    path = tmp_path / "pairs.csv"
    path.write_text("aid_a,aid_b\n3,5\n5,3\n")
    csv_pairs, _ = load_pairs_csv(path, annots)
    assert [p.key for p in merge_pairs(csv_pairs)] == [("3", "5")]


def test_csv_row_without_comma(tmp_path, annots):
    path = tmp_path / "pairs.csv"
    path.write_text("aid_a,aid_b\n3;4\n3,5\n")
    pairs, problems = load_pairs_csv(path, annots)
    assert [p.key for p in pairs] == [("3", "5")]
    assert problems == [
        "pairs.csv line 2: expected two comma-separated aids (aid_a,aid_b), got '3;4'"
    ]


def test_csv_not_utf8(tmp_path, annots):
    path = tmp_path / "pairs.csv"
    path.write_bytes(b"aid_a,aid_b\n\xff\xfe3,5\n")
    with pytest.raises(PairsFileError, match="is not UTF-8 text"):
        load_pairs_csv(path, annots)
