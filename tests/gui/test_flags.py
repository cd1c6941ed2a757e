"""The flags panel: time gap, warnings, score parts, rank, background banner, provenance."""

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest

from reviewer import __version__
from reviewer.engine.scoring import ScoreConfig
from reviewer.gui.flags_panel import FlagsPanel
from reviewer.review.pairs import Pair


@pytest.fixture
def panel(qtbot):
    widget = FlagsPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 120)
    widget.show()
    return widget


def _pair(demo_annots, aid_a, aid_b) -> Pair:
    return Pair(demo_annots.get(aid_a), demo_annots.get(aid_b), "test")


def test_same_image_flag(panel, demo_annots):
    panel.show_pair(_pair(demo_annots, 3, 4))
    assert "same image" in panel.flags_label.text()
    assert "capture-time gap 0 s" in panel.flags_label.text()


def test_time_gap_without_warning(panel, demo_annots):
    panel.show_pair(_pair(demo_annots, 3, 5))
    assert "capture-time gap 29 min 22 s" in panel.flags_label.text()
    assert "burst" not in panel.flags_label.text()
    assert "same image" not in panel.flags_label.text()


def test_burst_flag(panel, demo_annots):
    a = demo_annots.get(3)
    b = replace(demo_annots.get(5), capture_time=a.capture_time + timedelta(seconds=72))
    panel.show_pair(Pair(a, b, "test"))
    assert "burst: taken 1 min 12 s apart" in panel.flags_label.text()


def test_viewpoint_mismatch_flag(panel, demo_annots):
    b = replace(demo_annots.get(5), viewpoint="right")
    panel.show_pair(Pair(demo_annots.get(3), b, "test"))
    assert "viewpoint mismatch" in panel.flags_label.text()


def test_score_shown_with_parts(panel, demo_annots, zebra_match):
    score = zebra_match.score()
    panel.show_pair(_pair(demo_annots, 3, 5))
    panel.show_score(zebra_match, score)
    text = panel.score_label.text()
    assert f"score {score.score:.3f} = foreground {score.score_foreground:.3f}" in text
    assert f"+ background {score.score_background:.3f}" in text


def test_rank_shown(panel, demo_annots, zebra_match):
    ranked = SimpleNamespace(
        a=demo_annots.get(3), b=demo_annots.get(5), rank=2, query_aid=3, num_ranked=9
    )
    panel.show_pair(ranked)
    panel.show_score(zebra_match, zebra_match.score())
    assert panel.score_label.text().startswith("rank 2 of 9 for query aid 3 · score")


def test_provenance_strip(panel, demo_annots, zebra_match):
    panel.show_pair(_pair(demo_annots, 3, 5))
    panel.show_score(zebra_match, zebra_match.score(ScoreConfig(threshold=0.25)))
    text = panel.provenance.text()
    assert f"t = 0.25 · weighting on · preset vsone · reviewer {__version__}" in text
    assert zebra_match.a.model.reason in text


def test_banner_above_limit(panel, demo_annots, zebra_match):
    score = zebra_match.score()
    panel.show_pair(_pair(demo_annots, 3, 5))
    panel.show_score(zebra_match, score)
    panel.warn_share.setValue(int(100 * score.background_share) - 1)
    share = f"{100 * score.background_share:.0f}%"
    assert panel.background_text().startswith(f"⚠ {share} of this score comes from background")


def test_banner_hidden_at_default(panel, demo_annots, zebra_match):
    score = zebra_match.score()
    assert score.background_share < 0.25
    panel.show_pair(_pair(demo_annots, 3, 5))
    panel.show_score(zebra_match, score)
    assert panel.background_text() == ""


def test_limit_signal(panel, qtbot):
    with qtbot.waitSignal(panel.warn_share_changed) as blocker:
        panel.warn_share.setValue(40)
    assert blocker.args == [pytest.approx(0.4)]
    assert panel.warn_share_limit == pytest.approx(0.4)


def test_cleared_before_result(panel, demo_annots, zebra_match):
    panel.show_pair(_pair(demo_annots, 3, 5))
    panel.show_score(zebra_match, zebra_match.score())
    panel.show_pair(_pair(demo_annots, 3, 4))
    assert panel.score_label.text() == "score: not computed yet"
    assert panel.provenance.text() == ""
