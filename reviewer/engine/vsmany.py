"""One-vs-many (``vsmany``) ranking of a query annotation against a catalog.

The steps follow HotSpotter's query pipeline as wildbook-ia implements it
(``wbia/algo/hots/pipeline.py``, ``nn_weights.py`` and ``name_scoring.py``):

1. Nearest neighbours: each query vec finds its ``K + Knorm`` nearest catalog
   vecs in the catalog's FLANN index. When the query itself is in the catalog,
   one more neighbour is requested, because its own vecs come back first.
2. LNBNN: each of the first neighbours is a vote with
   ``fs = d(normaliser) - d(vote)``, where the normaliser is the last neighbour.
   Votes for the query annotation are dropped, and so are votes for other
   annotations of the same photo unless they are requested.
3. fgweight: a vote weighs ``sqrt(w_query * w_catalog)`` (``ScoreConfig`` rules).
4. Prescore: the votes are grouped per catalog annotation. An annotation's
   score is the sum of its weighted fs, and a name's score is nsum.
5. Shortlist: the ``name_shortlist`` best names by nsum, and within each of
   them the ``annots_per_name`` best annotations by their own score.
6. sver on each shortlisted annotation. Inliers that are one point of a
   shared photo are not counted. Annotations that fail sver are dropped.
7. Final scores over the counted inliers: each annotation's own score and its
   name's nsum. Candidates are ordered by name score, then by own score.

nsum: for each name, every query keypoint contributes the maximum weighted fs
of its votes for any annotation of that name, so a keypoint counts once per
individual however many photos of it the catalog contains.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from reviewer.engine.annotations import Annotation, AnnotationSet
from reviewer.engine.catalog import Catalog, CatalogAnnot
from reviewer.engine.errors import Cancelled
from reviewer.engine.flags import PairFlags, pair_flags
from reviewer.engine.pipeline import AnnotResult, CancelToken, Matcher, ProgressCallback
from reviewer.engine.scoring import PairScore, ScoreConfig, score_inliers
from reviewer.engine.sver import SverConfig, SverResult, spatially_verify
from reviewer.engine.votes import lnbnn, nsum_scores, same_place_mask, shortlist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VsManyConfig:
    """Settings of one-vs-many ranking; the defaults are HotSpotter's vsmany preset.

    The FLANN index itself (8 kd-trees) is set by the catalog's ``FlannIndexConfig``.
    """

    K: int = 4  # votes per query vec
    Knorm: int = 1  # further neighbours; the last one is the LNBNN normaliser
    checks: int = 800  # kd-tree leaves visited per query vec
    name_shortlist: int = 40  # names that go to sver (HotSpotter's nNameShortlistSVER)
    annots_per_name: int = 3  # annotations per shortlisted name (nAnnotPerNameSVER)
    include_same_image: bool = False  # True: annotations of the query's photo are candidates
    sver: SverConfig = field(default_factory=SverConfig)
    # Two inliers of a same-photo pair closer than this fraction of the photo
    # diagonal are one physical point seen twice, and do not count as evidence.
    same_place_frac: float = 0.01
    # FLANN search threads; 0 uses every core. Results do not depend on it.
    cores: int = 0

    def __post_init__(self):
        for name in ("K", "Knorm", "checks", "name_shortlist", "annots_per_name"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, not {getattr(self, name)}")
        if not 0.0 <= self.same_place_frac < 1.0:
            raise ValueError(f"same_place_frac must be in [0, 1), not {self.same_place_frac}")
        if self.cores < 0:
            raise ValueError(f"cores must be >= 0, not {self.cores}")

    @classmethod
    def fast(cls, **changes) -> VsManyConfig:
        """Return a quicker preset: 128 kd-tree checks instead of 800; nothing else changes.

        Fewer checks make FLANN's neighbours more approximate, so some votes and
        normalisers are farther vecs than the true neighbours, and the scores
        change a little. On the demo and ggr2018 sets it keeps every rank-1 of
        the default preset (``benchmarks/accuracy.py --fast``).
        """
        return cls(**{"checks": 128, **changes})


@dataclass(frozen=True)
class Candidate:
    """One catalog annotation that survived the shortlist and sver."""

    annot: Annotation
    name_key: str  # the individual, or "____ aid <aid>" for an unnamed annotation
    score: float  # own score: sum over counted inliers of fs * weight
    name_score: float  # nsum of the candidate's individual over its verified annotations
    pair_score: PairScore  # the own score with its foreground / background split
    fm: np.ndarray  # (I, 2) int32 sver inliers: (query kpt, candidate kpt)
    fs: np.ndarray  # (I,) float32 LNBNN of each inlier, before weighting
    counted: np.ndarray  # (I,) bool; False = one point of a shared photo seen twice
    num_votes: int  # votes for this annotation before sver
    sver: SverResult  # indices in ``sver.inliers`` refer to the votes, not to ``fm``
    flags: PairFlags
    same_image: bool  # the candidate's photo has the query's content hash

    @property
    def num_inliers(self) -> int:
        """sver inliers, counted or not."""
        return len(self.fm)

    @property
    def num_same_place(self) -> int:
        """Inliers excluded because both keypoints are one point of the same photo."""
        return int(np.count_nonzero(~self.counted))


@dataclass(frozen=True)
class RankResult:
    """The ranked candidates of one query."""

    query: Annotation
    candidates: tuple[Candidate, ...]  # by name score, then own score, both descending
    config: VsManyConfig
    score_config: ScoreConfig
    fg_weighting: bool  # True when fgweights weighted the scores
    warnings: tuple[str, ...]  # e.g. why weighting is off
    num_catalog: int  # annotations in the catalog, which may include the query
    num_votes: int  # LNBNN votes after the exclusions
    num_shortlisted: int  # annotations that went to sver
    timings_ms: dict[str, float]
    num_query_kpts: int = 0  # keypoints of the query's chip
    num_others: int = 0  # catalog annotations other than the query
    num_eligible: int = 0  # of those, the ones allowed to vote (same-photo ones only on request)

    def no_candidates_reason(self) -> str:
        """Return why no candidate is listed, or "" when some are."""
        if self.candidates:
            return ""
        aid = self.query.aid
        if self.num_query_kpts == 0:
            return f"aid {aid} has no keypoints (a tiny or textureless box), so nothing matches it"
        if self.num_others == 0:
            return f"the catalog has no annotation other than aid {aid}, so nothing can be ranked"
        if self.num_eligible == 0:
            return (
                f"all {self.num_others} other annotations of the catalog are in the photo of "
                f"aid {aid}, and those are left out"
            )
        return f"none of the {self.num_eligible} other annotations passed spatial verification"

    def rank_of_name(self, name: str) -> int | None:
        """Return the 1-based rank of the first candidate of an individual, or None."""
        for rank, candidate in enumerate(self.candidates, start=1):
            if candidate.annot.name == name:
                return rank
        return None


def rank_aid(
    annots: AnnotationSet,
    aid: int | str,
    matcher: Matcher,
    config: VsManyConfig | None = None,
    score_config: ScoreConfig | None = None,
    all_species: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RankResult:
    """Rank one annotation of a file against the others, as ``reviewer rank`` does.

    The catalog is every annotation of the query's species (of any species with
    ``all_species``), the query included, so that its FLANN index is shared by
    every query of that species and comes from the cache the next time.
    Annotations left out of the catalog are listed in the result's warnings.

    Raises
    ------
    KeyError
        ``aid`` is not in ``annots``; the message lists the known aids.
    ImageLoadError, BBoxError
        The query's photo or box is unusable.
    """
    query = annots.get(aid)
    members = [a for a in annots if all_species or a.species == query.species]
    query_result = matcher.annot_result(query, cancel=cancel)

    def catalog_progress(fraction: float, message: str) -> None:
        if progress is not None:
            progress(0.8 * fraction, message)

    catalog = Catalog.build(members, matcher, progress=catalog_progress, cancel=cancel)
    if progress is not None:
        progress(0.8, f"nearest neighbours and sver for aid {aid}")
    result = rank_query(catalog, query_result, config, score_config, cancel)
    if progress is not None:
        progress(1.0, f"{len(result.candidates)} candidates for aid {aid}")
    if catalog.problems:
        result = replace(result, warnings=result.warnings + tuple(catalog.problems))
    return result


# Ranking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Votes:
    """LNBNN votes that survived the exclusions, ordered by query keypoint."""

    qfx: np.ndarray  # (V,) int32 query keypoint
    annot: np.ndarray  # (V,) int32 index into catalog.annots
    dfx: np.ndarray  # (V,) int32 keypoint of that annotation
    fs: np.ndarray  # (V,) float32 LNBNN
    w_query: np.ndarray | None  # (V,) float32 fgweights; None without fgweights
    w_catalog: np.ndarray | None
    weights: np.ndarray  # (V,) float64 weight under the ScoreConfig

    def take(self, index: np.ndarray) -> _Votes:
        def pick(values):
            return None if values is None else values[index]

        return _Votes(
            self.qfx[index],
            self.annot[index],
            self.dfx[index],
            self.fs[index],
            pick(self.w_query),
            pick(self.w_catalog),
            self.weights[index],
        )


def rank_query(
    catalog: Catalog,
    query: AnnotResult,
    config: VsManyConfig | None = None,
    score_config: ScoreConfig | None = None,
    cancel: CancelToken | None = None,
) -> RankResult:
    """Rank the catalog's annotations for one query annotation.

    Parameters
    ----------
    catalog : Catalog
        It may contain the query; the query is never its own candidate.
    query : AnnotResult
        The query's features and fgweights, from ``Matcher.annot_result``.
    config : VsManyConfig, optional
    score_config : ScoreConfig, optional
        Threshold and weighting of every score, the prescore and sver included.
    cancel : CancelToken, optional
        Checked after the neighbour search and before each annotation's sver.

    Returns
    -------
    RankResult
        No candidates when the catalog is empty or nothing verifies.

    Raises
    ------
    Cancelled
        ``cancel`` was set.
    """
    config = config or VsManyConfig()
    score_config = score_config or ScoreConfig()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    q = CatalogAnnot.from_result(query)
    has_fg = q.fgweights is not None and catalog.fgweights_of_vec is not None
    warnings = _weighting_warnings(q, catalog, has_fg, score_config)

    votes = _find_votes(catalog, q, query.features.vecs, config, score_config, has_fg, timings)
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"ranking of aid {q.annot.aid} stopped after the neighbour search")
    tick = time.perf_counter()
    contrib = votes.fs * votes.weights
    annot_scores = np.bincount(votes.annot, weights=contrib, minlength=len(catalog))
    name_idx = catalog.name_of_annot[votes.annot]
    name_scores = nsum_scores(name_idx, votes.qfx, contrib, len(catalog.name_keys))
    chosen = shortlist(
        np.unique(votes.annot),
        annot_scores,
        catalog.name_of_annot,
        name_scores,
        config.name_shortlist,
        config.annots_per_name,
    )
    timings["prescore"] = (time.perf_counter() - tick) * 1000.0

    tick = time.perf_counter()
    verify = partial(_verify_one, catalog, q, config=config, score_config=score_config)
    verified = _verify_shortlist(votes, chosen, verify, has_fg, cancel)
    timings["sver"] = (time.perf_counter() - tick) * 1000.0
    candidates = _final_order(catalog, q, verified)
    timings["total"] = (time.perf_counter() - start) * 1000.0
    log.info(
        "vsmany: aid %s vs %d annotations: %d votes, %d shortlisted, %d verified",
        q.annot.aid,
        len(catalog),
        len(votes.fs),
        len(chosen),
        len(candidates),
    )
    return RankResult(
        query=q.annot,
        candidates=candidates,
        config=config,
        score_config=score_config,
        fg_weighting=has_fg and score_config.fg_weighting,
        warnings=warnings,
        num_catalog=len(catalog),
        num_votes=len(votes.fs),
        num_shortlisted=len(chosen),
        timings_ms=timings,
        num_query_kpts=len(q.kpts),
        **_count_others(catalog, q, config),
    )


def _count_others(catalog: Catalog, q: CatalogAnnot, config: VsManyConfig) -> dict[str, int]:
    """Count the catalog annotations other than the query, and those that may vote."""
    others = [item for item in catalog.annots if item.annot.key != q.annot.key]
    eligible = [
        item for item in others if config.include_same_image or item.photo_hash != q.photo_hash
    ]
    return {"num_others": len(others), "num_eligible": len(eligible)}


def _weighting_warnings(q, catalog, has_fg, score_config) -> tuple[str, ...]:
    warnings = [q.model.warning] if q.model.warning else []
    if not has_fg and score_config.fg_weighting:
        missing = [str(item.annot.aid) for item in catalog.annots if item.fgweights is None]
        if q.fgweights is None:
            missing.insert(0, f"{q.annot.aid} (the query)")
        listed = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
        warnings.append(f"weighting is off: no fgweights for aid {listed}")
    return tuple(warnings)


def _find_votes(catalog, q, query_vecs, config, score_config, has_fg, timings) -> _Votes:
    """Search the index and turn the neighbours into weighted LNBNN votes."""
    self_position = catalog.position(q.annot.key)
    pad = 0 if self_position is None else 1
    num_neighbours = min(config.K + pad + config.Knorm, catalog.num_vecs)
    num_votes = num_neighbours - config.Knorm
    if num_votes < 1 or len(query_vecs) == 0:
        return _empty_votes(has_fg)

    tick = time.perf_counter()
    neighbours, dist = catalog.nearest(query_vecs, num_neighbours, config.checks, config.cores)
    timings["flann"] = (time.perf_counter() - tick) * 1000.0

    # One row per (query keypoint, rank), in that order.
    fs = lnbnn(dist, num_votes).reshape(-1)
    rows = neighbours[:, :num_votes].reshape(-1)
    qfx = np.repeat(np.arange(len(query_vecs), dtype=np.int32), num_votes)
    annot = catalog.annot_of_vec[rows]

    # The query itself and, unless requested, its photo's other annotations cannot vote.
    excluded = np.zeros(len(catalog), dtype=bool)
    if self_position is not None:
        excluded[self_position] = True
    if not config.include_same_image:
        excluded |= np.array([item.photo_hash == q.photo_hash for item in catalog.annots])
    keep = ~excluded[annot]

    w_query = w_catalog = None
    if has_fg:
        w_query = q.fgweights[qfx[keep]]
        w_catalog = catalog.fgweights_of_vec[rows[keep]]
    weights = score_inliers(fs[keep], w_query, w_catalog, None, score_config).weights
    return _Votes(
        qfx=qfx[keep],
        annot=annot[keep],
        dfx=catalog.fx_of_vec[rows[keep]],
        fs=fs[keep],
        w_query=w_query,
        w_catalog=w_catalog,
        weights=weights.astype(np.float64),
    )


def _empty_votes(has_fg: bool) -> _Votes:
    ints, floats = np.empty(0, np.int32), np.empty(0, np.float32)
    return _Votes(
        ints,
        ints,
        ints,
        floats,
        floats if has_fg else None,
        floats if has_fg else None,
        np.empty(0),
    )


@dataclass(frozen=True)
class _Verified:
    """A shortlisted annotation after sver, before the final nsum."""

    position: int  # index into catalog.annots
    votes: _Votes  # its votes that are sver inliers
    counted: np.ndarray
    pair_score: PairScore
    num_votes: int
    sver: SverResult


def _verify_shortlist(votes, chosen, verify, has_fg, cancel) -> list[_Verified]:
    """Run sver on each shortlisted annotation; keep those that verify."""
    order = np.argsort(votes.annot, kind="stable")
    sorted_annots = votes.annot[order]
    # Threads do not help here: sver's arrays are kept small for the CPU
    # cache, so its time goes to short numpy calls that hold the GIL.
    verified = []
    for position in chosen:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"ranking stopped before sver of catalog annotation {position}")
        lo, hi = np.searchsorted(sorted_annots, [position, position + 1])
        result = verify(votes.take(order[lo:hi]), int(position), has_fg=has_fg)
        if result is not None:
            verified.append(result)
    return verified


def _verify_one(catalog, q, own: _Votes, position: int, *, config, score_config, has_fg):
    """sver of one annotation's votes; None when no hypothesis verifies."""
    item = catalog.annots[position]
    # HotSpotter weighs each affine hypothesis by the query fgweights of its
    # inliers when weighting is on, and counts inliers otherwise.
    use_fg = has_fg and score_config.fg_weighting
    weights = own.w_query if use_fg else np.ones(len(own.fs))
    fm = np.stack([own.qfx, own.dfx], axis=1)
    result = spatially_verify(q.kpts, item.kpts, fm, weights, item.chip_size, config.sver)
    if not result.verified:
        return None

    inliers = own.take(result.inliers)
    counted = np.ones(len(inliers.fs), dtype=bool)
    if item.photo_hash == q.photo_hash:
        xy_q = q.to_photo(q.kpts[inliers.qfx, :2])
        xy_d = item.to_photo(item.kpts[inliers.dfx, :2])
        counted = ~same_place_mask(xy_q, xy_d, q.photo_size, config.same_place_frac)
    score = score_inliers(inliers.fs, inliers.w_query, inliers.w_catalog, counted, score_config)
    return _Verified(position, inliers, counted, score, len(own.fs), result)


def _final_order(catalog: Catalog, q: CatalogAnnot, verified: list[_Verified]) -> tuple:
    """Score names with nsum over the counted inliers and order the candidates."""
    if not verified:
        return ()
    name_idx = np.concatenate(
        [np.full(len(v.votes.fs), catalog.name_of_annot[v.position]) for v in verified]
    )
    qfx = np.concatenate([v.votes.qfx for v in verified])
    contrib = np.concatenate([v.votes.fs * v.pair_score.weights for v in verified])
    name_scores = nsum_scores(name_idx, qfx, contrib, len(catalog.name_keys))

    candidates = []
    for v in verified:
        item = catalog.annots[v.position]
        name = int(catalog.name_of_annot[v.position])
        candidates.append(
            Candidate(
                annot=item.annot,
                name_key=catalog.name_keys[name],
                score=v.pair_score.score,
                name_score=float(name_scores[name]),
                pair_score=v.pair_score,
                fm=np.stack([v.votes.qfx, v.votes.dfx], axis=1).astype(np.int32),
                fs=v.votes.fs,
                counted=v.counted,
                num_votes=v.num_votes,
                sver=v.sver,
                flags=pair_flags(q.annot, item.annot),
                same_image=item.photo_hash == q.photo_hash,
            )
        )
    candidates.sort(key=lambda c: (-c.name_score, -c.score, _aid_order(c.annot)))
    return tuple(candidates)


def _aid_order(annot: Annotation) -> tuple[int, int | str]:
    return (0, annot.aid) if isinstance(annot.aid, int) else (1, str(annot.aid))
