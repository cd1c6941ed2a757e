"""File → Export: the dialog that writes the selected pair's figure and sidecar.

The figure shows the pair as it is on screen: the current mask threshold and
weighting, and the background warning limit of the flags panel.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from reviewer.engine.errors import ReviewerError
from reviewer.render.explain import RankInfo
from reviewer.render.export import ExportedFigure, export_pair, figure_file_name
from reviewer.render.figure import DPI_RANGE, WIDTH_MM_RANGE, FigureOptions
from reviewer.render.figure_panels import PANEL_NAMES
from reviewer.review.session import ReviewSession

log = logging.getLogger(__name__)

#: File formats of the dialog, by suffix.
FORMATS = ("svg", "pdf", "png")


class ExportDialog(QDialog):
    """Output file, format, resolution, width and panels of one figure."""

    def __init__(self, default_path: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export figure")
        self.path_edit = QLineEdit(str(default_path))
        browse = QPushButton("Browse…")
        self.format = QComboBox()
        self.format.addItems(FORMATS)
        suffix = default_path.suffix.lstrip(".").lower()
        self.format.setCurrentText(suffix if suffix in FORMATS else FORMATS[0])
        self.dpi = QSpinBox()
        self.dpi.setRange(*DPI_RANGE)
        self.dpi.setValue(FigureOptions.dpi)
        self.dpi.setSuffix(" dpi")
        self.dpi.setToolTip("Resolution of a PNG, and of the chip images inside SVG and PDF")
        self.width_mm = QDoubleSpinBox()
        self.width_mm.setRange(*WIDTH_MM_RANGE)
        self.width_mm.setValue(FigureOptions.width_mm)
        self.width_mm.setSuffix(" mm")
        self.panels = {name: QCheckBox(name) for name in PANEL_NAMES}
        self.panels["matches"].setChecked(True)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        panel_row = QHBoxLayout()
        for box in self.panels.values():
            panel_row.addWidget(box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        form = QFormLayout(self)
        form.addRow("File:", path_row)
        form.addRow("Format:", self.format)
        form.addRow("Resolution:", self.dpi)
        form.addRow("Width:", self.width_mm)
        form.addRow("Panels:", panel_row)
        form.addRow(buttons)

        browse.clicked.connect(self._browse)
        self.format.currentTextChanged.connect(self._on_format)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

    def path(self) -> Path:
        """The figure file, with the suffix of the chosen format."""
        return Path(self.path_edit.text()).with_suffix("." + self.format.currentText())

    def options(self, background_warn_share: float) -> FigureOptions:
        """Return the chosen options.

        Raises
        ------
        FigureExportError
            No panel is chosen.
        """
        panels = tuple(name for name, box in self.panels.items() if box.isChecked())
        return FigureOptions(
            panels=panels,
            dpi=self.dpi.value(),
            width_mm=self.width_mm.value(),
            background_warn_share=background_warn_share,
        )

    def _browse(self) -> None:
        suffix = self.format.currentText()
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export figure", str(self.path()), f"{suffix.upper()} files (*.{suffix})"
        )
        if chosen:
            self.path_edit.setText(chosen)

    def _on_format(self, suffix: str) -> None:
        self.path_edit.setText(str(self.path().with_suffix("." + suffix)))


def export_selected_pair(
    session: ReviewSession, path: Path, options: FigureOptions, engine_config=None
) -> ExportedFigure:
    """Write the selected pair's figure and sidecar, scored as on screen.

    Raises
    ------
    ReviewerError
        No pair has a result yet, or a file could not be written.
    """
    match, score, pair = session.result(), session.current_score(), session.current
    if match is None or score is None:
        raise ReviewerError("Nothing to export: select a pair and wait for its result.")
    return export_pair(match, score, path, options, RankInfo.from_pair(pair), engine_config)


def run_export_dialog(
    parent: QWidget,
    session: ReviewSession,
    engine_config=None,
    background_warn_share: float = 0.25,
    folder: Path | None = None,
) -> ExportedFigure | None:
    """Ask for the export settings, export, and report errors in a message box.

    Returns
    -------
    ExportedFigure or None
        None when the user cancelled or the export failed.
    """
    pair = session.current
    if pair is None or session.result() is None:
        QMessageBox.information(
            parent, "Export figure", "Select a pair and wait for its result first."
        )
        return None
    default = (folder or Path.cwd()) / figure_file_name(pair.a.aid, pair.b.aid, FORMATS[0])
    dialog = ExportDialog(default, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    try:
        written = export_selected_pair(
            session, dialog.path(), dialog.options(background_warn_share), engine_config
        )
    except ReviewerError as err:
        log.error("Export failed: %s", err)
        QMessageBox.warning(parent, "Export failed", str(err))
        return None
    return written
