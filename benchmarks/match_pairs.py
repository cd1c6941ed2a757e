"""Score and time the demo pairs with the vsone preset.

    python benchmarks/match_pairs.py [ANNOTATIONS] [--pairs 3,5 3,4 ...]

Prints, for each pair, the score at t = 0 and t = 0.5 with its background
split, the stage timings of a cold run (no cache), and the cost of one live
re-score, the work done per slider move.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.engine.cache import DiskCache
from reviewer.engine.pipeline import Matcher
from reviewer.engine.scoring import ScoreConfig

DEFAULT_PAIRS = ("3,5", "3,4", "5,7", "1,2")
STAGES = ("load_image", "chip", "features", "probchip", "fgweights", "flann", "sver", "total")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("annotations", nargs="?", type=Path, default=DEMO_ANNOTATIONS)
    parser.add_argument("--pairs", nargs="+", default=DEFAULT_PAIRS, metavar="A,B")
    args = parser.parse_args()

    annots = load_annotations(args.annotations)
    # No disk cache and no memory cache: every pair is a cold run.
    matcher = Matcher(cache=DiskCache(enabled=False), memory_items=0)
    print(_score_header())
    timings = []
    for spec in args.pairs:
        aid_a, aid_b = spec.split(",")
        match = matcher.match(annots.get(aid_a), annots.get(aid_b))
        timings.append((spec, match.timings_ms, _rescore_ms(match)))
        print(_score_row(spec, match))

    print()
    print("cold-run stage timings in ms (both annotations summed; 2-core CPU here)")
    print(f"{'pair':>6} " + " ".join(f"{s:>10}" for s in STAGES) + f" {'rescore':>9}")
    for spec, stage_ms, rescore in timings:
        cells = " ".join(f"{stage_ms.get(s, 0.0):10.1f}" for s in STAGES)
        print(f"{spec:>6} {cells} {rescore:9.3f}")
    return 0


def _score_header() -> str:
    return (
        f"{'pair':>6} {'t':>4} {'score':>8} {'fg':>8} {'bg':>8} {'bg_share':>8} "
        f"{'bg_raw':>8} {'inliers':>7} {'matches':>7} {'same_pt':>7}  model_a / model_b"
    )


def _score_row(spec: str, match) -> str:
    lines = []
    for t in (0.0, 0.5):
        s = match.score(ScoreConfig(threshold=t))
        lines.append(
            f"{spec:>6} {t:4.1f} {s.score:8.3f} {_num(s.score_foreground)} "
            f"{_num(s.score_background)} {_num(s.background_share)} "
            f"{_num(s.background_share_unweighted)} {len(match.sver.inliers):7d} "
            f"{len(match.matches):7d} {match.num_same_place:7d}  "
            f"{match.a.model.model_name} / {match.b.model.model_name}"
        )
    return "\n".join(lines)


def _rescore_ms(match, repeats: int = 200) -> float:
    """Mean ms of one live re-score over thresholds spread across [0, 1]."""
    thresholds = np.linspace(0.0, 1.0, repeats)
    start = time.perf_counter()
    for t in thresholds:
        match.score(ScoreConfig(threshold=float(t)))
    return (time.perf_counter() - start) * 1000.0 / repeats


def _num(value: float | None) -> str:
    return f"{'n/a':>8}" if value is None else f"{value:8.3f}"


if __name__ == "__main__":
    sys.exit(main())
