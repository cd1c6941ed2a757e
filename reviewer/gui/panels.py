"""Small widgets of the main window: controls, numbers, chip labels and the colour bar."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.gui.banner import WarningBanner
from reviewer.render.colorbar import COLORBAR_HEIGHT_EM, paint_colorbar
from reviewer.render.text import (
    SCORE_ROW_NAMES,
    WIDEST_VALUES,
    annot_title,
    model_text,
    model_warnings,
    score_rows,
)
from reviewer.review.pairs import Pair

#: Slider steps per unit of the mask threshold, so one step is 0.01.
SLIDER_STEPS = 100

#: Tooltip of the weighting box while the selected pair has fgweights.
WEIGHTING_TIP = (
    "Weight each correspondence by its keypoints' fgweights. Off: every weight is 1, "
    "as in plain HotSpotter. Re-scores without rerunning matching."
)
ERROR_STYLE = (
    "QLabel { background: #f8d7da; color: #842029; border: 1px solid #d9534f;"
    " padding: 6px; font-weight: bold; }"
)


class ScoreControls(QGroupBox):
    """The mask threshold slider and the foreground weighting checkbox."""

    threshold_changed = Signal(float)  # t in [0, 1]
    weighting_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Scoring (live)", parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(5)
        self.slider.setToolTip(
            "Mask threshold t: a correspondence whose keypoint fgweight is below t in "
            "either chip gets weight 0. Re-scores without rerunning matching."
        )
        self.threshold_label = QLabel()
        self.weighting = QCheckBox("foreground weighting")
        self.weighting.setToolTip(WEIGHTING_TIP)
        self._weighting_on = True  # the session's setting, kept while the box is disabled
        self._weighting_available = True  # False while the pair has no fgweights

        layout = QVBoxLayout(self)
        layout.addWidget(self.threshold_label)
        layout.addWidget(self.slider)
        layout.addWidget(self.weighting)

        self.slider.valueChanged.connect(self._on_slider)
        self.weighting.toggled.connect(self._on_weighting)
        self.show_state(0.0, True)

    def show_state(self, threshold: float, weighting: bool) -> None:
        """Move the controls to a state set elsewhere, without emitting signals."""
        self._weighting_on = weighting
        self.slider.blockSignals(True)
        self.slider.setValue(round(threshold * SLIDER_STEPS))
        self.slider.blockSignals(False)
        self._show_weighting()
        self.threshold_label.setText(f"mask threshold t = {threshold:.2f}")

    def set_weighting_available(self, available: bool, reason: str = "") -> None:
        """Enable the weighting box, or disable it with ``reason`` as its tooltip.

        A disabled box shows unchecked, because the pair is scored without
        fgweights, and the session's setting returns with the next pair that
        has a model.
        """
        self._weighting_available = available
        self.weighting.setEnabled(available)
        self.weighting.setToolTip(WEIGHTING_TIP if available else reason)
        self._show_weighting()

    def _show_weighting(self) -> None:
        self.weighting.blockSignals(True)
        self.weighting.setChecked(self._weighting_on and self._weighting_available)
        self.weighting.blockSignals(False)

    def _on_weighting(self, on: bool) -> None:
        self._weighting_on = on
        self.weighting_changed.emit(on)

    def _on_slider(self, value: int) -> None:
        threshold = value / SLIDER_STEPS
        self.threshold_label.setText(f"mask threshold t = {threshold:.2f}")
        self.threshold_changed.emit(threshold)


class ScorePanel(QGroupBox):
    """Every number of the selected pair under the current threshold."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Numbers", parent)
        self._form = QFormLayout(self)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self._values: dict[str, QLabel] = {}
        for name in SCORE_ROW_NAMES:
            self._value_label(name)

    def show_score(self, match: PairMatch | None, score: PairScore | None) -> None:
        """Fill the rows. With no match, every value shows a dash."""
        if match is None or score is None:
            for label in self._values.values():
                label.setText("–")
            return
        for name, text in score_rows(match, score):
            self._value_label(name).setText(text)

    def text(self, name: str) -> str:
        """Return the displayed value of one row, for example ``text("score")``."""
        return self._values[name].text() if name in self._values else ""

    def _value_label(self, name: str) -> QLabel:
        if name not in self._values:
            label = QLabel("–")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            # Reserve the widest value now, so the panel keeps its width when results arrive.
            label.setMinimumWidth(max(map(label.fontMetrics().horizontalAdvance, WIDEST_VALUES)))
            self._values[name] = label
            self._form.addRow(f"{name}:", label)
        return self._values[name]


class ChipHeader(QWidget):
    """Labels of chip A (left) and chip B (right), and the model warnings."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label_a, self.label_b = QLabel(), QLabel()
        for label in (self.label_a, self.label_b):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = WarningBanner()

        row = QHBoxLayout()
        row.addWidget(self.label_a, 1)
        row.addWidget(self.label_b, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.warning)

    def show_pair(self, pair: Pair | None, match: PairMatch | None) -> None:
        """Label both chips; models and warnings appear once the match is known."""
        if pair is None:
            self.label_a.setText("")
            self.label_b.setText("")
            self.warning.show_warnings([])
            return
        if match is None:
            self.label_a.setText(f"<b>A (left):</b> aid {pair.a.aid} · {pair.a.species}")
            self.label_b.setText(f"<b>B (right):</b> aid {pair.b.aid} · {pair.b.species}")
            self.warning.show_warnings([])
            return
        for side, label, result in (
            ("A (left)", self.label_a, match.a),
            ("B (right)", self.label_b, match.b),
        ):
            title, model = escape(annot_title(result)), escape(model_text(result.model))
            label.setText(f"<b>{side}:</b> {title}<br>{model}")
        self.warning.show_warnings(model_warnings(match))


class ColorBarWidget(QWidget):
    """The fgweight colour scale and line legend of the correspondence view."""

    FONT_PX = 12

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._has_fgweights, self._threshold, self._weighting = True, 0.0, True
        self.setFixedHeight(round(COLORBAR_HEIGHT_EM * self.FONT_PX) + 6)

    def show_state(self, has_fgweights: bool, threshold: float, weighting: bool) -> None:
        """Redraw for a pair with or without fgweights and the current threshold."""
        self._has_fgweights, self._threshold, self._weighting = has_fgweights, threshold, weighting
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 -- Qt override
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(8, 3, -8, -3)
        text_colour = self.palette().windowText().color()
        paint_colorbar(
            painter,
            rect,
            self.FONT_PX,
            self._has_fgweights,
            self._threshold,
            self._weighting,
            text_colour,
        )
        painter.end()
