"""Words and numbers shown with a match: chip labels, model reasons and the score split.

The GUI and the exported figure use the same texts, so that a number reads the
same on screen and on paper.
"""

from __future__ import annotations

import re

from reviewer.engine.pipeline import AnnotResult, PairMatch
from reviewer.engine.registry import ModelChoice
from reviewer.engine.scoring import PairScore

#: Score values without fgweights, and the weighting without a model. They are the
#: longest texts of the numbers panel, which reserves their width.
NO_FGWEIGHTS_VALUE = "n/a (no fgweights)"
NO_MODEL_WEIGHTING_VALUE = "off (no background model)"
WIDEST_VALUES = (NO_FGWEIGHTS_VALUE, NO_MODEL_WEIGHTING_VALUE)

#: Label of the colour scale; it names the weight that picks the colour.
WEIGHT_SCALE_LABEL = "soft fgweight sqrt(w_a·w_b): 0 = background (dark red), 1 = animal (yellow)"


def annot_title(result: AnnotResult) -> str:
    """Return ``aid 3 · zebra_plains · IBEIS_PZ_1281`` for one annotation."""
    annot = result.annot
    name = annot.name if annot.name is not None else "name unknown"
    return f"aid {annot.aid} · {annot.species} · {name}"


def model_text(choice: ModelChoice) -> str:
    """Return the background model and the reason it was chosen, naming the model once.

    Most reasons name the model already (``zebra_plains: model background_generic``),
    so the reason alone is the text; otherwise the model name comes first.
    """
    if choice.model_name is None:
        return f"no background model ({choice.reason})"
    if re.search(rf"\b{re.escape(choice.model_name)}\b", choice.reason):
        return choice.reason
    return f"model {choice.model_name} · {choice.reason}"


def model_warnings(match: PairMatch) -> list[str]:
    """Return each distinct model warning of the pair once, prefixed by its sides.

    Both chips of one species carry the same warning, which then reads
    ``A and B: ...``. Each warning is cleaned by ``tidy_warning``.
    """
    sides: dict[str, list[str]] = {}
    for side, result in (("A", match.a), ("B", match.b)):
        if result.model.warning:
            text = tidy_warning(result.model.warning)
            sides.setdefault(text, []).append(side)
    return [f"{' and '.join(names)}: {text}" for text, names in sides.items()]


def tidy_warning(warning: str) -> str:
    """Return ``warning`` with each "; "-separated problem kept once and one final period.

    A warning lists one problem per model file it tried, so one unusable file
    named by both the species entry and the generic entry appears twice. A part
    is dropped when it equals an earlier part or ends one after a ": ", because
    the first part starts with the warning's lead-in. Trailing periods are
    ignored in the comparison.
    """
    kept: list[str] = []
    for part in warning.split("; "):
        bare = part.rstrip(".")
        if not any(_same_problem(bare, earlier.rstrip(".")) for earlier in kept):
            kept.append(part)
    text = "; ".join(kept)
    if warning.endswith(".") and not text.endswith("."):
        text += "."  # the dropped last part carried the sentence's period
    if text.endswith("..") and not text.endswith("..."):
        text = text[:-1]  # a problem's own period followed by the warning's
    return text


def _same_problem(part: str, earlier: str) -> bool:
    return part == earlier or earlier.endswith(": " + part)


def fmt_score(value: float | None) -> str:
    """Format a score, or name the reason it is missing."""
    return NO_FGWEIGHTS_VALUE if value is None else f"{value:.3f}"


def fmt_share(value: float | None) -> str:
    """Format a share in [0, 1] as a percentage, or "n/a" when it is missing."""
    return "n/a" if value is None else f"{100.0 * value:.1f} %"


def weighting_text(match: PairMatch, score: PairScore) -> str:
    """Describe the weighting that produced ``score``."""
    if not match.fg_weighting:
        return NO_MODEL_WEIGHTING_VALUE
    if not score.config.fg_weighting:
        return "off (switched off)"
    return "on"


def no_fgweights_text(match: PairMatch) -> str:
    """Say which chips lack fgweights, so weighting cannot apply to the pair."""
    chips = [
        f"chip {side} (aid {result.annot.aid}, {result.annot.species})"
        for side, result in (("A", match.a), ("B", match.b))
        if result.fgweights is None
    ]
    if not chips:
        return ""
    verb = "have" if len(chips) > 1 else "has"
    return (
        f"Foreground weighting cannot apply: {' and '.join(chips)} {verb} no fgweights because "
        "no background model was usable. The setting returns for pairs with a model."
    )


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
