"""What the window remembers between runs, through ``QSettings``.

Stored: window geometry and splitter sizes, the last annotation file, the mask
threshold and weighting switch, the view toggles, the reviewer name and the
confidence. Decisions are not settings; they live in the decision store.

The default file is an INI file in the user's configuration folder
(``$XDG_CONFIG_HOME/wildlife-reviewer/reviewer.ini`` on Linux). Tests pass a
``QSettings`` of their own, so they never touch the user's file.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

log = logging.getLogger(__name__)

ORGANIZATION = "wildlife-reviewer"
APPLICATION = "reviewer"


def user_settings() -> QSettings:
    """Return the user's settings file."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


class WindowSettings:
    """Typed access to the stored settings; every getter returns None when nothing is stored."""

    def __init__(self, qsettings: QSettings | None = None):
        self.qsettings = qsettings if qsettings is not None else user_settings()

    # Window layout ------------------------------------------------------------------------

    def save_window(self, window: QMainWindow, splitter: QSplitter) -> None:
        """Store the window's geometry and state and the splitter sizes."""
        self.qsettings.setValue("window/geometry", window.saveGeometry())
        self.qsettings.setValue("window/state", window.saveState())
        self.qsettings.setValue("window/splitter", splitter.saveState())

    def restore_window(self, window: QMainWindow, splitter: QSplitter) -> bool:
        """Restore what ``save_window`` stored; return False when no geometry is stored."""
        geometry = self.qsettings.value("window/geometry")
        if not isinstance(geometry, QByteArray) or not window.restoreGeometry(geometry):
            return False
        state = self.qsettings.value("window/state")
        if isinstance(state, QByteArray):
            window.restoreState(state)
        sizes = self.qsettings.value("window/splitter")
        if isinstance(sizes, QByteArray):
            splitter.restoreState(sizes)
        return True

    # Files --------------------------------------------------------------------------------

    def last_file(self) -> Path | None:
        """The annotation file opened last, or None when it is unknown or gone."""
        value = self.qsettings.value("files/last_annotations")
        if not value:
            return None
        path = Path(str(value))
        if not path.is_file():
            log.info("The last annotation file %s no longer exists", path)
            return None
        return path

    def set_last_file(self, path: Path) -> None:
        """Remember the annotation file that is open now."""
        self.qsettings.setValue("files/last_annotations", str(Path(path).resolve()))

    # Scoring and view ---------------------------------------------------------------------

    def threshold(self) -> float | None:
        """The mask threshold in [0, 1], or None when none or an invalid one is stored."""
        value = self.qsettings.value("scoring/threshold")
        try:
            threshold = float(value)
        except (TypeError, ValueError):
            return None
        return threshold if 0.0 <= threshold <= 1.0 else None

    def fg_weighting(self) -> bool | None:
        """The foreground weighting switch."""
        return self._bool("scoring/fg_weighting")

    def set_scoring(self, threshold: float, fg_weighting: bool) -> None:
        """Remember the threshold and the weighting switch."""
        self.qsettings.setValue("scoring/threshold", float(threshold))
        self.qsettings.setValue("scoring/fg_weighting", bool(fg_weighting))

    def toggle(self, name: str) -> bool | None:
        """The stored state of a view toggle."""
        return self._bool(f"toggles/{name}")

    def set_toggle(self, name: str, on: bool) -> None:
        """Remember a view toggle."""
        self.qsettings.setValue(f"toggles/{name}", bool(on))

    def text(self, name: str) -> str | None:
        """A stored text value, such as the mask view mode."""
        value = self.qsettings.value(f"text/{name}")
        return str(value) if value is not None else None

    def set_text(self, name: str, value: str) -> None:
        """Remember a text value."""
        self.qsettings.setValue(f"text/{name}", str(value))

    def sync(self) -> None:
        """Write pending changes to disk now."""
        self.qsettings.sync()

    def _bool(self, key: str) -> bool | None:
        value = self.qsettings.value(key)
        if value is None:
            return None
        if isinstance(value, str):  # INI files return text
            return value.lower() in ("true", "1")
        return bool(value)
