"""The match figure: title, warnings, panels, legend and caption.

``paint_match_figure`` draws it with any QPainter. ``export_match_figure``
writes it to PNG, SVG or PDF and works without a display. SVG goes through
QSvgGenerator and PDF through QPdfWriter, so text stays text and lines stay
vectors there. Only the chips and the heatmap and mask images are raster.

The figure is sized in physical units: ``FigureOptions.width_mm`` wide, with
text of ``FONT_PT`` points. A PNG has ``width_mm / 25.4 * dpi`` pixels and
records its dpi; SVG and PDF carry the same size in millimetres.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QImage, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication

from reviewer.engine.errors import ReviewerError
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.colorbar import COLORBAR_HEIGHT_EM, paint_colorbar
from reviewer.render.explain import BACKGROUND_WARN_SHARE, RankInfo
from reviewer.render.figure_panels import PANEL_LABELS, PANEL_NAMES, paint_panel
from reviewer.render.figure_text import FigureText, TextStyle, figure_texts, paint_text
from reviewer.render.geometry import PairLayout, side_by_side
from reviewer.render.qt_compat import check_qt_bindings, route_qt_messages

log = logging.getLogger(__name__)

#: File suffixes ``export_match_figure`` writes.
EXPORT_SUFFIXES = (".png", ".svg", ".pdf")
#: Size of the body text, in points; the title is larger.
FONT_PT = 7.0
#: Width of the thinnest drawn lines, in mm.
LINE_WIDTH_MM = 0.18
#: Limits of the options, so that one figure stays a sensible file.
DPI_RANGE = (50, 1200)
WIDTH_MM_RANGE = (60.0, 1000.0)
MAX_WIDTH_PX = 20000

_app = None  # the application created for headless export, kept alive here


class FigureExportError(ReviewerError):
    """A match figure could not be written."""


@dataclass(frozen=True)
class FigureOptions:
    """What a figure shows and how large it is."""

    panels: tuple[str, ...] = ("matches",)  # names from PANEL_NAMES, drawn top to bottom
    dpi: int = 300  # PNG resolution in dots per inch; SVG and PDF record it too
    width_mm: float = 180.0  # figure width on paper, about a two-column journal figure
    background_warn_share: float = BACKGROUND_WARN_SHARE  # warn above this background share

    def __post_init__(self):
        if not self.panels:
            raise FigureExportError(
                f"A figure needs at least one panel; choose from {', '.join(PANEL_NAMES)}."
            )
        unknown = [name for name in self.panels if name not in PANEL_NAMES]
        if unknown or len(set(self.panels)) != len(self.panels):
            raise FigureExportError(
                f"Panels {','.join(self.panels)} are invalid: name each of "
                f"{', '.join(PANEL_NAMES)} at most once."
            )
        if not DPI_RANGE[0] <= self.dpi <= DPI_RANGE[1]:
            raise FigureExportError(
                f"dpi {self.dpi} is outside {DPI_RANGE[0]}..{DPI_RANGE[1]}; choose a dpi in "
                "that range (300 suits print)."
            )
        if not WIDTH_MM_RANGE[0] <= self.width_mm <= WIDTH_MM_RANGE[1]:
            raise FigureExportError(
                f"Figure width {self.width_mm} mm is outside "
                f"{WIDTH_MM_RANGE[0]:g}..{WIDTH_MM_RANGE[1]:g} mm."
            )
        if self.width_px > MAX_WIDTH_PX:
            raise FigureExportError(
                f"{self.width_mm:g} mm at {self.dpi} dpi is {self.width_px} px wide, above "
                f"{MAX_WIDTH_PX} px; lower the dpi or the width."
            )
        if not 0.0 <= self.background_warn_share <= 1.0:
            raise FigureExportError(
                f"background_warn_share must be in [0, 1], not {self.background_warn_share}"
            )

    @property
    def width_px(self) -> int:
        """Figure width in pixels at ``dpi``."""
        return round(self.width_mm / 25.4 * self.dpi)

    @property
    def font_px(self) -> float:
        """Body text size in pixels at ``dpi``."""
        return FONT_PT / 72.0 * self.dpi


@dataclass(frozen=True)
class _Block:
    """One row of the figure: a text, a panel or the legend, at ``top_px``."""

    kind: str  # "text", "panel" or "legend"
    top_px: float
    height_px: float
    text: FigureText | None = None
    panel: str | None = None


@dataclass(frozen=True)
class FigureLayout:
    """Every row of a figure and its size, in figure pixels."""

    options: FigureOptions
    pair: PairLayout
    chip_scale: float  # figure pixels per chip pixel
    margin_px: float
    blocks: tuple[_Block, ...]
    height_px: int

    @property
    def width_px(self) -> int:
        """Figure width in pixels."""
        return self.options.width_px

    @property
    def inner_width_px(self) -> float:
        """Width between the margins."""
        return self.width_px - 2 * self.margin_px


def figure_layout(
    match: PairMatch,
    score: PairScore,
    options: FigureOptions | None = None,
    rank: RankInfo | None = None,
) -> FigureLayout:
    """Lay out a figure; text wraps to the width, so the height follows from it."""
    options = options or FigureOptions()
    _ensure_gui_app()
    font_px = options.font_px
    margin = 1.5 * font_px
    inner_w = options.width_px - 2 * margin
    pair = side_by_side(match.a.chip.size, match.b.chip.size)
    chip_scale = inner_w / pair.size[0]
    texts = figure_texts(match, score, options.background_warn_share, rank)

    blocks: list[_Block] = []
    y = margin

    def add_text(text: FigureText, space_after: float = 0.0) -> None:
        nonlocal y
        height = text.height(inner_w, font_px)
        blocks.append(_Block("text", y, height, text=text))
        y += height + space_after

    for text in (texts.title, *texts.warnings):
        add_text(text)
    y += 0.4 * font_px
    for letter, name in zip("abc", options.panels, strict=False):
        add_text(FigureText(f"({letter}) {PANEL_LABELS[name]}", TextStyle.LABEL), 0.2 * font_px)
        height = pair.size[1] * chip_scale
        blocks.append(_Block("panel", y, height, panel=name))
        y += height + 0.6 * font_px
    legend_h = COLORBAR_HEIGHT_EM * font_px
    blocks.append(_Block("legend", y, legend_h))
    y += legend_h + 0.6 * font_px
    for text in texts.caption:
        add_text(text)
    return FigureLayout(options, pair, chip_scale, margin, tuple(blocks), round(y + margin))


def paint_match_figure(
    painter: QPainter, match: PairMatch, score: PairScore, layout: FigureLayout
) -> None:
    """Draw the whole figure into the rectangle (0, 0, width_px, height_px)."""
    options = layout.options
    painter.save()
    painter.fillRect(QRectF(0, 0, layout.width_px, layout.height_px), QColor("white"))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    line_px = LINE_WIDTH_MM / 25.4 * options.dpi

    for block in layout.blocks:
        rect = QRectF(layout.margin_px, block.top_px, layout.inner_width_px, block.height_px)
        if block.kind == "text":
            paint_text(painter, block.text, rect, options.font_px)
        elif block.kind == "panel":
            painter.save()
            painter.translate(rect.topLeft())
            painter.scale(layout.chip_scale, layout.chip_scale)
            paint_panel(
                painter, block.panel, match, score, layout.pair, line_px / layout.chip_scale
            )
            painter.restore()
            _paint_side_tags(painter, layout, block.top_px)
        else:
            paint_colorbar(
                painter,
                rect,
                options.font_px,
                has_fgweights=match.fg_weighting,
                threshold=score.config.threshold,
                weighting_on=score.config.fg_weighting,
            )
    painter.restore()


def export_match_figure(
    match: PairMatch,
    score: PairScore,
    path: Path,
    options: FigureOptions | None = None,
    rank: RankInfo | None = None,
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
        The suffix is not .png, .svg or .pdf, the folder is missing, or the file
        could not be written.
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
    layout = figure_layout(match, score, options, rank)
    writers = {".png": _write_png, ".svg": _write_svg, ".pdf": _write_pdf}
    writers[suffix](match, score, layout, path)
    if not path.is_file() or path.stat().st_size == 0:
        raise FigureExportError(f"Writing {path} failed: the file is missing or empty.")
    log.info("Exported match figure %s (%dx%d px)", path, layout.width_px, layout.height_px)
    return path


def _write_png(match, score, layout: FigureLayout, path: Path) -> None:
    image = QImage(layout.width_px, layout.height_px, QImage.Format.Format_ARGB32)
    dots_per_metre = round(layout.options.dpi / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
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
    generator.setResolution(layout.options.dpi)  # the SVG's width and height in mm follow
    generator.setTitle(_document_title(match))
    generator.setDescription("Match figure written by the reviewer; see the JSON sidecar.")
    _paint_on(generator, match, score, layout, path, scale=1.0)


def _write_pdf(match, score, layout: FigureLayout, path: Path) -> None:
    writer = QPdfWriter(str(path))
    writer.setResolution(layout.options.dpi)
    height_mm = layout.height_px / layout.options.dpi * 25.4
    size = QSizeF(layout.options.width_mm, height_mm)
    writer.setPageSize(QPageSize(size, QPageSize.Unit.Millimeter, "match figure"))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setTitle(_document_title(match))
    writer.setCreator("reviewer")
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


def _document_title(match: PairMatch) -> str:
    return f"Match aid {match.a.annot.aid} vs aid {match.b.annot.aid}"


def _paint_side_tags(painter: QPainter, layout: FigureLayout, top_px: float) -> None:
    """Label the chips of one panel "A" and "B" in their top-left corners."""
    font_px = layout.options.font_px
    size = 1.8 * font_px
    painter.save()
    painter.setFont(TextStyle.TITLE.font(font_px))
    for side, x_pair in (("A", 0.0), ("B", layout.pair.offset_b)):
        box = QRectF(layout.margin_px + x_pair * layout.chip_scale, top_px, size, size)
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, side)
    painter.restore()


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
