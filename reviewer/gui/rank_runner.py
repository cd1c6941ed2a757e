"""One-vs-many ranking off the GUI thread: one ``rank_aid`` at a time, cancellable."""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.engine.annotations import AnnotationSet
from reviewer.engine.errors import ReviewerError
from reviewer.engine.pipeline import Matcher
from reviewer.engine.scoring import ScoreConfig
from reviewer.gui.worker import JobRunner, WorkerJob


@dataclass(frozen=True)
class RankRequest:
    """A query to rank against its species, and how many candidates to list."""

    query: int | str  # aid of the query annotation
    top: int = 10  # candidates to list, at least 1

    def __post_init__(self):
        if self.top < 1:
            raise ValueError(f"top must be at least 1, not {self.top}")


class _RankJob(WorkerJob):
    # Only the newest request matters, so a result that arrives after a
    # cancel is dropped.
    drop_late_results = True

    def __init__(
        self,
        annots: AnnotationSet,
        request: RankRequest,
        matcher: Matcher,
        score_config: ScoreConfig | None,
    ):
        super().__init__()
        self.annots, self.request, self.matcher = annots, request, matcher
        self.score_config = score_config
        self.label = f"ranking aid {request.query}"

    def compute(self):
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
            progress=self.report,
            cancel=self.cancel,
        )


class RankRunner(JobRunner):
    """Worker that runs ``rank_aid`` for one query at a time on a private thread.

    The vsmany preset ranks the query against the annotations of its species,
    with annotations of the query's own photo excluded, as ``reviewer rank``
    does without options. Starting a new ranking cancels the one before it.
    Only the latest ranking reports anything, because an earlier one's
    candidates would overwrite the newer request. Signals name a job by its
    ``RankRequest``. The ranking checks the cancel token after each
    annotation's features, after the neighbour search and before each
    shortlisted annotation's sver.
    """

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
        self._launch(_RankJob(annots, request, self.matcher, score_config))

    def job_id(self, job: _RankJob) -> RankRequest:
        """Return the request of a job."""
        return job.request
