"""The catalog: the annotations a query is ranked against, and one FLANN index over their vecs.

``Catalog.build`` fetches each annotation's features and fgweights through
``Matcher.annot_result`` (so they come from the disk cache after the first
run), stacks every vecs array into one (N, 128) uint8 array, and builds a FLANN
index over it. The index is saved next to the other cache entries and loaded
again by the next build over the same annotations, so a second run computes
nothing.

The index file is keyed by what determines the stacked vecs: for each
annotation in order, the photo's content hash, the box and theta, plus the chip,
feature and index configs. The background model does not change the vecs, so
it is not part of this key.

A saved index that is corrupt or unreadable is rebuilt with a warning
(``reviewer.engine.flann_index``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reviewer.engine.annotations import UNKNOWN_NAME, Annotation
from reviewer.engine.cache import DiskCache, cache_key
from reviewer.engine.chips import apply_homogeneous
from reviewer.engine.errors import BBoxError, Cancelled, ImageLoadError
from reviewer.engine.flann_index import INDEX_VERSION, FlannIndexConfig, FlannIndexStore
from reviewer.engine.matching import normalized_sift_distance
from reviewer.engine.pipeline import AnnotResult, CancelToken, Matcher, ProgressCallback
from reviewer.engine.registry import ModelChoice

log = logging.getLogger(__name__)

#: Annotations whose features ``Catalog.build`` computes at once, one thread each.
_PARALLEL_ANNOTS = max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class CatalogAnnot:
    """The parts of one annotation that ranking uses: kpts, fgweights and place in the photo.

    Chip pixels and the probchip are left out, so that a catalog of thousands of
    annotations fits in memory.
    """

    annot: Annotation
    kpts: np.ndarray  # (N, 6) float32 in chip pixels
    fgweights: np.ndarray | None  # (N,) float32; None when weighting is off
    chip_size: tuple[int, int]  # (width, height) in pixels
    chip_M: np.ndarray  # noqa: N815 -- (3, 3) float64, photo pixels -> chip pixels
    photo_hash: str  # blake2b of the photo file, hex
    photo_size: tuple[int, int]  # (width, height) in pixels
    model: ModelChoice

    @classmethod
    def from_result(cls, result: AnnotResult) -> CatalogAnnot:
        """Keep the parts of a heavy-path result that ranking uses."""
        return cls(
            annot=result.annot,
            kpts=result.features.kpts,
            fgweights=result.fgweights,
            chip_size=result.chip.size,
            chip_M=result.chip.M,
            photo_hash=result.photo_hash,
            photo_size=result.photo_size,
            model=result.model,
        )

    def to_photo(self, xy: np.ndarray) -> np.ndarray:
        """Map (N, 2) chip coordinates to photo coordinates."""
        return apply_homogeneous(np.linalg.inv(self.chip_M), xy)

    def vecs_key(self, chip_config, feature_config) -> str:
        """Return the key of this annotation's vecs: photo, box, theta and configs."""
        annot = self.annot
        return cache_key(
            "vecs", self.photo_hash, annot.bbox, annot.theta, chip_config, feature_config
        )


class Catalog:
    """Annotations stacked into one FLANN index; each index row maps back to (annot, kpt).

    Attributes
    ----------
    annots : tuple of CatalogAnnot
        The annotations, in the order they were given.
    vecs : (N, 128) uint8
        Every annotation's vecs, stacked in that order.
    annot_of_vec : (N,) int32
        Index into ``annots`` of each row of ``vecs``.
    fx_of_vec : (N,) int32
        Index into that annotation's kpts of each row of ``vecs``.
    fgweights_of_vec : (N,) float32 or None
        fgweight of each row of ``vecs``; None when any annotation has none.
    name_keys : tuple of str
        One entry per individual: its name, or ``"____ aid <aid>"`` for an
        unnamed annotation, which counts as an individual of its own.
    name_of_annot : (len(annots),) int32
        Index into ``name_keys`` of each annotation.
    problems : list of str
        Annotations left out because their photo or box is unusable.
    index_from_cache : bool
        True when the FLANN index was loaded from disk instead of built.
    """

    def __init__(
        self,
        annots: Sequence[CatalogAnnot],
        vecs: Sequence[np.ndarray],
        key: str,
        index_config: FlannIndexConfig | None = None,
        cache: DiskCache | None = None,
        problems: Sequence[str] = (),
    ):
        """Stack the vecs and load or build the index; prefer ``build`` or ``from_features``."""
        if len(annots) != len(vecs):
            raise ValueError(f"got {len(annots)} annots but {len(vecs)} vecs arrays")
        for item, item_vecs in zip(annots, vecs, strict=True):
            if item_vecs.ndim != 2 or item_vecs.shape != (len(item.kpts), 128):
                raise ValueError(
                    f"vecs of aid {item.annot.aid} must have shape ({len(item.kpts)}, 128), "
                    f"got {item_vecs.shape}"
                )
        self.annots = tuple(annots)
        self.key = key
        self.index_config = index_config or FlannIndexConfig()
        self.problems = list(problems)
        self.timings_ms: dict[str, float] = {}

        counts = np.array([len(v) for v in vecs], dtype=np.int64)
        self.vecs = (
            np.ascontiguousarray(np.concatenate(vecs), dtype=np.uint8)
            if len(vecs)
            else np.empty((0, 128), np.uint8)
        )
        self.annot_of_vec = np.repeat(np.arange(len(vecs), dtype=np.int32), counts)
        self.fx_of_vec = np.concatenate(
            [np.arange(n, dtype=np.int32) for n in counts] or [np.empty(0, np.int32)]
        )
        self.fgweights_of_vec = _stack_fgweights(self.annots)
        self._positions = {item.annot.key: i for i, item in enumerate(self.annots)}
        self.name_keys, self.name_of_annot = _name_groups(self.annots)
        self._store = FlannIndexStore(cache or DiskCache())
        self._flann = None
        self.index_from_cache = False
        if len(self.vecs):
            self._flann, self.index_from_cache = self._load_or_build_index()

    # Construction --------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        annots: Sequence[Annotation],
        matcher: Matcher,
        index_config: FlannIndexConfig | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Catalog:
        """Fetch (or compute) every annotation's features and build or load the index.

        An annotation whose photo cannot be read, or whose box lies outside its
        photo, is left out and reported in ``problems``.

        Raises
        ------
        Cancelled
            ``cancel`` was set.
        """
        start = time.perf_counter()
        annots = list(annots)
        items, vecs, problems = [], [], []
        for first in range(0, len(annots), _PARALLEL_ANNOTS):
            batch = annots[first : first + _PARALLEL_ANNOTS]
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"catalog stopped at aid {batch[0].aid}")
            if progress is not None:
                progress(
                    0.9 * first / len(annots),
                    f"features of aid {batch[0].aid} ({first + 1} of {len(annots)})",
                )
            for result in _fetch_results(batch, matcher, cancel, problems):
                items.append(CatalogAnnot.from_result(result))
                vecs.append(result.features.vecs)
        features_ms = (time.perf_counter() - start) * 1000.0

        if progress is not None:
            progress(0.9, f"FLANN index over {sum(len(v) for v in vecs)} vecs")
        config = matcher.config
        catalog = cls.from_features(
            items, vecs, config.chip, config.features, index_config, matcher.cache, problems
        )
        catalog.timings_ms["features"] = features_ms
        if progress is not None:
            progress(1.0, f"catalog of {len(catalog)} annotations")
        return catalog

    @classmethod
    def from_features(
        cls,
        annots: Sequence[CatalogAnnot],
        vecs: Sequence[np.ndarray],
        chip_config=None,
        feature_config=None,
        index_config: FlannIndexConfig | None = None,
        cache: DiskCache | None = None,
        problems: Sequence[str] = (),
    ) -> Catalog:
        """Build a catalog from features already in memory.

        Parameters
        ----------
        annots : sequence of CatalogAnnot
        vecs : sequence of (Ni, 128) uint8
            The vecs of each annotation, one row per keypoint.
        chip_config, feature_config
            The configs that made the features; they are part of the index key.
        """
        index_config = index_config or FlannIndexConfig()
        key = cache_key(
            "flann_index",
            INDEX_VERSION,
            [item.vecs_key(chip_config, feature_config) for item in annots],
            index_config,
        )
        return cls(annots, vecs, key, index_config, cache, problems)

    # Queries -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.annots)

    @property
    def num_vecs(self) -> int:
        """Number of rows in the index."""
        return len(self.vecs)

    def position(self, aid: int | str) -> int | None:
        """Return the index into ``annots`` of an aid, or None when it is not in the catalog."""
        return self._positions.get(str(aid))

    def nearest(
        self, query_vecs: np.ndarray, num_neighbours: int, checks: int, cores: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Find each query vec's nearest catalog vecs.

        Parameters
        ----------
        query_vecs : (Nq, 128) uint8
        num_neighbours : int
            At most ``num_vecs``.
        checks : int
            kdtree only: leaves visited per query vec.
        cores : int
            Search threads; 0 uses every core. The result does not depend on it.

        Returns
        -------
        neighbours : (Nq, num_neighbours) int32
            Rows of ``vecs``, nearest first.
        dist : (Nq, num_neighbours) float64
            Normalised SIFT distances (``normalized_sift_distance``).
        """
        if not 1 <= num_neighbours <= self.num_vecs:
            raise ValueError(
                f"num_neighbours must be in [1, {self.num_vecs}], not {num_neighbours}"
            )
        query_vecs = np.ascontiguousarray(query_vecs, dtype=np.uint8)
        neighbours, dist_sqrd = self._flann.nn_index(
            query_vecs, num_neighbors=num_neighbours, checks=checks, cores=cores
        )
        shape = (len(query_vecs), num_neighbours)
        neighbours = np.asarray(neighbours, dtype=np.int32).reshape(shape)
        return neighbours, normalized_sift_distance(np.asarray(dist_sqrd).reshape(shape))

    def close(self) -> None:
        """Free the FLANN index."""
        if self._flann is not None:
            self._flann.delete_index()
            self._flann = None

    # Index ---------------------------------------------------------------------------------

    def _load_or_build_index(self):
        start = time.perf_counter()
        flann = self._store.load(self.key, self.vecs)
        if flann is not None:
            self.timings_ms["index_load"] = (time.perf_counter() - start) * 1000.0
            log.info("Loaded the FLANN index of %d vecs from the cache", self.num_vecs)
            return flann, True

        flann = _build_flann(self.vecs, self.index_config)
        self.timings_ms["index_build"] = (time.perf_counter() - start) * 1000.0
        log.info(
            "Built a FLANN %s index of %d vecs in %.1f s",
            self.index_config.algorithm,
            self.num_vecs,
            self.timings_ms["index_build"] / 1000.0,
        )
        self._store.save(self.key, flann, self.num_vecs)
        return flann, False


def _fetch_results(batch, matcher: Matcher, cancel, problems: list[str]) -> list[AnnotResult]:
    """Return the results of a batch, computed in parallel; unusable annotations go to problems."""
    try:
        return matcher.annot_results(batch, cancel=cancel)
    except (ImageLoadError, BBoxError):
        pass  # find out which one failed, and keep the others
    results = []
    for annot in batch:
        try:
            results.append(matcher.annot_result(annot, cancel=cancel))
        except (ImageLoadError, BBoxError) as err:
            message = f"aid {annot.aid} left out of the catalog: {err}"
            log.warning(message)
            problems.append(message)
    return results


def _build_flann(vecs: np.ndarray, config: FlannIndexConfig):
    import pyflann_ibeis  # deferred: the C library takes a moment to load

    flann = pyflann_ibeis.FLANN()
    flann.build_index(
        vecs, algorithm=config.algorithm, trees=config.trees, random_seed=config.random_seed
    )
    return flann


def _stack_fgweights(annots: Sequence[CatalogAnnot]) -> np.ndarray | None:
    if any(item.fgweights is None for item in annots):
        return None
    if not annots:
        return np.empty(0, np.float32)
    return np.concatenate([item.fgweights for item in annots]).astype(np.float32)


def _name_groups(annots: Sequence[CatalogAnnot]) -> tuple[tuple[str, ...], np.ndarray]:
    """Group annotations by individual; each unnamed annotation is a group of its own."""
    keys: dict[str, int] = {}
    name_of_annot = np.empty(len(annots), dtype=np.int32)
    for i, item in enumerate(annots):
        name = item.annot.name
        key = name if name is not None else f"{UNKNOWN_NAME} aid {item.annot.key}"
        name_of_annot[i] = keys.setdefault(key, len(keys))
    return tuple(keys), name_of_annot
