"""Model card sections of a run trained from a COCO file (see ``card`` for the rest)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewer.training.labels import SEGMENTATION

if TYPE_CHECKING:
    from reviewer.training.card import TrainResult
    from reviewer.training.coco import CocoSummary


def data_section(result: TrainResult) -> list[str]:
    """Return the Data and Labels sections: file, splits, species and label source."""
    summary = result.coco
    images, config = summary.images, result.config
    lines = [
        "## Data",
        "",
        f"COCO annotation file `{summary.path.name}`: {images['train']} train and "
        f"{images['val']} val images, {summary.annotation_count('train')} train and "
        f"{summary.annotation_count('val')} val annotations. The images were split with seed "
        f"{config.seed}, {summary.val_fraction:.0%} of them held out for validation, so no "
        "photo is in both splits. The photos are the files that the annotation file names, "
        "not part of the model file.",
        "",
    ]
    if summary.skipped:
        lines += [
            f"{len(summary.skipped)} annotations were skipped, each with a warning in the "
            f"training log; the first: {summary.skipped[0]}",
            "",
        ]
    lines += _count_table("species", summary.species)
    return lines + labels_section(summary)


def labels_section(summary: CocoSummary) -> list[str]:
    """Return the Labels section: where the training targets came from and how."""
    lines = [
        "## Labels",
        "",
        f"Label source: **{summary.label_source}**.",
        "",
        *_count_table("label source", summary.label_sources),
        "The loss scales each pixel's binary cross-entropy and soft-IoU terms by its label "
        "weight, so a pixel of weight 0 is ignored.",
        "",
    ]
    if SEGMENTATION in summary.label_sources:
        lines.append(
            "- segmentation: the annotation's polygons or RLE, drawn into the chip together "
            "with the masks of the photo's other annotations; inside the boxes of animals "
            "without segmentation the loss weight is 0."
        )
    if "boxes refined" in summary.label_sources:
        lines.append(_refined_text(summary))
    if "boxes plain" in summary.label_sources:
        lines.append(
            "- boxes plain: every pixel inside a box of the photo is animal and every other "
            "pixel background, with loss weight 1, as Wildbook IA trained its background "
            "models."
        )
    return lines + [""]


def _refined_text(summary: CocoSummary) -> str:
    config = summary.box_labels
    return (
        "- boxes refined: GrabCut on the chip with context, initialised with the photo's "
        "boxes (outside every box background, inside probably animal), "
        f"{config.grabcut_iterations} iterations at up to {config.grabcut_size_px} px. "
        "Inside a box its result is the target. Where GrabCut calls a pixel inside a box "
        f"background, and so disagrees with the box, the loss weight is "
        f"{config.disagree_weight}; in a band of {config.boundary_band:.1%} of the chip "
        "diagonal around the GrabCut boundary it is 0. On "
        f"{summary.grabcut_failed} chips GrabCut kept less than "
        f"{config.min_foreground_fraction:.0%} of the box as animal; those chips keep only "
        "the background outside the boxes."
    )


def _count_table(name: str, counts: dict) -> list[str]:
    lines = [f"| {name} | train annotations | val annotations |", "| --- | ---: | ---: |"]
    lines += [f"| {key} | {value['train']} | {value['val']} |" for key, value in counts.items()]
    return lines + [""]


def chips_line(result: TrainResult) -> str:
    """Return the Chips entry of the Training section."""
    augment = result.config.augment
    return (
        "- Chips: `extract_chip` of each annotation's box at its theta, every side moved "
        f"outward by {augment.grow_max:.0%} of the box size for context; each epoch one chip "
        f"per annotation inside it, each side of the box moved by -{augment.shrink_max:.0%} "
        f"to +{augment.grow_max:.0%} with probability {augment.jitter_prob}, and the labels "
        "warped with the same transform; horizontal flips; brightness, contrast, saturation "
        "and hue jitter; Gaussian blur and noise"
    )


def protocol_text(result: TrainResult) -> str:
    """Return the validation protocol paragraph."""
    summary = result.coco
    return (
        "Protocol: one chip per held-out annotation. With segmentation it is the product's "
        "chip (`extract_chip` of the box at its theta) against the photo's masks; without, "
        "the chip with context against the annotation's box labels, each pixel counted with "
        "its loss weight, so ignored pixels do not count. Foreground is probchip >= 0.5, "
        "from `BackgroundModel.predict` as the product runs it. IoU is averaged over "
        "annotations, and a species averages its own. The best epoch was picked by IoU "
        f"against {summary.validation_target()}."
    )


def limitations(result: TrainResult) -> list[str]:
    """Return the Limitations section."""
    summary = result.coco
    lines = ["## Limitations", ""]
    if "boxes refined" in summary.label_sources:
        lines.append(
            "- Labels from boxes refined by GrabCut are estimates. GrabCut tells animal from "
            "background by colour, so it errs where they look alike, and a val IoU against "
            "these labels measures agreement with them, not with true masks."
        )
    if "boxes plain" in summary.label_sources:
        lines.append(
            "- Labels from plain boxes call every pixel inside a box animal, so the model "
            "learns the background inside boxes (between legs, around the body) as animal. "
            "A val IoU against these labels measures agreement with the boxes, not with "
            "true masks."
        )
    lines += [
        f"- {summary.annotation_count('val')} val annotations; with few of them, or few of "
        "a species, the IoU figures are rough.",
        "- Every annotated animal in a chip counts as foreground, not only the chip's own; "
        "animals without an annotation count as background.",
    ]
    return lines


def command_words(result: TrainResult) -> list[str]:
    """Return the options of a COCO run for ``TrainResult.command_line``."""
    config = result.config
    return ["--box-labels", config.box_labels.mode, "--val-fraction", str(config.val_fraction)]


def meta(result: TrainResult) -> dict:
    """Return the entries of the model file's meta that differ for a COCO run."""
    summary = result.coco
    return {
        "train_images": summary.images["train"],
        "val_images": summary.images["val"],
        "train_annotations": summary.annotation_count("train"),
        "val_annotations": summary.annotation_count("val"),
        "label_source": summary.label_source,
        "label_sources": {k: v["train"] + v["val"] for k, v in summary.label_sources.items()},
    }
