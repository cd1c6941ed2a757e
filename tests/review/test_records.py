"""Decision records: validation, pair keys, tags and evidence rows."""

import pytest

from reviewer.review.records import (
    EXPORT_COLUMNS,
    DecisionRecord,
    Evidence,
    pair_key,
    split_tags,
)


def _record(**fields) -> DecisionRecord:
    values = dict(aid_a="3", aid_b="5", decision="match", confidence="sure")
    values.update(fields)
    return DecisionRecord(evidence=Evidence(0.0, True), **values)


def test_pair_key_sorts_numbers_numerically():
    assert pair_key("10", "9") == ("9", "10")


def test_pair_key_of_text_aids():
    assert pair_key("b", 3) == ("3", "b")


def test_split_tags():
    assert split_tags(" tree, fence ;; water ") == ("tree", "fence", "water")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("decision", "yes", "decision"),
        ("confidence", "certain", "confidence"),
        ("tags", ("a;b",), "tag"),
        ("tags", (" ",), "tag"),
        ("aid_b", "3", "two different aids"),
    ],
)
def test_invalid_record_rejected(field, value, message):
    with pytest.raises(ValueError, match=message):
        _record(**{field: value})


def test_threshold_out_of_range_rejected():
    with pytest.raises(ValueError, match="threshold"):
        Evidence(1.5, True)


def test_row_has_export_columns():
    row = _record(tags=("photobomb", "fence")).to_row()
    assert tuple(row) == EXPORT_COLUMNS
    assert row["tags"] == "photobomb;fence"


def test_summary_words():
    assert _record(decision="notcomp", reviewer="ana").summary == "can't tell, sure, by ana"


def test_evidence_without_result():
    from reviewer.engine.scoring import ScoreConfig

    evidence = Evidence.from_view(ScoreConfig(0.3, False), None, None)
    assert evidence.threshold == 0.3
    assert evidence.fg_weighting is False
    assert evidence.score is None
