"""Rank-1 accuracy of one-vs-many ranking, and the background share of burst pairs.

    python benchmarks/accuracy.py [DATASET_DIR ...] [--fast] [--all-species]

Each DATASET_DIR contains an ``annotations.coco.json``. The default is the
ggr2018 set in ``../shared/data/ggr2018`` next to the repository (skipped with
a message when it is missing) and the bundled demo.

Every named annotation with at least one other photo of its individual is a
query. It is ranked against the catalog of all annotations of its species, so
unnamed annotations stay in as distractors, and annotations of the query's own
photo are excluded as HotSpotter does. A query is rank-1 when the best
candidate shows its individual.

Burst pairs are candidates of the query's individual taken less than 5 minutes
apart in another photo. For them the script prints ``background_share`` (the
share of the weighted score whose keypoints lie on background) and
``background_share_unweighted`` (the same split over the raw LNBNN scores), at
mask threshold t = 0. Everything is printed twice: with fgweight weighting on,
then off.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reviewer import REPO_ROOT, RESOURCES_DIR
from reviewer.engine.annotations import AnnotationSet, load_annotations
from reviewer.engine.catalog import Catalog
from reviewer.engine.pipeline import Matcher
from reviewer.engine.scoring import ScoreConfig
from reviewer.engine.vsmany import RankResult, VsManyConfig, rank_query

DEFAULT_DATASETS = (REPO_ROOT.parent / "shared" / "data" / "ggr2018", RESOURCES_DIR / "demo")


@dataclass(frozen=True)
class QueryOutcome:
    """The ranking of one query, reduced to what the tables print."""

    dataset: str
    result: RankResult

    @property
    def rank(self) -> int | None:
        """1-based rank of the first candidate of the query's individual; None if absent."""
        return self.result.rank_of_name(self.result.query.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument(
        "--fast", action="store_true", help="use VsManyConfig.fast() instead of the default"
    )
    parser.add_argument(
        "--all-species",
        action="store_true",
        help="rank against every annotation of the file, not only the query's species",
    )
    args = parser.parse_args()
    config = VsManyConfig.fast() if args.fast else VsManyConfig()
    print(f"preset: {'fast' if args.fast else 'vsmany'} ({config.checks} checks, K={config.K})")

    matcher = Matcher()
    loaded = _load_datasets(args.datasets)
    if not loaded:
        print("no dataset found; nothing to do")
        return 1
    catalogs = {name: _catalogs(annots, matcher, args.all_species) for name, annots in loaded}

    for weighting in (True, False):
        score_config = ScoreConfig(threshold=0.0, fg_weighting=weighting)
        print()
        print(f"=== weighting {'on' if weighting else 'OFF'}, t = 0 ===")
        outcomes = []
        for name, annots in loaded:
            outcomes += _rank_dataset(name, annots, catalogs[name], matcher, config, score_config)
        _print_rank_table(outcomes)
        _print_burst_table(outcomes)
    return 0


def _load_datasets(paths: list[Path]) -> list[tuple[str, AnnotationSet]]:
    loaded = []
    for path in paths:
        coco = path / "annotations.coco.json" if path.is_dir() else path
        if not coco.exists():
            print(f"skipped {path}: no annotations.coco.json there")
            continue
        loaded.append((coco.parent.name, load_annotations(coco)))
    return loaded


def _catalogs(annots: AnnotationSet, matcher: Matcher, all_species: bool) -> dict[str, Catalog]:
    """Build one catalog per species (or one for all, under the key "*")."""
    groups: dict[str, list] = {}
    for annot in annots:
        groups.setdefault("*" if all_species else annot.species, []).append(annot)
    catalogs = {}
    for species, members in groups.items():
        start = time.perf_counter()
        catalogs[species] = Catalog.build(members, matcher)
        catalog = catalogs[species]
        print(
            f"catalog {annots.path.parent.name}/{species}: {len(catalog)} annotations, "
            f"{catalog.num_vecs} vecs, index {'loaded' if catalog.index_from_cache else 'built'},"
            f" {time.perf_counter() - start:.1f} s"
        )
    return catalogs


def _queries(annots: AnnotationSet) -> list:
    """Named annotations whose individual has another photo in the set."""
    queries = []
    for annot in annots:
        if annot.name is None:
            continue
        others = [
            other
            for other in annots
            if other.name == annot.name and other.image_path != annot.image_path
        ]
        if others:
            queries.append(annot)
    return queries


def _rank_dataset(name, annots, catalogs, matcher, config, score_config) -> list[QueryOutcome]:
    outcomes = []
    for query in _queries(annots):
        catalog = catalogs.get(query.species) or catalogs["*"]
        result = rank_query(catalog, matcher.annot_result(query), config, score_config)
        outcomes.append(QueryOutcome(name, result))
    return outcomes


def _print_rank_table(outcomes: list[QueryOutcome]) -> None:
    print(
        f"{'dataset':>8} {'aid':>4} {'individual':>14} {'rank':>4}  {'best candidate':<24} "
        f"{'nsum best':>9} {'nsum own':>9} {'ms':>6}"
    )
    for outcome in outcomes:
        result, rank = outcome.result, outcome.rank
        best = result.candidates[0] if result.candidates else None
        own = next((c for c in result.candidates if c.annot.name == result.query.name), None)
        best_text = f"aid {best.annot.aid} {_short(best.name_key)}" if best else "none"
        print(
            f"{outcome.dataset[:8]:>8} {result.query.aid!s:>4} {_short(result.query.name):>14} "
            f"{rank if rank else '-':>4}  {best_text:<24} "
            f"{best.name_score if best else 0.0:9.3f} {own.name_score if own else 0.0:9.3f} "
            f"{result.timings_ms['total']:6.0f}"
        )
    for dataset in dict.fromkeys(o.dataset for o in outcomes):
        _print_rank_1(dataset, [o for o in outcomes if o.dataset == dataset])
    _print_rank_1("overall", outcomes)


def _print_rank_1(label: str, outcomes: list[QueryOutcome]) -> None:
    hits = sum(1 for o in outcomes if o.rank == 1)
    share = hits / len(outcomes) if outcomes else float("nan")
    print(f"rank-1 {label}: {hits}/{len(outcomes)} = {100 * share:.0f}%")


def _print_burst_table(outcomes: list[QueryOutcome]) -> None:
    """Background shares of candidates of the query's individual taken in one burst."""
    rows = []
    for outcome in outcomes:
        result = outcome.result
        for candidate in result.candidates:
            same = candidate.annot.name == result.query.name
            if same and candidate.flags.burst and not candidate.flags.same_image:
                rows.append((result.query, candidate))
    print()
    if not rows:
        print("burst pairs: none among the verified candidates")
        return
    print(
        f"burst pairs ({len(rows)} query -> candidate):"
        f"\n{'query':>5} {'cand':>5} {'gap s':>6} {'score':>8} {'bg':>8} {'bg_share':>8} "
        f"{'bg_unw':>8} {'inliers':>7}"
    )
    totals: dict[str, np.ndarray] = {}  # per individual: weighted score and background, raw too
    for query, candidate in rows:
        pair = candidate.pair_score
        raw = candidate.fs.astype(np.float64) * candidate.counted
        parts = (pair.score, pair.score_background or 0.0, raw.sum(), raw[pair.is_background].sum())
        totals.setdefault(query.name, np.zeros(4))
        totals[query.name] += parts
        print(
            f"{query.aid!s:>5} {candidate.annot.aid!s:>5} {candidate.flags.time_gap_s:6.0f} "
            f"{pair.score:8.3f} {pair.score_background or 0.0:8.3f} "
            f"{_percent(pair.background_share):>8} {_percent(pair.background_share_unweighted):>8} "
            f"{candidate.num_inliers:7d}"
        )
    for name, total in totals.items():
        _print_pooled(f"burst pairs of {_short(name)} pooled", total)
    _print_pooled("burst pairs pooled", sum(totals.values()))


def _print_pooled(label: str, total: np.ndarray) -> None:
    """Print the background shares of summed scores: weighted, then raw LNBNN."""
    print(
        f"{label}: background_share {_percent(total[1] / total[0])}, "
        f"background_share_unweighted {_percent(total[3] / total[2])}"
    )


def _short(name: str | None) -> str:
    """Shorten UUID-like names to their first block, as the data README does."""
    if name is None:
        return "____"
    return name.split("-")[0] if len(name) > 20 else name


def _percent(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{100 * value:.1f}%"


if __name__ == "__main__":
    sys.exit(main())
