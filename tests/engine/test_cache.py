"""The on-disk cache: round trip, unreadable entries and failed writes."""

import logging

import numpy as np

from reviewer.engine.cache import DiskCache, cache_key


def test_round_trip(tmp_path):
    cache = DiskCache(tmp_path)
    key = cache_key("annot", 3)
    cache.put("annot", key, {"kpts": np.arange(6.0).reshape(1, 6)})
    entry = cache.get("annot", key)
    np.testing.assert_array_equal(entry["kpts"], np.arange(6.0).reshape(1, 6))


def test_pickle_like_entry_is_miss(tmp_path, caplog):
    cache = DiskCache(tmp_path)
    key = cache_key("annot", 3)
    cache.put("annot", key, {"kpts": np.zeros((1, 6))})
    path = next(tmp_path.rglob("*.npz"))
    path.write_bytes(b"\x80\x04garbage that numpy would read as a pickle")
    assert cache.get("annot", key) is None
    assert "not an .npz archive" in caplog.text
    assert "allow_pickle" not in caplog.text


def test_write_failure_warns_once(tmp_path, caplog):
    root = tmp_path / "cache"
    root.write_text("a file where the cache folder should be")
    cache = DiskCache(root)
    with caplog.at_level(logging.DEBUG, logger="reviewer.engine.cache"):
        for aid in (1, 2, 3):
            cache.put("annot", cache_key("annot", aid), {"kpts": np.zeros((1, 6))})
    levels = [record.levelno for record in caplog.records]
    assert levels.count(logging.WARNING) == 1
    assert levels.count(logging.DEBUG) == 2
    assert "REVIEWER_CACHE_DIR" in caplog.text
