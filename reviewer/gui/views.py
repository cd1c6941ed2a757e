"""The views of a pair: four linked chip views and the original photos.

Every chip view shows chip A and chip B side by side in the same pair
coordinates, so their pyqtgraph ViewBoxes are linked: zoom and pan move both
chips in all four views together, and each pair opens fitted to its chips.
The layer toggles (``reviewer.gui.layers``) switch the overlays of view (d).
Clicking near a keypoint in any chip view selects its correspondence: view (d)
and the photo view highlight it, and the patch dialog shows both patches.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.gui.layers import LayerActions
from reviewer.gui.mask_view import TINT_MAX_ALPHA, MaskView
from reviewer.gui.patch_dialog import PatchDialog
from reviewer.gui.photo_view import PhotoView
from reviewer.gui.titled_view import TitledView
from reviewer.render.correspondences import pick_correspondence
from reviewer.render.geometry import PairLayout, side_by_side
from reviewer.render.images import bgr_to_qimage, dimmed_grey, evidence_maps
from reviewer.render.items import CorrespondenceItem, ImagePairItem
from reviewer.render.masks import background_tint

#: How far from a keypoint centre a click still selects it, in screen px.
PICK_RADIUS_PX = 12


class PairViews(QWidget):
    """Views (a) chips, (b) probchips, (c) evidence heatmap, (d) correspondences, and photos."""

    correspondence_selected = Signal(object)  # row of match.matches, or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.chips = TitledView("(a) Chips")
        self.masks = MaskView()
        self.heatmap = TitledView("(c) Evidence heatmap")
        self.matches = TitledView("(d) Verified correspondences")
        self.layers = LayerActions(self)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Zoom all views back to both chips (wheel zooms, drag pans)")
        self.photos = PhotoView()
        self.patch_dialog = PatchDialog(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._chips_page(), "Chips")
        self.tabs.addTab(self.photos, "Original photos")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        for view in self.views[1:]:
            view.viewbox.setXLink(self.chips.viewbox)
            view.viewbox.setYLink(self.chips.viewbox)
        for view in self.views:
            view.graphics.scene().sigMouseClicked.connect(partial(self._on_click, view))

        self._match: PairMatch | None = None
        self._score: PairScore | None = None
        self._layout: PairLayout | None = None
        self._heat_items: tuple[ImagePairItem, ImagePairItem] | None = None
        self._tint: ImagePairItem | None = None
        self._correspondences: CorrespondenceItem | None = None
        self._selected: int | None = None
        self.layers.changed.connect(self._apply_layers)
        self.fit_button.clicked.connect(self.fit)

    def _chips_page(self) -> QWidget:
        toolbar = QHBoxLayout()
        toolbar.setContentsMargins(2, 0, 2, 0)
        toolbar.addWidget(QLabel("Show in (d):"))
        for action in self.layers.actions.values():
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            toolbar.addWidget(button)
        toolbar.addStretch(1)
        toolbar.addWidget(self.fit_button)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for k, view in enumerate(self.views):
            grid.addWidget(view, k // 2, k % 2)
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 2, 0, 0)
        column.setSpacing(2)
        column.addLayout(toolbar)
        column.addLayout(grid, 1)
        return page

    @property
    def views(self) -> tuple[TitledView, MaskView, TitledView, TitledView]:
        """The four chip views in the order (a), (b), (c), (d)."""
        return (self.chips, self.masks, self.heatmap, self.matches)

    @property
    def correspondence_item(self) -> CorrespondenceItem | None:
        """The correspondences drawn in view (d), or None without a pair."""
        return self._correspondences

    @property
    def selected(self) -> int | None:
        """Row of ``match.matches`` of the selected correspondence, or None."""
        return self._selected

    def clear(self) -> None:
        """Show nothing, for a pair that has no result yet or failed."""
        self._match = self._score = self._layout = None
        self._heat_items = self._tint = self._correspondences = None
        self._selected = None
        for view in self.views:
            view.replace_items()
            view.note.setText("")
        self.masks.clear()
        self.photos.clear()
        self.patch_dialog.clear()

    def show_match(self, match: PairMatch, score: PairScore) -> None:
        """Draw a new pair and fit it into the views."""
        self._match, self._score, self._selected = match, score, None
        self._layout = layout = side_by_side(match.a.chip.size, match.b.chip.size)
        chips = (bgr_to_qimage(match.a.chip.pixels), bgr_to_qimage(match.b.chip.pixels))
        grey = (
            bgr_to_qimage(dimmed_grey(match.a.chip.pixels)),
            bgr_to_qimage(dimmed_grey(match.b.chip.pixels)),
        )
        tinted = [
            background_tint(r.chip.pixels, r.probchip, TINT_MAX_ALPHA)
            if r.probchip is not None
            else r.chip.pixels
            for r in (match.a, match.b)
        ]

        # The heatmap images are placeholders until show_score colours them.
        self._heat_items = (ImagePairItem(layout, *grey), ImagePairItem(layout, *grey))
        self._tint = ImagePairItem(layout, *(bgr_to_qimage(pixels) for pixels in tinted))
        self._correspondences = CorrespondenceItem(match, score, layout)
        self.chips.replace_items(ImagePairItem(layout, *chips))
        self.masks.show_match(match, layout)
        self.heatmap.replace_items(ImagePairItem(layout, *grey), self._heat_items[0])
        self.matches.replace_items(
            ImagePairItem(layout, *chips), self._tint, self._heat_items[1], self._correspondences
        )
        self.photos.show_match(match)
        self.patch_dialog.clear()

        self._apply_layers()
        self.fit()
        self.show_score(score)

    def fit(self) -> None:
        """Zoom the linked views so that both chips fill them."""
        if self._layout is not None:
            self.chips.viewbox.setRange(QRectF(0, 0, *self._layout.size), padding=0.02)

    def show_score(self, score: PairScore) -> None:
        """Redraw what depends on the live score: heatmap, line colours, the selection's numbers."""
        if self._match is None:
            return
        self._score = score
        maps = evidence_maps(self._match, score)
        overlays = maps.overlays()
        for item in self._heat_items:
            item.set_images(*overlays)
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
        if self._selected is not None:
            self.patch_dialog.show_correspondence(self._match, score, self._selected)

    def select_correspondence(self, index: int | None, show_dialog: bool = True) -> None:
        """Select ratio-test match ``index`` (None: clear), highlight it and show its patches."""
        if self._match is None:
            return
        self._selected = index
        self._correspondences.set_selected(index)
        self.photos.set_selected(index)
        if index is None:
            self.patch_dialog.clear()
        else:
            self.patch_dialog.show_correspondence(self._match, self._score, index)
            if show_dialog and not self.patch_dialog.isVisible():
                self.patch_dialog.show()
        self.correspondence_selected.emit(index)

    def _on_click(self, view: TitledView, event) -> None:
        if self._match is None or event.button() != Qt.MouseButton.LeftButton:
            return
        point = view.viewbox.mapSceneToView(event.scenePos())
        pixel_w, _ = view.viewbox.viewPixelSize()
        index = pick_correspondence(
            self._match,
            self._layout,
            (point.x(), point.y()),
            PICK_RADIUS_PX * pixel_w,
            include_outliers=self.layers.shows("toggle_outliers"),
        )
        self.select_correspondence(index)

    def _apply_layers(self) -> None:
        clean = self.layers.is_checked("toggle_clean")
        self.masks.set_overlays_visible(not clean)
        if self._match is None:
            return
        self._heat_items[0].setVisible(not clean)
        self._heat_items[1].setVisible(self.layers.shows("toggle_heatmap"))
        self._tint.setVisible(self.layers.shows("toggle_mask_overlay"))
        self._correspondences.setVisible(not clean)
        self._correspondences.set_layers(
            ellipses=self.layers.shows("toggle_ellipses"),
            lines=self.layers.shows("toggle_lines"),
            outliers=self.layers.shows("toggle_outliers"),
        )
