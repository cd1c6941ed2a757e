"""Time one-vs-many ranking against a catalog of about 1,000 annotations made from real photos.

    python benchmarks/speed_catalog.py [--size 1000] [--folder DIR]

``benchmarks/speed.py`` imports ``time_ranking`` from here; run alone, this
script prints the same figures.

How the catalog is made. The sources are the annotations of the bundled demo
and of ggr2018 (when it is present). Each source photo is written in its 8
orientations: turned by 0, 90, 180 and 270 degrees, each also mirrored. Every
orientation is a new JPEG file with a content hash of its own, so no two
orientations count as one photo. Each source box is carried into each
orientation and then cropped up to ``CROPS`` times: shrunk to 80-100% of its
size, shifted by up to 5% of it, and turned by up to 0.15 rad. Each
orientation of a named individual is an individual of its own, so the catalog
contains many names and the shortlist of 40 names is full, as in a real catalog.
The first ``--size`` annotations, in a fixed shuffled order, form the catalog.
The catalog spans all species, so every query searches all of it.

Features and probchips of the catalog are computed once and cached in the
folder (by default in the user cache folder); a second run reads them. The
index build is timed from features in memory, without the cache, and its peak
memory is the growth of the process's peak resident size during the build
(Linux; ``n/a`` elsewhere). Queries are catalog annotations in their original
orientation, features cached and the index in memory, as when a reviewer
ranks one annotation after another.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from reviewer import DEMO_ANNOTATIONS, REPO_ROOT
from reviewer.engine.annotations import Annotation, AnnotationSet, load_annotations
from reviewer.engine.cache import DiskCache, default_cache_dir
from reviewer.engine.catalog import Catalog, CatalogAnnot
from reviewer.engine.pipeline import Matcher
from reviewer.engine.registry import ModelRegistry
from reviewer.engine.vsmany import VsManyConfig, rank_query

CROPS = 3  # crops per (source annotation, orientation)
QUERIES = 5  # timed queries
SEED = 7
ORIENTATIONS = tuple((turns, mirror) for turns in range(4) for mirror in (False, True))


def time_ranking(sets: dict[str, AnnotationSet], registry, size: int, folder: Path | None) -> dict:
    """Build the catalog, time its index and the ranking; print and return the figures.

    Returns
    -------
    dict
        ``size``, ``query_s`` (median, default preset), ``query_fast_s``,
        ``build_s``, ``peak_mib`` and ``num_vecs``.
    """
    folder = folder or default_cache_dir() / "benchmark-catalog"
    print()
    print(f"5. ranking against a catalog of {size} annotations made from real photos")
    print(f"   folder: {folder}")
    annots = make_catalog_annots(sets, folder / "photos", size)
    matcher = Matcher(registry=registry, cache=DiskCache(folder / "cache"))
    items, vecs = _features(annots, matcher)

    peak_before = _peak_rss_mib(reset=True)
    start = time.perf_counter()
    catalog = Catalog.from_features(
        items, vecs, matcher.config.chip, matcher.config.features, cache=DiskCache(enabled=False)
    )
    build_s = time.perf_counter() - start
    peak_mib = _peak_rss_mib() - peak_before if peak_before is not None else None
    vecs_mib = catalog.vecs.nbytes / 2**20
    print(
        f"   index: {catalog.num_vecs} vecs ({vecs_mib:.0f} MiB), 8 kd-trees, built in "
        f"{build_s:.1f} s, peak memory +{_text(peak_mib, '.0f')} MiB during the build"
    )

    queries = _query_annots(annots, QUERIES)
    figures = {}
    for label, config in (("vsmany", VsManyConfig()), ("fast", VsManyConfig.fast())):
        figures[label] = _time_queries(catalog, matcher, queries, config)
    catalog.close()
    return {
        "size": len(items),
        "query_s": figures["vsmany"],
        "query_fast_s": figures["fast"],
        "build_s": build_s,
        "peak_mib": peak_mib,
        "num_vecs": int(sum(len(v) for v in vecs)),
    }


# --- the catalog ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    annot: Annotation
    photo: Path  # the oriented photo
    size: tuple[int, int]  # its (width, height)
    turns: int
    mirror: bool


def make_catalog_annots(sets: dict[str, AnnotationSet], photo_folder: Path, size: int) -> list:
    """Return ``size`` annotations on oriented copies of the source photos (written once)."""
    photo_folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for set_name, annots in sets.items():
        photos = {}
        for annot in annots:
            photos.setdefault(annot.image_path, []).append(annot)
        for path, members in photos.items():
            sources += _orient_photo(set_name, path, members, photo_folder)

    rng = np.random.default_rng(SEED)
    made = []
    for source in sources:
        for crop in range(CROPS):
            made.append(_cropped(source, crop, rng))
    order = rng.permutation(len(made))
    chosen = [made[i] for i in order[:size]]
    # The originals come first, so that the queries are among them.
    originals = [a for a in made if a.aid.endswith("-r0-c0")]
    chosen = originals + [a for a in chosen if not a.aid.endswith("-r0-c0")]
    chosen = chosen[:size]
    print(
        f"   {len(sources)} oriented annotations from {len(sets)} sets, {len(made)} crops, "
        f"{len(chosen)} in the catalog"
    )
    return chosen


def _orient_photo(set_name: str, path: Path, members: list, folder: Path) -> list[_Source]:
    photo = None
    sources = []
    for turns, mirror in ORIENTATIONS:
        out = folder / f"{set_name}_{path.stem}_t{turns}{'m' if mirror else ''}.jpg"
        if not out.exists():
            if photo is None:
                photo = cv2.imread(str(path), cv2.IMREAD_COLOR)
            oriented = _orient(photo, turns, mirror)
            cv2.imwrite(str(out), oriented, [cv2.IMWRITE_JPEG_QUALITY, 95])
        width, height = members[0].image_size or _size_of(path)
        if turns % 2:
            width, height = height, width
        for annot in members:
            sources.append(_Source(annot, out, (width, height), turns, mirror))
    return sources


def _orient(photo: np.ndarray, turns: int, mirror: bool) -> np.ndarray:
    for _ in range(turns):
        photo = cv2.rotate(photo, cv2.ROTATE_90_CLOCKWISE)
    return cv2.flip(photo, 1) if mirror else photo


def _size_of(path: Path) -> tuple[int, int]:
    height, width = cv2.imread(str(path), cv2.IMREAD_COLOR).shape[:2]
    return width, height


def _cropped(source: _Source, crop: int, rng: np.random.Generator) -> Annotation:
    """Carry the box into the oriented photo, then shrink, shift and turn it."""
    annot = source.annot
    x, y, w, h = annot.bbox
    centre, theta = np.array([x + w / 2, y + h / 2]), annot.theta
    width, height = annot.image_size or _size_of(annot.image_path)

    for _ in range(source.turns):  # a quarter turn clockwise: (x, y) -> (H - y, x)
        centre = np.array([height - centre[1], centre[0]])
        width, height = height, width
        theta += np.pi / 2
    if source.mirror:
        centre[0] = width - centre[0]
        theta = -theta

    if crop:
        scale = rng.uniform(0.8, 1.0)
        w, h = w * scale, h * scale
        centre = centre + rng.uniform(-0.05, 0.05, 2) * (w, h)
        theta += rng.uniform(-0.15, 0.15)
    # Keep the box centre inside the photo. The chip may still run past its edges.
    centre = np.clip(centre, 1.0, (width - 1.0, height - 1.0))

    bbox = (float(centre[0] - w / 2), float(centre[1] - h / 2), float(w), float(h))
    orientation = f"{source.turns}{'m' if source.mirror else ''}"
    name = f"{annot.name}/{orientation}" if annot.name else None
    return replace(
        annot,
        aid=f"{source.photo.stem}-{annot.key}-r{orientation}-c{crop}",
        image_id=source.photo.stem,
        image_path=source.photo,
        bbox=bbox,
        theta=float(np.arctan2(np.sin(theta), np.cos(theta))),
        name=name,
        image_size=source.size,
    )


def _features(annots: list, matcher: Matcher) -> tuple[list, list]:
    """Fetch every annotation's features, two at a time in parallel threads."""
    start = time.perf_counter()
    items, vecs = [], []
    for first in range(0, len(annots), 2):
        _progress_line(first / len(annots), f"features of {first + 1} of {len(annots)}")
        for result in matcher.annot_results(annots[first : first + 2]):
            items.append(CatalogAnnot.from_result(result))
            vecs.append(result.features.vecs)
    sys.stderr.write("\n")
    print(
        f"   features of {len(items)} annotations: {time.perf_counter() - start:.1f} s "
        f"(computed once, then read from the cache)"
    )
    return items, vecs


def _progress_line(fraction: float, message: str) -> None:
    sys.stderr.write(f"\r   {100 * fraction:5.1f}% {message[:60]:<60}")


# --- timing --------------------------------------------------------------------------------


def _query_annots(annots: list, count: int) -> list:
    originals = [a for a in annots if a.aid.endswith("-r0-c0") and a.name is not None]
    step = max(1, len(originals) // count)
    return originals[::step][:count]


def _time_queries(catalog: Catalog, matcher: Matcher, queries: list, config) -> float:
    rows = []
    for query in queries:
        result = matcher.annot_result(query)  # from the cache
        rank_query(catalog, result, config)  # load FLANN's code and warm the index pages
        start = time.perf_counter()
        ranked = rank_query(catalog, result, config)
        seconds = time.perf_counter() - start
        best = ranked.candidates[0].annot.aid if ranked.candidates else "none"
        rows.append((query.aid, seconds, ranked, best))
    label = f"{config.checks} checks, {config.cores or os.cpu_count()} threads"
    print(f"   queries, {label}:")
    print(f"   {'query':44} {'s':>6} {'flann':>6} {'sver':>6} {'verified':>8}  best")
    for aid, seconds, ranked, best in rows:
        timings = ranked.timings_ms
        print(
            f"   {aid:44} {seconds:6.2f} {timings.get('flann', 0) / 1000:6.2f} "
            f"{timings.get('sver', 0) / 1000:6.2f} {len(ranked.candidates):8d}  {best}"
        )
    return float(np.median([seconds for _, seconds, _, _ in rows]))


def _peak_rss_mib(reset: bool = False) -> float | None:
    """Return the process's peak resident size in MiB; with ``reset``, restart the peak first."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    if reset:
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current size
        except OSError:
            return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _text(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="catalog annotations (1000)")
    parser.add_argument("--folder", type=Path, default=None, help="photos and cache folder")
    parser.add_argument(
        "--ggr", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "ggr2018"
    )
    args = parser.parse_args()
    sets = {"demo": load_annotations(DEMO_ANNOTATIONS)}
    if (args.ggr / "annotations.coco.json").exists():
        sets["ggr2018"] = load_annotations(args.ggr / "annotations.coco.json")
    figures = time_ranking(sets, ModelRegistry(), args.size, args.folder)
    print(
        f"rank one query vs {figures['size']} annotations: median {figures['query_s']:.2f} s "
        f"(vsmany), {figures['query_fast_s']:.2f} s (fast); "
        f"index build {figures['build_s']:.1f} s, "
        f"peak memory +{_text(figures['peak_mib'], '.0f')} MiB; cpus {os.cpu_count()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
