"""The check for Qt bindings that drop references to None."""

import sys

from PySide6.QtCore import QPointF

from reviewer.render.qt_compat import check_qt_bindings


def test_installed_bindings_pass_check():
    check_qt_bindings()


def test_none_survives_many_void_calls():
    # More void calls than None has references: bindings with the defect
    # would abort the interpreter here.
    calls = min(sys.getrefcount(None), 10**6) + 1000
    point = QPointF()
    for _ in range(calls):
        point.setX(1.0)
    assert sys.getrefcount(None) > 0
