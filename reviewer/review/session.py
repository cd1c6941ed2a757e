"""Review session: the pairs, the selected pair, the mask threshold, the results and decisions.

The session holds no Qt object. Widgets connect to its events and redraw; tests
drive it headless. Mutate it from one thread only (the GUI thread); worker
threads hand their results over through the GUI's signals.

With a ``DecisionStore``, every decision is written to disk before ``decide``
returns, and each selection is remembered so that reopening the file resumes
at the same pair.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reviewer.engine.annotations import Annotation, AnnotationSet
from reviewer.engine.errors import ReviewerError
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore, ScoreConfig
from reviewer.review.decisions import DecisionStore, DecisionStoreError
from reviewer.review.pairs import Pair, merge_pairs, ranked_pairs
from reviewer.review.records import DecisionRecord, Evidence, pair_key

log = logging.getLogger(__name__)


class Event:
    """A list of callbacks called in order by ``emit``."""

    def __init__(self) -> None:
        self._callbacks: list[Callable] = []

    def connect(self, callback: Callable) -> None:
        """Call ``callback`` on every ``emit``."""
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable) -> None:
        """Stop calling ``callback``; a callback never connected is ignored."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args) -> None:
        """Call every connected callback with ``args``."""
        for callback in list(self._callbacks):
            callback(*args)


@dataclass
class SessionEvents:
    """Events of a review session."""

    selection: Event = field(default_factory=Event)  # (index,) another pair was selected
    score_config: Event = field(default_factory=Event)  # (ScoreConfig,) threshold or weighting
    result: Event = field(default_factory=Event)  # (pair key,) a heavy result or error arrived
    decision: Event = field(default_factory=Event)  # (unordered pair key,) decided or undone
    pairs: Event = field(
        default_factory=Event
    )  # () the pair list was replaced, nothing selected yet


class ReviewSession:
    """State of one review: which pair is shown, how it is scored and what was decided.

    Parameters
    ----------
    annots : AnnotationSet
    pairs : list of Pair
        The pairs to review, in list order.
    problems : list of str
        Load messages to show the user.
    store : DecisionStore, optional
        Where decisions go. Without one, the session records no decisions.
    reviewer : str
        Name stored with each decision.

    Raises
    ------
    DecisionStoreError
        The store cannot register the annotation file.
    """

    def __init__(
        self,
        annots: AnnotationSet,
        pairs: list[Pair],
        problems: list[str] = (),
        store: DecisionStore | None = None,
        reviewer: str = "",
    ):
        self.annots = annots
        self.pairs = list(pairs)
        # The pairs that follow a ranking's pairs in the list.
        self._unranked = [pair for pair in self.pairs if pair.source != "rank"]
        self.problems = list(problems)
        self.events = SessionEvents()
        self.store = store
        self.reviewer = reviewer
        self._index = -1
        self._score_config = ScoreConfig()
        self._results: dict[tuple[str, str], PairMatch] = {}
        self._errors: dict[tuple[str, str], str] = {}
        self._file = store.open_annotation_file(annots.path) if store else None
        self._decisions = store.current(self._file) if store else {}
        self._resume_warned = False

    # Selection ---------------------------------------------------------------------------

    @property
    def index(self) -> int:
        """Index of the selected pair in ``pairs``; -1 when none is selected."""
        return self._index

    @index.setter
    def index(self, value: int) -> None:
        if not -1 <= value < len(self.pairs):
            raise IndexError(f"pair index {value} is outside 0..{len(self.pairs) - 1}")
        if value != self._index:
            self._index = value
            self._remember_selection()
            self.events.selection.emit(value)

    @property
    def current(self) -> Pair | None:
        """The selected pair."""
        return self.pairs[self._index] if self._index >= 0 else None

    # Pair list ---------------------------------------------------------------------------

    def show_ranking(
        self,
        query: Annotation,
        candidates: Sequence[Annotation],
        top: int,
        warnings: Sequence[str] = (),
    ) -> list[Pair]:
        """List the query's best ``top`` candidates first, in rank order, and select rank 1.

        The pairs of an earlier ranking leave the list. The pairs the session
        opened with follow the ranked ones, except those with the same two aids
        as a ranked pair. Decisions, heavy results and errors are kept, because
        they are stored by aid pair. ``events.pairs`` fires with nothing selected, then
        ``events.selection`` for the new selection: rank 1, else the first
        pair, else none (-1).

        Parameters
        ----------
        query : Annotation
            Chip A of every ranked pair.
        candidates : sequence of Annotation
            The ranking's candidates, best first.
        top : int
            How many candidates to list, at least 1.
        warnings : sequence of str
            Messages of the ranking for the user; each is added to ``problems`` once.

        Returns
        -------
        list of Pair
            The ranked pairs, in rank order.

        Raises
        ------
        ValueError
            ``top`` is below 1.
        """
        if top < 1:
            raise ValueError(f"top must be at least 1, not {top}")
        ranked = ranked_pairs(query, list(candidates)[:top])
        self.problems += [warning for warning in warnings if warning not in self.problems]
        self._replace_pairs(merge_pairs(ranked, self._unranked))
        log.info("Listed %d ranked candidates for query aid %s", len(ranked), query.aid)
        return ranked

    def _replace_pairs(self, pairs: list[Pair]) -> None:
        """Put ``pairs`` in the list and select the first one."""
        self.pairs = pairs
        self._index = -1
        self.events.pairs.emit()
        if pairs:
            self.index = 0
        else:
            self.events.selection.emit(-1)

    # Scoring settings --------------------------------------------------------------------

    @property
    def score_config(self) -> ScoreConfig:
        """Threshold and weighting used for every live score."""
        return self._score_config

    @property
    def threshold(self) -> float:
        """Mask threshold t in [0, 1]."""
        return self._score_config.threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self._set_score_config(ScoreConfig(float(value), self._score_config.fg_weighting))

    @property
    def fg_weighting(self) -> bool:
        """Whether fgweights weight the score (False: every weight is 1)."""
        return self._score_config.fg_weighting

    @fg_weighting.setter
    def fg_weighting(self, value: bool) -> None:
        self._set_score_config(ScoreConfig(self._score_config.threshold, bool(value)))

    def _set_score_config(self, config: ScoreConfig) -> None:
        if config != self._score_config:
            self._score_config = config
            self.events.score_config.emit(config)

    # Results -----------------------------------------------------------------------------

    def set_result(self, key: tuple[str, str], match: PairMatch) -> None:
        """Store the heavy result of a pair."""
        self._results[key] = match
        self._errors.pop(key, None)
        self.events.result.emit(key)

    def set_error(self, key: tuple[str, str], message: str) -> None:
        """Store why a pair could not be matched."""
        self._errors[key] = message
        self._results.pop(key, None)
        log.error("Pair %s vs %s failed: %s", *key, message)
        self.events.result.emit(key)

    def result(self, key: tuple[str, str] | None = None) -> PairMatch | None:
        """Heavy result of a pair (default: the selected one), or None."""
        key = key or (self.current.key if self.current else None)
        return self._results.get(key) if key else None

    def error(self, key: tuple[str, str] | None = None) -> str | None:
        """Error message of a pair (default: the selected one), or None."""
        key = key or (self.current.key if self.current else None)
        return self._errors.get(key) if key else None

    def current_score(self) -> PairScore | None:
        """Live score of the selected pair under the current threshold and weighting."""
        match = self.result()
        return match.score(self._score_config) if match is not None else None

    # Decisions ---------------------------------------------------------------------------

    @property
    def can_decide(self) -> bool:
        """True when a decision store is open, so decisions can be recorded."""
        return self.store is not None

    def decision(self, index: int | None = None) -> DecisionRecord | None:
        """Current decision of a pair (default: the selected one), or None while it is open."""
        index = self._index if index is None else index
        if not 0 <= index < len(self.pairs):
            return None
        return self._decisions.get(pair_key(*self.pairs[index].key))

    @property
    def num_decided(self) -> int:
        """How many pairs of the list have a decision."""
        return sum(pair_key(*pair.key) in self._decisions for pair in self.pairs)

    def decide(
        self, decision: str, confidence: str, tags: tuple[str, ...] = (), note: str = ""
    ) -> DecisionRecord:
        """Record a decision about the selected pair, with what the view shows as evidence.

        The decision is committed to the store before this returns.

        Raises
        ------
        ReviewerError
            No pair is selected or no decision store is open.
        DecisionStoreError
            The store cannot be written.
        ValueError
            ``decision``, ``confidence`` or a tag is invalid.
        """
        pair = self.current
        if pair is None or self.store is None:
            raise ReviewerError(
                "Select a pair first." if pair is None else "No decision file is open."
            )
        record = DecisionRecord(
            aid_a=pair.a.key,
            aid_b=pair.b.key,
            decision=decision,
            confidence=confidence,
            evidence=Evidence.from_view(self._score_config, self.result(), self.current_score()),
            tags=tuple(tags),
            note=note.strip(),
            reviewer=self.reviewer.strip(),
        )
        record = self.store.record(self._file, record)
        self._decisions[record.key] = record
        self.events.decision.emit(record.key)
        return record

    def undo(self) -> DecisionRecord | None:
        """Cancel the latest decision in this annotation file and select its pair.

        Returns the undone decision, or None when there is nothing to undo. The
        pair gets back its decision before that one, or becomes open.
        """
        if self.store is None:
            return None
        undone = self.store.undo_last(self._file, self.reviewer.strip())
        if undone is None:
            return None
        self._decisions = self.store.current(self._file)
        index = self._index_of(undone.key)
        if index >= 0:
            self.index = index
        self.events.decision.emit(undone.key)
        return undone

    def next_undecided(self, start: int | None = None) -> int:
        """Index of the first open pair after ``start`` (default: the selection), wrapping.

        Returns -1 when every pair is decided.
        """
        start = self._index if start is None else start
        count = len(self.pairs)
        for step in range(1, count + 1):
            index = (start + step) % count
            if self.decision(index) is None:
                return index
        return -1

    def step(self, offset: int) -> None:
        """Select the pair ``offset`` places away, stopping at either end of the list."""
        if self.pairs:
            self.index = min(max(self._index + offset, 0), len(self.pairs) - 1)

    def resume_index(self) -> int:
        """Index to open at: the pair selected last time, else the first open pair, else 0.

        Returns -1 when there are no pairs.
        """
        if not self.pairs:
            return -1
        last = self.store.last_pair(self._file) if self.store else None
        if last is not None:
            index = self._index_of(pair_key(*last))
            if index >= 0:
                return index
        return max(self.next_undecided(-1), 0)

    def _index_of(self, key: tuple[str, str]) -> int:
        for index, pair in enumerate(self.pairs):
            if pair_key(*pair.key) == key:
                return index
        return -1

    def _remember_selection(self) -> None:
        """Store the selected pair for resuming; a failure costs only the resume point."""
        pair = self.current
        if self.store is None or pair is None:
            return
        try:
            self.store.set_last_pair(self._file, *pair.key)
        except DecisionStoreError as err:
            if not self._resume_warned:
                log.warning("Cannot store the selected pair for resuming: %s", err)
                self._resume_warned = True
