"""Review session: the pairs, the selected pair, the mask threshold and the results.

The session holds no Qt object. Widgets connect to its events and redraw; tests
drive it headless. Mutate it from one thread only (the GUI thread); worker
threads hand their results over through the GUI's signals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from reviewer.engine.annotations import AnnotationSet
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore, ScoreConfig
from reviewer.review.pairs import Pair

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


class ReviewSession:
    """State of one review: which pair is shown and how it is scored."""

    def __init__(self, annots: AnnotationSet, pairs: list[Pair], problems: list[str] = ()):
        self.annots = annots
        self.pairs = list(pairs)
        self.problems = list(problems)  # load messages to show the user
        self.events = SessionEvents()
        self._index = -1
        self._score_config = ScoreConfig()
        self._results: dict[tuple[str, str], PairMatch] = {}
        self._errors: dict[tuple[str, str], str] = {}

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
            self.events.selection.emit(value)

    @property
    def current(self) -> Pair | None:
        """The selected pair."""
        return self.pairs[self._index] if self._index >= 0 else None

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
