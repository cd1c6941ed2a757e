"""The catalog's FLANN index settings, and saved indexes in the cache folder.

An index is saved as ``flann/<key>.flann`` under the cache root, with a JSON
sidecar that records its size and blake2b digest. pyflann_ibeis 2.5.0 aborts
the whole process when it reads a truncated index file, so the digest is
checked before FLANN reads the file. An index that fails the check, or that
FLANN rejects, is reported as unusable and the caller rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reviewer.engine.cache import DiskCache

log = logging.getLogger(__name__)

_FLANN_ALGORITHMS = ("kdtree", "linear")
#: Bump when the layout of saved index files or their sidecars changes.
INDEX_VERSION = 1


@dataclass(frozen=True)
class FlannIndexConfig:
    """Settings of the catalog's FLANN index; the defaults are HotSpotter's vsmany ones."""

    algorithm: str = "kdtree"  # "kdtree" (approximate, HotSpotter) or "linear" (exact, slow)
    trees: int = 8  # kdtree only: randomised kd-trees in the index
    # kdtree only: seeds the split choices. pyflann_ibeis 2.5.0 still shuffles the
    # points with std::random_device, so two builds over the same vecs differ.
    # A saved index does not change, which keeps a catalog's rankings repeatable.
    random_seed: int = 42

    def __post_init__(self):
        if self.algorithm not in _FLANN_ALGORITHMS:
            raise ValueError(
                f"algorithm must be one of {_FLANN_ALGORITHMS}, not {self.algorithm!r}"
            )
        if self.trees < 1:
            raise ValueError(f"trees must be >= 1, not {self.trees}")


class FlannIndexStore:
    """Saved FLANN indexes in the cache folder: ``flann/<key>.flann`` plus a JSON sidecar."""

    def __init__(self, cache: DiskCache):
        self.cache = cache

    def _paths(self, key: str) -> tuple[Path, Path]:
        folder = self.cache.root / "flann" / key[:2]
        return folder / f"{key}.flann", folder / f"{key}.json"

    def load(self, key: str, vecs: np.ndarray):
        """Return a FLANN object with the saved index, or None when none is usable."""
        if not self.cache.enabled:
            return None
        index_path, sidecar_path = self._paths(key)
        if not index_path.exists():
            return None
        problem = _check_sidecar(index_path, sidecar_path, len(vecs))
        if problem is None:
            import pyflann_ibeis
            from pyflann_ibeis.exceptions import FLANNException

            flann = pyflann_ibeis.FLANN()
            try:
                flann.load_index(str(index_path), vecs)
                return flann
            except FLANNException as err:
                problem = str(err)
        log.warning("Rebuilding the FLANN index, because %s is unusable: %s", index_path, problem)
        return None

    def save(self, key: str, flann, num_vecs: int) -> None:
        """Write the index and its sidecar atomically; an OSError is logged, not raised."""
        if not self.cache.enabled:
            return
        index_path, sidecar_path = self._paths(key)
        try:
            index_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = _temporary_path(index_path)
            try:
                flann.save_index(str(tmp))
                sidecar = {
                    "version": INDEX_VERSION,
                    "num_vecs": num_vecs,
                    "size": tmp.stat().st_size,
                    "blake2b": _file_digest(tmp),
                }
                # The index goes into place first: a crash before the sidecar
                # is written leaves an index whose check fails, so it is rebuilt.
                os.replace(tmp, index_path)
                _write_text_atomic(sidecar_path, json.dumps(sidecar))
            finally:
                if tmp.exists():
                    tmp.unlink()
        except OSError as err:
            log.warning("Could not save the FLANN index %s: %s", index_path, err)


def _check_sidecar(index_path: Path, sidecar_path: Path, num_vecs: int) -> str | None:
    """Return why the saved index cannot be trusted, or None when its size and digest match."""
    try:
        sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
        size = index_path.stat().st_size
    except (OSError, ValueError) as err:
        return f"its sidecar {sidecar_path.name} is missing or unreadable ({err})"
    if not isinstance(sidecar, dict) or sidecar.get("version") != INDEX_VERSION:
        return "its sidecar has another layout version"
    if sidecar.get("num_vecs") != num_vecs:
        return f"it indexes {sidecar.get('num_vecs')} vecs, not {num_vecs}"
    if sidecar.get("size") != size:
        return f"it has {size} bytes, not the {sidecar.get('size')} that were written"
    try:
        digest = _file_digest(index_path)
    except OSError as err:
        return f"it cannot be read ({err})"
    if sidecar.get("blake2b") != digest:
        return "its content does not match the digest written with it"
    return None


def _file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _temporary_path(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = _temporary_path(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
