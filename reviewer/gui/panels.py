"""Small widgets of the main window: controls, numbers, chip labels and the colour bar."""

from __future__ import annotations

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
from reviewer.render.colorbar import COLORBAR_HEIGHT_EM, paint_colorbar
from reviewer.render.text import (
    SCORE_ROW_NAMES,
    annot_title,
    model_text,
    model_warnings,
    score_rows,
)
from reviewer.review.pairs import Pair

#: Slider steps per unit of the mask threshold, so one step is 0.01.
SLIDER_STEPS = 100

WARNING_STYLE = (
    "QLabel { background: #fff3cd; color: #7a3e00; border: 1px solid #e0a800;"
    " padding: 4px; font-weight: bold; }"
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
        self.weighting.setChecked(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.threshold_label)
        layout.addWidget(self.slider)
        layout.addWidget(self.weighting)

        self.slider.valueChanged.connect(self._on_slider)
        self.weighting.toggled.connect(self.weighting_changed)
        self.show_state(0.0, True)

    def show_state(self, threshold: float, weighting: bool) -> None:
        """Move the controls to a state set elsewhere, without emitting signals."""
        self.slider.blockSignals(True)
        self.weighting.blockSignals(True)
        self.slider.setValue(round(threshold * SLIDER_STEPS))
        self.weighting.setChecked(weighting)
        self.slider.blockSignals(False)
        self.weighting.blockSignals(False)
        self.threshold_label.setText(f"mask threshold t = {threshold:.2f}")

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
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.warning.hide()

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
            self.warning.hide()
            return
        if match is None:
            self.label_a.setText(f"<b>A (left):</b> aid {pair.a.aid} · {pair.a.species}")
            self.label_b.setText(f"<b>B (right):</b> aid {pair.b.aid} · {pair.b.species}")
            self.warning.hide()
            return
        for side, label, result in (
            ("A (left)", self.label_a, match.a),
            ("B (right)", self.label_b, match.b),
        ):
            label.setText(f"<b>{side}:</b> {annot_title(result)}<br>{model_text(result.model)}")
        warnings = model_warnings(match)
        self.warning.setText("⚠ " + "<br>⚠ ".join(warnings))
        self.warning.setVisible(bool(warnings))


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
