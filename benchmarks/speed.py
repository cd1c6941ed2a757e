"""Time our engine against vtool_ibeis on the same chips, and check that both find the same inliers.

    pip install -e '.[bench]'        # vtool-ibeis and vtool-ibeis-ext; this script installs nothing
    python benchmarks/speed.py [--repeats 5] [--ggr ../shared/data/ggr2018] [--skip-catalog]

Prints, in order:

1. Inlier counts of every named demo pair and every ggr2018 pair, ours next to
   vtool's ``PairwiseMatch`` (K=1, Knorm=1, checks=20, ratio 0.625, homography
   sver, weighting off). vtool gets our chips' kpts and vecs. It runs twice:
   with exact neighbours (a pyflann linear index), which must give our fm and
   inliers, and with its own kd-tree, which is approximate and changes from
   run to run.
2. A cold pair from features through sver: ours (both chips in parallel,
   probchips and fgweights included) and vtool's (its own feature extraction
   on our chip pixels, its kd-tree, its sver), interleaved, median of
   ``--repeats``.
3. A pair whose features and probchips are cached on disk, the pair itself not.
4. One live re-score of a pair with 5,000 sver inliers.
5. Ranking one catalog annotation against a 1,000-annotation catalog, with the
   index build time and memory (``speed_catalog.py``, whose docstring
   describes how the catalog is built).

The last line is ``ratio_pair_vs_vtool=<value>``: the largest, over the timed
pairs, of our median cold-pair time divided by vtool's.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from reviewer import DEMO_ANNOTATIONS, REPO_ROOT
from reviewer.engine.annotations import Annotation, load_annotations
from reviewer.engine.cache import DiskCache
from reviewer.engine.matching import Matches
from reviewer.engine.pipeline import Matcher, PairMatch
from reviewer.engine.registry import ModelRegistry
from reviewer.engine.scoring import ScoreConfig
from reviewer.engine.sver import SverResult

DEFAULT_GGR = REPO_ROOT.parent / "shared" / "data" / "ggr2018"
TIMED_PAIRS = (("demo", "3", "5"), ("ggr2018", "5", "6"))
WARMUP_PAIR = ("demo", "1", "2")
TARGETS = {"cold": 0.6, "cached_ms": 50.0, "rescore_ms": 5.0, "rank_s": 1.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--ggr", type=Path, default=DEFAULT_GGR, help="ggr2018 data folder")
    parser.add_argument("--skip-catalog", action="store_true", help="skip the ranking timing")
    parser.add_argument("--catalog-size", type=int, default=1000, help="catalog annotations")
    parser.add_argument(
        "--catalog-cache",
        type=Path,
        default=None,
        help="folder for the catalog's photos and features (default: a folder in the user cache)",
    )
    args = parser.parse_args()

    print(_machine_line())
    vt = _import_vtool()
    sets = {"demo": load_annotations(DEMO_ANNOTATIONS)}
    if (args.ggr / "annotations.coco.json").exists():
        sets["ggr2018"] = load_annotations(args.ggr / "annotations.coco.json")
    else:
        print(f"ggr2018 not found at {args.ggr}: its pairs are skipped (pass --ggr)")

    registry = ModelRegistry()
    with tempfile.TemporaryDirectory(prefix="speed-") as tmp:
        # One engine for the inlier table, so each annotation is computed once.
        matcher = Matcher(registry=registry, cache=DiskCache(Path(tmp) / "table"))
        if vt is not None:
            _print_inlier_table(vt, matcher, sets, args.ggr)
        cold = _time_cold_pairs(vt, matcher, registry, sets, Path(tmp), args.repeats)
        cached_ms = _time_cached_pairs(registry, sets, Path(tmp) / "cached", args.repeats)
        rescore_ms = _time_rescore(matcher, sets["demo"])
    rank = None
    if not args.skip_catalog:
        from speed_catalog import time_ranking  # noqa: PLC0415 -- optional and slow

        rank = time_ranking(sets, registry, args.catalog_size, args.catalog_cache)
    ratio = _print_summary(cold, cached_ms, rescore_ms, rank)
    print(f"ratio_pair_vs_vtool={ratio:.3f}" if ratio is not None else "ratio_pair_vs_vtool=nan")
    return 0


# --- vtool ---------------------------------------------------------------------------------


def _import_vtool():
    """Import vtool_ibeis, say whether its C++ sver is present, or return None."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import vtool_ibeis as vt
            from vtool_ibeis import spatial_verification
    except ImportError as err:
        print(f"vtool_ibeis is not installed ({err}); run: pip install -e '.[bench]'")
        return None
    if spatial_verification.HAVE_SVER_C_WRAPPER:
        sver_kind = "C++ sver from vtool_ibeis_ext"
    else:
        sver_kind = "vtool_ibeis_ext is absent: vtool runs its pure-Python sver"
    print(f"vtool_ibeis {vt.__version__}, {sver_kind}")
    return vt


def _vtool_config() -> dict:
    """vtool's vsone settings, written out although they are its defaults."""
    return {
        "K": 1,
        "Knorm": 1,
        "checks": 20,
        "symmetric": False,
        "weight": None,  # weighting off
        "ratio_thresh": 0.625,
        "refine_method": "homog",
        "sver_xy_thresh": 0.01,
        "sver_scale_thresh": 2.0,
        "sver_ori_thresh": 2 * np.pi / 4,
    }


def _vtool_annot(vt, chip_pixels, kpts=None, vecs=None, algorithm="kdtree"):
    """Wrap a chip for ``PairwiseMatch``; with kpts and vecs vtool skips its own extraction.

    The FLANN index is built lazily as vtool's ``flann_cache`` builds it
    (8 kd-trees, or an exact linear index), but without its disk cache.
    """
    import utool as ut

    annot = ut.LazyDict({"dlen_sqrd": chip_pixels.shape[0] ** 2 + chip_pixels.shape[1] ** 2})
    if kpts is None:
        annot["rchip"] = chip_pixels
    else:
        annot["kpts"], annot["vecs"] = kpts, vecs
    annot.set_lazy_func("flann", lambda: _pyflann_index(annot["vecs"], algorithm))
    return annot


def _pyflann_index(vecs, algorithm):
    import pyflann_ibeis

    flann = pyflann_ibeis.FLANN()
    flann.build_index(vecs, algorithm=algorithm, trees=8)
    return flann


def _run_vtool(vt, annot_a, annot_b):
    """Run vtool's assign, ratio test and sver; return (fm after the ratio test, inlier fm)."""
    match = vt.PairwiseMatch(annot_a, annot_b)
    config = _vtool_config()
    with contextlib.redirect_stdout(io.StringIO()):  # vtool prints as it evaluates chips
        match.assign(config)
        match.apply_ratio_test(config, inplace=True)
        ratio_fm = np.array(match.fm).reshape(-1, 2)
        match.apply_sver(config, inplace=True)
    return ratio_fm, np.array(match.fm).reshape(-1, 2)


# --- 1. inlier table -----------------------------------------------------------------------


def _named_pairs(sets, ggr_dir: Path) -> list[tuple[str, str, str, str]]:
    """Return (set, aid_a, aid_b, same individual) for the demo's named pairs and ggr2018's."""
    pairs = []
    named = sorted((a for a in sets["demo"] if a.name), key=lambda a: int(a.aid))
    for i, a in enumerate(named):
        for b in named[i + 1 :]:
            pairs.append(("demo", a.key, b.key, "yes" if a.name == b.name else "no"))
    if "ggr2018" in sets:
        with open(ggr_dir / "pairs.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                same = "yes" if row["same_individual"] == "1" else "no"
                pairs.append(("ggr2018", row["aid_a"], row["aid_b"], same))
    return pairs


def _print_inlier_table(vt, matcher: Matcher, sets, ggr_dir: Path) -> None:
    print()
    print("1. inliers, weighting off: ours vs vtool PairwiseMatch on our kpts and vecs")
    print("   (exact = vtool with a pyflann linear index; kdtree = vtool as shipped, one run)")
    header = "set      pair    same  ours m/inl  exact m/inl  fm=  inl=  kdtree m/inl"
    print(header)
    agree = total = 0
    for set_name, aid_a, aid_b, same in _named_pairs(sets, ggr_dir):
        annots = sets[set_name]
        ours = matcher.match(annots.get(aid_a), annots.get(aid_b))
        a, b = ours.a, ours.b
        exact = _run_vtool(
            vt,
            _vtool_annot(vt, a.chip.pixels, a.features.kpts, a.features.vecs, "linear"),
            _vtool_annot(vt, b.chip.pixels, b.features.kpts, b.features.vecs, "linear"),
        )
        kdtree = _run_vtool(
            vt,
            _vtool_annot(vt, a.chip.pixels, a.features.kpts, a.features.vecs),
            _vtool_annot(vt, b.chip.pixels, b.features.kpts, b.features.vecs),
        )
        same_fm = _same_rows(ours.matches.fm, exact[0])
        same_inliers = _same_rows(ours.inlier_fm, exact[1])
        agree += same_fm and same_inliers
        total += 1
        print(
            f"{set_name:8} {aid_a + ',' + aid_b:7} {same:4}  "
            f"{len(ours.matches):4d}/{len(ours.sver.inliers):<5d} "
            f"{len(exact[0]):5d}/{len(exact[1]):<5d} {_yes(same_fm):4} {_yes(same_inliers):4}  "
            f"{len(kdtree[0]):5d}/{len(kdtree[1]):<5d}"
        )
    print(f"pairs with our fm and inliers equal to vtool's (exact neighbours): {agree} of {total}")


def _same_rows(fm_a: np.ndarray, fm_b: np.ndarray) -> bool:
    rows_a = {tuple(row) for row in np.asarray(fm_a).reshape(-1, 2).tolist()}
    rows_b = {tuple(row) for row in np.asarray(fm_b).reshape(-1, 2).tolist()}
    return rows_a == rows_b


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


# --- 2. cold pair --------------------------------------------------------------------------


def _time_cold_pairs(vt, matcher: Matcher, registry, sets, folder: Path, repeats: int) -> list:
    """Time cold pairs, ours and vtool's interleaved; return one dict of figures per pair.

    vtool starts from chip pixels, so ours does too: each chip is saved as a
    BMP photo whose box is the whole image, and cutting it again gives the
    same pixels. Ours then pays only a BMP decode and an identity warp (a few
    ms) before its features. ``ours_photo`` is our cold path from the
    original photo files, for reference.
    """
    print()
    print(f"2. cold pair, features through sver, median of {repeats} runs, ms")
    print("   ours: Matcher.match from the chips (probchips and fgweights included)")
    if vt is not None:
        print("   vtool: its own feature extraction on the same chip pixels, kd-tree, sver")
    print("pair          ours  vtool   ratio  ours_photo  vtool_kpts_equal")

    def cold_matcher():
        return Matcher(registry=registry, cache=DiskCache(enabled=False), memory_items=0)

    # Load libraries, the model and thread pools once.
    warmup = cold_matcher().match(*(sets[WARMUP_PAIR[0]].get(aid) for aid in WARMUP_PAIR[1:]))
    if vt is not None:
        _run_vtool(
            vt, _vtool_annot(vt, warmup.a.chip.pixels), _vtool_annot(vt, warmup.b.chip.pixels)
        )

    rows = []
    for set_name, aid_a, aid_b in (p for p in TIMED_PAIRS if p[0] in sets):
        photo_annots = [sets[set_name].get(aid) for aid in (aid_a, aid_b)]
        chip_annots = [_chip_annotation(matcher, annot, folder) for annot in photo_annots]
        ours, ours_photo, theirs, kpts_equal = [], [], [], None
        for _ in range(repeats):
            _wait_for_idle_cpus()
            match = cold_matcher().match(*chip_annots)
            ours.append(match.timings_ms["total"])
            if vt is not None:
                _wait_for_idle_cpus()
                ms, equal = _time_vtool_cold(vt, match)
                theirs.append(ms)
                kpts_equal = equal if kpts_equal is None else kpts_equal and equal
            _wait_for_idle_cpus()
            ours_photo.append(cold_matcher().match(*photo_annots).timings_ms["total"])
        row = {
            "pair": f"{set_name} {aid_a},{aid_b}",
            "ours_ms": float(np.median(ours)),
            "vtool_ms": float(np.median(theirs)) if theirs else None,
            "ours_photo_ms": float(np.median(ours_photo)),
        }
        row["ratio"] = row["ours_ms"] / row["vtool_ms"] if theirs else None
        rows.append(row)
        print(
            f"{row['pair']:13} {row['ours_ms']:5.0f} {_num(row['vtool_ms'], '6.0f')} "
            f"{_num(row['ratio'], '7.3f')} {row['ours_photo_ms']:11.0f}  "
            f"{'n/a' if kpts_equal is None else _yes(kpts_equal)}"
        )
    return rows


def _chip_annotation(matcher: Matcher, annot: Annotation, folder: Path) -> Annotation:
    """Save the annotation's chip as a photo and return an annotation of the whole photo."""
    chip = matcher.annot_result(annot).chip.pixels
    height, width = chip.shape[:2]
    path = folder / f"chip_{annot.image_id}_{annot.key}.bmp"
    cv2.imwrite(str(path), chip)
    return replace(
        annot,
        image_path=path,
        bbox=(0.0, 0.0, float(width), float(height)),
        theta=0.0,
        image_size=(width, height),
    )


def _time_vtool_cold(vt, match: PairMatch) -> tuple[float, bool]:
    """Time vtool from chip pixels to sver; also report whether its kpts and vecs equal ours."""
    annot_a = _vtool_annot(vt, match.a.chip.pixels)
    annot_b = _vtool_annot(vt, match.b.chip.pixels)
    start = time.perf_counter()
    _run_vtool(vt, annot_a, annot_b)
    ms = (time.perf_counter() - start) * 1000.0
    equal = all(
        np.array_equal(annot["kpts"], ours.features.kpts)
        and np.array_equal(annot["vecs"], ours.features.vecs)
        for annot, ours in ((annot_a, match.a), (annot_b, match.b))
    )
    return ms, equal


def _wait_for_idle_cpus(busy_limit: float = 0.2, max_wait_s: float = 60.0) -> None:
    """Wait until other processes leave the CPUs nearly idle, so timings are not theirs.

    Reads /proc/stat (Linux); elsewhere it returns at once. Gives up after
    ``max_wait_s`` and counts that in ``_IDLE_WAITS``.
    """
    if not Path("/proc/stat").exists():
        return
    deadline = time.monotonic() + max_wait_s
    while True:
        before = _cpu_ticks()
        time.sleep(0.3)
        after = _cpu_ticks()
        total = after[0] - before[0]
        busy = 1.0 - (after[1] - before[1]) / total if total > 0 else 0.0
        if busy < busy_limit:
            return
        if time.monotonic() > deadline:
            _IDLE_WAITS["gave_up"] += 1
            return
        _IDLE_WAITS["waits"] += 1


def _cpu_ticks() -> tuple[int, int]:
    """Return (all ticks, idle + iowait ticks) summed over the CPUs."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


_IDLE_WAITS = {"waits": 0, "gave_up": 0}


# --- 3. cached pair ------------------------------------------------------------------------


def _time_cached_pairs(registry, sets, root: Path, repeats: int) -> list[dict]:
    """Time pairs whose annotations are on disk and whose pair entry is not."""
    print()
    print(
        f"3. pair with features and probchips cached on disk, pair not cached, median of {repeats}"
    )
    print("   (a running session: model loaded, annotations not in memory)")
    print("pair          total_ms  read_ms  search_ms  sver_ms")
    cache = DiskCache(root)
    rows = []
    for set_name, aid_a, aid_b in (p for p in TIMED_PAIRS if p[0] in sets):
        annot_a, annot_b = sets[set_name].get(aid_a), sets[set_name].get(aid_b)
        Matcher(registry=registry, cache=cache).match(annot_a, annot_b)
        runs = []
        for _ in range(repeats):
            shutil.rmtree(root / "pair", ignore_errors=True)
            runs.append(Matcher(registry=registry, cache=cache).match(annot_a, annot_b).timings_ms)
        median = {k: float(np.median([r.get(k, 0.0) for r in runs])) for k in runs[0]}
        read_ms = median.get("load_image", 0.0) + median.get("cache_read", 0.0)
        rows.append({"pair": f"{set_name} {aid_a},{aid_b}", "ms": median["total"]})
        print(
            f"{set_name + ' ' + aid_a + ',' + aid_b:13} {median['total']:8.1f} {read_ms:8.1f} "
            f"{median.get('flann', 0.0):10.1f} {median.get('sver', 0.0):8.1f}"
        )
    return rows


# --- 4. live re-score ----------------------------------------------------------------------


def _time_rescore(matcher: Matcher, demo, num_inliers: int = 5000, calls: int = 400) -> float:
    """Median ms of ``PairMatch.score`` on a pair with ``num_inliers`` synthetic sver inliers."""
    real = matcher.match(demo.get("3"), demo.get("5"))
    rng = np.random.default_rng(0)
    fm = np.stack(
        [
            rng.integers(0, len(real.a.features), num_inliers),
            rng.integers(0, len(real.b.features), num_inliers),
        ],
        axis=1,
    ).astype(np.int32)
    ratio = rng.uniform(0.1, 0.6, num_inliers).astype(np.float32)
    matches = Matches(fm=fm, fs=1.0 - ratio, ratio=ratio)
    inliers = np.arange(num_inliers, dtype=np.int64)
    sver = SverResult(inliers, np.eye(3), inliers, np.eye(3), np.zeros(num_inliers))
    pair = PairMatch(real.a, real.b, matches, sver, np.ones(num_inliers, bool), {})

    times = []
    for i in range(calls):
        config = ScoreConfig(threshold=float(i % 101) / 100.0, fg_weighting=i % 7 != 0)
        start = time.perf_counter()
        pair.score(config)
        times.append((time.perf_counter() - start) * 1000.0)
    median = float(np.median(times))
    print()
    print(
        f"4. live re-score, {num_inliers} inliers: median {median:.3f} ms, "
        f"max {max(times):.3f} ms over {calls} calls"
    )
    return median


# --- summary -------------------------------------------------------------------------------


def _print_summary(cold, cached, rescore_ms, rank) -> float | None:
    """Print every figure with its target; return the largest cold-pair ratio."""
    print()
    if _IDLE_WAITS["waits"] or _IDLE_WAITS["gave_up"]:
        print(
            f"timed runs waited {_IDLE_WAITS['waits'] * 0.3:.0f} s for other processes to leave "
            f"the CPUs idle; {_IDLE_WAITS['gave_up']} runs started on busy CPUs after 60 s"
        )
    print(f"{'summary':52} {'value':>8}  target")
    for row in cold:
        _summary_line(f"cold pair {row['pair']}, ours/vtool", row["ratio"], "<= 0.6", ".3f")
    for row in cached:
        _summary_line(f"cached pair {row['pair']}, ms", row["ms"], "<= 50", ".1f")
    _summary_line("live re-score at 5k correspondences, ms", rescore_ms, "<= 5", ".3f")
    if rank is not None:
        label = f"rank 1 query vs {rank['size']} annotations"
        _summary_line(f"{label}, vsmany, s", rank["query_s"], "")
        _summary_line(f"{label}, fast, s", rank["query_fast_s"], "<= 1.0")
        _summary_line("index build, s", rank["build_s"], "", ".1f")
        _summary_line("index build, peak memory, MiB", rank["peak_mib"], "", ".0f")
    ratios = [row["ratio"] for row in cold if row["ratio"] is not None]
    return max(ratios) if ratios else None


def _summary_line(label: str, value: float | None, target: str, spec: str = ".3f") -> None:
    shown = "n/a" if value is None else format(value, spec)
    print(f"{label:52} {shown:>8}  {target}")


def _machine_line() -> str:
    import cv2
    import torch

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"machine: {cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, opencv {cv2.__version__}, torch {torch.__version__}"
    )


def _num(value, spec: str) -> str:
    width = int(spec.split(".")[0]) if spec[0].isdigit() else 0
    return f"{'n/a':>{width}}" if value is None else format(value, spec)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
