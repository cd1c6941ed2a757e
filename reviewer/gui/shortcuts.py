"""Every keyboard shortcut of the main window in one table, its actions and its help dialog.

The table is the single source: ``install_actions`` makes one ``QAction`` per
row, the menus list them, and Help -> Shortcuts shows the same rows. Keys are
window-wide, but a text field that has focus keeps the letter and digit keys
for typing; Escape or Return leaves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class Shortcut:
    """One action of the main window and its keys."""

    name: str  # action name, the key of the handler that runs it
    keys: tuple[str, ...]  # QKeySequence strings; the first is shown in menus and on buttons
    text: str  # menu entry
    description: str  # help dialog entry
    menu: str  # menu the action appears in

    def __post_init__(self):
        if not self.keys:
            raise ValueError(f"shortcut {self.name!r} needs at least one key")


#: Menus in menu-bar order.
MENUS = ("Decide", "Navigate", "Review", "View", "Help")

SHORTCUTS: tuple[Shortcut, ...] = (
    # Decisions record the fields of the decision panel, then select the next open pair.
    Shortcut("decide_match", ("M",), "Match", "Record: the same individual", "Decide"),
    Shortcut("decide_nomatch", ("N",), "No match", "Record: different individuals", "Decide"),
    Shortcut("decide_notcomp", ("C",), "Can't tell", "Record: cannot be compared", "Decide"),
    Shortcut("confidence_doubtless", ("1",), "Doubtless", "Confidence: doubtless", "Decide"),
    Shortcut("confidence_sure", ("2",), "Sure", "Confidence: sure", "Decide"),
    Shortcut("confidence_unsure", ("3",), "Unsure", "Confidence: unsure", "Decide"),
    Shortcut("confidence_guessing", ("4",), "Guessing", "Confidence: guessing", "Decide"),
    Shortcut(
        "tag_photobomb",
        ("P",),
        "Tag photobomb",
        "Tag photobomb on or off: a second animal in the box made the match",
        "Decide",
    ),
    Shortcut(
        "tag_scenerymatch",
        ("S",),
        "Tag scenerymatch",
        "Tag scenerymatch on or off: the score comes from shared scenery",
        "Decide",
    ),
    Shortcut("edit_tags", ("T",), "Other tags…", "Type other tags (comma-separated)", "Decide"),
    Shortcut("edit_note", ("F2",), "Note…", "Type a note", "Decide"),
    Shortcut("undo", ("Ctrl+Z",), "Undo decision", "Undo the latest decision", "Decide"),
    Shortcut("next_pair", ("Right", "J"), "Next pair", "Select the next pair", "Navigate"),
    Shortcut(
        "previous_pair", ("Left", "K"), "Previous pair", "Select the previous pair", "Navigate"
    ),
    Shortcut(
        "next_undecided", ("U",), "Next open pair", "Select the next undecided pair", "Navigate"
    ),
    Shortcut(
        "leave_field",
        ("Esc",),
        "Leave text field",
        "Leave a text field, so single keys work again",
        "Navigate",
    ),
    Shortcut(
        "rank_candidates",
        ("Ctrl+R",),
        "Rank candidates for chip A…",
        "Rank the catalog for a query aid (default: chip A) and list its best candidates",
        "Review",
    ),
    Shortcut("threshold_up", ("]",), "Threshold +0.05", "Raise the mask threshold", "View"),
    Shortcut("threshold_down", ("[",), "Threshold −0.05", "Lower the mask threshold", "View"),
    Shortcut("toggle_weighting", ("W",), "Foreground weighting", "Weighting on or off", "View"),
    Shortcut("toggle_ellipses", ("E",), "Ellipses", "View (d): keypoint ellipses", "View"),
    Shortcut("toggle_lines", ("L",), "Lines", "View (d): correspondence lines", "View"),
    Shortcut("toggle_heatmap", ("H",), "Heatmap", "View (d): evidence heatmap", "View"),
    Shortcut("toggle_mask_overlay", ("O",), "Mask overlay", "View (d): background tint", "View"),
    Shortcut("toggle_outliers", ("X",), "Outliers", "View (d): matches sver rejected", "View"),
    Shortcut("toggle_clean", ("I",), "Clean image", "All overlays off or back on", "View"),
    Shortcut(
        "toggle_mask_mode",
        ("B",),
        "Mask view mode",
        "View (b): probability map or tinted chips",
        "View",
    ),
    Shortcut("fit_views", ("F",), "Fit views", "Zoom the views back to both chips", "View"),
    Shortcut("show_shortcuts", ("F1", "?"), "Shortcuts", "Show this list", "Help"),
)

#: Shortcuts by action name.
BY_NAME: dict[str, Shortcut] = {shortcut.name: shortcut for shortcut in SHORTCUTS}


def key_text(name: str) -> str:
    """Return the first key of an action as the platform shows it, such as ``Ctrl+Z``."""
    return QKeySequence(BY_NAME[name].keys[0]).toString(QKeySequence.SequenceFormat.NativeText)


def install_actions(
    window: QMainWindow,
    handlers: dict[str, Callable[[], None]],
    existing: dict[str, QAction] | None = None,
) -> dict[str, QAction]:
    """Create the menus and put one action per shortcut in them, with its keys.

    A shortcut named in ``existing`` gets its keys on that action, such as a
    layer toggle that the views already own, so both share one checked state.
    Any other shortcut gets a new action that calls its handler. A shortcut
    with neither is left out. New actions are added to the window itself, so
    their keys work wherever the focus is inside it. Returns the actions by name.
    """
    existing = existing or {}
    menus = {name: window.menuBar().addMenu(f"&{name}") for name in MENUS}
    actions = {}
    for shortcut in SHORTCUTS:
        action = existing.get(shortcut.name)
        if action is None and shortcut.name in handlers:
            action = QAction(shortcut.text, window)
            action.setToolTip(shortcut.description)
            handler = handlers[shortcut.name]
            action.triggered.connect(lambda _checked=False, handler=handler: handler())
            window.addAction(action)
        if action is None:
            continue
        action.setShortcuts([QKeySequence(key) for key in shortcut.keys])
        menus[shortcut.menu].addAction(action)
        actions[shortcut.name] = action
    return actions


class ShortcutsDialog(QDialog):
    """The table of keyboard shortcuts, generated from ``SHORTCUTS``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(SHORTCUTS), 3)
        self.table.setHorizontalHeaderLabels(["Key", "Action", "Menu"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, shortcut in enumerate(SHORTCUTS):
            keys = " or ".join(
                QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
                for key in shortcut.keys
            )
            for column, text in enumerate((keys, shortcut.description, shortcut.menu)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hint = QLabel(
            "The keys work anywhere in the window. While a text field has the focus, letters "
            "and digits go into it: press Esc or Return to leave it."
        )
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 660)
