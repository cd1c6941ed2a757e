"""Explanations of a pair: time gap, flags, background warning, rank, title and provenance."""

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest

from reviewer import __version__
from reviewer.engine.flags import pair_flags
from reviewer.engine.scoring import ScoreConfig
from reviewer.render.explain import (
    RankInfo,
    background_share_warning,
    flag_notes,
    provenance,
    provenance_lines,
    score_parts_text,
    time_gap_text,
    title_text,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "unknown"),
        (0, "0 s"),
        (40, "40 s"),
        (72, "1 min 12 s"),
        (300, "5 min"),
        (29 * 60 + 22, "29 min 22 s"),
        (3 * 3600 + 5 * 60, "3 h 05 min"),
        (2 * 86400 + 4 * 3600 + 59, "2 d 4 h"),
    ],
)
def test_time_gap_text(seconds, text):
    assert time_gap_text(seconds) == text


def test_same_image_note(demo_annots):
    notes = flag_notes(pair_flags(demo_annots.get(3), demo_annots.get(4)))
    warnings = [note.text for note in notes if note.warning]
    assert len(warnings) == 1
    assert warnings[0].startswith("same image")


def test_time_gap_note(demo_annots):
    notes = flag_notes(pair_flags(demo_annots.get(3), demo_annots.get(5)))
    assert notes[0].text == "capture-time gap 29 min 22 s"
    assert not notes[0].warning
    assert len(notes) == 1


def test_burst_note(demo_annots):
    a = demo_annots.get(3)
    b = replace(demo_annots.get(5), capture_time=a.capture_time + timedelta(seconds=72))
    warnings = [note.text for note in flag_notes(pair_flags(a, b)) if note.warning]
    assert warnings == [
        "burst: taken 1 min 12 s apart (under 5 min), so shared background can inflate the score"
    ]


def test_viewpoint_mismatch_note(demo_annots):
    b = replace(demo_annots.get(5), viewpoint="right")
    notes = flag_notes(pair_flags(demo_annots.get(3), b))
    assert any("A shows the left flank and B the right" in note.text for note in notes)


def test_background_warning_above_limit(zebra_match):
    score = zebra_match.score()
    limit = score.background_share - 0.01
    text = background_share_warning(score, limit)
    assert text == f"{100 * score.background_share:.0f}% of this score comes from background"


def test_background_warning_below_limit(zebra_match):
    score = zebra_match.score()
    assert background_share_warning(score, score.background_share) is None


def test_background_warning_without_share(zebra_match):
    score = zebra_match.score(ScoreConfig(threshold=1.0))
    assert score.background_share is None
    assert background_share_warning(score, 0.0) is None


def test_background_warning_bad_limit(zebra_match):
    with pytest.raises(ValueError, match="limit"):
        background_share_warning(zebra_match.score(), 2.0)


def test_score_parts(zebra_match):
    score = zebra_match.score()
    text = score_parts_text(score)
    assert text == (
        f"score {score.score:.3f} = foreground {score.score_foreground:.3f}"
        f" + background {score.score_background:.3f}"
    )


def test_rank_from_ranked_pair(demo_annots):
    pair = SimpleNamespace(
        a=demo_annots.get(3), b=demo_annots.get(5), rank=2, query_aid=3, num_ranked=9
    )
    assert RankInfo.from_pair(pair).text() == "rank 2 of 9 for query aid 3"


def test_rank_query_defaults_to_a(demo_annots):
    pair = SimpleNamespace(a=demo_annots.get(3), b=demo_annots.get(5), rank=1)
    assert RankInfo.from_pair(pair).text() == "rank 1 for query aid 3"


def test_no_rank_outside_ranking(demo_annots):
    pair = SimpleNamespace(a=demo_annots.get(3), b=demo_annots.get(5))
    assert RankInfo.from_pair(pair) is None


def test_rank_below_one_raises():
    with pytest.raises(ValueError, match="rank"):
        RankInfo(0, 3)


def test_title_names_aids_names_and_gap(zebra_match):
    text = title_text(zebra_match, RankInfo(1, 3, 4))
    assert text.startswith("aid 3 (IBEIS_PZ_1281) vs aid 5 (IBEIS_PZ_1281)")
    assert "capture-time gap 29 min 22 s" in text
    assert text.endswith("rank 1 of 4 for query aid 3")


def test_provenance_lines(zebra_match):
    lines = provenance_lines(zebra_match, zebra_match.score())
    assert zebra_match.a.model.reason in lines[0]
    assert zebra_match.b.model.reason in lines[1]
    assert lines[2] == f"t = 0.00 · weighting on · preset vsone · reviewer {__version__}"


def test_provenance_json(zebra_match, shared_matcher):
    data = provenance(zebra_match, zebra_match.score(ScoreConfig(0.3)), shared_matcher.config)
    assert data["engine_version"] == __version__
    assert data["threshold"] == 0.3
    assert data["model_a"]["model"] == zebra_match.a.model.model_name
    assert data["config"]["vsone"]["ratio_thresh"] == zebra_match.matches.config.ratio_thresh
    assert data["config"]["engine"]["chip"]["dim_size_px"] == 700
