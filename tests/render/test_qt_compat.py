"""The guard that keeps None alive under Qt bindings that drop references to it."""

import sys

from PySide6.QtCore import QPointF

from reviewer.render.qt_compat import guard_none_refcount


def test_none_survives_many_void_calls():
    # More calls than None has references: without the guard, bindings that
    # drop one reference per void call would abort the interpreter here. The cap
    # keeps the loop short when an earlier test has already applied the guard.
    calls = min(sys.getrefcount(None), 10**6) + 1000
    guard_none_refcount()
    point = QPointF()
    for _ in range(calls):
        point.setX(1.0)
    assert sys.getrefcount(None) > 0


def test_guard_is_idempotent():
    assert guard_none_refcount() == guard_none_refcount()
