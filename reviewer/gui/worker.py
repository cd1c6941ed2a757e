"""Heavy work off the GUI thread: one cancellable job at a time per runner.

``JobRunner`` owns a one-thread pool. Starting a job cancels the one before it,
and only the current job reports progress. ``MatchRunner`` runs
``Matcher.match`` for a pair; ``reviewer.gui.rank_runner`` builds its ranking
runner on the same classes.
"""

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
    finished = Signal(object, object)  # (job, result)
    failed = Signal(object, str)  # (job, message for the user)
    cancelled = Signal(object)  # (job,)


class WorkerJob(QRunnable):
    """A cancellable job; a subclass implements ``compute`` and sets ``label``."""

    label = "job"  # what the job does, for the log: "matching aid 3 vs aid 5"
    # True: a cancel that arrives after ``compute`` returned still drops the result.
    drop_late_results = False

    def __init__(self):
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps the Python object until its signal arrives
        self.cancel = threading.Event()
        self.signals = _JobSignals()

    def compute(self):
        """Do the work; call ``self.report`` with progress and honour ``self.cancel``."""
        raise NotImplementedError

    def run(self) -> None:
        try:
            result = self.compute()
        except Cancelled:
            log.info("Stopped %s: cancelled", self.label)
            self.signals.cancelled.emit(self)
        except ReviewerError as err:
            log.error("Failed %s: %s", self.label, err)
            self.signals.failed.emit(self, str(err))
        except Exception as err:  # noqa: BLE001 -- any bug must reach the window, not kill the thread
            log.exception("Unexpected error while %s", self.label)
            self.signals.failed.emit(
                self, f"Unexpected error ({type(err).__name__}: {err}). The log has the traceback."
            )
        else:
            if self.drop_late_results and self.cancel.is_set():
                log.info("Dropped the result of %s: cancelled", self.label)
                self.signals.cancelled.emit(self)
            else:
                self.signals.finished.emit(self, result)

    def report(self, fraction: float, message: str) -> None:
        """Send progress to the runner."""
        self.signals.progress.emit(self, fraction, message)


class JobRunner(QObject):
    """Runs one ``WorkerJob`` at a time on a private worker thread.

    Starting a job cancels the one before it. Only the current job reports
    progress and cancellation. With ``forward_stale_results``, results and
    errors of earlier jobs are forwarded too, so finished work is never lost;
    without it only the current job reports.
    """

    progress = Signal(float, str)  # fraction in [0, 1] and message of the current job
    finished = Signal(object, object)  # (job id, result)
    failed = Signal(object, str)  # (job id, message)
    cancelled = Signal(object)  # (job id,) of the current job

    forward_stale_results = False

    def __init__(self, matcher: Matcher, parent: QObject | None = None):
        super().__init__(parent)
        self.matcher = matcher
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._jobs: list[WorkerJob] = []
        self._current: WorkerJob | None = None

    @property
    def busy(self) -> bool:
        """True from ``start`` until the latest job has reported its end."""
        return self._current is not None

    def job_id(self, job: WorkerJob) -> object:
        """Return what the signals name a job by."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Ask the current job to stop at its next progress step."""
        if self._current is not None:
            self._current.cancel.set()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel every job and wait for the worker; return False on timeout."""
        for job in self._jobs:
            job.cancel.set()
        return self._pool.waitForDone(timeout_ms)

    def _launch(self, job: WorkerJob) -> None:
        self.cancel()
        job.signals.progress.connect(self._on_progress)
        job.signals.finished.connect(self._on_finished)
        job.signals.failed.connect(self._on_failed)
        job.signals.cancelled.connect(self._on_cancelled)
        self._jobs.append(job)
        self._current = job
        log.info("Started %s in the worker thread", job.label)
        self._pool.start(job)

    def _on_progress(self, job: WorkerJob, fraction: float, message: str) -> None:
        if job is self._current:
            self.progress.emit(fraction, message)

    def _on_finished(self, job: WorkerJob, result) -> None:
        if self._forget(job) or self.forward_stale_results:
            self.finished.emit(self.job_id(job), result)

    def _on_failed(self, job: WorkerJob, message: str) -> None:
        if self._forget(job) or self.forward_stale_results:
            self.failed.emit(self.job_id(job), message)

    def _on_cancelled(self, job: WorkerJob) -> None:
        if self._forget(job):
            self.cancelled.emit(self.job_id(job))

    def _forget(self, job: WorkerJob) -> bool:
        """Drop a job that has ended; return True when it was the current one."""
        if job in self._jobs:
            self._jobs.remove(job)
        if job is self._current:
            self._current = None
            return True
        return False


class _MatchJob(WorkerJob):
    def __init__(self, matcher: Matcher, pair: Pair):
        super().__init__()
        self.matcher, self.pair = matcher, pair
        self.label = "matching aid {} vs aid {}".format(*pair.key)

    def compute(self):
        pair = self.pair
        return self.matcher.match(pair.a, pair.b, progress=self.report, cancel=self.cancel)


class MatchRunner(JobRunner):
    """Runs ``Matcher.match`` for one pair at a time; signals name a job by its pair key.

    A pair finished after the user moved on is still forwarded, so the work is
    kept for when the user comes back.
    """

    forward_stale_results = True

    def start(self, pair: Pair) -> None:
        """Match ``pair`` in the worker, cancelling the current job first."""
        self._launch(_MatchJob(self.matcher, pair))

    def job_id(self, job: _MatchJob) -> tuple[str, str]:
        """Return the pair key of a job."""
        return job.pair.key
