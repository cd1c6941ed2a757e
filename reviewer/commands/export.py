"""``reviewer export``: write match figures and their JSON sidecars for one pair or a pairs file.

A batch goes on past a pair that fails (a missing photo, an unknown aid in the
pairs file) and lists every failure with its message at the end. Exit codes:
0 when every pair was exported, 1 when some failed, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from reviewer.commands import add_common, add_scoring_options, score_config_from
from reviewer.engine.errors import ReviewerError

log = logging.getLogger(__name__)

#: Output formats, named by file suffix.
FORMATS = ("png", "svg", "pdf")


@dataclass(frozen=True)
class _Job:
    """One pair to export, or a row of the pairs file that names no usable pair."""

    label: str  # "aid 3 vs aid 5", or the pairs file's line
    pair: object | None  # reviewer.review.pairs.Pair; None for a broken row
    problem: str | None = None  # why the row is broken


def register(commands) -> None:
    """Add the ``export`` parser."""
    export = commands.add_parser(
        "export",
        help="write match figures (PNG, SVG or PDF) with JSON sidecars",
        description="Match pairs with the vsone preset and write one figure per pair, with a "
        "legend, a caption and a JSON sidecar that lists every correspondence. Give either "
        "AID_A AID_B or --pairs PAIRS.csv.",
    )
    export.add_argument("annotations", type=Path, help="COCO annotation file")
    export.add_argument("aids", nargs="*", metavar="AID", help="AID_A AID_B: one pair to export")
    export.add_argument(
        "--pairs", type=Path, metavar="PAIRS.csv", help="CSV file of pairs, columns aid_a,aid_b"
    )
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    export.add_argument("--format", choices=FORMATS, default="png", help="file format")
    export.add_argument(
        "--dpi", type=int, default=300, metavar="N", help="resolution in dots per inch (300)"
    )
    export.add_argument(
        "--width-mm", type=float, default=180.0, metavar="MM", help="figure width (180 mm)"
    )
    export.add_argument(
        "--panels",
        default="matches",
        metavar="LIST",
        help="comma-separated panels, from matches,heatmap,mask (default: matches)",
    )
    add_scoring_options(export)
    add_common(export)
    export.set_defaults(run=_run_export, parser=export)


def _run_export(args: argparse.Namespace) -> int:
    from reviewer.engine.annotations import load_annotations
    from reviewer.engine.cache import DiskCache
    from reviewer.engine.pipeline import Matcher

    options = _options(args)
    config = score_config_from(args)
    _prepare_output_folder(args.out)
    annots = load_annotations(args.annotations)
    jobs = _jobs(args, annots)

    matcher = Matcher(cache=DiskCache(enabled=not args.no_cache))
    failures: list[tuple[str, str]] = []
    for number, job in enumerate(jobs, start=1):
        prefix = f"[{number}/{len(jobs)}] {job.label}"
        error = job.problem or _export_one(job, matcher, config, options, args, prefix)
        if error is not None:
            failures.append((job.label, error))
            print(f"{prefix}: FAILED: {error}", file=sys.stderr)
    return _report(len(jobs), failures)


def _options(args: argparse.Namespace):
    """Check the usage options before any matching."""
    from reviewer.render.figure import FigureOptions

    if args.pairs is not None and args.aids:
        args.parser.error("give either AID_A AID_B or --pairs, not both")
    if args.pairs is None and len(args.aids) != 2:
        args.parser.error("give two aids (AID_A AID_B) or --pairs PAIRS.csv")
    panels = tuple(name.strip() for name in args.panels.split(",") if name.strip())
    return FigureOptions(panels=panels, dpi=args.dpi, width_mm=args.width_mm)


def _prepare_output_folder(out: Path) -> None:
    """Create ``--out`` when needed and check that files can be written in it.

    Checking first means a read-only folder fails before any pair is matched,
    not once per pair.
    """
    if out.exists() and not out.is_dir():
        raise ReviewerError(f"--out {out} is a file, not a folder. Choose a folder.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise ReviewerError(
            f"Cannot write to the output folder {out}: {err.strerror}. "
            "Choose a writable folder with --out."
        ) from None


def _jobs(args: argparse.Namespace, annots) -> list[_Job]:
    """Return the pairs to export; rows of the pairs file that fail to resolve stay as jobs."""
    from reviewer.review.pairs import Pair, load_pairs_csv, merge_pairs

    if args.pairs is None:
        try:
            pair = Pair(annots.get(args.aids[0]), annots.get(args.aids[1]), "command line")
        except KeyError as err:
            raise ReviewerError(err.args[0]) from None
        return [_Job(f"aid {pair.a.aid} vs aid {pair.b.aid}", pair)]

    pairs, problems = load_pairs_csv(args.pairs, annots)
    unique = merge_pairs(pairs)
    if len(unique) < len(pairs):
        log.warning(
            "%s: %d rows repeat a pair listed before; each pair is exported once",
            args.pairs.name,
            len(pairs) - len(unique),
        )
    jobs = [_Job(f"aid {pair.a.aid} vs aid {pair.b.aid}", pair) for pair in unique]
    for problem in problems:  # "pairs.csv line 3: aid '999' is not in the annotations"
        where, _, message = problem.partition(": ")
        jobs.append(_Job(where, None, message or problem))
    return jobs


def _export_one(job: _Job, matcher, config, options, args, prefix: str) -> str | None:
    """Match and export one pair; return the error message, or None on success."""
    from reviewer.render.explain import RankInfo
    from reviewer.render.export import export_pair, figure_file_name

    pair = job.pair
    start = time.perf_counter()
    try:
        match = matcher.match(pair.a, pair.b)
        path = args.out / figure_file_name(pair.a.aid, pair.b.aid, args.format)
        export_pair(
            match, match.score(config), path, options, RankInfo.from_pair(pair), matcher.config
        )
    except ReviewerError as err:
        return str(err)
    except Exception as err:  # noqa: BLE001 -- one broken pair must not stop the batch
        log.debug("Unexpected error while exporting %s", job.label, exc_info=True)
        return f"unexpected error ({type(err).__name__}: {err}); run with -vv for the traceback"
    seconds = time.perf_counter() - start
    print(f"{prefix}: wrote {path} ({seconds:.1f} s)", file=sys.stderr)
    return None


def _report(total: int, failures: list[tuple[str, str]]) -> int:
    """Print the final summary; return 0 when every pair succeeded, else 1."""
    done = total - len(failures)
    print(f"Exported {done} of {total} pairs.", file=sys.stderr)
    if not failures:
        return 0
    print(f"{len(failures)} failed:", file=sys.stderr)
    for label, error in failures:
        print(f"  {label}: {error}", file=sys.stderr)
    return 1
