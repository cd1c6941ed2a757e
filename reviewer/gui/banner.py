"""A compact warning banner: one elided line per warning, the full text on hover or click."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

WARNING_STYLE = (
    "QLabel { background: #fff3cd; color: #7a3e00; border: 1px solid #e0a800;"
    " padding: 4px; font-weight: bold; }"
)
#: Marker in front of each warning line.
WARNING_MARK = "⚠ "


class WarningBanner(QLabel):
    """Warnings shown one line each, cut to the banner's width.

    A long warning (a model file's path and load error) would otherwise take
    several lines of the window. The tooltip has the full text, and a click
    toggles between the cut lines and the full, wrapped text.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._warnings: list[str] = []
        self._expanded = False
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setStyleSheet(WARNING_STYLE)
        # The banner takes the width it is given instead of widening the window.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.hide()

    def show_warnings(self, warnings: list[str]) -> None:
        """Show ``warnings`` cut to one line each; hide the banner when there are none."""
        self._warnings = list(warnings)
        self._expanded = False
        paragraphs = "".join(f"<p>{escape(text)}</p>" for text in self._warnings)
        self.setToolTip(
            f"{paragraphs}<p><i>Click the banner to show or hide the full text.</i></p>"
        )
        self._refresh()
        self.setVisible(bool(self._warnings))

    def full_text(self) -> str:
        """Return every warning in full, one a line."""
        return "\n".join(self._warnings)

    def is_expanded(self) -> bool:
        """True while the banner shows the full, wrapped text."""
        return self._expanded

    def mousePressEvent(self, event) -> None:  # noqa: N802 -- Qt override
        if event.button() == Qt.MouseButton.LeftButton and self._warnings:
            self._expanded = not self._expanded
            self._refresh()
        super().mousePressEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 -- Qt override
        super().resizeEvent(event)
        if not self._expanded:
            self._refresh()

    def _refresh(self) -> None:
        lines = [WARNING_MARK + text for text in self._warnings]
        self.setWordWrap(self._expanded)
        if self._expanded:
            self.setText("\n".join(lines))
            return
        width = max(self.contentsRect().width(), 1)
        metrics = self.fontMetrics()
        elided = [metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines]
        self.setText("\n".join(elided))
