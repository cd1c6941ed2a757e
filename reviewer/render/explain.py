"""Explanations shown with a pair: flags, the score's parts, its rank and its provenance.

The flags panel of the GUI, the exported figure and its JSON sidecar use these
texts and values, so a pair reads the same on screen and on paper. A score is
always shown with its parts and, where the pair came from a ranking, as a rank
among the query's candidates. No text turns a score into a yes/no verdict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, is_dataclass

from reviewer import __version__
from reviewer.engine.flags import BURST_GAP_S, PairFlags, pair_flags
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.text import fmt_score, model_text, weighting_text

#: Default background share above which a pair gets the background banner.
BACKGROUND_WARN_SHARE = 0.25
#: Matching preset of every pair view and figure: one chip against one chip.
PRESET = "vsone"


@dataclass(frozen=True)
class FlagNote:
    """One line about a pair, and whether it is a warning."""

    text: str
    warning: bool


@dataclass(frozen=True)
class RankInfo:
    """Where chip B stood among the candidates of a ranking for query chip A."""

    rank: int  # 1 is the best-scoring candidate
    query_aid: int | str
    num_candidates: int | None = None  # None when the ranking's length is unknown

    def __post_init__(self):
        if self.rank < 1:
            raise ValueError(f"rank must be >= 1, not {self.rank}")
        if self.num_candidates is not None and self.num_candidates < self.rank:
            raise ValueError(f"num_candidates {self.num_candidates} is below rank {self.rank}")

    @classmethod
    def from_pair(cls, pair) -> RankInfo | None:
        """Read ``rank``, ``query_aid`` and ``num_ranked`` from a pair, where it has them.

        Pairs opened from a ranking carry these fields; other pairs return None.
        A pair without ``query_aid`` takes chip A as the query.
        """
        rank = getattr(pair, "rank", None)
        if rank is None:
            return None
        query = getattr(pair, "query_aid", None)
        if query is None:
            query = pair.a.aid
        return cls(int(rank), query, getattr(pair, "num_ranked", None))

    def text(self) -> str:
        """Return ``rank 2 of 9 for query aid 3``."""
        of = f" of {self.num_candidates}" if self.num_candidates is not None else ""
        return f"rank {self.rank}{of} for query aid {self.query_aid}"

    def to_json(self) -> dict:
        """Return the rank as plain JSON values."""
        return asdict(self)


def time_gap_text(seconds: float | None) -> str:
    """Format a capture-time gap as ``40 s``, ``29 min 22 s``, ``3 h 05 min`` or ``2 d 4 h``.

    None, an unknown gap, gives ``unknown``.
    """
    if seconds is None:
        return "unknown"
    total = int(round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def flag_notes(flags: PairFlags, burst_gap_s: float = BURST_GAP_S) -> list[FlagNote]:
    """Return the capture-time gap and each warning flag of a pair, gap first."""
    notes = [FlagNote(f"capture-time gap {time_gap_text(flags.time_gap_s)}", False)]
    if flags.same_image:
        notes.append(
            FlagNote(
                "same image: both boxes are in one photo, so shared background can "
                "inflate the score",
                True,
            )
        )
    elif flags.burst:
        notes.append(
            FlagNote(
                f"burst: taken {time_gap_text(flags.time_gap_s)} apart (under "
                f"{time_gap_text(burst_gap_s)}), so shared background can inflate the score",
                True,
            )
        )
    if flags.viewpoint_mismatch:
        notes.append(
            FlagNote(
                f"viewpoint mismatch: A shows the {flags.side_a} flank and B the "
                f"{flags.side_b}, which cannot show the same coat pattern",
                True,
            )
        )
    return notes


def background_share_warning(score: PairScore, limit: float = BACKGROUND_WARN_SHARE) -> str | None:
    """Return ``42% of this score comes from background`` when the share exceeds ``limit``.

    Returns None when the share is at or below the limit, or unknown (no
    fgweights, or a score of 0).
    """
    if not 0.0 <= limit <= 1.0:
        raise ValueError(f"limit must be in [0, 1], not {limit}")
    share = score.background_share
    if share is None or share <= limit:
        return None
    return f"{100 * share:.0f}% of this score comes from background"


def score_parts_text(score: PairScore) -> str:
    """Return ``score 31.204 = foreground 28.100 + background 3.104``, or the score alone."""
    text = f"score {fmt_score(score.score)}"
    if score.score_foreground is None:
        return text + " (no fgweights, so no foreground/background split)"
    return (
        f"{text} = foreground {fmt_score(score.score_foreground)}"
        f" + background {fmt_score(score.score_background)}"
    )


def title_text(match: PairMatch, rank: RankInfo | None = None) -> str:
    """Return the figure title: both aids with their names, the time gap and the rank."""
    flags = pair_flags(match.a.annot, match.b.annot)
    sides = [f"aid {r.annot.aid} ({r.annot.name or 'name unknown'})" for r in (match.a, match.b)]
    text = f"{sides[0]} vs {sides[1]} · capture-time gap {time_gap_text(flags.time_gap_s)}"
    return text + (f" · {rank.text()}" if rank is not None else "")


def provenance_lines(match: PairMatch, score: PairScore) -> list[str]:
    """Return the provenance strip: each chip's model and reason, then the settings."""
    return [
        f"A: {model_text(match.a.model)}",
        f"B: {model_text(match.b.model)}",
        f"t = {score.config.threshold:.2f} · weighting {weighting_text(match, score)}"
        f" · preset {PRESET} · reviewer {__version__}",
    ]


def provenance(match: PairMatch, score: PairScore, engine_config=None) -> dict:
    """Return the provenance of a scored pair as plain JSON values.

    Parameters
    ----------
    engine_config : EngineConfig, optional
        The heavy path's settings; the matches and sver results record their own
        configs, and this adds the chip, feature and fgweight settings.
    """
    configs = {
        "vsone": _plain(match.matches.config),
        "sver": _plain(match.sver.config),
        "score": _plain(score.config),
    }
    if engine_config is not None:
        configs["engine"] = _plain(engine_config)
    return {
        "engine_version": __version__,
        "preset": PRESET,
        "threshold": score.config.threshold,
        "fg_weighting": bool(match.fg_weighting and score.config.fg_weighting),
        "weighting": weighting_text(match, score),
        "model_a": _model_json(match.a.model),
        "model_b": _model_json(match.b.model),
        "config": configs,
    }


def _model_json(choice) -> dict:
    return {
        "species": choice.species,
        "model": choice.model_name,
        "reason": choice.reason,
        "warning": choice.warning,
        "path": str(choice.path) if choice.path is not None else None,
    }


def _plain(config) -> dict | None:
    """Return a config dataclass as a dict of JSON values, or None when it is missing."""
    if config is None or not is_dataclass(config):
        return None
    return {key: _json_value(value) for key, value in asdict(config).items()}


def _json_value(value):
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
