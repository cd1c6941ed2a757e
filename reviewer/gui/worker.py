"""The heavy path off the GUI thread: one ``Matcher.match`` at a time, cancellable."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from reviewer.engine.errors import Cancelled, ReviewerError
from reviewer.engine.pipeline import Matcher
from reviewer.review.pairs import Pair

log = logging.getLogger(__name__)


class _JobSignals(QObject):
    """Signals of one job; Qt queues them from the worker thread to the GUI thread.

    Each carries the job itself first, so the runner can tell which job sent it.
    """

    progress = Signal(object, float, str)  # (job, fraction in [0, 1], message)
    finished = Signal(object, object)  # (job, PairMatch)
    failed = Signal(object, str)  # (job, message for the user)
    cancelled = Signal(object)  # (job,)


class _MatchJob(QRunnable):
    def __init__(self, matcher: Matcher, pair: Pair):
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps the Python object until its signal arrives
        self.matcher, self.pair = matcher, pair
        self.cancel = threading.Event()
        self.signals = _JobSignals()

    def run(self) -> None:
        key = self.pair.key
        try:
            match = self.matcher.match(
                self.pair.a, self.pair.b, progress=self._report, cancel=self.cancel
            )
        except Cancelled:
            log.info("Matching aid %s vs aid %s was cancelled", *key)
            self.signals.cancelled.emit(self)
        except ReviewerError as err:
            self.signals.failed.emit(self, str(err))
        except Exception as err:  # noqa: BLE001 -- any bug must reach the window, not kill the thread
            log.exception("Unexpected error while matching aid %s vs aid %s", *key)
            self.signals.failed.emit(
                self, f"Unexpected error ({type(err).__name__}: {err}). The log has the traceback."
            )
        else:
            self.signals.finished.emit(self, match)

    def _report(self, fraction: float, message: str) -> None:
        self.signals.progress.emit(self, fraction, message)


class MatchRunner(QObject):
    """Runs ``Matcher.match`` for one pair at a time on a private worker thread.

    Starting a new pair cancels the job before it. Only the current job reports
    progress and cancellation; results and errors of every job are forwarded,
    so finished work is never lost.
    """

    progress = Signal(float, str)  # fraction in [0, 1] and message of the current job
    finished = Signal(object, object)  # (pair key, PairMatch)
    failed = Signal(object, str)  # (pair key, message)
    cancelled = Signal(object)  # (pair key,) of the current job

    def __init__(self, matcher: Matcher, parent: QObject | None = None):
        super().__init__(parent)
        self.matcher = matcher
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._jobs: list[_MatchJob] = []
        self._current: _MatchJob | None = None

    def start(self, pair: Pair) -> None:
        """Match ``pair`` in the worker, cancelling the current job first."""
        self.cancel()
        job = _MatchJob(self.matcher, pair)
        job.signals.progress.connect(self._on_progress)
        job.signals.finished.connect(self._on_finished)
        job.signals.failed.connect(self._on_failed)
        job.signals.cancelled.connect(self._on_cancelled)
        self._jobs.append(job)
        self._current = job
        log.info("Matching aid %s vs aid %s in the worker thread", *pair.key)
        self._pool.start(job)

    def cancel(self) -> None:
        """Ask the current job to stop at its next progress step."""
        if self._current is not None:
            self._current.cancel.set()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel every job and wait for the worker; return False on timeout."""
        for job in self._jobs:
            job.cancel.set()
        return self._pool.waitForDone(timeout_ms)

    def _on_progress(self, job: _MatchJob, fraction: float, message: str) -> None:
        if job is self._current:
            self.progress.emit(fraction, message)

    def _on_finished(self, job: _MatchJob, match) -> None:
        self._forget(job)
        self.finished.emit(job.pair.key, match)

    def _on_failed(self, job: _MatchJob, message: str) -> None:
        self._forget(job)
        self.failed.emit(job.pair.key, message)

    def _on_cancelled(self, job: _MatchJob) -> None:
        was_current = self._forget(job)
        if was_current:
            self.cancelled.emit(job.pair.key)

    def _forget(self, job: _MatchJob) -> bool:
        """Drop a job that has ended; return True when it was the current one."""
        if job in self._jobs:
            self._jobs.remove(job)
        if job is self._current:
            self._current = None
            return True
        return False
