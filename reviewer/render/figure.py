"""The match figure: caption, both chips with their correspondences, and the colour bar.

``paint_match_figure`` draws it with any QPainter; ``export_match_figure``
writes it to PNG, SVG or PDF and works without a display.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPageSize,
    QPainter,
    QPdfWriter,
)
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication

from reviewer.engine.errors import ReviewerError
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.colorbar import COLORBAR_HEIGHT_EM, paint_colorbar
from reviewer.render.colors import WARNING_RGB, rgb_qcolor
from reviewer.render.correspondences import MatchStyle, paint_chips, paint_correspondences
from reviewer.render.geometry import PairLayout, side_by_side
from reviewer.render.qt_compat import check_qt_bindings, route_qt_messages
from reviewer.render.text import caption_lines, model_warnings

log = logging.getLogger(__name__)

#: File suffixes ``export_match_figure`` writes.
EXPORT_SUFFIXES = (".png", ".svg", ".pdf")
#: Smallest and largest figure width in pixels.
MIN_WIDTH_PX, MAX_WIDTH_PX = 300, 20000
#: Resolution a PDF page is laid out at: the figure is width_px / 96 inches wide.
PDF_DPI = 96

_app = None  # the application created for headless export, kept alive here


class FigureExportError(ReviewerError):
    """A match figure could not be written."""


@dataclass(frozen=True)
class FigureLayout:
    """Sizes of the parts of a figure, in figure pixels."""

    width_px: int
    font_px: float  # pixel size of the caption and colour bar text
    margin_px: float
    caption_height_px: float
    chip_scale: float  # figure pixels per chip pixel
    pair: PairLayout

    @property
    def chips_top(self) -> float:
        """y of the top edge of the chips."""
        return self.margin_px + self.caption_height_px + 0.6 * self.font_px

    @property
    def colorbar_rect(self) -> QRectF:
        """Area of the colour bar and legend."""
        top = self.chips_top + self.pair.size[1] * self.chip_scale + 0.8 * self.font_px
        inner_w = self.width_px - 2 * self.margin_px
        return QRectF(self.margin_px, top, inner_w, COLORBAR_HEIGHT_EM * self.font_px)

    @property
    def height_px(self) -> int:
        """Total height of the figure."""
        return int(round(self.colorbar_rect.bottom() + self.margin_px))


def figure_layout(match: PairMatch, score: PairScore, width_px: int) -> FigureLayout:
    """Lay out a figure ``width_px`` wide; text wraps, so the height follows from it."""
    if not MIN_WIDTH_PX <= width_px <= MAX_WIDTH_PX:
        raise FigureExportError(
            f"Figure width {width_px} px is outside {MIN_WIDTH_PX}..{MAX_WIDTH_PX} px; "
            "choose a width in that range."
        )
    _ensure_gui_app()
    font_px = width_px / 95.0
    margin = 1.2 * font_px
    pair = side_by_side(match.a.chip.size, match.b.chip.size)
    inner_w = width_px - 2 * margin
    caption_h = sum(
        _wrapped_height(text, inner_w, _caption_font(font_px, bold))
        for text, bold in _caption(match, score)
    )
    return FigureLayout(width_px, font_px, margin, caption_h, inner_w / pair.size[0], pair)


def paint_match_figure(
    painter: QPainter, match: PairMatch, score: PairScore, layout: FigureLayout
) -> None:
    """Draw the whole figure into the rectangle (0, 0, width_px, height_px)."""
    painter.save()
    painter.fillRect(QRectF(0, 0, layout.width_px, layout.height_px), QColor("white"))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)

    # Caption: warnings first in the warning colour, then the labels and the score split.
    y = layout.margin_px
    inner_w = layout.width_px - 2 * layout.margin_px
    flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
    for text, is_warning in _caption(match, score):
        font = _caption_font(layout.font_px, is_warning)
        height = _wrapped_height(text, inner_w, font)
        painter.setFont(font)
        painter.setPen(rgb_qcolor(WARNING_RGB) if is_warning else QColor(20, 20, 20))
        painter.drawText(QRectF(layout.margin_px, y, inner_w, height), flags, text)
        y += height

    # Chips and correspondences, in pair coordinates scaled onto the figure.
    painter.save()
    painter.translate(layout.margin_px, layout.chips_top)
    painter.scale(layout.chip_scale, layout.chip_scale)
    paint_chips(painter, match, layout.pair)
    pen_chip_px = (layout.width_px / 1000.0) / layout.chip_scale
    style = MatchStyle(line_width=pen_chip_px, ellipse_width=pen_chip_px)
    paint_correspondences(painter, match, score, layout.pair, style)
    painter.restore()
    _paint_side_tags(painter, layout)

    paint_colorbar(
        painter,
        layout.colorbar_rect,
        layout.font_px,
        has_fgweights=match.fg_weighting,
        threshold=score.config.threshold,
        weighting_on=score.config.fg_weighting,
    )
    painter.restore()


def export_match_figure(
    match: PairMatch, score: PairScore, path: Path, width_px: int = 2000
) -> Path:
    """Write the match figure to PNG, SVG or PDF, chosen by the file suffix.

    Works headless: without a running Qt application it creates an offscreen one.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    FigureExportError
        The suffix is not .png, .svg or .pdf, the width is out of range, or the
        file could not be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise FigureExportError(
            f"Cannot export a figure to {path}: the suffix must be one of "
            f"{', '.join(EXPORT_SUFFIXES)}."
        )
    if not path.parent.is_dir():
        raise FigureExportError(f"Cannot export to {path}: folder {path.parent} does not exist.")
    layout = figure_layout(match, score, width_px)
    writers = {".png": _write_png, ".svg": _write_svg, ".pdf": _write_pdf}
    writers[suffix](match, score, layout, path)
    if not path.is_file() or path.stat().st_size == 0:
        raise FigureExportError(f"Writing {path} failed: the file is missing or empty.")
    log.info("Exported match figure %s (%dx%d px)", path, layout.width_px, layout.height_px)
    return path


def _write_png(match, score, layout: FigureLayout, path: Path) -> None:
    image = QImage(layout.width_px, layout.height_px, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    paint_match_figure(painter, match, score, layout)
    painter.end()
    if not image.save(str(path), "PNG"):
        raise FigureExportError(f"Cannot write {path}: check that the folder is writable.")


def _write_svg(match, score, layout: FigureLayout, path: Path) -> None:
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(layout.width_px, layout.height_px))
    generator.setViewBox(QRectF(0, 0, layout.width_px, layout.height_px))
    generator.setTitle(f"Match aid {match.a.annot.aid} vs aid {match.b.annot.aid}")
    _paint_on(generator, match, score, layout, path, scale=1.0)


def _write_pdf(match, score, layout: FigureLayout, path: Path) -> None:
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_DPI)
    points = QSizeF(layout.width_px * 72.0 / PDF_DPI, layout.height_px * 72.0 / PDF_DPI)
    writer.setPageSize(QPageSize(points, QPageSize.Unit.Point, "match figure"))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setTitle(f"Match aid {match.a.annot.aid} vs aid {match.b.annot.aid}")
    _paint_on(writer, match, score, layout, path, scale=writer.width() / layout.width_px)


def _paint_on(device, match, score, layout: FigureLayout, path: Path, scale: float) -> None:
    painter = QPainter()
    if not painter.begin(device):
        raise FigureExportError(f"Cannot write {path}: check that the folder is writable.")
    try:
        painter.scale(scale, scale)
        paint_match_figure(painter, match, score, layout)
    finally:
        painter.end()


def _caption(match: PairMatch, score: PairScore) -> list[tuple[str, bool]]:
    """Return (text, is_warning) lines: model warnings first, then the caption."""
    warnings = [(f"Warning: {text}", True) for text in model_warnings(match)]
    return warnings + [(text, False) for text in caption_lines(match, score)]


def _caption_font(font_px: float, bold: bool) -> QFont:
    font = QFont()
    font.setPixelSize(max(6, round(font_px)))
    font.setBold(bold)
    return font


def _wrapped_height(text: str, width: float, font: QFont) -> float:
    metrics = QFontMetricsF(font)
    flags = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap)
    bounds = metrics.boundingRect(QRectF(0, 0, width, 1e6), flags, text)
    return bounds.height() + 0.25 * metrics.height()


def _paint_side_tags(painter: QPainter, layout: FigureLayout) -> None:
    """Label the chips "A" and "B" in their top-left corners."""
    font = _caption_font(1.3 * layout.font_px, True)
    painter.setFont(font)
    size = 1.9 * layout.font_px
    for side, x_pair in (("A", 0.0), ("B", layout.pair.offset_b)):
        box = QRectF(layout.margin_px + x_pair * layout.chip_scale, layout.chips_top, size, size)
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, side)


def _ensure_gui_app() -> None:
    """Create an offscreen Qt application when none runs yet.

    It is a QApplication (a QGuiApplication with widgets), so that the same
    process can still open the GUI or run widget tests after an export.
    """
    global _app
    check_qt_bindings()
    route_qt_messages()
    if QApplication.instance() is None:
        _app = QApplication(["reviewer-export", "-platform", "offscreen"])
