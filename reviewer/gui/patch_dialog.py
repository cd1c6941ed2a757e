"""A dialog with the two keypoint patches of one correspondence and its numbers.

The patches are affine-normalised (``reviewer.render.patches``), so each
keypoint's ellipse is the circle drawn in the middle: this is what the SIFT
descriptors compared. The numbers come from the same records as the figure's
JSON sidecar, so the dialog and an export agree.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QDialog, QFormLayout, QGridLayout, QLabel, QVBoxLayout, QWidget

from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.colors import HIGHLIGHT_RGB, rgb_qcolor
from reviewer.render.images import bgr_to_qimage
from reviewer.render.patches import PATCH_SIZE_PX, keypoint_patch, patch_circle_radius
from reviewer.render.sidecar import correspondence_records

#: Magnification of the patches on screen.
PATCH_ZOOM = 2
#: Text of the dialog while nothing is selected.
PLACEHOLDER = "Click near a keypoint in a chip view to show its correspondence here."
#: Row labels of the numbers, in order.
ROW_NAMES = (
    "status",
    "fs",
    "ratio",
    "fgweight A",
    "fgweight B",
    "weight",
    "fs·weight",
    "background (min fgweight < 0.5)",
    "chip xy A",
    "chip xy B",
    "photo xy A",
    "photo xy B",
)


def correspondence_status(record: dict) -> str:
    """Describe what sver and the score did with one correspondence record."""
    if not record["inlier"]:
        return "rejected by sver (outlier): not part of the score"
    if not record["counted"]:
        return "sver inlier, excluded: the same point of one photo"
    if record["weight"] <= 0:
        return "sver inlier, weight 0 under the mask threshold"
    return "sver inlier, counted"


class PatchDialog(QDialog):
    """Both patches of the selected correspondence, side by side, with its numbers."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Correspondence")
        self.setModal(False)
        self.patch_a, self.patch_b = QLabel(), QLabel()
        self.label_a, self.label_b = QLabel(), QLabel()
        side = PATCH_SIZE_PX * PATCH_ZOOM
        for label in (self.patch_a, self.patch_b):
            label.setFixedSize(side, side)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("QLabel { background: #1e1e1e; }")
        self.placeholder = QLabel(PLACEHOLDER)
        self.placeholder.setWordWrap(True)

        patches = QGridLayout()
        patches.addWidget(self.label_a, 0, 0)
        patches.addWidget(self.label_b, 0, 1)
        patches.addWidget(self.patch_a, 1, 0)
        patches.addWidget(self.patch_b, 1, 1)
        self._form = QFormLayout()
        self._values: dict[str, QLabel] = {}
        for name in ROW_NAMES:
            value = QLabel("–")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._values[name] = value
            self._form.addRow(f"{name}:", value)
        layout = QVBoxLayout(self)
        layout.addWidget(self.placeholder)
        layout.addLayout(patches)
        layout.addLayout(self._form)
        self.clear()

    def text(self, name: str) -> str:
        """Return the displayed value of one row, for example ``text("fs")``."""
        return self._values[name].text()

    def clear(self) -> None:
        """Show the placeholder and no patches."""
        self.placeholder.show()
        for label in (self.patch_a, self.patch_b, self.label_a, self.label_b):
            label.clear()
        for value in self._values.values():
            value.setText("–")

    def show_correspondence(self, match: PairMatch, score: PairScore, index: int) -> None:
        """Show ratio-test match ``index`` of ``match`` under ``score``."""
        record = correspondence_records(match, score)[index]
        self.placeholder.hide()
        self.setWindowTitle(
            f"Correspondence {index} of aid {match.a.annot.aid} vs aid {match.b.annot.aid}"
        )
        self.label_a.setText(f"<b>A</b>: aid {match.a.annot.aid}, keypoint {record['fx_a']}")
        self.label_b.setText(f"<b>B</b>: aid {match.b.annot.aid}, keypoint {record['fx_b']}")
        kpt_a = match.a.features.kpts[record["fx_a"]]
        kpt_b = match.b.features.kpts[record["fx_b"]]
        self.patch_a.setPixmap(_patch_pixmap(match.a.chip.pixels, kpt_a))
        self.patch_b.setPixmap(_patch_pixmap(match.b.chip.pixels, kpt_b))

        values = {
            "status": correspondence_status(record),
            "fs": _number(record["fs"]),
            "ratio": _number(record["ratio"]),
            "fgweight A": _number(record["fgweight_a"], "n/a (no model)"),
            "fgweight B": _number(record["fgweight_b"], "n/a (no model)"),
            "weight": _number(record["weight"]),
            "fs·weight": _number(record["contribution"]),
            "background (min fgweight < 0.5)": _yes_no(record["background"]),
            "chip xy A": _xy(record["chip_xy_a"]),
            "chip xy B": _xy(record["chip_xy_b"]),
            "photo xy A": _xy(record["photo_xy_a"]),
            "photo xy B": _xy(record["photo_xy_b"]),
        }
        for name, text in values.items():
            self._values[name].setText(text)


def _patch_pixmap(pixels, kpt) -> QPixmap:
    """Return the keypoint's patch, magnified, with its ellipse (now a circle) drawn."""
    image = bgr_to_qimage(keypoint_patch(pixels, kpt))
    side = PATCH_SIZE_PX * PATCH_ZOOM
    pixmap = QPixmap.fromImage(image).scaled(
        side, side, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    radius = patch_circle_radius() * PATCH_ZOOM
    centre = QPointF(side / 2.0, side / 2.0)
    painter.setPen(QPen(QColor(0, 0, 0, 200), 3.0))
    painter.drawEllipse(centre, radius, radius)
    painter.setPen(QPen(rgb_qcolor(HIGHLIGHT_RGB), 1.5))
    painter.drawEllipse(centre, radius, radius)
    painter.end()
    return pixmap


def _number(value, missing: str = "–") -> str:
    return missing if value is None else f"{value:.3f}"


def _xy(point: list[float]) -> str:
    return f"({point[0]:.1f}, {point[1]:.1f}) px"


def _yes_no(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "no")
