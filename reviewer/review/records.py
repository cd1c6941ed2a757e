"""What a reviewer decides about a pair, and the evidence the decision was made on.

A decision says whether two annotations show the same individual (``match``),
different ones (``nomatch``) or cannot be compared (``notcomp``), with a
confidence, tags, a note and the reviewer's name. Its ``Evidence`` is the
score split, threshold, models and engine settings on screen at that moment,
so a later reader can see what the reviewer was looking at.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from reviewer import __version__
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore, ScoreConfig

#: Decision values, in the order of the panel's buttons.
DECISIONS = ("match", "nomatch", "notcomp")
#: Words for each decision, as the GUI and the summary show them.
DECISION_TEXT = {"match": "match", "nomatch": "no match", "notcomp": "can't tell"}
#: Confidence values, most certain first.
CONFIDENCES = ("doubtless", "sure", "unsure", "guessing")
#: Tags with a checkbox of their own; any other tag is free text.
KNOWN_TAGS = ("photobomb", "scenerymatch")
#: Characters a tag may not contain, because exports join tags with ";".
TAG_SEPARATORS = (";", ",")
#: Matching preset that computes the scores shown in the pair view.
PAIR_PRESET = "vsone"


def aid_sort_key(aid: str) -> tuple[int, int | str]:
    """Sort integer aids numerically, before any other aid."""
    return (0, int(aid)) if aid.lstrip("-").isdigit() else (1, aid)


def pair_key(aid_a: str | int, aid_b: str | int) -> tuple[str, str]:
    """Return the unordered key of a pair: its two aids as strings, the lower first."""
    low, high = sorted((str(aid_a), str(aid_b)), key=aid_sort_key)
    return low, high


def split_tags(text: str) -> tuple[str, ...]:
    """Split free text at commas and semicolons into stripped, non-empty tags."""
    for separator in TAG_SEPARATORS[1:]:
        text = text.replace(separator, TAG_SEPARATORS[0])
    return tuple(tag.strip() for tag in text.split(TAG_SEPARATORS[0]) if tag.strip())


@dataclass(frozen=True)
class Evidence:
    """What the pair view showed when the decision was made.

    Score fields are None when the pair had no result yet (the reviewer decided
    before matching finished, or matching failed) and, for the split, when no
    background model applied.
    """

    threshold: float  # mask threshold t in [0, 1]
    fg_weighting: bool  # the session's weighting switch; a pair without a model is unweighted
    score: float | None = None
    score_foreground: float | None = None
    score_background: float | None = None
    background_share: float | None = None  # score_background / score
    background_share_unweighted: float | None = None  # the same split over raw fs sums
    model_a: str | None = None  # background model file stem of chip A; None: no model
    model_reason_a: str = ""
    model_b: str | None = None
    model_reason_b: str = ""
    preset: str = PAIR_PRESET
    config: str = ""  # JSON of the vsone and sver configs that produced the inliers
    engine_version: str = __version__

    def __post_init__(self):
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], not {self.threshold}")

    @classmethod
    def from_view(
        cls, config: ScoreConfig, match: PairMatch | None, score: PairScore | None
    ) -> Evidence:
        """Collect the evidence of a pair view: its settings, and its result when there is one."""
        if match is None or score is None:
            return cls(threshold=config.threshold, fg_weighting=config.fg_weighting)
        engine_config = {
            "vsone": dataclasses.asdict(match.matches.config),
            "sver": dataclasses.asdict(match.sver.config),
        }
        return cls(
            threshold=config.threshold,
            fg_weighting=config.fg_weighting,
            score=score.score,
            score_foreground=score.score_foreground,
            score_background=score.score_background,
            background_share=score.background_share,
            background_share_unweighted=score.background_share_unweighted,
            model_a=match.a.model.model_name,
            model_reason_a=_model_reason(match.a.model),
            model_b=match.b.model.model_name,
            model_reason_b=_model_reason(match.b.model),
            config=json.dumps(engine_config, sort_keys=True, default=str),
        )


def _model_reason(choice) -> str:
    if choice.warning:
        return f"{choice.reason} (warning: {choice.warning})"
    return choice.reason


@dataclass(frozen=True)
class DecisionRecord:
    """One decision about a pair, as stored.

    ``aid_a`` and ``aid_b`` keep the order the pair was shown in, which is the
    direction its score was computed in; the store keys the decision by the
    unordered pair.
    """

    aid_a: str
    aid_b: str
    decision: str  # one of DECISIONS
    confidence: str  # one of CONFIDENCES
    evidence: Evidence
    tags: tuple[str, ...] = ()
    note: str = ""
    reviewer: str = ""
    event_id: int | None = None  # row of the decision log; None before it is stored
    decided_at: str = ""  # ISO 8601 UTC time of storing
    annotations_path: str = ""  # resolved path of the annotation file when it was last opened
    annotations_sha256: str = ""  # its content hash at that time

    def __post_init__(self):
        if self.decision not in DECISIONS:
            raise ValueError(
                f"decision must be one of {', '.join(DECISIONS)}, not {self.decision!r}"
            )
        if self.confidence not in CONFIDENCES:
            raise ValueError(
                f"confidence must be one of {', '.join(CONFIDENCES)}, not {self.confidence!r}"
            )
        if str(self.aid_a) == str(self.aid_b):
            raise ValueError(f"a pair needs two different aids, not {self.aid_a} twice")
        for tag in self.tags:
            if not tag.strip() or any(sep in tag for sep in TAG_SEPARATORS):
                raise ValueError(
                    f"tag {tag!r} is empty or contains one of {' '.join(TAG_SEPARATORS)}"
                )

    @property
    def key(self) -> tuple[str, str]:
        """The unordered pair key, lower aid first."""
        return pair_key(self.aid_a, self.aid_b)

    @property
    def summary(self) -> str:
        """A short line such as ``match, sure, by ana``."""
        text = f"{DECISION_TEXT[self.decision]}, {self.confidence}"
        return text + (f", by {self.reviewer}" if self.reviewer else "")

    def to_row(self) -> dict:
        """Return the record as one flat row of plain values, in ``EXPORT_COLUMNS`` order."""
        row = {
            "annotations_path": self.annotations_path,
            "annotations_sha256": self.annotations_sha256,
            "aid_a": self.aid_a,
            "aid_b": self.aid_b,
            "decision": self.decision,
            "confidence": self.confidence,
            "tags": TAG_SEPARATORS[0].join(self.tags),
            "note": self.note,
            "reviewer": self.reviewer,
            "decided_at": self.decided_at,
            "event_id": self.event_id,
        }
        row.update(dataclasses.asdict(self.evidence))
        return {column: row[column] for column in EXPORT_COLUMNS}


#: Columns of an exported decision, in file order.
EXPORT_COLUMNS = (
    "annotations_path",
    "annotations_sha256",
    "aid_a",
    "aid_b",
    "decision",
    "confidence",
    "tags",
    "note",
    "reviewer",
    "decided_at",
    "event_id",
    *(f.name for f in dataclasses.fields(Evidence)),
)
