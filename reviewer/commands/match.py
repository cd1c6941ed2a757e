"""``reviewer match``: match two annotations with the vsone preset and print the score."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from reviewer.commands import (
    add_common,
    add_scoring_options,
    check_output_folder,
    json_number,
    print_report,
    score_config_from,
)
from reviewer.engine.errors import ReviewerError
from reviewer.engine.flags import pair_flags

log = logging.getLogger(__name__)


def register(commands) -> None:
    """Add the ``match`` parser."""
    match = commands.add_parser(
        "match",
        help="match two annotations and print the score",
        description="Match annotation AID_A against AID_B with the vsone preset and print a "
        "one-line summary.",
    )
    match.add_argument("annotations", type=Path, help="COCO annotation file")
    match.add_argument("aid_a", help="id of the first annotation (chip A)")
    match.add_argument("aid_b", help="id of the second annotation (chip B)")
    add_scoring_options(match)
    match.add_argument(
        "--json", metavar="OUT", help="write the result as JSON to OUT ('-' for stdout)"
    )
    match.add_argument(
        "--export",
        type=Path,
        metavar="FIG",
        help="write the match figure (.png, .svg or .pdf) and its JSON sidecar beside it",
    )
    add_common(match)
    match.set_defaults(run=_run_match)


def _run_match(args: argparse.Namespace) -> int:
    from reviewer.engine.annotations import load_annotations
    from reviewer.engine.cache import DiskCache
    from reviewer.engine.pipeline import Matcher

    score_config = score_config_from(args)
    if args.json and args.json != "-":
        check_output_folder(Path(args.json), "--json")
    if args.export:
        check_output_folder(args.export, "--export")
    annots = load_annotations(args.annotations)
    try:
        annot_a, annot_b = annots.get(args.aid_a), annots.get(args.aid_b)
    except KeyError as err:
        raise ReviewerError(err.args[0]) from None

    matcher = Matcher(cache=DiskCache(enabled=not args.no_cache))
    match = matcher.match(annot_a, annot_b)
    score = match.score(score_config)
    result = match_summary(match, score)

    print_report(format_summary(result), result["warnings"], result, args.json)
    if args.export:
        from reviewer.render.export import export_pair

        written = export_pair(match, score, args.export, engine_config=matcher.config)
        log.info("Wrote %s and %s", written.figure, written.sidecar)
    return 0


def match_summary(match, score) -> dict:
    """Return the JSON-ready result of a scored pair."""
    a, b = match.a, match.b
    warnings = list(dict.fromkeys(w for w in (a.model.warning, b.model.warning) if w))
    if not match.fg_weighting:
        off_reason = "no usable background model"
    elif not score.config.fg_weighting:
        off_reason = "switched off by the user"
    else:
        off_reason = None
    return {
        "aid_a": a.annot.aid,
        "aid_b": b.annot.aid,
        "species_a": a.annot.species,
        "species_b": b.annot.species,
        "name_a": a.annot.name,
        "name_b": b.annot.name,
        "model_a": a.model.model_name,
        "model_b": b.model.model_name,
        "model_reason_a": a.model.reason,
        "model_reason_b": b.model.reason,
        "fg_weighting": bool(match.fg_weighting and score.config.fg_weighting),
        "fg_weighting_off_reason": off_reason,
        "threshold": score.config.threshold,
        "score": json_number(score.score),
        "score_foreground": json_number(score.score_foreground),
        "score_background": json_number(score.score_background),
        "background_share": json_number(score.background_share),
        "background_share_unweighted": json_number(score.background_share_unweighted),
        "num_matches": len(match.matches),
        "num_inliers": int(len(match.sver.inliers)),
        "num_same_place": match.num_same_place,
        "same_photo": a.photo_hash == b.photo_hash,
        "flags": pair_flags(a.annot, b.annot).to_json(),
        "num_kpts_a": len(a.features),
        "num_kpts_b": len(b.features),
        "preset": "vsone",
        "warnings": warnings,
        "timings_ms": {stage: round(ms, 1) for stage, ms in match.timings_ms.items()},
    }


def format_summary(result: dict) -> str:
    """Return the one-line summary of a ``match_summary`` result."""
    line = (
        f"aid {result['aid_a']} vs {result['aid_b']} ({result['species_a']}"
        + ("" if result["species_a"] == result["species_b"] else f" / {result['species_b']}")
        + f"): score {result['score']:.3f}"
    )
    if result["score_foreground"] is not None:
        line += f" = fg {result['score_foreground']:.3f} + bg {result['score_background']:.3f}"
    share, raw = result["background_share"], result["background_share_unweighted"]
    line += f", background share {_percent(share)} (unweighted {_percent(raw)})"
    line += f", {result['num_inliers']} inliers of {result['num_matches']} matches"
    if result["num_same_place"]:
        line += f" ({result['num_same_place']} same-photo points excluded)"
    line += f", t={result['threshold']:.2f}"
    models = ", ".join(m or "no model" for m in (result["model_a"], result["model_b"]))
    weighting = "on" if result["fg_weighting"] else "OFF"
    line += f", weighting {weighting} ({models})"
    line += f", {result['timings_ms'].get('total', 0.0) / 1000:.1f} s"
    return line


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"
