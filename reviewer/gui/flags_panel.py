"""The flags and explanations of the selected pair, above its views.

One row gives the capture-time gap and the warning flags (burst, same image,
viewpoint mismatch), which the annotations alone decide. Once the pair is
scored, a second row gives the score with its parts and, for a pair from a
ranking, its rank. A banner appears when the background share exceeds the
adjustable limit, and a provenance strip names each chip's model and reason,
the threshold, the preset and the engine version.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from reviewer.engine.flags import pair_flags
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.gui.banner import WARNING_MARK, WARNING_STYLE
from reviewer.render.colors import WARNING_RGB
from reviewer.render.explain import (
    BACKGROUND_WARN_SHARE,
    RankInfo,
    background_share_warning,
    flag_notes,
    provenance_lines,
    score_parts_text,
)
from reviewer.render.text import fmt_share
from reviewer.review.pairs import Pair

_WARNING_HEX = "#{:02x}{:02x}{:02x}".format(*WARNING_RGB)


class FlagsPanel(QWidget):
    """Flags, score parts, rank, background banner and provenance of the selected pair."""

    warn_share_changed = Signal(float)  # the banner's limit, as a share in [0, 1]

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.flags_label = QLabel()
        self.score_label = QLabel()
        self.background_banner = QLabel()
        self.background_banner.setStyleSheet(WARNING_STYLE)
        self.background_banner.hide()
        self.provenance = QLabel()
        self.provenance.setStyleSheet("QLabel { color: #606060; }")
        self.flags_label.setWordWrap(True)
        for label in (self.flags_label, self.score_label, self.provenance):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            # Long lines are cut rather than widening the window; the tooltip has them whole.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.warn_share = QSpinBox()
        self.warn_share.setRange(0, 100)
        self.warn_share.setSuffix(" %")
        self.warn_share.setValue(round(100 * BACKGROUND_WARN_SHARE))
        self.warn_share.setToolTip(
            "Show the background banner when more than this share of the score comes from "
            "correspondences with min(w_a, w_b) < 0.5"
        )

        top = QHBoxLayout()
        top.addWidget(self.flags_label, 1)
        top.addWidget(QLabel("background warning above"))
        top.addWidget(self.warn_share)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.background_banner)
        layout.addWidget(self.score_label)
        layout.addWidget(self.provenance)

        self._rank: RankInfo | None = None
        self._match: PairMatch | None = None
        self._score: PairScore | None = None
        self.warn_share.valueChanged.connect(self._on_warn_share)

    @property
    def warn_share_limit(self) -> float:
        """Background share above which the banner shows, in [0, 1]."""
        return self.warn_share.value() / 100.0

    def show_pair(self, pair: Pair | None) -> None:
        """Show the flags the annotations decide; the score rows wait for the match."""
        self._match = self._score = None
        self._rank = RankInfo.from_pair(pair) if pair is not None else None
        if pair is None:
            self.flags_label.setText("")
        else:
            notes = flag_notes(pair_flags(pair.a, pair.b))
            parts = [_note_html(note.text, note.warning) for note in notes]
            self.flags_label.setText(" &nbsp;·&nbsp; ".join(parts))
            self.flags_label.setToolTip("\n".join(note.text for note in notes))
        self.show_score(None, None)

    def show_score(self, match: PairMatch | None, score: PairScore | None) -> None:
        """Show the score with its parts, the rank, the banner and the provenance."""
        self._match, self._score = match, score
        if match is None or score is None:
            rank = f"{self._rank.text()} · " if self._rank is not None else ""
            self.score_label.setText(f"{rank}score: not computed yet")
            self.provenance.setText("")
            self.background_banner.hide()
            return
        parts = [
            score_parts_text(score),
            f"background_share {fmt_share(score.background_share)}",
        ]
        if self._rank is not None:
            parts.insert(0, self._rank.text())
        self.score_label.setText(" · ".join(parts))
        self.score_label.setToolTip(" · ".join(parts))
        # Settings first: the models' reasons are long, repeat the chip labels and may be cut.
        lines = provenance_lines(match, score)
        self.provenance.setText("provenance: " + " · ".join([lines[-1], *lines[:-1]]))
        self.provenance.setToolTip("\n".join(lines))
        self._show_banner()

    def background_text(self) -> str:
        """Return the banner's text, or "" while it is hidden."""
        return self.background_banner.text() if not self.background_banner.isHidden() else ""

    def _show_banner(self) -> None:
        text = None
        if self._score is not None:
            text = background_share_warning(self._score, self.warn_share_limit)
        self.background_banner.setVisible(text is not None)
        if text is not None:
            limit = self.warn_share.value()
            self.background_banner.setText(f"{WARNING_MARK}{text} (warning above {limit}%)")

    def _on_warn_share(self, value: int) -> None:
        self._show_banner()
        self.warn_share_changed.emit(value / 100.0)


def _note_html(text: str, warning: bool) -> str:
    if not warning:
        return escape(text)
    return f'<span style="color:{_WARNING_HEX}"><b>{WARNING_MARK}{escape(text)}</b></span>'
