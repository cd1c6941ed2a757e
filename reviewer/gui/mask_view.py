"""View (b): the probchips with the iso-lines of the mask threshold and of 0.5.

The view has two modes. The probability map shows each probchip in grey, black
0 = background and white 1 = animal. The overlay shows the chip itself with the
background tinted dark red. Both modes draw the iso-line probchip = t of the
mask threshold t when t > 0, and a dashed iso-line at 0.5, the level at which
the score splits foreground from background. A chip without a probchip, because
no background model was usable, shows its dimmed chip under a note.

Images and tints are made once per pair. Moving the threshold only fetches the
t outlines from a per-pair ``ContourCache`` and repaints one item.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPen
from PySide6.QtWidgets import QComboBox, QWidget

from reviewer.engine.pipeline import AnnotResult, PairMatch
from reviewer.gui.titled_view import TitledView
from reviewer.render.colorbar import THRESHOLD_COLOUR
from reviewer.render.colors import WARNING_RGB, rgb_qcolor
from reviewer.render.geometry import PairLayout
from reviewer.render.images import bgr_to_qimage, dimmed_grey, probchip_to_qimage
from reviewer.render.items import ImagePairItem
from reviewer.render.masks import ContourCache, ContourItem, background_tint

#: Display modes, in the order of the mode box.
MAP_MODE, OVERLAY_MODE = "probability map", "overlay on chip"
#: probchip level that splits the score: a correspondence with min(w_a, w_b) < 0.5 is background.
SPLIT_LEVEL = 0.5
#: Opacity of the dark red tint over the overlay's background, where p = 0.
TINT_MAX_ALPHA = 0.75
#: Brightness of a chip that has no probchip.
NO_MODEL_BRIGHTNESS = 0.3
#: Note drawn over a chip without a probchip.
NO_MODEL_TEXT = "no background model: foreground weighting is off"
#: Caption of the view when neither chip has a probchip; short, so it fits beside the mode box.
NO_PROBCHIP_CAPTION = "no probchip (no background model)"
#: Width at which the note wraps, in screen px.
NO_MODEL_TEXT_WIDTH_PX = 180

_SPLIT_RGB = "#e6e6e6"  # light dashes of the 0.5 line, drawn over a dark line


def _cosmetic_pen(colour: QColor, width_px: float, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(colour, width_px, style)
    pen.setCosmetic(True)  # constant width on screen while zooming
    return pen


#: The t line: blue, as the threshold marker of the colour bar, over a dark edge.
THRESHOLD_PENS = (
    _cosmetic_pen(QColor(0, 0, 0, 170), 4.0),
    _cosmetic_pen(THRESHOLD_COLOUR, 2.0),
)
#: The 0.5 line: thin light dashes over a thin dark line, visible on grey and on colour.
SPLIT_PENS = (
    _cosmetic_pen(QColor(0, 0, 0, 200), 2.2),
    _cosmetic_pen(QColor(_SPLIT_RGB), 1.2, Qt.PenStyle.DashLine),
)


class MaskView(TitledView):
    """Both probchips, as a grey map or tinted over the chips, with their iso-lines."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("(b) Foreground masks", parent)
        self.mode = QComboBox()
        self.mode.addItems([MAP_MODE, OVERLAY_MODE])
        self.mode.setToolTip(
            "probability map: probchip in grey, black 0 = background, white 1 = animal.\n"
            "overlay on chip: the chip with its background tinted dark red (opacity 1 - p)."
        )
        self.title_row.addWidget(self.mode)
        self.threshold_contours: ContourItem | None = None
        self.split_contours: ContourItem | None = None
        self._map: ImagePairItem | None = None
        self._overlay: ImagePairItem | None = None
        self._messages: list[pg.TextItem] = []
        self._has_probchip = False
        self._pair_weighted = False  # both chips have fgweights, so t can cut
        self._threshold, self._weighting_on = 0.0, True
        self._overlays_visible = True  # False while "clean image" hides the iso-lines
        self.mode.currentTextChanged.connect(self._show_mode)

    def clear(self) -> None:
        """Show nothing, for a pair without a result."""
        self.threshold_contours = self.split_contours = self._map = self._overlay = None
        self._messages = []
        self._has_probchip = self._pair_weighted = False
        self.replace_items()
        self.note.setText("")

    def show_match(self, match: PairMatch, layout: PairLayout) -> None:
        """Make both modes' images and the iso-lines of a new pair."""
        images = [_chip_images(result) for result in (match.a, match.b)]
        caches = [ContourCache(r.probchip) if r.probchip is not None else None for r in images]
        self._has_probchip = any(cache is not None for cache in caches)
        self._pair_weighted = match.fg_weighting

        # Items, bottom to top: both modes' images, the t line, the 0.5 line, the notes.
        # The thin dashed 0.5 line stays visible where it runs along the t line.
        self._map = ImagePairItem(layout, images[0].map_image, images[1].map_image)
        self._overlay = ImagePairItem(layout, images[0].overlay_image, images[1].overlay_image)
        self.split_contours = ContourItem(layout, *caches, SPLIT_PENS)
        self.split_contours.set_level(SPLIT_LEVEL)
        self.threshold_contours = ContourItem(layout, *caches, THRESHOLD_PENS)
        self._messages = [
            _no_model_note(result, x)
            for result, x in ((match.a, 0.0), (match.b, layout.offset_b))
            if result.probchip is None
        ]
        self.replace_items(
            self._map, self._overlay, self.threshold_contours, self.split_contours, *self._messages
        )
        self._show_mode()
        self.set_threshold(self._threshold, self._weighting_on)
        self.set_overlays_visible(self._overlays_visible)

    def set_threshold(self, threshold: float, weighting_on: bool) -> None:
        """Move the t line to ``threshold``; cheap enough for every slider step."""
        self._threshold, self._weighting_on = threshold, weighting_on
        if self.threshold_contours is not None:
            self.threshold_contours.set_level(threshold if threshold > 0 else None)
        self._show_legend()

    def set_overlays_visible(self, visible: bool) -> None:
        """Show or hide both iso-lines, now and for later pairs; the no-model notes stay."""
        self._overlays_visible = visible
        for item in (self.threshold_contours, self.split_contours):
            if item is not None:
                item.setVisible(visible)

    def message_texts(self) -> list[str]:
        """Return the notes drawn over chips without a probchip."""
        return [item.textItem.toPlainText() for item in self._messages]

    def _show_mode(self) -> None:
        overlay = self.mode.currentText() == OVERLAY_MODE
        if self._map is not None:
            self._map.setVisible(not overlay)
            self._overlay.setVisible(overlay)

    def _show_legend(self) -> None:
        if self._map is None:
            return
        if not self._has_probchip:
            self.note.setText(NO_PROBCHIP_CAPTION)
            self.note.setToolTip(
                "Neither chip has a probchip because no background model was usable, so "
                "foreground weighting is off. The warning above the views names the problem."
            )
            return
        blue = THRESHOLD_COLOUR.name()
        if self._threshold <= 0:
            t_text = "t = 0: no cut"
        else:
            t_text = f'<span style="color:{blue}"><b>━━</b></span> t = {self._threshold:.2f}'
        if self._threshold > 0 and not (self._weighting_on and self._pair_weighted):
            t_text += " (no effect)"
        self.note.setText(f"{t_text} &nbsp; <b>╌╌</b> 0.5 fg/bg split")
        self.note.setToolTip(
            "Lines: probchip = t (solid blue) and probchip = 0.5 (dashed). "
            "The threshold cuts a correspondence by its keypoints' fgweights, each the "
            "probchip averaged over the keypoint's ellipse, so the t line is a guide, "
            "not the exact cut. "
            "t has no effect while weighting is off or a chip has no fgweights."
        )


@dataclass(frozen=True)
class _ChipImages:
    """The images of one chip in both modes, and its probchip."""

    map_image: QImage  # grey probchip, or the dimmed chip without a probchip
    overlay_image: QImage  # chip with the background tinted, or the dimmed chip
    probchip: np.ndarray | None  # (h, w) float32; None without a usable model


def _chip_images(result: AnnotResult) -> _ChipImages:
    pixels, probchip = result.chip.pixels, result.probchip
    if probchip is None:
        dimmed = bgr_to_qimage(dimmed_grey(pixels, NO_MODEL_BRIGHTNESS))
        return _ChipImages(dimmed, dimmed, None)
    tinted = bgr_to_qimage(background_tint(pixels, probchip, TINT_MAX_ALPHA))
    return _ChipImages(probchip_to_qimage(probchip), tinted, probchip)


def _no_model_note(result: AnnotResult, x_offset: float) -> pg.TextItem:
    """Return the note centred over a chip without a probchip.

    The note gives the short reason. The full warning, with the model file's
    problem, is in the banner above the views and in the note's tooltip.
    """
    width, height = result.chip.size
    note = pg.TextItem(
        html=f"<b>{NO_MODEL_TEXT}</b><br><small>{escape(result.model.reason)}</small>",
        anchor=(0.5, 0.5),
        fill=pg.mkBrush(0, 0, 0, 200),
        border=pg.mkPen(rgb_qcolor(WARNING_RGB), width=1.5),
    )
    note.textItem.setDefaultTextColor(QColor("white"))
    note.setToolTip(result.model.warning or result.model.reason)
    note.setTextWidth(NO_MODEL_TEXT_WIDTH_PX)  # also re-centres the box on its anchor
    note.setPos(x_offset + width / 2.0, height / 2.0)
    return note
