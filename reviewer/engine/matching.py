"""One-vs-one (``vsone``) feature matching of two chips.

The matcher follows ``PairwiseMatch.assign`` and ``ratio_test_flags`` of
vtool_ibeis 2.x (``vtool_ibeis/matching.py``):

1. The vecs of chip A are indexed: by default for an exact search with one
   BLAS matrix product, or in a ``pyflann_ibeis`` index (exact linear search,
   or vtool's kd-tree), see ``VsOneConfig.algorithm``.
2. Every vec of chip B queries it for its ``K + Knorm`` nearest neighbours.
3. Each of the first ``K`` neighbours becomes a correspondence, and the
   ``(K + Knorm)``-th neighbour is its normaliser.
4. The ratio test keeps ``ratio = d(match) / d(normaliser) < ratio_thresh`` and
   scores it ``fs = 1 - ratio``.

Spatial verification is a separate stage (``reviewer.engine.sver``), so search
time and sver time can be measured apart.
"""

from __future__ import annotations

import functools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import ThreadpoolController

log = logging.getLogger(__name__)

#: pyhesaff's uint8 SIFT vecs have an L2 norm of about 512 (506 to 511 on the
#: demo chips) and no negative components, so two of them are at most about
#: ``sqrt(2) * 512`` apart. vtool divides distances by this bound.
PSEUDO_MAX_VEC_COMPONENT = 512.0
PSEUDO_MAX_DIST = np.sqrt(2.0) * PSEUDO_MAX_VEC_COMPONENT

_ALGORITHMS = ("blas", "linear", "kdtree")

#: The exact search computes at most this many squared distances at a time
#: (4 MiB of float32). One reused block stays in cache for the argmin passes.
#: A full 3000 x 3000 distance matrix was slower on a 2-core VM, because
#: fresh pages of that size were slow to fault in.
_BLAS_BLOCK_VALUES = 2**20


@dataclass(frozen=True)
class VsOneConfig:
    """Parameters of one-vs-one matching: vtool_ibeis 2.x's defaults except ``algorithm``.

    Direction: the index is built on chip A and chip B's vecs query it, which
    is what vtool's ``asymmetric_correspondence`` does with ``annot1`` = A and
    ``annot2`` = B. So each keypoint of B takes part in at most ``K``
    correspondences, while a keypoint of A may take part in many. Swapping A
    and B changes the result.
    """

    K: int = 1  # nearest neighbours kept as correspondences for each vec of chip B
    Knorm: int = 1  # further neighbours; the last one is the ratio test's normaliser
    checks: int = 20  # kd-tree only: leaves visited per query, as in vtool's vsone
    ratio_thresh: float = 0.625  # keep a correspondence when d(match) / d(normaliser) < this
    # Nearest-neighbour search. Deviation from vtool, which searches a
    # randomised kd-tree (8 trees, 20 checks): the default is exact.
    # "blas": exact squared distances from one float32 matrix product, the
    #   same integers that pyflann's linear search returns, nearest first and
    #   ties to the lower index.
    # "linear": pyflann_ibeis's exact linear search, slower, same result.
    # "kdtree": vtool's approximate search. pyflann_ibeis 2.5.0 shuffles the
    #   kd-tree's points with std::random_device and ignores random_seed, so
    #   its matches change from run to run: on the demo pair aid 3 / aid 5 the
    #   sver inliers ranged from 23 to 42 over ten runs.
    # We choose repeatability: a reviewer must see the same evidence each time
    # a pair is opened, and an exact search finds every neighbour that the
    # kd-tree finds or a nearer one. vtool's own code, given exact
    # neighbours, gives the same fm and sver inliers as ours
    # (benchmarks/speed.py prints both). For 3158 x 3255 vecs of the demo
    # chips on a 2-core VM: "blas" about 25 ms, "kdtree" about 40 ms,
    # "linear" about 300 ms.
    algorithm: str = "blas"
    trees: int = 8  # kd-tree only: randomised trees in the index, as in vtool's vsone
    random_seed: int = 42  # kd-tree only: seeds the split choices, not the point shuffle

    def __post_init__(self):
        if self.K < 1:
            raise ValueError(f"K must be >= 1, not {self.K}")
        if self.Knorm < 1:
            raise ValueError(f"Knorm must be >= 1, not {self.Knorm}")
        if self.checks < 1:
            raise ValueError(f"checks must be >= 1, not {self.checks}")
        if not 0.0 < self.ratio_thresh <= 1.0:
            raise ValueError(f"ratio_thresh must be in (0, 1], not {self.ratio_thresh}")
        if self.algorithm not in _ALGORITHMS:
            raise ValueError(f"algorithm must be one of {_ALGORITHMS}, not {self.algorithm!r}")
        if self.trees < 1:
            raise ValueError(f"trees must be >= 1, not {self.trees}")


@dataclass(frozen=True)
class Matches:
    """Correspondences between chip A and chip B that passed the ratio test."""

    fm: np.ndarray  # (M, 2) int32: (index into kpts A, index into kpts B)
    fs: np.ndarray  # (M,) float32: 1 - ratio, in (0, 1] after the ratio test
    ratio: np.ndarray  # (M,) float32: d(match) / d(normaliser), below ratio_thresh
    config: VsOneConfig | None = field(default=None, compare=False)  # the config that made them

    def __post_init__(self):
        if self.fm.ndim != 2 or self.fm.shape[1] != 2:
            raise ValueError(f"fm must have shape (M, 2), got {self.fm.shape}")
        if self.fm.dtype != np.int32:
            raise ValueError(f"fm must be int32, got {self.fm.dtype}")
        for name in ("fs", "ratio"):
            value = getattr(self, name)
            if value.shape != (len(self.fm),):
                raise ValueError(f"{name} must have shape ({len(self.fm)},), got {value.shape}")
            if value.dtype != np.float32:
                raise ValueError(f"{name} must be float32, got {value.dtype}")

    def __len__(self) -> int:
        return len(self.fm)

    @classmethod
    def empty(cls, config: VsOneConfig | None = None) -> Matches:
        """Return zero correspondences with the right shapes and dtypes."""
        return cls(
            fm=np.empty((0, 2), dtype=np.int32),
            fs=np.empty(0, dtype=np.float32),
            ratio=np.empty(0, dtype=np.float32),
            config=config,
        )


def match_vsone(
    vecs_a: np.ndarray, vecs_b: np.ndarray, config: VsOneConfig | None = None
) -> Matches:
    """Match the vecs of two chips by nearest-neighbour search and the ratio test.

    Parameters
    ----------
    vecs_a : (Na, 128) uint8
        SIFT vecs of chip A. The search index is built on them.
    vecs_b : (Nb, 128) uint8
        SIFT vecs of chip B. Each one queries the index.
    config : VsOneConfig, optional
        Defaults to ``VsOneConfig()``.

    Returns
    -------
    Matches
        Rows ordered by the index into B, then by neighbour rank. Empty when
        either chip has no vecs or chip A has fewer than 2. When chip A has
        fewer than ``K + Knorm`` vecs, ``K`` shrinks to ``Na - 1`` and
        ``Knorm`` to 1, as vtool does.
    """
    config = config or VsOneConfig()
    _check_vecs(vecs_a, "vecs_a")
    _check_vecs(vecs_b, "vecs_b")
    if vecs_a.shape[1] != vecs_b.shape[1]:
        raise ValueError(
            f"vecs_a and vecs_b must have the same length, got {vecs_a.shape[1]} "
            f"and {vecs_b.shape[1]}"
        )

    # Too few vecs: shrink K so that a normaliser still exists, as vtool does.
    K, Knorm = config.K, config.Knorm
    if len(vecs_a) < 2 or len(vecs_b) == 0:
        log.debug("vsone: %d vecs in A, %d in B; no correspondences", len(vecs_a), len(vecs_b))
        return Matches.empty(config)
    if len(vecs_a) < K + Knorm:
        K, Knorm = len(vecs_a) - 1, 1
        log.debug("vsone: only %d vecs in A, so K=%d and Knorm=1", len(vecs_a), K)

    neighbours, dist = nearest_neighbours(vecs_a, vecs_b, K + Knorm, config)
    return _ratio_test(neighbours, dist, K, config)


def nearest_neighbours(
    vecs_index: np.ndarray, vecs_query: np.ndarray, num_neighbours: int, config: VsOneConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Find each query vec's nearest index vecs with the search ``config.algorithm`` names.

    Parameters
    ----------
    vecs_index : (Ni, D) uint8
        The vecs the index is built on, with ``Ni >= num_neighbours``.
    vecs_query : (Nq, D) uint8

    Returns
    -------
    neighbours : (Nq, num_neighbours) int32
        Indices into ``vecs_index``, nearest first.
    dist : (Nq, num_neighbours) float64
        Normalised SIFT distances, see ``normalized_sift_distance``.
    """
    if config.algorithm == "blas":
        neighbours, dist_sqrd = exact_neighbours(vecs_index, vecs_query, num_neighbours)
    else:
        neighbours, dist_sqrd = _flann_neighbours(vecs_index, vecs_query, num_neighbours, config)
    return neighbours, normalized_sift_distance(dist_sqrd)


def exact_neighbours(
    vecs_index: np.ndarray, vecs_query: np.ndarray, num_neighbours: int
) -> tuple[np.ndarray, np.ndarray]:
    """Find each query vec's exact nearest index vecs with BLAS matrix products.

    The squared distance ``|q|^2 + |i|^2 - 2 q.i`` is computed in float32.
    For uint8 vecs of up to 129 dimensions every product, partial sum and
    result is an integer below 2^24, so float32 represents it exactly and the
    distances equal those of pyflann's linear search. Longer vecs fall back to
    float64, which is exact up to 2^53.

    Parameters
    ----------
    vecs_index : (Ni, D) uint8
        With ``Ni >= num_neighbours``.
    vecs_query : (Nq, D) uint8

    Returns
    -------
    neighbours : (Nq, num_neighbours) int32
        Indices into ``vecs_index``, nearest first; of two equally near vecs
        the one with the lower index comes first.
    dist_sqrd : (Nq, num_neighbours) float64
        Squared Euclidean distances, whole numbers.
    """
    num_index, dim = vecs_index.shape
    if not 1 <= num_neighbours <= num_index:
        raise ValueError(f"num_neighbours must be in [1, {num_index}], not {num_neighbours}")
    dtype = np.float32 if 2 * dim * 255**2 < 2**24 else np.float64

    # |i|^2 - 2 q.i ranks the index vecs of each query; |q|^2 is added at the end.
    index = vecs_index.astype(dtype)
    index_norms = np.einsum("ij,ij->i", index, index)
    index_scaled_t = np.ascontiguousarray((-2 * index).T)

    neighbours = np.empty((len(vecs_query), num_neighbours), dtype=np.int32)
    dist_sqrd = np.empty((len(vecs_query), num_neighbours), dtype=np.float64)
    block_rows = max(1, _BLAS_BLOCK_VALUES // num_index)

    def search(rows: slice) -> None:
        """Fill the output rows of ``vecs_query[rows]``, one block of queries at a time."""
        block = np.empty((min(block_rows, rows.stop - rows.start), num_index), dtype=dtype)
        for start in range(rows.start, rows.stop, block_rows):
            stop = min(start + block_rows, rows.stop)
            query = vecs_query[start:stop].astype(dtype)
            partial = np.matmul(query, index_scaled_t, out=block[: len(query)])
            partial += index_norms
            neighbours[start:stop], dist_sqrd[start:stop] = _smallest_per_row(
                partial, num_neighbours
            )
            dist_sqrd[start:stop] += np.einsum("ij,ij->i", query, query)[:, None]

    # BLAS runs on the calling thread only (see _one_blas_thread). numpy
    # releases the GIL during the product, so these threads share the cores.
    parts = _split_rows(len(vecs_query), block_rows, os.cpu_count() or 1)
    with _one_blas_thread():
        if len(parts) > 1:
            with ThreadPoolExecutor(len(parts), thread_name_prefix="reviewer-search") as pool:
                list(pool.map(search, parts))
        else:
            search(slice(0, len(vecs_query)))
    # Exact integers cannot go below 0; the clip only guards the float64 path.
    return neighbours, np.maximum(dist_sqrd, 0.0)


def _split_rows(num_rows: int, block_rows: int, workers: int) -> list[slice]:
    """Split rows into at most ``workers`` contiguous parts of at least one block each."""
    count = max(1, min(workers, num_rows // block_rows))
    bounds = np.linspace(0, num_rows, count + 1).round().astype(int)
    return [slice(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _one_blas_thread():
    """Return a context that runs BLAS on the calling thread alone.

    OpenBLAS's worker threads keep spinning for a while after each product.
    The next cold pair then runs its two Hessian-affine threads beside them,
    and on two cores that cost more (about 35 ms a pair) than one thread loses
    on the product itself (about 8 ms).
    """
    return _blas_controller().limit(limits=1, user_api="blas")


@functools.cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def _smallest_per_row(values: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the column indices and values of each row's ``count`` smallest entries.

    One argmin pass per neighbour: ``count`` is small (``K + Knorm``), and
    argmin breaks ties towards the lower index, so the order is deterministic.
    ``values`` is overwritten.
    """
    rows = np.arange(len(values))
    columns = np.empty((len(values), count), dtype=np.int32)
    smallest = np.empty((len(values), count), dtype=np.float64)
    for rank in range(count):
        column = np.argmin(values, axis=1)
        columns[:, rank] = column
        smallest[:, rank] = values[rows, column]
        values[rows, column] = np.inf
    return columns, smallest


def _flann_neighbours(
    vecs_index: np.ndarray, vecs_query: np.ndarray, num_neighbours: int, config: VsOneConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Search a pyflann_ibeis index; returns neighbours and squared distances."""
    import pyflann_ibeis  # deferred: the C library takes a moment to load

    flann = pyflann_ibeis.FLANN()
    try:
        flann.build_index(
            np.ascontiguousarray(vecs_index),
            algorithm=config.algorithm,
            trees=config.trees,
            random_seed=config.random_seed,
        )
        neighbours, dist_sqrd = flann.nn_index(
            np.ascontiguousarray(vecs_query), num_neighbors=num_neighbours, checks=config.checks
        )
    finally:
        flann.delete_index()

    # pyflann drops the neighbour axis when only one neighbour is asked for.
    neighbours = np.asarray(neighbours, dtype=np.int32).reshape(len(vecs_query), num_neighbours)
    dist_sqrd = np.asarray(dist_sqrd).reshape(len(vecs_query), num_neighbours)
    return neighbours, dist_sqrd


def normalized_sift_distance(dist_sqrd: np.ndarray) -> np.ndarray:
    """Convert squared L2 distances between uint8 SIFT vecs to [0, ~1].

    vtool's convention: the Euclidean distance (not its square) divided by
    ``PSEUDO_MAX_DIST``. Ratios of these distances are ratios of Euclidean
    distances, as in Lowe's ratio test.
    """
    return np.sqrt(np.asarray(dist_sqrd, dtype=np.float64)) / PSEUDO_MAX_DIST


def _ratio_test(neighbours: np.ndarray, dist: np.ndarray, K: int, config: VsOneConfig) -> Matches:
    """Turn neighbour lists into correspondences and keep those passing the ratio test."""
    num_query, num_neighbours = neighbours.shape

    # One row per (query, rank) with rank < K, ordered by query then rank.
    query_idx = np.repeat(np.arange(num_query, dtype=np.int32), K)
    rank = np.tile(np.arange(K), num_query)
    match_idx = neighbours[query_idx, rank]
    match_dist = dist[query_idx, rank]
    norm_dist = dist[query_idx, num_neighbours - 1]

    # A normaliser at distance 0 means that the match is at distance 0 too. That
    # happens when the index contains the query vec twice. vtool's 0 / 0 is NaN,
    # which fails the ratio test.
    ratio = np.full(len(query_idx), np.nan)
    np.divide(match_dist, norm_dist, out=ratio, where=norm_dist > 0)
    keep = ratio < config.ratio_thresh  # NaN compares False

    fm = np.stack([match_idx[keep], query_idx[keep]], axis=1).astype(np.int32)
    ratio = ratio[keep]
    log.debug("vsone: %d of %d correspondences pass the ratio test", len(fm), len(query_idx))
    return Matches(
        fm=fm,
        fs=(1.0 - ratio).astype(np.float32),
        ratio=ratio.astype(np.float32),
        config=config,
    )


def _check_vecs(vecs: np.ndarray, name: str) -> None:
    if not isinstance(vecs, np.ndarray) or vecs.ndim != 2:
        shape = getattr(vecs, "shape", type(vecs).__name__)
        raise ValueError(f"{name} must be a (N, 128) uint8 array, got shape {shape}")
    if vecs.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 SIFT vecs, got {vecs.dtype}")
