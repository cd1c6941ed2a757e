"""The words of an exported figure: title, warnings and caption, and how they are set.

The title gives both aids with their individual names, the capture-time gap
and, for a pair from a ranking, its rank. The warnings repeat the model
warnings and the pair's flags. The caption gives the score split, the counts
and the provenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from reviewer.engine.flags import pair_flags
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.colors import WARNING_RGB, rgb_qcolor
from reviewer.render.explain import (
    RankInfo,
    background_share_warning,
    flag_notes,
    provenance_lines,
    score_parts_text,
    title_text,
)
from reviewer.render.text import fmt_share, model_warnings

_WRAP = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap


class TextStyle(Enum):
    """How a line of the figure is set: (size relative to the body text, bold, colour)."""

    TITLE = (1.25, True, (20, 20, 20))
    WARNING = (1.0, True, WARNING_RGB)
    LABEL = (0.95, True, (60, 60, 60))
    BODY = (1.0, False, (20, 20, 20))

    def font(self, font_px: float) -> QFont:
        """Return the font of this style for a body text of ``font_px`` pixels."""
        scale, bold, _ = self.value
        font = QFont()
        font.setPixelSize(max(6, round(scale * font_px)))
        font.setBold(bold)
        return font

    @property
    def colour(self) -> QColor:
        """Text colour."""
        return rgb_qcolor(self.value[2])


@dataclass(frozen=True)
class FigureText:
    """One paragraph of the figure."""

    text: str
    style: TextStyle = TextStyle.BODY

    def height(self, width_px: float, font_px: float) -> float:
        """Return the paragraph's height when wrapped to ``width_px``, with a little spacing."""
        metrics = QFontMetricsF(self.style.font(font_px))
        bounds = metrics.boundingRect(QRectF(0, 0, width_px, 1e6), int(_WRAP), self.text)
        return bounds.height() + 0.25 * metrics.height()


@dataclass(frozen=True)
class FigureTexts:
    """Every paragraph of a figure, by place."""

    title: FigureText
    warnings: tuple[FigureText, ...]
    caption: tuple[FigureText, ...]

    def plain_caption(self) -> str:
        """Return the caption as plain text, one paragraph a line."""
        return "\n".join(text.text for text in self.caption)


def figure_texts(
    match: PairMatch,
    score: PairScore,
    background_warn_share: float,
    rank: RankInfo | None = None,
) -> FigureTexts:
    """Return the title, warnings and caption of a pair's figure."""
    warnings = [f"Warning: {text}" for text in model_warnings(match)]
    warnings += [note.text for note in flag_notes(pair_flags(match.a.annot, match.b.annot))[1:]]
    share = background_share_warning(score, background_warn_share)
    if share is not None:
        warnings.append(f"{share} (warning above {100 * background_warn_share:.0f}%)")

    split = (
        f"{score_parts_text(score)}; background_share {fmt_share(score.background_share)},"
        f" unweighted {fmt_share(score.background_share_unweighted)}"
        + (f"; {rank.text()}" if rank is not None else "")
    )
    counts = (
        f"{len(match.matches)} matches (ratio test), {len(match.sver.inliers)} sver inliers, "
        f"{score.num_counted} with weight > 0, {match.num_same_place} excluded as the same "
        "point of one photo"
    )
    caption = [split, counts, *provenance_lines(match, score)]
    return FigureTexts(
        title=FigureText(title_text(match, rank), TextStyle.TITLE),
        warnings=tuple(FigureText(text, TextStyle.WARNING) for text in warnings),
        caption=tuple(FigureText(text) for text in caption),
    )


def paint_text(painter: QPainter, text: FigureText, rect: QRectF, font_px: float) -> None:
    """Draw a paragraph wrapped into ``rect``."""
    painter.setFont(text.style.font(font_px))
    painter.setPen(text.style.colour)
    painter.drawText(rect, _WRAP, text.text)
