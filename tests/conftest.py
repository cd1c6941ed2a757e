"""Test settings shared by every test: Qt without a display, a private cache, the demo pair."""

import os
import shutil
import tempfile

import pytest

# Qt reads the platform when its first application starts, so set it before any
# test module imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Heavy results go to a throwaway folder, never into the user's cache. Set at
# import time so that module-scoped fixtures and subprocesses see it too.
_CACHE_DIR = tempfile.mkdtemp(prefix="reviewer-test-cache-")
os.environ["REVIEWER_CACHE_DIR"] = _CACHE_DIR


def pytest_unconfigure(config):
    shutil.rmtree(_CACHE_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_annots():
    """The demo annotation set."""
    from reviewer import DEMO_ANNOTATIONS
    from reviewer.engine.annotations import load_annotations

    return load_annotations(DEMO_ANNOTATIONS)


@pytest.fixture(scope="session")
def shared_matcher():
    """One Matcher for the GUI and render tests, so its memory cache is shared."""
    from reviewer.engine.pipeline import Matcher

    return Matcher()


@pytest.fixture(scope="session")
def zebra_match(demo_annots, shared_matcher):
    """aid 3 vs aid 5: the same plains zebra in two photos, computed once."""
    return shared_matcher.match(demo_annots.get(3), demo_annots.get(5))
