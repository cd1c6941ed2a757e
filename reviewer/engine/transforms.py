"""Fitting and applying the 3x3 transforms of spatial verification."""

from __future__ import annotations

import numpy as np


def estimate_homography(xy_a: np.ndarray, xy_b: np.ndarray) -> np.ndarray | None:
    """Fit H with xy_b ~ H(xy_a) by the normalised direct linear transform.

    Both point sets are whitened to zero mean and unit standard deviation per
    axis, the 2N x 9 system is solved by SVD, and the whitening is undone.
    """
    norm_a, T_a = whiten(xy_a)
    norm_b, T_b = whiten(xy_b)

    # Rows of h1.p - u * h3.p = 0 and h2.p - v * h3.p = 0, with p = (x, y, 1).
    x, y = norm_a.T
    u, v = norm_b.T
    zeros, ones = np.zeros_like(x), np.ones_like(x)
    rows_u = np.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y, -u], axis=1)
    rows_v = np.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y, -v], axis=1)
    system = np.concatenate([rows_u, rows_v])

    # The full V is needed when there are fewer than 9 equations.
    _, _, Vt = np.linalg.svd(system, full_matrices=len(system) < 9)
    H_norm = Vt[-1].reshape(3, 3)
    return unwhiten(H_norm, T_a, T_b)


def estimate_affine(xy_a: np.ndarray, xy_b: np.ndarray) -> np.ndarray | None:
    """Fit an affine transform with xy_b ~ Aff(xy_a) by least squares on whitened points."""
    norm_a, T_a = whiten(xy_a)
    norm_b, T_b = whiten(xy_b)
    design = np.hstack([norm_a, np.ones((len(norm_a), 1))])
    params, *_ = np.linalg.lstsq(design, norm_b, rcond=None)
    Aff_norm = np.eye(3)
    Aff_norm[:2, :] = params.T
    return unwhiten(Aff_norm, T_a, T_b)


def whiten(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift and scale points to zero mean and unit standard deviation per axis."""
    mean = xy.mean(axis=0)
    std = xy.std(axis=0)
    std[std == 0] = 1.0
    T = np.array(
        [
            [1.0 / std[0], 0.0, -mean[0] / std[0]],
            [0.0, 1.0 / std[1], -mean[1] / std[1]],
            [0.0, 0.0, 1.0],
        ]
    )
    return (xy - mean) / std, T


def unwhiten(M_norm: np.ndarray, T_a: np.ndarray, T_b: np.ndarray) -> np.ndarray | None:
    """Undo the whitening and scale to M[2, 2] = 1; None for a degenerate transform."""
    M = np.linalg.solve(T_b, M_norm @ T_a)
    if not np.all(np.isfinite(M)) or abs(M[2, 2]) < 1e-12:
        return None
    M = M / M[2, 2]
    if np.linalg.matrix_rank(M) < 3:
        return None
    return M


def transfer_error_sqrd(M: np.ndarray, xy_a: np.ndarray, xy_b: np.ndarray) -> np.ndarray:
    """Return the (N,) squared distances between M(xy_a) and xy_b."""
    return np.sum((apply_transform(M, xy_a) - xy_b) ** 2, axis=1)


def apply_transform(M: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Map (N, 2) points by a 3x3 transform; points sent to infinity become NaN."""
    mapped = xy @ M[:2, :2].T + M[:2, 2]
    w = xy @ M[2, :2] + M[2, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        mapped = mapped / w[:, None]
    mapped[~np.isfinite(mapped)] = np.nan
    return mapped
