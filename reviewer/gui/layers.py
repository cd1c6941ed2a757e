"""The checkable actions that switch the layers of the pair views.

Each action has an object name (``toggle_ellipses`` ...), so the menus, the
tool buttons and any keyboard shortcut share one action and one state. "Clean
image" hides every overlay of every view without changing the other toggles,
so switching it off brings the same layers back.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class LayerToggle:
    """One layer toggle: its action name, menu text, initial state and tooltip."""

    name: str
    text: str
    checked: bool
    tip: str


#: The toggles, in menu order.
LAYER_TOGGLES = (
    LayerToggle(
        "toggle_ellipses",
        "Ellipses",
        True,
        "Show the keypoint ellipses of the correspondences in view (d)",
    ),
    LayerToggle(
        "toggle_lines", "Lines", True, "Show the lines between corresponding keypoints in view (d)"
    ),
    LayerToggle(
        "toggle_heatmap",
        "Heatmap",
        False,
        "Overlay the evidence heatmap (fs·weight) on the chips of view (d)",
    ),
    LayerToggle(
        "toggle_mask_overlay",
        "Mask overlay",
        False,
        "Tint the background (low probchip) dark red in view (d)",
    ),
    LayerToggle(
        "toggle_outliers",
        "Outliers",
        False,
        "Also show, thin and grey, the ratio-test matches that sver rejected",
    ),
    LayerToggle(
        "toggle_clean",
        "Clean image",
        False,
        "Hide every overlay in every view to see the plain chips; the other toggles keep "
        "their state",
    ),
)
#: Name of the toggle that hides every overlay.
CLEAN = "toggle_clean"


class LayerActions(QObject):
    """The layer toggles of one set of pair views, as checkable ``QAction`` objects."""

    changed = Signal()  # any toggle changed

    def __init__(self, owner: QWidget):
        super().__init__(owner)
        self.actions: dict[str, QAction] = {}
        for toggle in LAYER_TOGGLES:
            action = QAction(toggle.text, owner)
            action.setObjectName(toggle.name)
            action.setCheckable(True)
            action.setChecked(toggle.checked)
            action.setToolTip(toggle.tip)
            action.setStatusTip(toggle.tip)
            action.toggled.connect(self.changed)
            owner.addAction(action)  # so shortcuts set on it work while the window is active
            self.actions[toggle.name] = action

    def __getitem__(self, name: str) -> QAction:
        return self.actions[name]

    def is_checked(self, name: str) -> bool:
        """True when toggle ``name`` is on, whatever the clean toggle says."""
        return self.actions[name].isChecked()

    def shows(self, name: str) -> bool:
        """True when the layer of toggle ``name`` is drawn: it is on and clean is off."""
        return self.is_checked(name) and not self.is_checked(CLEAN)
