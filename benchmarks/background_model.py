"""Score the background model against two baselines on the val split of the masks data.

    python benchmarks/background_model.py [--data DIR] [--model FILE] [--threads N]

Protocol: for each val image the box is the bounding box of all mask pixels.
The chip is ``extract_chip`` of that box, and the true mask is warped into it
with nearest-neighbour sampling. Foreground is probchip >= 0.5, and IoU is
measured over the chip (the box) and averaged over images. A class averages
the images that contain it.

Columns:

- model: ``BackgroundModel.predict`` on the chip, as the product runs it.
- all_ones: every chip pixel foreground, the segmentation the box alone gives.
- grabcut: ``cv2.grabCut`` initialised with the box (GC_INIT_WITH_RECT) in a
  crop of the photo with 15% of the box size as context on each side, run for
  5 iterations. Its label mask is warped into the chip with the chip's own
  affine transform and nearest-neighbour sampling, like the true mask. See
  ``reviewer.training.baselines``.

Speed: the median time of ``BackgroundModel.predict`` (the resize back to the
chip included) over the val chips, which are 700 px on the longer side, after
three warm-up calls. The last output line is ``mean_iou_val=<value>``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from reviewer.engine.errors import ReviewerError
from reviewer.engine.foreground import load_background_model, physical_core_count
from reviewer.training.baselines import GrabCutConfig, grabcut_probchip
from reviewer.training.evaluate import iter_eval_cases, score_probchips

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "masks"
DEFAULT_MODEL = REPO_ROOT / "models" / "background_generic.pt"
SPLIT = "val"
HIGHLIGHTED = ("zebra", "giraffe")  # the species the reviewer is mostly used on
COLUMNS = ("model", "all_ones", "grabcut")
WARMUP_CALLS = 3


def main() -> int:
    args = _parse_args()
    if not (args.data / "index.csv").is_file():
        print(
            f"error: no masks folder at {args.data} (index.csv, images/, masks/). "
            "Pass --data DIR, or place the data set at ../shared/data/masks "
            "next to the repository.",
            file=sys.stderr,
        )
        return 2
    try:
        model = load_background_model(args.model, num_threads=args.threads)
        cases = list(iter_eval_cases(args.data, SPLIT))
    except ReviewerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    chips = [case.chip for case in cases]
    grabcut_config = GrabCutConfig()
    grabcut_start = time.perf_counter()
    probchips = {
        "model": {chip.id: model.predict(chip.pixels) for chip in chips},
        "all_ones": {chip.id: np.ones(chip.truth.shape, np.float32) for chip in chips},
        "grabcut": {
            case.chip.id: grabcut_probchip(case.photo, case.bbox, grabcut_config) for case in cases
        },
    }
    grabcut_seconds = time.perf_counter() - grabcut_start
    scores = {name: score_probchips(probchips[name], chips) for name in COLUMNS}

    print(f"background model {args.model} ({model.sha256[:12]}) on {args.data} split {SPLIT}")
    print(
        f"GrabCut: box as GC_INIT_WITH_RECT, {grabcut_config.iterations} iterations, "
        f"{grabcut_config.context_fraction:.0%} context per side, label mask warped "
        "into the chip with nearest-neighbour sampling"
    )
    print()
    _print_table(scores)
    print()
    _print_speed(model, chips, grabcut_seconds)
    print(f"mean_iou_val={scores['model']['mean_iou']:.4f}")
    return 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="masks folder with index.csv, images/ and masks/ (default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help="background model file (default: %(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads in predict (default: the physical core count, as in the product)",
    )
    return parser.parse_args()


def _print_table(scores: dict) -> None:
    header = f"{'images':<22} {'count':>5} " + " ".join(f"{name:>9}" for name in COLUMNS)
    print("IoU inside the box, mean over images")
    print(header)
    print("-" * len(header))
    _print_row("all", {name: _overall(scores[name]) for name in COLUMNS})
    for cls in HIGHLIGHTED:
        _print_row(f"{cls} (highlighted)", {n: _class(scores[n], cls) for n in COLUMNS})
    print("-" * len(header))
    for cls in sorted(scores["model"]["per_class"]):
        _print_row(cls, {name: _class(scores[name], cls) for name in COLUMNS})


def _overall(score: dict) -> dict:
    return {"iou": score["mean_iou"], "count": score["count"]}


def _class(score: dict, cls: str) -> dict:
    return score["per_class"].get(cls, {"iou": float("nan"), "count": 0})


def _print_row(label: str, entries: dict) -> None:
    count = entries["model"]["count"]
    cells = " ".join(f"{entries[name]['iou']:9.3f}" for name in COLUMNS)
    print(f"{label:<22} {count:5d} {cells}")


def _print_speed(model, chips, grabcut_seconds: float) -> None:
    for chip in chips[:WARMUP_CALLS]:
        model.predict(chip.pixels)
    times_ms = []
    for chip in chips:
        start = time.perf_counter()
        model.predict(chip.pixels)
        times_ms.append((time.perf_counter() - start) * 1000.0)

    sizes = sorted({max(chip.pixels.shape[:2]) for chip in chips})
    print(
        f"machine: {platform.machine()}, cpu_cores_physical={physical_core_count()}, "
        f"cpu_logical={os.cpu_count()}, torch_threads={model.num_threads} "
        f"(torch default {torch.get_num_threads()})"
    )
    print(
        f"probchip: input {model.input_size_px} px, flip_average={model.flip_average}, "
        f"{len(times_ms)} chips with longer side {sizes} px, "
        f"p90 {np.percentile(times_ms, 90):.1f} ms"
    )
    print(f"grabcut: {grabcut_seconds / len(chips) * 1000.0:.0f} ms per image on average")
    print(f"ms_per_chip={statistics.median(times_ms):.1f}")


if __name__ == "__main__":
    sys.exit(main())
