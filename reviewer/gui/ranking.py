"""Ranking from the main window: the query dialog, and the controller that lists the result.

The controller runs ``RankRunner``, shows its progress on the window's progress
bar and its messages on the status line, and hands the candidates to the
``ReviewSession``, which replaces the pair list.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from reviewer.engine.annotations import AnnotationSet
from reviewer.gui.panels import ERROR_STYLE
from reviewer.gui.rank_runner import RankRequest, RankRunner
from reviewer.review.session import ReviewSession

log = logging.getLogger(__name__)

#: Default and maximum number of candidates the dialog lists.
DEFAULT_TOP = 10
MAX_TOP = 1000


class RankDialog(QDialog):
    """Dialog for the query aid and the number of candidates. It accepts only an aid of the file."""

    def __init__(self, annots: AnnotationSet, aid: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.annots = annots
        self.setWindowTitle("Rank candidates")
        self.aid = QLineEdit(aid)
        self.aid.setToolTip("aid of the query annotation; its species is the catalog")
        self.top = QSpinBox()
        self.top.setRange(1, MAX_TOP)
        self.top.setValue(DEFAULT_TOP)
        self.top.setToolTip("How many of the best candidates to list as pairs")
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Query aid", self.aid)
        form.addRow("Candidates", self.top)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.aid.selectAll()

    def request(self) -> RankRequest:
        """Return the query and the number of candidates as entered."""
        return RankRequest(self.aid.text().strip(), self.top.value())

    def accept(self) -> None:
        """Close with the request, or stay open and show why the aid is invalid."""
        aid = self.aid.text().strip()
        if aid in self.annots.skipped:
            self._show_error(
                f"aid {aid!r} was skipped when {self.annots.path.name} was loaded: "
                f"{self.annots.skipped[aid]}"
            )
        elif aid not in self.annots.annots:
            self._show_error(
                f"aid {aid!r} is not in {self.annots.path.name}. Enter the aid of an annotation."
                if aid
                else "Enter the aid of the query annotation."
            )
        else:
            super().accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class RankController(QObject):
    """Controller that runs the rank job for the window and lists the query's best candidates.

    While a ranking runs, it owns the progress bar. A cancelled or failed
    ranking, or one where nothing passes sver, leaves the pair list unchanged.
    """

    message = Signal(str, bool)  # (text for the status line, True when it reports an error)
    busy_changed = Signal(bool)  # True when a ranking starts, False when it ends
    ended = Signal(bool, str)  # (False when it failed or was cancelled, status message)

    def __init__(
        self,
        session: ReviewSession,
        runner: RankRunner,
        progress: QProgressBar,
        parent: QWidget,
    ):
        super().__init__(parent)
        self.session, self.runner, self.progress = session, runner, progress
        self.dialog: RankDialog | None = None  # the latest query dialog
        runner.progress.connect(self._on_progress)
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)

    @property
    def busy(self) -> bool:
        """True while a ranking runs."""
        return self.runner.busy

    def ask(self) -> None:
        """Open the query dialog, with chip A of the selected pair as the default query.

        The dialog is window-modal but does not block, so the ranking starts
        when it is accepted.
        """
        current = self.session.current
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = RankDialog(
            self.session.annots, current.a.key if current else "", self.parent()
        )
        self.dialog.accepted.connect(lambda dialog=self.dialog: self.start(dialog.request()))
        self.dialog.open()

    def start(self, request: RankRequest) -> None:
        """Rank ``request.query`` in the worker, cancelling a ranking that still runs."""
        self.progress.setValue(0)
        self.message.emit(f"Ranking aid {request.query} against its species …", False)
        self.runner.start(self.session.annots, request)
        self.busy_changed.emit(True)

    def cancel(self) -> None:
        """Ask the running ranking to stop. The pair list stays as it is."""
        self.runner.cancel()

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(fraction * self.progress.maximum()))
        self.message.emit(f"Ranking: {message}", False)

    def _on_finished(self, request: RankRequest, result) -> None:
        self.progress.setValue(self.progress.maximum())
        self.busy_changed.emit(False)
        query = request.query
        if not result.candidates:
            for warning in result.warnings:
                log.warning("Ranking aid %s: %s", query, warning)
            self._end(
                f"No candidates for aid {query}: {result.no_candidates_reason()}. "
                "The pair list is unchanged.",
            )
            return
        found, listed = len(result.candidates), min(request.top, len(result.candidates))
        self._end(f"aid {query}: {found} verified candidates, the best {listed} listed.")
        annots = [candidate.annot for candidate in result.candidates]
        self.session.show_ranking(result.query, annots, request.top, result.warnings)

    def _on_failed(self, request: RankRequest, message: str) -> None:
        self.progress.setValue(0)
        self.busy_changed.emit(False)
        self._end(f"Ranking aid {request.query} failed: {message}", ranked=False, is_error=True)

    def _on_cancelled(self, request: RankRequest) -> None:
        self.progress.setValue(0)
        self.busy_changed.emit(False)
        self._end(
            f"Ranking aid {request.query} was cancelled; the pair list is unchanged.", ranked=False
        )

    def _end(self, text: str, ranked: bool = True, is_error: bool = False) -> None:
        self.message.emit(text, is_error)
        self.ended.emit(ranked, text)
