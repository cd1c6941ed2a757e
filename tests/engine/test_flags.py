"""Pair flags: time gap, same image, burst and opposite flanks."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.engine.flags import flank, pair_flags


@pytest.fixture(scope="module")
def annots():
    return load_annotations(DEMO_ANNOTATIONS)


def test_same_image_is_a_burst(annots):
    flags = pair_flags(annots.get(3), annots.get(4))
    assert flags.same_image
    assert flags.burst
    assert flags.time_gap_s == 0.0


def test_time_gap_of_demo_zebra(annots):
    flags = pair_flags(annots.get(3), annots.get(5))
    assert flags.time_gap_s == 29 * 60 + 22
    assert not flags.burst
    assert not flags.same_image


def test_short_gap_is_a_burst(annots):
    a = annots.get(3)
    b = replace(annots.get(5), capture_time=a.capture_time + timedelta(seconds=40))
    assert pair_flags(a, b).burst


def test_unknown_time(annots):
    flags = pair_flags(annots.get(3), annots.get(26))
    assert flags.time_gap_s is None
    assert not flags.burst


@pytest.mark.parametrize(
    ("viewpoint", "side"),
    [
        ("left", "left"),
        ("frontleft", "left"),
        ("backright", "right"),
        ("front", None),
        ("unknown", None),
        (None, None),
    ],
)
def test_flank(viewpoint, side):
    assert flank(viewpoint) == side


def test_opposite_flanks(annots):
    a = annots.get(3)
    b = replace(annots.get(5), viewpoint="right", capture_time=datetime(2015, 3, 2))
    assert pair_flags(a, b).viewpoint_mismatch
    assert not pair_flags(a, annots.get(5)).viewpoint_mismatch
