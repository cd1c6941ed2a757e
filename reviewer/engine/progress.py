"""Progress, cancellation and stage timings of the heavy path.

Long work reports a fraction in [0, 1] with a message, and checks a cancel
token at every report. When two annotations are computed in parallel threads,
``MergedProgress`` turns their two fractions into one that never goes down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Protocol

from reviewer.engine.errors import Cancelled

#: Called with (fraction done in [0, 1], message) as the heavy path advances.
ProgressCallback = Callable[[float, str], None]


class CancelToken(Protocol):
    """Anything with ``is_set()``, such as ``threading.Event``."""

    def is_set(self) -> bool: ...


class Reporter:
    """Forwards progress to a callback and raises ``Cancelled`` when asked to stop."""

    def __init__(
        self,
        callback: ProgressCallback | None,
        cancel: CancelToken | None,
        start: float = 0.0,
        stop: float = 1.0,
    ):
        self.callback, self.cancel, self.start, self.stop = callback, cancel, start, stop

    def __call__(self, fraction: float, message: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(message)
        if self.callback is not None:
            self.callback(self.start + fraction * (self.stop - self.start), message)

    def scaled(self, start: float, stop: float) -> Reporter:
        """Return a reporter that maps [0, 1] onto [start, stop] of this one's range."""
        span = self.stop - self.start
        return Reporter(
            self.callback, self.cancel, self.start + start * span, self.start + stop * span
        )


class MergedProgress:
    """Merges the progress of parallel jobs into one fraction that never goes down.

    Each job reports its own fraction in [0, 1]; the parent receives their mean.
    ``stop`` makes every job raise ``Cancelled`` at its next report, which is
    how one job's error ends the others early.
    """

    def __init__(self, report: Reporter, jobs: int):
        self._report = report
        self._fractions = [0.0] * jobs
        self._shown = 0.0
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def job(self, index: int) -> Callable[[float, str], None]:
        """Return the report callable of job ``index``."""

        def report(fraction: float, message: str) -> None:
            if self._stopped.is_set():
                raise Cancelled(message)
            with self._lock:
                self._fractions[index] = fraction
                self._shown = max(self._shown, sum(self._fractions) / len(self._fractions))
                self._report(self._shown, message)  # raises Cancelled when the user cancels

        return report

    def stop(self) -> None:
        """Make every job raise ``Cancelled`` at its next report."""
        self._stopped.set()


def results_or_first_error(futures: list[Future]) -> list:
    """Return the futures' results, or raise the first error that is not a ``Cancelled``.

    A job stopped because another one failed raises ``Cancelled``; the other
    job's error is the one the user needs to see.
    """
    errors = [future.exception() for future in futures if future.exception() is not None]
    if errors:
        real = [error for error in errors if not isinstance(error, Cancelled)]
        raise (real or errors)[0]
    return [future.result() for future in futures]


@contextmanager
def timed(timings: dict[str, float], stage: str):
    """Add the block's wall time, in ms, to ``timings[stage]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - start) * 1000.0


def sum_timings(*parts: dict[str, float]) -> dict[str, float]:
    """Add up the ms of each stage over several timing dicts."""
    total: dict[str, float] = {}
    for part in parts:
        for stage, ms in part.items():
            total[stage] = total.get(stage, 0.0) + ms
    return total
