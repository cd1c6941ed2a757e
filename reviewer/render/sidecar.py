"""The JSON sidecar of an exported figure: every correspondence, the score and its provenance.

Each ratio-test match of the pair is one record, so a reader can redraw or
re-score the figure without the reviewer. Coordinates are given in chip pixels
and in original photo pixels (through ``Chip.to_photo``). Inliers carry the
weight the figure was drawn with; matches that sver rejected have weight 0.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from reviewer.engine.errors import ReviewerError
from reviewer.engine.flags import pair_flags
from reviewer.engine.pipeline import PairMatch
from reviewer.engine.scoring import PairScore
from reviewer.render.explain import RankInfo, provenance

#: Value of the sidecar's ``format`` field, and its version.
SIDECAR_FORMAT = "reviewer-figure-sidecar"
SIDECAR_VERSION = 1


def sidecar_path(figure: Path) -> Path:
    """Return the sidecar path beside a figure: ``fig.svg`` -> ``fig.svg.json``.

    Each format gets its own sidecar, so exporting one pair as SVG and as PNG
    (perhaps at different thresholds) keeps both descriptions.
    """
    figure = Path(figure)
    return figure.with_name(figure.name + ".json")


def correspondence_records(match: PairMatch, score: PairScore) -> list[dict]:
    """Return one record per ratio-test match, in the order of ``match.matches``.

    Record fields: ``index`` (row of ``fm``), ``fx_a`` and ``fx_b`` (keypoint
    indices), ``chip_xy_a/b`` and ``photo_xy_a/b`` ([x, y] in px), ``fs``,
    ``ratio``, ``fgweight_a/b`` (None without a model), ``inlier`` (kept by
    sver), ``counted`` (an inlier that is not the same point of one photo seen
    twice), ``weight`` (under ``score.config``), ``contribution`` (fs * weight)
    and ``background`` (min fgweight below the split level; None for outliers
    and without a model).
    """
    fm, fs, ratio = match.matches.fm, match.matches.fs, match.matches.ratio
    num = len(fm)
    inlier = np.zeros(num, dtype=bool)
    inlier[match.sver.inliers] = True
    counted = np.zeros(num, dtype=bool)
    counted[match.sver.inliers] = match.counted
    weight = np.zeros(num, dtype=np.float64)
    weight[match.sver.inliers] = score.weights
    background = np.full(num, None, dtype=object)
    if match.fg_weighting:
        background[match.sver.inliers] = score.is_background

    xy_a = match.a.features.kpts[fm[:, 0], :2].astype(np.float64)
    xy_b = match.b.features.kpts[fm[:, 1], :2].astype(np.float64)
    photo_a, photo_b = match.a.chip.to_photo(xy_a), match.b.chip.to_photo(xy_b)
    w_a = match.a.fgweights[fm[:, 0]] if match.a.fgweights is not None else None
    w_b = match.b.fgweights[fm[:, 1]] if match.b.fgweights is not None else None

    records = []
    for i in range(num):
        records.append(
            {
                "index": i,
                "fx_a": int(fm[i, 0]),
                "fx_b": int(fm[i, 1]),
                "chip_xy_a": _xy(xy_a[i]),
                "chip_xy_b": _xy(xy_b[i]),
                "photo_xy_a": _xy(photo_a[i]),
                "photo_xy_b": _xy(photo_b[i]),
                "fs": _number(fs[i]),
                "ratio": _number(ratio[i]),
                "fgweight_a": _number(w_a[i]) if w_a is not None else None,
                "fgweight_b": _number(w_b[i]) if w_b is not None else None,
                "inlier": bool(inlier[i]),
                "counted": bool(counted[i]),
                "weight": _number(weight[i]),
                "contribution": _number(fs[i] * weight[i]),
                "background": None if background[i] is None else bool(background[i]),
            }
        )
    return records


def sidecar(
    match: PairMatch,
    score: PairScore,
    figure: Path | None = None,
    rank: RankInfo | None = None,
    engine_config=None,
) -> dict:
    """Return the sidecar of a figure as plain JSON values."""
    a, b = match.a, match.b
    flags = pair_flags(a.annot, b.annot)
    return {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "figure": Path(figure).name if figure is not None else None,
        "aid_a": a.annot.aid,
        "aid_b": b.annot.aid,
        "name_a": a.annot.name,
        "name_b": b.annot.name,
        "species_a": a.annot.species,
        "species_b": b.annot.species,
        "photo_a": str(a.annot.image_path),
        "photo_b": str(b.annot.image_path),
        "chip_size_a": list(a.chip.size),
        "chip_size_b": list(b.chip.size),
        "flags": {**flags.to_json(), "side_a": flags.side_a, "side_b": flags.side_b},
        "rank": rank.to_json() if rank is not None else None,
        "score": {
            "score": _number(score.score),
            "score_foreground": _number(score.score_foreground),
            "score_background": _number(score.score_background),
            "background_share": _number(score.background_share),
            "background_share_unweighted": _number(score.background_share_unweighted),
            "num_matches": len(match.matches),
            "num_inliers": int(len(match.sver.inliers)),
            "num_counted": score.num_counted,
            "num_same_place": match.num_same_place,
        },
        "provenance": provenance(match, score, engine_config),
        "correspondences": correspondence_records(match, score),
    }


def write_sidecar(
    match: PairMatch,
    score: PairScore,
    figure: Path,
    rank: RankInfo | None = None,
    engine_config=None,
) -> Path:
    """Write the sidecar beside ``figure`` and return its path.

    Raises
    ------
    ReviewerError
        The file could not be written.
    """
    path = sidecar_path(figure)
    data = sidecar(match, score, figure, rank, engine_config)
    try:
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    except OSError as err:
        raise ReviewerError(f"Cannot write the sidecar {path}: {err.strerror}") from None
    return path


def _xy(point: np.ndarray) -> list[float]:
    return [round(float(point[0]), 3), round(float(point[1]), 3)]


def _number(value) -> float | None:
    """Return a finite float rounded to 6 decimals, or None for None, NaN and infinity."""
    if value is None:
        return None
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None
