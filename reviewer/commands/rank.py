"""``reviewer rank``: rank the catalog for one query annotation with the vsmany preset."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from reviewer.commands import (
    add_common,
    add_scoring_options,
    check_output_folder,
    json_number,
    print_report,
    score_config_from,
)
from reviewer.engine.annotations import UNKNOWN_NAME
from reviewer.engine.errors import ReviewerError

log = logging.getLogger(__name__)


def register(commands) -> None:
    """Add the ``rank`` parser."""
    rank = commands.add_parser(
        "rank",
        help="rank the catalog's annotations for one query annotation",
        description="Rank every annotation of the query's species against annotation AID "
        "with the vsmany preset (one FLANN index over the catalog, LNBNN, sver, nsum name "
        "scores) and print the best candidates. Candidates are ordered by their "
        "individual's nsum score, then by their own score.",
    )

    rank.add_argument("annotations", type=Path, help="COCO annotation file; it is the catalog")
    rank.add_argument("--query", required=True, metavar="AID", help="id of the query annotation")
    rank.add_argument(
        "--top", type=int, default=10, metavar="N", help="candidates to show (default 10)"
    )
    rank.add_argument(
        "--json", metavar="OUT", help="write the ranking as JSON to OUT ('-' for stdout)"
    )

    rank.add_argument(
        "--include-same-image",
        action="store_true",
        help="let annotations of the query's own photo be candidates (excluded by default, "
        "as in HotSpotter); their shared background points never count",
    )
    rank.add_argument(
        "--all-species",
        action="store_true",
        help="rank against every annotation of the file, not only the query's species",
    )

    add_scoring_options(rank, counted="votes")
    rank.add_argument(
        "--fast",
        action="store_true",
        help="128 FLANN checks instead of 800: quicker, slightly different scores",
    )
    add_common(rank)
    rank.set_defaults(run=_run_rank)


def _run_rank(args: argparse.Namespace) -> int:
    from reviewer.engine.annotations import load_annotations
    from reviewer.engine.cache import DiskCache
    from reviewer.engine.pipeline import Matcher
    from reviewer.engine.vsmany import VsManyConfig, rank_aid

    score_config = score_config_from(args)
    if args.top < 1:
        raise ReviewerError(f"--top must be at least 1, not {args.top}")
    if args.json and args.json != "-":
        check_output_folder(Path(args.json), "--json")

    annots = load_annotations(args.annotations)
    preset = VsManyConfig.fast if args.fast else VsManyConfig
    config = preset(include_same_image=args.include_same_image)
    matcher = Matcher(cache=DiskCache(enabled=not args.no_cache))
    try:
        result = rank_aid(
            annots,
            args.query,
            matcher,
            config,
            score_config,
            all_species=args.all_species,
            progress=_stderr_progress() if sys.stderr.isatty() else None,
        )
    except KeyError as err:
        raise ReviewerError(err.args[0]) from None

    summary = rank_summary(result, args.top, "fast" if args.fast else "vsmany")
    table = format_table(summary, _no_candidates_text(result, args))
    print_report(table, summary["warnings"], summary, args.json)
    return 0


def rank_summary(result, top: int, preset: str = "vsmany") -> dict:
    """Return the JSON-ready ranking, with the first ``top`` candidates."""
    query = result.query
    if result.fg_weighting:
        off_reason = None
    elif not result.score_config.fg_weighting:
        off_reason = "switched off by the user"
    else:
        off_reason = "no fgweights for some annotations"
    return {
        "query": query.aid,
        "species": query.species,
        "name": query.name or UNKNOWN_NAME,
        "preset": preset,
        "checks": result.config.checks,
        "include_same_image": result.config.include_same_image,
        "fg_weighting": result.fg_weighting,
        "fg_weighting_off_reason": off_reason,
        "threshold": result.score_config.threshold,
        "num_catalog": result.num_catalog,
        "num_shortlisted": result.num_shortlisted,
        "num_candidates": len(result.candidates),
        "candidates": [
            _candidate_json(rank, c) for rank, c in enumerate(result.candidates[:top], start=1)
        ],
        "warnings": list(result.warnings),
        "timings_ms": {stage: round(ms, 1) for stage, ms in result.timings_ms.items()},
    }


def _candidate_json(rank: int, candidate) -> dict:
    pair = candidate.pair_score
    return {
        "rank": rank,
        "aid": candidate.annot.aid,
        "name": candidate.annot.name or UNKNOWN_NAME,
        "score": json_number(candidate.score),
        "name_score": json_number(candidate.name_score),
        "score_foreground": json_number(pair.score_foreground),
        "score_background": json_number(pair.score_background),
        "background_share": json_number(pair.background_share),
        "background_share_unweighted": json_number(pair.background_share_unweighted),
        "num_votes": candidate.num_votes,
        "num_inliers": candidate.num_inliers,
        "num_same_place": candidate.num_same_place,
        "flags": candidate.flags.to_json(),
    }


def _no_candidates_text(result, args: argparse.Namespace) -> str:
    """Return why the ranking is empty and which option would widen it; "" with candidates."""
    reason = result.no_candidates_reason()
    if reason and result.num_others == 0 and not args.all_species:
        reason += ". Use --all-species to rank it against every species."
    elif reason and result.num_eligible == 0 and not args.include_same_image:
        reason += ". Use --include-same-image to let them be candidates."
    return reason


def format_table(summary: dict, no_candidates: str = "") -> str:
    """Return the printed form of a ``rank_summary``: a header line and one row per candidate.

    ``no_candidates`` explains an empty ranking. Without it, the table reports
    that nothing passed spatial verification.
    """
    weighting = "on" if summary["fg_weighting"] else "OFF"
    lines = [
        f"query aid {summary['query']} ({summary['species']}, {summary['name']}): "
        f"{summary['num_candidates']} verified candidates of {summary['num_shortlisted']} "
        f"shortlisted, catalog of {summary['num_catalog']} annotations; "
        f"preset {summary['preset']}, weighting {weighting}, t={summary['threshold']:.2f}, "
        f"{summary['timings_ms'].get('total', 0.0) / 1000:.1f} s"
    ]
    if not summary["candidates"]:
        reason = no_candidates or "nothing in the catalog passed spatial verification"
        lines.append(f"no candidates: {reason}")
        return "\n".join(lines)
    lines.append(
        f"{'rank':>4} {'aid':>6}  {'name':<20} {'name_score':>10} {'score':>8} {'fg':>8} "
        f"{'bg':>8} {'inliers':>7} {'same_pt':>7}  flags"
    )
    for c in summary["candidates"]:
        lines.append(
            f"{c['rank']:>4} {c['aid']!s:>6}  {c['name'][:20]:<20} {c['name_score']:>10.3f} "
            f"{c['score']:>8.3f} {_number(c['score_foreground'])} {_number(c['score_background'])} "
            f"{c['num_inliers']:>7} {c['num_same_place']:>7}  {_flag_words(c['flags'])}"
        )
    num_listed, total = len(summary["candidates"]), summary["num_candidates"]
    if num_listed < total:
        lines.append(f"(showing {num_listed} of {total}; use --top to see more)")
    return "\n".join(lines)


def _flag_words(flags: dict) -> str:
    words = []
    if flags["same_image"]:
        words.append("same image")
    elif flags["burst"]:
        words.append(f"burst ({flags['time_gap_s']:.0f} s apart)")
    if flags["viewpoint_mismatch"]:
        words.append("opposite flanks")
    return ", ".join(words) or "-"


def _stderr_progress():
    def report(fraction: float, message: str) -> None:
        sys.stderr.write(f"\r\033[K{100 * fraction:3.0f}% {message}")
        if fraction >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


def _number(value: float | None) -> str:
    return f"{'n/a':>8}" if value is None else f"{value:>8.3f}"
