"""One-vs-many ranking off the GUI thread: one ``rank_aid`` at a time, cancellable."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from reviewer.engine.annotations import AnnotationSet
from reviewer.engine.errors import Cancelled, ReviewerError
from reviewer.engine.pipeline import Matcher
from reviewer.engine.scoring import ScoreConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankRequest:
    """A query to rank against its species, and how many candidates to list."""

    query: int | str  # aid of the query annotation
    top: int = 10  # candidates to list, at least 1

    def __post_init__(self):
        if self.top < 1:
            raise ValueError(f"top must be at least 1, not {self.top}")


class _RankSignals(QObject):
    """Signals of one job, queued from the worker thread to the GUI thread.

    Each carries the job first, so the runner can tell which job sent it.
    """

    progress = Signal(object, float, str)  # (job, fraction in [0, 1], message)
    finished = Signal(object, object)  # (job, RankResult)
    failed = Signal(object, str)  # (job, message for the user)
    cancelled = Signal(object)  # (job,)


class _RankJob(QRunnable):
    def __init__(
        self,
        annots: AnnotationSet,
        request: RankRequest,
        matcher: Matcher,
        score_config: ScoreConfig | None,
    ):
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps the Python object until its signal arrives
        self.annots, self.request, self.matcher = annots, request, matcher
        self.score_config = score_config
        self.cancel = threading.Event()
        self.signals = _RankSignals()

    def run(self) -> None:
        query = self.request.query
        try:
            result = self._rank()
        except Cancelled:
            log.info("Ranking aid %s was cancelled", query)
            self.signals.cancelled.emit(self)
        except ReviewerError as err:
            log.error("Ranking aid %s failed: %s", query, err)
            self.signals.failed.emit(self, str(err))
        except Exception as err:  # noqa: BLE001 -- any bug must reach the window, not kill the thread
            log.exception("Unexpected error while ranking aid %s", query)
            self.signals.failed.emit(
                self, f"Unexpected error ({type(err).__name__}: {err}). The log has the traceback."
            )
        else:
            # The last step (neighbour search and sver) does not check the cancel
            # token, so a cancel that arrives during it is honoured here.
            if self.cancel.is_set():
                log.info("Ranking aid %s was cancelled; its result is dropped", query)
                self.signals.cancelled.emit(self)
            else:
                self.signals.finished.emit(self, result)

    def _rank(self):
        from reviewer.engine.vsmany import rank_aid  # imports pyflann only when ranking

        try:
            self.annots.get(self.request.query)
        except KeyError as err:
            raise ReviewerError(err.args[0]) from None
        return rank_aid(
            self.annots,
            self.request.query,
            self.matcher,
            score_config=self.score_config,
            progress=self._report,
            cancel=self.cancel,
        )

    def _report(self, fraction: float, message: str) -> None:
        self.signals.progress.emit(self, fraction, message)


class RankRunner(QObject):
    """Worker that runs ``rank_aid`` for one query at a time on a private thread.

    The vsmany preset ranks the query against the annotations of its species,
    with annotations of the query's own photo excluded, as ``reviewer rank``
    does without options. Starting a new ranking cancels the one before it.
    Only the latest ranking reports anything, because an earlier one's
    candidates would overwrite the newer request.
    """

    progress = Signal(float, str)  # fraction in [0, 1] and message
    finished = Signal(object, object)  # (RankRequest, RankResult)
    failed = Signal(object, str)  # (RankRequest, message for the user)
    cancelled = Signal(object)  # (RankRequest,)

    def __init__(self, matcher: Matcher, parent: QObject | None = None):
        super().__init__(parent)
        self.matcher = matcher
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._jobs: list[_RankJob] = []
        self._current: _RankJob | None = None

    @property
    def busy(self) -> bool:
        """True from ``start`` until the latest ranking has reported its end."""
        return self._current is not None

    def start(
        self,
        annots: AnnotationSet,
        request: RankRequest,
        score_config: ScoreConfig | None = None,
    ) -> None:
        """Rank ``request.query`` in the worker, cancelling the current ranking first.

        ``score_config`` sets the threshold and weighting of the prescore and
        sver. The default is t = 0 with weighting on.
        """
        self.cancel()
        job = _RankJob(annots, request, self.matcher, score_config)
        job.signals.progress.connect(self._on_progress)
        job.signals.finished.connect(self._on_finished)
        job.signals.failed.connect(self._on_failed)
        job.signals.cancelled.connect(self._on_cancelled)
        self._jobs.append(job)
        self._current = job
        log.info("Ranking aid %s in the worker thread", request.query)
        self._pool.start(job)

    def cancel(self) -> None:
        """Ask the current ranking to stop at its next step.

        The ranking checks after each annotation's features, after the
        neighbour search and before each shortlisted annotation's sver.
        """
        if self._current is not None:
            self._current.cancel.set()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel every ranking and wait for the worker. Returns False on timeout."""
        for job in self._jobs:
            job.cancel.set()
        return self._pool.waitForDone(timeout_ms)

    def _on_progress(self, job: _RankJob, fraction: float, message: str) -> None:
        if job is self._current:
            self.progress.emit(fraction, message)

    def _on_finished(self, job: _RankJob, result) -> None:
        if self._forget(job):
            self.finished.emit(job.request, result)

    def _on_failed(self, job: _RankJob, message: str) -> None:
        if self._forget(job):
            self.failed.emit(job.request, message)

    def _on_cancelled(self, job: _RankJob) -> None:
        if self._forget(job):
            self.cancelled.emit(job.request)

    def _forget(self, job: _RankJob) -> bool:
        """Drop a job that has ended. Returns True when it was the current one."""
        if job in self._jobs:
            self._jobs.remove(job)
        if job is self._current:
            self._current = None
            return True
        return False
