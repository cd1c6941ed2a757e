"""Qt set-up shared by the GUI and the figure export: a bindings check and Qt's messages.

Qt writes its own warnings straight to stderr. ``route_qt_messages`` sends them
to Python logging instead, so ``-v`` and the log configuration control them.

The bindings check guards against a known fatal defect.

PySide6-Essentials 6.12.0 on Python 3.11 drops one reference to ``None`` on
every call of a C++ method that returns void (``QPainter.drawLine``,
``QWidget.update``, ...). Python 3.12 made ``None`` immortal, so only 3.11 is
hurt: after some tens of thousands of such calls, a few dozen repaints of the
match views, the interpreter aborts with "none_dealloc: deallocating None".
6.11.3 does not drop the reference (checked with Python 3.11 on Linux x86-64),
and ``pyproject.toml`` requires PySide6-Essentials < 6.12 for that reason.
"""

from __future__ import annotations

import logging
import sys

from reviewer.engine.errors import ReviewerError

#: Logger of every message Qt itself reports.
qt_log = logging.getLogger("reviewer.qt")

#: Qt messages known to be harmless, logged at DEBUG. The offscreen platform
#: plugin prints the first on every window it shows (Qt 6.11).
HARMLESS_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",)


class QtBindingsError(ReviewerError):
    """The installed Qt bindings would crash the interpreter."""


def check_qt_bindings() -> None:
    """Raise ``QtBindingsError`` when void Qt calls drop references to ``None``.

    The check calls a void Qt method 100 times and watches ``None``'s
    reference count, so it also catches other releases with the same defect.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(100):
        point.setX(1.0)
    lost = before - sys.getrefcount(None)
    if lost >= 50:
        raise QtBindingsError(
            f"PySide6 {pyside_version} drops a reference to None on every Qt call under "
            f"Python {sys.version_info.major}.{sys.version_info.minor}, which crashes the "
            "reviewer after a few repaints. Install an earlier release: "
            "pip install 'PySide6-Essentials>=6.6,<6.12'"
        )


def route_qt_messages() -> None:
    """Send Qt's messages to the ``reviewer.qt`` logger instead of stderr.

    Known harmless warnings go to DEBUG, other warnings to WARNING, critical and
    fatal messages to ERROR and CRITICAL. Installing it again is harmless, and
    it replaces any handler installed since, such as pytest-qt's.
    """
    from PySide6.QtCore import qInstallMessageHandler

    qInstallMessageHandler(_log_qt_message)


def qt_message_level(kind, message: str) -> int:
    """Return the logging level of one Qt message of type ``kind`` (a ``QtMsgType``)."""
    from PySide6.QtCore import QtMsgType

    if message in HARMLESS_QT_MESSAGES:
        return logging.DEBUG
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }
    return levels.get(kind, logging.WARNING)


def _log_qt_message(kind, context, message: str) -> None:
    qt_log.log(qt_message_level(kind, message), "%s", message)
