"""Words and numbers shown with a match: chip labels, model reasons and the score split.

The GUI and the exported figure use the same texts, so that a number reads the
same on screen and on paper.
"""

from __future__ import annotations

from reviewer.engine.pipeline import AnnotResult, PairMatch
from reviewer.engine.registry import ModelChoice
from reviewer.engine.scoring import PairScore

#: Label of the colour scale; it names the weight that picks the colour.
WEIGHT_SCALE_LABEL = "soft fgweight sqrt(w_a·w_b): 0 = background (dark red), 1 = animal (yellow)"


def annot_title(result: AnnotResult) -> str:
    """Return ``aid 3 · zebra_plains · IBEIS_PZ_1281`` for one annotation."""
    annot = result.annot
    name = annot.name if annot.name is not None else "name unknown"
    return f"aid {annot.aid} · {annot.species} · {name}"


def model_text(choice: ModelChoice) -> str:
    """Return the background model and the reason it was chosen."""
    if choice.model_name is None:
        return f"no background model ({choice.reason})"
    return f"model {choice.model_name} ({choice.reason})"


def model_warnings(match: PairMatch) -> list[str]:
    """Return the model warnings of both chips, each prefixed by its side."""
    warnings = []
    for side, result in (("A", match.a), ("B", match.b)):
        if result.model.warning:
            warnings.append(f"{side}: {result.model.warning}")
    return warnings


def fmt_score(value: float | None) -> str:
    """Format a score, or name the reason it is missing."""
    return "n/a (no fgweights)" if value is None else f"{value:.3f}"


def fmt_share(value: float | None) -> str:
    """Format a share in [0, 1] as a percentage, or "n/a" when it is missing."""
    return "n/a" if value is None else f"{100.0 * value:.1f} %"


def weighting_text(match: PairMatch, score: PairScore) -> str:
    """Describe the weighting that produced ``score``."""
    if not match.fg_weighting:
        return "off (no background model)"
    if not score.config.fg_weighting:
        return "off (switched off)"
    return "on"


#: Labels of the rows ``score_rows`` returns, in order.
SCORE_ROW_NAMES = (
    "score",
    "score_foreground",
    "score_background",
    "background_share",
    "background_share_unweighted",
    "matches (ratio test)",
    "sver inliers",
    "excluded same-photo points",
    "inliers with weight > 0",
    "mask threshold t",
    "foreground weighting",
    "model A",
    "model B",
)


def score_rows(match: PairMatch, score: PairScore) -> list[tuple[str, str]]:
    """Return (label, value) rows of every number the views report, in ``SCORE_ROW_NAMES`` order."""
    values = (
        fmt_score(score.score),
        fmt_score(score.score_foreground),
        fmt_score(score.score_background),
        fmt_share(score.background_share),
        fmt_share(score.background_share_unweighted),
        str(len(match.matches.fm)),
        str(len(match.sver.inliers)),
        str(match.num_same_place),
        str(score.num_counted),
        f"{score.config.threshold:.2f}",
        weighting_text(match, score),
        match.a.model.model_name or "none",
        match.b.model.model_name or "none",
    )
    return list(zip(SCORE_ROW_NAMES, values, strict=True))


def caption_lines(match: PairMatch, score: PairScore) -> list[str]:
    """Return the caption of an exported figure, one string per line."""
    split = (
        f"score {fmt_score(score.score)} = foreground {fmt_score(score.score_foreground)}"
        f" + background {fmt_score(score.score_background)}"
        f"  (background_share {fmt_share(score.background_share)},"
        f" unweighted {fmt_share(score.background_share_unweighted)})"
    )
    counts = (
        f"t = {score.config.threshold:.2f}, weighting {weighting_text(match, score)};"
        f" {len(match.matches.fm)} matches (ratio test), {len(match.sver.inliers)} sver inliers,"
        f" {match.num_same_place} excluded same-photo points"
    )
    return [
        f"A: {annot_title(match.a)} · {model_text(match.a.model)}",
        f"B: {annot_title(match.b)} · {model_text(match.b.model)}",
        split,
        counts,
    ]
