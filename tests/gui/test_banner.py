"""The warning banner: one cut line per warning, the full text in the tooltip and on click."""

import pytest
from PySide6.QtCore import Qt

from reviewer.gui.banner import WarningBanner

LONG = "Foreground weighting is OFF for zebra_plains: " + "model file unreadable, " * 20 + "end."
SHORT = "Foreground weighting is OFF for okapi: no model is configured."


@pytest.fixture
def banner(qtbot):
    widget = WarningBanner()
    qtbot.addWidget(widget)
    widget.resize(600, 40)
    widget.show_warnings([LONG, SHORT])
    return widget


def test_one_line_per_warning(banner):
    assert len(banner.text().split("\n")) == 2


def test_long_warning_is_cut(banner):
    first = banner.text().split("\n")[0]
    assert first.endswith("…")
    assert banner.fontMetrics().horizontalAdvance(first) <= banner.contentsRect().width()


def test_short_warning_is_whole(banner):
    assert banner.text().split("\n")[1].endswith(SHORT)


def test_tooltip_has_full_text(banner):
    assert LONG in banner.toolTip()


def test_full_text_lists_warnings(banner):
    assert banner.full_text() == f"{LONG}\n{SHORT}"


def test_click_toggles_full_text(qtbot, banner):
    qtbot.mouseClick(banner, Qt.MouseButton.LeftButton)
    assert banner.is_expanded()
    assert LONG in banner.text()
    qtbot.mouseClick(banner, Qt.MouseButton.LeftButton)
    assert not banner.is_expanded()
    assert LONG not in banner.text()


def test_wider_banner_cuts_less(banner):
    narrow = banner.text().split("\n")[0]
    banner.resize(1200, 40)
    assert len(banner.text().split("\n")[0]) > len(narrow)


def test_no_warnings_hides(qtbot):
    widget = WarningBanner()
    qtbot.addWidget(widget)
    widget.show()
    widget.show_warnings([])
    assert not widget.isVisible()
