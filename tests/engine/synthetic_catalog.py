"""Synthetic annotations with hand-made kpts and vecs, for catalog and vsmany tests.

Each chip is CHIP_PX square and its chip transform is a translation, so photo
coordinates are chip coordinates plus the chip's offset in the photo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reviewer.engine.annotations import Annotation
from reviewer.engine.catalog import CatalogAnnot
from reviewer.engine.chips import Chip
from reviewer.engine.features import Features
from reviewer.engine.pipeline import AnnotResult
from reviewer.engine.registry import ModelChoice

CHIP_PX = 400
PHOTO_SIZE = (2000, 1500)  # (width, height)
MODEL = ModelChoice("zebra_plains", "background_test", None, "zebra_plains: test model")


def random_vecs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return (n, 128) uint8 vecs far apart from each other, like distinct SIFT vecs."""
    return rng.integers(0, 256, (n, 128)).astype(np.uint8)


def random_kpts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return (n, 6) float32 circular kpts of scale 4 to 12 px, pointing up."""
    xy = rng.uniform(20, CHIP_PX - 20, (n, 2))
    scale = rng.uniform(4, 12, n)
    zeros = np.zeros(n)
    return np.column_stack([xy, scale, zeros, scale, zeros]).astype(np.float32)


def annotation(aid: int, image: str, name: str | None) -> Annotation:
    return Annotation(
        aid=aid,
        image_id=image,
        image_path=Path(f"/nonexistent/{image}.jpg"),
        bbox=(0.0, 0.0, float(CHIP_PX), float(CHIP_PX)),
        theta=0.0,
        species="zebra_plains",
        name=name,
    )


def catalog_annot(
    aid: int,
    image: str,
    name: str | None,
    kpts: np.ndarray,
    fgweights: np.ndarray | None = None,
    offset_px: tuple[float, float] = (0.0, 0.0),
) -> CatalogAnnot:
    """Return a catalog entry whose chip sits at ``offset_px`` in photo ``image``."""
    chip_M = np.eye(3)
    chip_M[:2, 2] = -np.asarray(offset_px)
    return CatalogAnnot(
        annot=annotation(aid, image, name),
        kpts=kpts,
        fgweights=np.ones(len(kpts), np.float32) if fgweights is None else fgweights,
        chip_size=(CHIP_PX, CHIP_PX),
        chip_M=chip_M,
        photo_hash=f"hash-{image}",
        photo_size=PHOTO_SIZE,
        model=MODEL,
    )


def annot_result(item: CatalogAnnot, vecs: np.ndarray) -> AnnotResult:
    """Wrap a catalog entry and its vecs as a heavy-path result, to use it as a query."""
    chip = Chip(
        pixels=np.zeros((CHIP_PX, CHIP_PX, 3), np.uint8),
        M=item.chip_M,
        bbox=item.annot.bbox,
        theta=0.0,
    )
    return AnnotResult(
        annot=item.annot,
        chip=chip,
        features=Features(item.kpts, vecs),
        probchip=None,
        fgweights=item.fgweights,
        model=item.model,
        photo_hash=item.photo_hash,
        photo_size=item.photo_size,
        timings_ms={},
        from_cache=False,
    )
