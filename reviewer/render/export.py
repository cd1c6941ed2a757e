"""Export of one pair: the figure and its JSON sidecar, written side by side."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.explain import RankInfo
from reviewer.render.figure import FigureOptions, export_match_figure
from reviewer.render.figure_text import figure_texts
from reviewer.render.sidecar import write_sidecar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportedFigure:
    """The files written for one pair, and the figure's caption as plain text."""

    figure: Path
    sidecar: Path
    caption: str


def figure_file_name(aid_a, aid_b, suffix: str) -> str:
    """Return ``aid3_vs_aid5.svg``; characters unsafe in file names become ``_``."""
    safe = [re.sub(r"[^A-Za-z0-9._-]", "_", str(aid)) for aid in (aid_a, aid_b)]
    return f"aid{safe[0]}_vs_aid{safe[1]}.{suffix.lstrip('.')}"


def export_pair(
    match: PairMatch,
    score: PairScore,
    path: Path,
    options: FigureOptions | None = None,
    rank: RankInfo | None = None,
    engine_config=None,
) -> ExportedFigure:
    """Write the figure to ``path`` and its sidecar beside it (same stem, ``.json``).

    Raises
    ------
    FigureExportError, ReviewerError
        The figure or the sidecar could not be written.
    """
    options = options or FigureOptions()
    figure = export_match_figure(match, score, path, options, rank)
    sidecar = write_sidecar(match, score, figure, rank, engine_config)
    caption = figure_texts(match, score, options.background_warn_share, rank).plain_caption()
    log.info("Wrote sidecar %s", sidecar)
    return ExportedFigure(figure, sidecar, caption)
