"""LNBNN votes and how one-vs-many ranking aggregates them.

These are the array steps of ``reviewer.engine.vsmany``, kept apart so that each
can be checked by hand: LNBNN scores from neighbour distances, nsum name
scores, the sver shortlist, and the same-place test for two annotations of one
photo.
"""

from __future__ import annotations

import numpy as np


def lnbnn(dist: np.ndarray, num_votes: int) -> np.ndarray:
    """Score votes with LNBNN: ``d(normaliser) - d(vote)``, the normaliser being the last column.

    Parameters
    ----------
    dist : (Nq, k) float
        Distances to each query vec's neighbours, nearest first, ``k > num_votes``.
    num_votes : int
        Leading columns that are votes.

    Returns
    -------
    (Nq, num_votes) float32
        Non-negative, because the neighbours are sorted by distance.
    """
    dist = np.asarray(dist, dtype=np.float64)
    if dist.ndim != 2 or not 1 <= num_votes < dist.shape[1]:
        raise ValueError(f"need num_votes in [1, {dist.shape[-1] - 1}], got {num_votes}")
    return (dist[:, -1:] - dist[:, :num_votes]).astype(np.float32)


def nsum_scores(
    name_idx: np.ndarray, qfx: np.ndarray, fs: np.ndarray, num_names: int
) -> np.ndarray:
    """Score names with nsum: per name, the sum over query kpts of their best fs.

    Parameters
    ----------
    name_idx, qfx : (V,) int
        Name and query keypoint of each vote.
    fs : (V,) float
        Weighted score of each vote.

    Returns
    -------
    (num_names,) float64
    """
    if len(fs) == 0:
        return np.zeros(num_names)
    # Sort by name, then query keypoint, then score: each group's last row is its maximum.
    order = np.lexsort((fs, qfx, name_idx))
    names, kpts, scores = name_idx[order], qfx[order], np.asarray(fs, np.float64)[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (names[1:] != names[:-1]) | (kpts[1:] != kpts[:-1])
    return np.bincount(names[last], weights=scores[last], minlength=num_names)


def shortlist(
    voted: np.ndarray,
    annot_scores: np.ndarray,
    name_of_annot: np.ndarray,
    name_scores: np.ndarray,
    num_names: int,
    annots_per_name: int,
) -> np.ndarray:
    """Pick the annotations that go to sver.

    Parameters
    ----------
    voted : (A,) int
        Catalog annotations with at least one vote.
    annot_scores : (len(catalog),) float
        Each annotation's own prescore.
    name_of_annot : (len(catalog),) int
    name_scores : (num names,) float
        Each name's nsum prescore.

    Returns
    -------
    (S,) int
        Annotations of the ``num_names`` best names, best name first, and up to
        ``annots_per_name`` of each, best first. Ties go to the lower index.
    """
    voted = np.asarray(voted, dtype=np.int64)
    names = np.unique(name_of_annot[voted])
    names = names[np.lexsort((names, -name_scores[names]))][:num_names]
    selected = []
    for name in names:
        members = voted[name_of_annot[voted] == name]
        members = members[np.lexsort((members, -annot_scores[members]))]
        selected.extend(members[:annots_per_name].tolist())
    return np.array(selected, dtype=np.int64)


def same_place_mask(
    xy_a_photo: np.ndarray, xy_b_photo: np.ndarray, photo_size: tuple[int, int], frac: float
) -> np.ndarray:
    """Flag correspondences whose two keypoints lie within ``frac`` of the photo diagonal.

    Parameters
    ----------
    xy_a_photo, xy_b_photo : (I, 2) float
        Both keypoints of each correspondence, in the pixels of the one shared photo.
    photo_size : (width, height)

    Returns
    -------
    (I,) bool
        True for one physical point seen twice.
    """
    diagonal = float(np.hypot(*photo_size))
    return np.linalg.norm(np.asarray(xy_a_photo) - np.asarray(xy_b_photo), axis=1) < frac * diagonal
