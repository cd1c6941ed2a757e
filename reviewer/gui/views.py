"""The four linked views of a pair: chips, masks, evidence heatmap, correspondences.

Every view shows chip A and chip B side by side in the same pair coordinates,
so their pyqtgraph ViewBoxes are linked and zoom and pan together.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QCheckBox, QGridLayout, QPushButton, QWidget

from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.gui.mask_view import MaskView
from reviewer.gui.titled_view import TitledView
from reviewer.render.geometry import PairLayout, side_by_side
from reviewer.render.images import bgr_to_qimage, dimmed_grey, evidence_maps
from reviewer.render.items import CorrespondenceItem, ImagePairItem


class PairViews(QWidget):
    """Views (a) chips, (b) probchips, (c) evidence heatmap and (d) correspondences."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.chips = TitledView("(a) Chips")
        self.masks = MaskView()
        self.heatmap = TitledView("(c) Evidence heatmap")
        self.matches = TitledView("(d) Verified correspondences")
        self.heatmap_toggle = QCheckBox("show heatmap")
        self.heatmap_toggle.setChecked(True)
        self.heatmap.title_row.addWidget(self.heatmap_toggle)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Zoom all views back to both chips (wheel zooms, drag pans)")
        self.chips.title_row.addWidget(self.fit_button)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for k, view in enumerate(self.views):
            grid.addWidget(view, k // 2, k % 2)
        for view in self.views[1:]:
            view.viewbox.setXLink(self.chips.viewbox)
            view.viewbox.setYLink(self.chips.viewbox)

        self._match: PairMatch | None = None
        self._layout: PairLayout | None = None
        self._overlay: ImagePairItem | None = None
        self._correspondences: CorrespondenceItem | None = None
        self.heatmap_toggle.toggled.connect(self._on_heatmap_toggled)
        self.fit_button.clicked.connect(self.fit)

    @property
    def views(self) -> tuple[TitledView, MaskView, TitledView, TitledView]:
        """The four views in the order (a), (b), (c), (d)."""
        return (self.chips, self.masks, self.heatmap, self.matches)

    def clear(self) -> None:
        """Show nothing, for a pair that has no result yet or failed."""
        self._match = self._layout = self._overlay = self._correspondences = None
        for view in self.views:
            view.replace_items()
            view.note.setText("")
        self.masks.clear()

    def show_match(self, match: PairMatch, score: PairScore) -> None:
        """Draw a new pair and fit it into the views."""
        self._match = match
        self._layout = layout = side_by_side(match.a.chip.size, match.b.chip.size)
        chips = (bgr_to_qimage(match.a.chip.pixels), bgr_to_qimage(match.b.chip.pixels))

        self.chips.replace_items(ImagePairItem(layout, *chips))
        self.masks.show_match(match, layout)
        grey = (
            bgr_to_qimage(dimmed_grey(match.a.chip.pixels)),
            bgr_to_qimage(dimmed_grey(match.b.chip.pixels)),
        )
        self._overlay = ImagePairItem(layout, *grey)  # replaced by the heatmap in show_score
        self._overlay.setVisible(self.heatmap_toggle.isChecked())
        self.heatmap.replace_items(ImagePairItem(layout, *grey), self._overlay)
        self._correspondences = CorrespondenceItem(match, score, layout)
        self.matches.replace_items(ImagePairItem(layout, *chips), self._correspondences)

        self.fit()
        self.show_score(score)

    def fit(self) -> None:
        """Zoom the linked views so that both chips fill them."""
        if self._layout is not None:
            self.chips.viewbox.setRange(QRectF(0, 0, *self._layout.size), padding=0.02)

    def show_score(self, score: PairScore) -> None:
        """Redraw what depends on the live score: heatmap and line colours."""
        if self._match is None:
            return
        maps = evidence_maps(self._match, score)
        self._overlay.set_images(*maps.overlays())
        if maps.vmax > 0:
            self.heatmap.note.setText("fs·weight, shared sqrt scale: blue low, white high")
            self.heatmap.note.setToolTip(f"maximum evidence density {maps.vmax:.3g} per chip px²")
        else:
            self.heatmap.note.setText("no counted evidence under the current threshold")
        self.masks.set_threshold(score.config.threshold, score.config.fg_weighting)
        self._correspondences.set_score(score)
        sver = self._match.sver
        if sver.verified:
            self.matches.note.setText(
                f"{score.num_counted} of {len(sver.inliers)} sver inliers have weight > 0"
            )
        else:
            self.matches.note.setText(f"not verified: {sver.reason or 'no transform found'}")

    def _on_heatmap_toggled(self, visible: bool) -> None:
        if self._overlay is not None:
            self._overlay.setVisible(visible)
