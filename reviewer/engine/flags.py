"""Flags of a pair that explain a score without any matching: time gap, same photo, flank.

HotSpotter ranks pairs highly when they share background. Photos of one burst
(seconds apart, one spot) and two boxes in one photo are the usual cause, so
the reviewer flags them. Opposite flanks (left versus right) cannot show the
same coat pattern, so a high score there is suspect too.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.engine.annotations import Annotation

#: Pairs closer in time than this are flagged as a burst, in seconds (5 minutes).
BURST_GAP_S = 300.0


@dataclass(frozen=True)
class PairFlags:
    """What the annotations alone say about a pair."""

    time_gap_s: float | None  # absolute capture-time difference; None when either time is unknown
    same_image: bool  # both boxes lie in one photo file
    burst: bool  # same image, or taken less than ``BURST_GAP_S`` apart
    side_a: str | None  # "left", "right" or None (front, back, unknown)
    side_b: str | None
    viewpoint_mismatch: bool  # one annotation shows the left flank, the other the right

    def to_json(self) -> dict:
        """Return the flags as plain JSON values."""
        return {
            "time_gap_s": self.time_gap_s,
            "same_image": self.same_image,
            "burst": self.burst,
            "viewpoint_mismatch": self.viewpoint_mismatch,
        }


def flank(viewpoint: str | None) -> str | None:
    """Return the flank a Wildbook viewpoint shows: "left", "right" or None.

    Wildbook viewpoints combine front/back with left/right (``frontleft``,
    ``backright``); ``front``, ``back``, ``up``, ``down`` and ``unknown`` show no flank.
    """
    if not viewpoint:
        return None
    text = viewpoint.lower()
    has_left, has_right = "left" in text, "right" in text
    if has_left == has_right:
        return None
    return "left" if has_left else "right"


def pair_flags(a: Annotation, b: Annotation, burst_gap_s: float = BURST_GAP_S) -> PairFlags:
    """Compute the flags of a pair from its annotations."""
    gap = None
    if a.capture_time is not None and b.capture_time is not None:
        gap = abs((a.capture_time - b.capture_time).total_seconds())
    same_image = a.image_path == b.image_path
    side_a, side_b = flank(a.viewpoint), flank(b.viewpoint)
    return PairFlags(
        time_gap_s=gap,
        same_image=same_image,
        burst=same_image or (gap is not None and gap < burst_gap_s),
        side_a=side_a,
        side_b=side_b,
        viewpoint_mismatch=side_a is not None and side_b is not None and side_a != side_b,
    )
