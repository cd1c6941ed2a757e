"""A check for Qt bindings with a known fatal defect.

PySide6-Essentials 6.12.0 on Python 3.11 drops one reference to ``None`` on
every call of a C++ method that returns void (``QPainter.drawLine``,
``QWidget.update``, ...). Python 3.12 made ``None`` immortal, so only 3.11 is
hurt: after some tens of thousands of such calls, a few dozen repaints of the
match views, the interpreter aborts with "none_dealloc: deallocating None".
6.11.3 does not drop the reference (checked with Python 3.11 on Linux x86-64),
and ``pyproject.toml`` requires PySide6-Essentials < 6.12 for that reason.
"""

from __future__ import annotations

import sys

from reviewer.engine.errors import ReviewerError


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
