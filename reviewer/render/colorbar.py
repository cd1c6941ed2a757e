"""The colour bar and line legend of the correspondence view."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QPen

from reviewer.render.colors import EXCLUDED_RGB, NO_WEIGHT_RGB, WEIGHT_STOPS, rgb_qcolor
from reviewer.render.text import WEIGHT_SCALE_LABEL

#: Height of a colour bar in units of its font's pixel size.
COLORBAR_HEIGHT_EM = 5.6
#: Colour of the mask threshold marker on the scale.
THRESHOLD_COLOUR = QColor(0, 150, 255)


def paint_colorbar(
    painter: QPainter,
    rect: QRectF,
    font_px: float,
    has_fgweights: bool = True,
    threshold: float = 0.0,
    weighting_on: bool = True,
    text_colour: QColor | None = None,
) -> None:
    """Draw the fgweight scale on the left of ``rect`` and the line legend on its right.

    Parameters
    ----------
    rect : QRectF
        Area to fill, about ``COLORBAR_HEIGHT_EM * font_px`` high.
    font_px : float
        Pixel size of the text.
    has_fgweights : bool
        False draws a note that no background model applies in place of the scale.
    threshold : float
        Mask threshold t; a marker shows it on the scale when t > 0.
    weighting_on : bool
        False marks the threshold as having no effect.
    """
    text_colour = text_colour or QColor(20, 20, 20)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    font = QFont()
    font.setPixelSize(max(6, round(font_px)))
    painter.setFont(font)

    scale_rect = QRectF(rect.left(), rect.top(), rect.width() * 0.58, rect.height())
    legend_rect = QRectF(
        rect.left() + rect.width() * 0.62, rect.top(), rect.width() * 0.38, rect.height()
    )
    if has_fgweights:
        marker = threshold if weighting_on else 0.0
        _paint_scale(painter, scale_rect, font_px, marker, text_colour)
    else:
        painter.setPen(text_colour)
        painter.drawText(
            scale_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap,
            "No fgweights (no background model): counted correspondences are light blue.",
        )
    threshold_text = f"mask threshold t = {threshold:.2f}"
    if not weighting_on:
        threshold_text += " (no effect: weighting off)"
    _paint_legend(painter, legend_rect, font_px, has_fgweights, threshold_text, text_colour)
    painter.restore()


def _paint_scale(painter, rect: QRectF, font_px: float, threshold: float, text_colour) -> None:
    # Label, then the gradient bar, then tick labels under it.
    label_h, bar_h = 1.5 * font_px, 1.1 * font_px
    painter.setPen(text_colour)
    painter.drawText(
        QRectF(rect.left(), rect.top(), rect.width(), label_h),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        WEIGHT_SCALE_LABEL,
    )

    pad = 0.8 * font_px  # room for the first and last tick label
    bar = QRectF(rect.left() + pad, rect.top() + label_h, rect.width() - 2 * pad, bar_h)
    gradient = QLinearGradient(bar.topLeft(), bar.topRight())
    for position, rgb in WEIGHT_STOPS:
        gradient.setColorAt(position, rgb_qcolor(rgb))
    painter.fillRect(bar, gradient)
    painter.setPen(QPen(text_colour, max(1.0, font_px / 14)))
    painter.drawRect(bar)

    for value in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = bar.left() + value * bar.width()
        painter.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 0.3 * font_px))
        tick = QRectF(x - 2 * font_px, bar.bottom() + 0.3 * font_px, 4 * font_px, 1.3 * font_px)
        painter.drawText(tick, Qt.AlignmentFlag.AlignCenter, f"{value:g}")

    if threshold > 0:
        x = bar.left() + threshold * bar.width()
        painter.setPen(QPen(THRESHOLD_COLOUR, max(2.0, font_px / 5)))
        painter.drawLine(
            QPointF(x, bar.top() - 0.3 * font_px), QPointF(x, bar.bottom() + 0.3 * font_px)
        )


def _paint_legend(
    painter, rect: QRectF, font_px: float, has_fgweights: bool, threshold_text: str, text_colour
) -> None:
    sample = rgb_qcolor((250, 150, 0)) if has_fgweights else rgb_qcolor(NO_WEIGHT_RGB)
    faded = QColor(sample)
    faded.setAlpha(110)
    rows = [
        (sample, Qt.PenStyle.SolidLine, "counted inlier"),
        (faded, Qt.PenStyle.DashLine, "weight 0 under threshold t"),
        (rgb_qcolor(EXCLUDED_RGB), Qt.PenStyle.DotLine, "excluded: same point of one photo"),
    ]
    if has_fgweights:
        rows.append((THRESHOLD_COLOUR, Qt.PenStyle.SolidLine, threshold_text))
    row_h = rect.height() / len(rows)
    line_w = 2.5 * font_px
    for k, (colour, dash, text) in enumerate(rows):
        y = rect.top() + (k + 0.5) * row_h
        painter.setPen(QPen(colour, max(2.0, font_px / 6), dash))
        painter.drawLine(QPointF(rect.left(), y), QPointF(rect.left() + line_w, y))
        painter.setPen(text_colour)
        painter.drawText(
            QRectF(rect.left() + line_w + 0.5 * font_px, y - row_h / 2, rect.width(), row_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            text,
        )
