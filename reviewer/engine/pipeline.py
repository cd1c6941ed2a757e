"""The heavy path: from annotations to a verified, re-scorable pair match.

``Matcher.match`` runs chip -> features -> probchip -> fgweights for both
annotations, the two in parallel threads, then the nearest-neighbour search and
sver for the pair. Every result is cached in memory and on disk.
``PairMatch.score`` is the live path: it re-scores the cached sver inliers for
a mask threshold without rerunning the search or sver.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from reviewer.engine.annotations import Annotation
from reviewer.engine.cache import DiskCache, cache_key
from reviewer.engine.cache_checks import check_annot_entry, check_pair_entry
from reviewer.engine.chips import Chip, ChipConfig, decode_photo, extract_chip, read_photo_file
from reviewer.engine.features import FeatureConfig, Features, extract_features
from reviewer.engine.fgweights import FgWeightConfig, compute_fgweights
from reviewer.engine.foreground import torch_threads
from reviewer.engine.matching import Matches, VsOneConfig, match_vsone
from reviewer.engine.progress import (
    CancelToken,
    MergedProgress,
    ProgressCallback,
    Reporter,
    results_or_first_error,
    sum_timings,
    timed,
)
from reviewer.engine.registry import ModelChoice, ModelRegistry
from reviewer.engine.scoring import PairScore, ScoreConfig, score_inliers
from reviewer.engine.sver import SverConfig, SverResult, spatially_verify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    """Every setting of the heavy path; part of every cache key."""

    chip: ChipConfig = field(default_factory=ChipConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    fgweights: FgWeightConfig = field(default_factory=FgWeightConfig)
    vsone: VsOneConfig = field(default_factory=VsOneConfig)
    sver: SverConfig = field(default_factory=SverConfig)
    # Two inliers of a same-photo pair closer than this fraction of the photo
    # diagonal are one physical point seen twice, and do not count as evidence.
    same_place_frac: float = 0.01

    def __post_init__(self):
        if not 0.0 <= self.same_place_frac < 1.0:
            raise ValueError(f"same_place_frac must be in [0, 1), not {self.same_place_frac}")


@dataclass(frozen=True)
class AnnotResult:
    """Everything the heavy path computes for one annotation."""

    annot: Annotation
    chip: Chip
    features: Features
    probchip: np.ndarray | None  # (h, w) float32 in [0, 1]; None when weighting is off
    fgweights: np.ndarray | None  # (N,) float32; None when weighting is off
    model: ModelChoice
    photo_hash: str
    photo_size: tuple[int, int]  # (width, height)
    timings_ms: dict[str, float]
    from_cache: bool


@dataclass(frozen=True)
class PairMatch:
    """A verified pair, ready to be re-scored live."""

    a: AnnotResult
    b: AnnotResult
    matches: Matches  # every correspondence that passed the ratio test
    sver: SverResult
    counted: np.ndarray  # (I,) bool per sver inlier; False = same point seen twice in one photo
    timings_ms: dict[str, float]

    @property
    def inlier_fm(self) -> np.ndarray:
        """(I, 2) int feature matches that survived sver."""
        return self.matches.fm[self.sver.inliers]

    @property
    def inlier_fs(self) -> np.ndarray:
        """(I,) float32 scores of the sver inliers."""
        return self.matches.fs[self.sver.inliers]

    @property
    def fg_weighting(self) -> bool:
        """True when both annotations have fgweights from a model."""
        return self.a.fgweights is not None and self.b.fgweights is not None

    @property
    def inlier_weights(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """fgweights of each inlier's keypoint in chip A and chip B."""
        if not self.fg_weighting:
            return None, None
        fm = self.inlier_fm
        return self.a.fgweights[fm[:, 0]], self.b.fgweights[fm[:, 1]]

    @property
    def num_same_place(self) -> int:
        """Inliers excluded because both keypoints are one point of the same photo."""
        return int(np.count_nonzero(~self.counted))

    def score(self, config: ScoreConfig | None = None) -> PairScore:
        """Re-score from the cached inliers and weights; never reruns FLANN or sver."""
        w_a, w_b = self.inlier_weights
        return score_inliers(self.inlier_fs, w_a, w_b, self.counted, config)


@dataclass(frozen=True)
class _Lookup:
    """One annotation after the cheap first step: model chosen, photo read, caches checked."""

    annot: Annotation
    choice: ModelChoice
    model: Any  # BackgroundModel, or None when weighting is off
    data: bytes  # the photo file's content
    photo_hash: str
    key: str  # cache key of the annotation's results
    timings: dict[str, float]  # ms per stage, filled in further by the computation
    result: AnnotResult | None  # set on a memory or disk cache hit


class Matcher:
    """Runs and caches the heavy path. Safe to call from a worker thread.

    When neither annotation of a pair is cached, their chip -> fgweights work
    runs in two threads at once. pyhesaff, OpenCV and torch release the GIL in
    their C code, so on two cores a cold pair costs about as much as one
    annotation. During that time each thread's torch work gets half of the
    background model's threads, so the two do not oversubscribe the cores.
    """

    def __init__(
        self,
        config: EngineConfig | None = None,
        registry: ModelRegistry | None = None,
        cache: DiskCache | None = None,
        memory_items: int = 64,
    ):
        self.config = config or EngineConfig()
        self.registry = registry or ModelRegistry()
        self.cache = cache or DiskCache()
        self._memory: OrderedDict[str, AnnotResult] = OrderedDict()
        self._memory_items = memory_items
        self._lock = threading.Lock()

    # Per annotation -----------------------------------------------------------------------

    def annot_result(
        self,
        annot: Annotation,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> AnnotResult:
        """Compute (or fetch) chip, features, probchip and fgweights of one annotation.

        Raises
        ------
        ImageLoadError, BBoxError
            The photo is unusable or the box lies outside it.
        Cancelled
            ``cancel`` was set.
        """
        (result,) = self._annot_results([annot], Reporter(progress, cancel))
        return result

    def annot_results(
        self,
        annots: Sequence[Annotation],
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> list[AnnotResult]:
        """Fetch or compute several annotations, the uncached ones in parallel threads.

        Every uncached annotation gets a thread of its own, so pass about as
        many as there are cores at a time.

        Raises
        ------
        ImageLoadError, BBoxError
            The first unusable annotation; the others are stopped early.
        Cancelled
            ``cancel`` was set.
        """
        return self._annot_results(list(annots), Reporter(progress, cancel))

    def _annot_results(self, annots: Sequence[Annotation], report: Reporter) -> list[AnnotResult]:
        """Fetch or compute the results of several annotations, the missing ones in parallel."""
        lookups = [self._lookup(annot) for annot in annots]
        results = [lookup.result for lookup in lookups]

        # One computation per cache key, so an annotation paired with itself runs once.
        jobs: dict[str, int] = {}
        for i, lookup in enumerate(lookups):
            if lookup.result is None:
                jobs.setdefault(lookup.key, i)
        computed = self._compute_all([lookups[i] for i in jobs.values()], report)

        by_key = dict(zip(jobs, computed, strict=True))
        for i, lookup in enumerate(lookups):
            if results[i] is None:
                results[i] = replace(by_key[lookup.key], annot=lookup.annot)
        return results

    def _lookup(self, annot: Annotation) -> _Lookup:
        """Choose the model, read the photo and check the memory and disk caches."""
        timings: dict[str, float] = {}
        with timed(timings, "model_load"):  # only the first use of a model file costs time
            choice = self.registry.choose(annot.species)
            model = self.registry.load(choice)
        with timed(timings, "load_image"):
            data, photo_hash = read_photo_file(annot.image_path)
        key = cache_key(
            "annot",
            photo_hash,
            annot.bbox,
            annot.theta,
            self.config.chip,
            self.config.features,
            self.config.fgweights,
            model.sha256 if model else None,
        )
        lookup = _Lookup(annot, choice, model, data, photo_hash, key, timings, None)

        with self._lock:
            cached = self._memory.get(key)
            if cached is not None:
                self._memory.move_to_end(key)
        if cached is not None:
            return replace(lookup, result=replace(cached, timings_ms=timings, from_cache=True))
        cached = self._annot_from_disk(key, annot, choice, photo_hash, timings)
        if cached is not None:
            self._remember(key, cached)
        return replace(lookup, result=cached)

    def _remember(self, key: str, result: AnnotResult) -> None:
        with self._lock:
            self._memory[key] = result
            self._memory.move_to_end(key)
            while len(self._memory) > self._memory_items:
                self._memory.popitem(last=False)

    def _compute_all(self, lookups: list[_Lookup], report: Reporter) -> list[AnnotResult]:
        """Compute every lookup's result, in parallel threads when there are several."""
        if len(lookups) <= 1:
            return [self._compute_and_store(lookup, lookup.model, report) for lookup in lookups]

        # Split the model's torch threads between the jobs. Setting the count
        # here, once, makes the torch_threads block inside predict a no-op,
        # so the jobs never change the process-wide count under each other.
        models = [lookup.model for lookup in lookups if lookup.model is not None]
        threads = max(1, min(m.num_threads for m in models) // len(lookups)) if models else 1
        merged = MergedProgress(report, len(lookups))
        with (
            torch_threads(threads) if models else nullcontext(),
            ThreadPoolExecutor(len(lookups), thread_name_prefix="reviewer-annot") as pool,
        ):
            futures = [
                pool.submit(
                    self._compute_and_store,
                    lookup,
                    replace(lookup.model, num_threads=threads) if lookup.model else None,
                    merged.job(i),
                )
                for i, lookup in enumerate(lookups)
            ]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            if any(future.exception() is not None for future in done):
                merged.stop()  # the other jobs raise Cancelled at their next step
            wait(futures)
        return results_or_first_error(futures)

    def _compute_and_store(
        self, lookup: _Lookup, model, report: Callable[[float, str], None]
    ) -> AnnotResult:
        result = self._compute_annot(lookup, model, report)
        self._annot_to_disk(lookup.key, result)
        self._remember(lookup.key, result)
        return result

    def _compute_annot(
        self, lookup: _Lookup, model, report: Callable[[float, str], None]
    ) -> AnnotResult:
        """Run decode -> chip -> features -> probchip -> fgweights for one annotation."""
        annot, choice, timings = lookup.annot, lookup.choice, lookup.timings
        report(0.05, f"aid {annot.aid}: decoding photo")
        with timed(timings, "load_image"):
            photo = decode_photo(lookup.data, annot.image_path, annot.image_size)
        report(0.15, f"aid {annot.aid}: cutting chip")
        with timed(timings, "chip"):
            chip = extract_chip(photo, annot.bbox, annot.theta, self.config.chip)
        report(0.25, f"aid {annot.aid}: extracting Hessian-affine features")
        with timed(timings, "features"):
            features = extract_features(chip.pixels, self.config.features)

        probchip = fgweights = None
        if model is not None:
            report(0.6, f"aid {annot.aid}: running background model {choice.model_name}")
            with timed(timings, "probchip"):
                probchip = model.predict(chip.pixels)
            report(0.85, f"aid {annot.aid}: computing fgweights")
            with timed(timings, "fgweights"):
                fgweights = compute_fgweights(probchip, features.kpts, self.config.fgweights)
        report(1.0, f"aid {annot.aid}: {len(features)} keypoints")
        return AnnotResult(
            annot=annot,
            chip=chip,
            features=features,
            probchip=probchip,
            fgweights=fgweights,
            model=choice,
            photo_hash=lookup.photo_hash,
            photo_size=(photo.shape[1], photo.shape[0]),
            timings_ms=timings,
            from_cache=False,
        )

    def _annot_to_disk(self, key: str, r: AnnotResult) -> None:
        arrays = {
            "chip": r.chip.pixels,
            "M": r.chip.M,
            "kpts": r.features.kpts,
            "vecs": r.features.vecs,
            "photo_size": np.array(r.photo_size),
        }
        if r.probchip is not None:
            arrays["probchip"] = r.probchip.astype(np.float16)
            arrays["fgweights"] = r.fgweights
        self.cache.put("annot", key, arrays)

    def _annot_from_disk(self, key, annot, choice, photo_hash, timings) -> AnnotResult | None:
        with timed(timings, "cache_read"):
            entry = self.cache.get("annot", key)
        if entry is None:
            return None
        try:
            chip = Chip(entry["chip"], entry["M"], annot.bbox, annot.theta)
            features = Features(entry["kpts"], entry["vecs"])
            has_fg = "probchip" in entry and choice.fg_weighting
            probchip = entry["probchip"].astype(np.float32) if has_fg else None
            fgweights = entry["fgweights"] if has_fg else None
            check_annot_entry(chip.pixels.shape, features, probchip, fgweights)
            return AnnotResult(
                annot=annot,
                chip=chip,
                features=features,
                probchip=probchip,
                fgweights=fgweights,
                model=choice,
                photo_hash=photo_hash,
                photo_size=tuple(int(v) for v in entry["photo_size"]),
                timings_ms=timings,
                from_cache=True,
            )
        except (KeyError, ValueError) as err:
            log.warning("Ignoring malformed cache entry for aid %s: %s", annot.aid, err)
            return None

    # Per pair -----------------------------------------------------------------------------

    def match(
        self,
        annot_a: Annotation,
        annot_b: Annotation,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> PairMatch:
        """Run (or fetch) the heavy path for a pair; ``match_vsone`` sets the direction."""
        report = Reporter(progress, cancel)
        total_start = time.perf_counter()
        a, b = self._annot_results([annot_a, annot_b], report.scaled(0.0, 0.8))

        timings: dict[str, float] = {}
        key = cache_key(
            "pair",
            a.photo_hash,
            a.annot.bbox,
            a.annot.theta,
            b.photo_hash,
            b.annot.bbox,
            b.annot.theta,
            self.config.chip,
            self.config.features,
            self.config.vsone,
            self.config.sver,
        )
        cached = self._pair_from_disk(key, a, b, timings)
        if cached is None:
            report(0.8, "matching descriptors (nearest neighbours)")
            with timed(timings, "flann"):  # the stage keeps FLANN's name whatever the search
                matches = match_vsone(a.features.vecs, b.features.vecs, self.config.vsone)
            report(0.9, "spatial verification")
            with timed(timings, "sver"):
                verified = spatially_verify(
                    a.features.kpts,
                    b.features.kpts,
                    matches.fm,
                    matches.fs,
                    b.chip.size,
                    self.config.sver,
                )
            self._pair_to_disk(key, matches, verified)
        else:
            matches, verified = cached

        counted = self._counted_inliers(a, b, matches.fm[verified.inliers])
        report(1.0, f"{len(verified.inliers)} verified correspondences")
        timings = sum_timings(a.timings_ms, b.timings_ms, timings)
        timings["total"] = (time.perf_counter() - total_start) * 1000.0
        return PairMatch(a, b, matches, verified, counted, timings)

    def _counted_inliers(self, a: AnnotResult, b: AnnotResult, fm: np.ndarray) -> np.ndarray:
        """Flag inliers that are one physical point of a shared photo as not counted."""
        counted = np.ones(len(fm), dtype=bool)
        if a.photo_hash != b.photo_hash or len(fm) == 0:
            return counted
        xy_a = a.chip.to_photo(a.features.kpts[fm[:, 0], :2])
        xy_b = b.chip.to_photo(b.features.kpts[fm[:, 1], :2])
        diagonal = float(np.hypot(*a.photo_size))
        counted[np.linalg.norm(xy_a - xy_b, axis=1) < self.config.same_place_frac * diagonal] = 0
        return counted

    def _pair_to_disk(self, key: str, matches: Matches, verified: SverResult) -> None:
        arrays = {
            "fm": matches.fm,
            "fs": matches.fs,
            "ratio": matches.ratio,
            "inliers": verified.inliers,
            "aff_inliers": verified.aff_inliers,
            "xy_err": verified.xy_err,
            "reason": np.array(verified.reason),
        }
        if verified.H is not None:
            arrays["H"] = verified.H
        if verified.Aff is not None:
            arrays["Aff"] = verified.Aff
        self.cache.put("pair", key, arrays)

    def _pair_from_disk(
        self, key: str, a: AnnotResult, b: AnnotResult, timings
    ) -> tuple[Matches, SverResult] | None:
        with timed(timings, "cache_read"):
            entry = self.cache.get("pair", key)
        if entry is None:
            return None
        try:
            matches = Matches(
                fm=entry["fm"], fs=entry["fs"], ratio=entry["ratio"], config=self.config.vsone
            )
            verified = SverResult(
                inliers=entry["inliers"],
                H=entry.get("H"),
                aff_inliers=entry["aff_inliers"],
                Aff=entry.get("Aff"),
                xy_err=entry["xy_err"],
                reason=str(entry.get("reason", "")),
                config=self.config.sver,
            )
            check_pair_entry(matches, verified, len(a.features), len(b.features))
            return matches, verified
        except (KeyError, ValueError, TypeError) as err:
            log.warning(
                "Recomputing aid %s vs aid %s, because its cache entry %s is malformed: %s",
                a.annot.aid,
                b.annot.aid,
                key,
                err,
            )
            return None
