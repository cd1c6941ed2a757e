"""Workarounds for defects of the installed Qt bindings.

PySide6-Essentials 6.12.0 on Python 3.11 drops one reference to ``None`` on
every call of a C++ method that returns void (``QPainter.drawLine``,
``QWidget.update``, ...). Python 3.12 made ``None`` immortal, so only 3.11 is
hurt there: after some tens of thousands of such calls, a few dozen repaints of
the match views, ``None``'s reference count reaches zero and the interpreter
aborts with "none_dealloc: deallocating None". PySide6-Essentials 6.11.3 does
not drop the reference (checked with Python 3.11 on Linux x86-64).
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

#: References added to None when the defect is found: far more void calls than
#: any session makes, and far below the Py_ssize_t limit.
_EXTRA_NONE_REFS = 1 << 40

_guarded = False


def guard_none_refcount() -> bool:
    """Protect ``None`` from Qt bindings that drop a reference to it on every void call.

    The check calls a void Qt method 100 times and watches ``None``'s reference
    count. Only when it falls does this add ``_EXTRA_NONE_REFS`` references, so
    ``None`` behaves as the immortal object it is from Python 3.12 on.

    Returns
    -------
    bool
        True when the defect was found (now or in an earlier call) and worked around.
    """
    global _guarded
    if _guarded:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(100):
        point.setX(1.0)
    lost = before - sys.getrefcount(None)
    if lost < 50:
        return False

    # NOTE: writes ob_refcnt, the first field of every CPython object; remove
    # once the project requires bindings without the defect.
    ctypes.c_ssize_t.from_address(id(None)).value += _EXTRA_NONE_REFS
    _guarded = True
    log.warning(
        "PySide6 %s drops a reference to None on every void call (lost %d of 100); "
        "None was given extra references so the program cannot abort. "
        "Install PySide6-Essentials<6.12 to avoid the defect.",
        pyside_version,
        lost,
    )
    return True
