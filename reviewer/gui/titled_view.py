"""One zoomable ViewBox under a title row, the building block of the pair views."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

#: Background of the views behind and between the chips.
VIEW_BACKGROUND = "#1e1e1e"
#: Height of each view's title row.
TITLE_HEIGHT_PX = 26


class TitledView(QWidget):
    """A title row above one zoomable ViewBox."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.note = QLabel()
        # Long notes are cut rather than widening the window.
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.graphics = pg.GraphicsView(background=VIEW_BACKGROUND)
        self.viewbox = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.graphics.setCentralItem(self.viewbox)

        # A fixed-height title row keeps the four views the same size.
        title_bar = QWidget()
        title_bar.setFixedHeight(TITLE_HEIGHT_PX)
        self.title_row = QHBoxLayout(title_bar)
        self.title_row.setContentsMargins(0, 0, 0, 0)
        self.title_row.addWidget(self.title)
        self.title_row.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(title_bar)
        layout.addWidget(self.graphics, 1)

    def replace_items(self, *items) -> None:
        self.viewbox.clear()
        for item in items:
            self.viewbox.addItem(item)
