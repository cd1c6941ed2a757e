"""The check for Qt bindings that drop references to None, and Qt's messages in logging."""

import logging
import sys

from PySide6.QtCore import QPointF, QtMsgType, qWarning

from reviewer.render.qt_compat import (
    HARMLESS_QT_MESSAGES,
    check_qt_bindings,
    qt_message_level,
    route_qt_messages,
)


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


# Qt messages ------------------------------------------------------------------------------


def test_harmless_message_is_debug():
    message = HARMLESS_QT_MESSAGES[0]
    assert qt_message_level(QtMsgType.QtWarningMsg, message) == logging.DEBUG


def test_other_warning_is_warning():
    assert qt_message_level(QtMsgType.QtWarningMsg, "QPainter::end failed") == logging.WARNING


def test_critical_is_error():
    assert qt_message_level(QtMsgType.QtCriticalMsg, "out of memory") == logging.ERROR


def test_qt_warning_reaches_logging(qapp, caplog):
    caplog.set_level(logging.DEBUG, logger="reviewer.qt")
    route_qt_messages()
    qWarning(HARMLESS_QT_MESSAGES[0])
    qWarning("a real problem")
    levels = {record.getMessage(): record.levelno for record in caplog.records}
    assert levels[HARMLESS_QT_MESSAGES[0]] == logging.DEBUG
    assert levels["a real problem"] == logging.WARNING
