"""On-disk cache of heavy results, so that reopening a session costs nothing.

Entries are ``.npz`` files named by a hash of everything that determines them:
the photo's content hash, the box, theta, every config and the model hash.
Writes go to a temporary file that is renamed into place, so a crash never
leaves a half-written entry. An unreadable entry is treated as a miss.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: Bump when the layout of cached entries changes, so old entries become misses.
CACHE_VERSION = 1
#: First bytes of a zip archive that has members, as every ``.npz`` entry here does.
_ZIP_SIGNATURE = b"PK\x03\x04"


def default_cache_dir() -> Path:
    """Return ``$REVIEWER_CACHE_DIR``, else ``$XDG_CACHE_HOME/wildlife-reviewer``."""
    if os.environ.get("REVIEWER_CACHE_DIR"):
        return Path(os.environ["REVIEWER_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "wildlife-reviewer"


def cache_key(*parts: Any) -> str:
    """Hash dataclasses, tuples and plain values into a stable hex key."""
    payload = json.dumps([CACHE_VERSION, *[_plain(p) for p in parts]], sort_keys=True, default=str)
    return hashlib.blake2b(payload.encode(), digest_size=20).hexdigest()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {type(value).__name__: dataclasses.asdict(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


class DiskCache:
    """A folder of ``.npz`` entries grouped by kind (``annot``, ``pair``)."""

    def __init__(self, root: str | Path | None = None, enabled: bool = True):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.enabled = enabled
        self._write_failed = False  # after the first failed write, the next ones log at debug

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.npz"

    def get(self, kind: str, key: str) -> dict[str, np.ndarray] | None:
        """Return the arrays of an entry, or None on a miss or an unreadable entry."""
        if not self.enabled:
            return None
        path = self._path(kind, key)
        if not path.exists():
            return None
        try:
            # np.load reads a file without the zip signature as a pickle, and its
            # error then suggests allow_pickle, which a cache entry never needs.
            with path.open("rb") as fh:
                if fh.read(len(_ZIP_SIGNATURE)) != _ZIP_SIGNATURE:
                    raise ValueError("it is not an .npz archive")
            with np.load(path, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            log.warning("Recomputing cache entry %s, because it is unreadable: %s", path, err)
            return None

    def put(self, kind: str, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Write an entry atomically. A failure to write is logged, never raised."""
        if not self.enabled:
            return
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    np.savez(fh, **arrays)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError as err:
            self._report_write_failure(path, err)

    def _report_write_failure(self, path: Path, err: OSError) -> None:
        """Warn once per cache about failed writes, since every later entry fails alike."""
        if self._write_failed:
            log.debug("Could not write cache entry %s: %s", path, err)
            return
        self._write_failed = True
        log.warning(
            "Could not write cache entry %s (%s), so results are not cached and later "
            "runs recompute them. Set REVIEWER_CACHE_DIR to a writable folder, or pass "
            "--no-cache. Further write failures are logged at debug level.",
            path,
            err.strerror or err,
        )
