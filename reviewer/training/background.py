"""Training of the background model on a masks folder.

Each epoch draws a random box per training photo (see ``mask_set`` and
``augment``), cuts the chip with the product's ``extract_chip``, shrinks it to
the network input exactly as ``BackgroundModel.predict`` does, and groups chips
of equal input size into batches. An exponential moving average of the weights trails the
trained ones (see ``weight_average``). After every epoch that average is scored
on the validation split with the IoU protocol of ``evaluate``, and the best one
is written to the output file. Validation is used only to pick that checkpoint.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.nn import functional

from reviewer.engine.errors import ReviewerError
from reviewer.engine.foreground import (
    BackgroundModel,
    ForegroundArch,
    ForegroundNet,
    check_network_cost,
    physical_core_count,
    save_background_model,
    torch_threads,
)
from reviewer.engine.foreground_net import INPUT_SIZE_RANGE_PX
from reviewer.training.augment import AugmentConfig
from reviewer.training.card import TrainResult, write_model_card
from reviewer.training.data import is_coco_file
from reviewer.training.evaluate import prepare_eval_chips, score_eval_chips
from reviewer.training.labels import BOX_LABEL_MODES, BoxLabelConfig
from reviewer.training.mask_set import TrainingSet
from reviewer.training.weight_average import WeightAverage

if TYPE_CHECKING:
    from reviewer.training.coco import CocoSummary

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130  # the shell's code for a job stopped by Ctrl-C


class TrainOptionError(ReviewerError):
    """An option of ``reviewer train-background`` is invalid."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; the model card records it."""

    data_dir: Path  # masks folder (index.csv, images/, masks/) or COCO annotation file
    out_path: Path  # weights file; the model card goes next to it as .md
    epochs: int = 150
    seed: int = 0
    batch_size: int = 16  # chips per batch; a batch may be smaller, see plan_epoch
    arch: ForegroundArch = field(default_factory=ForegroundArch)
    learning_rate: float = 3e-3  # peak AdamW rate, reached after warmup, then cosine decay
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.03  # share of all steps with a linear warmup
    # Decay per optimizer step of the weight average that is scored and saved;
    # None scores and saves the trained weights themselves.
    ema_decay: float | None = 0.998
    threads: int = field(default_factory=physical_core_count)  # torch threads
    max_minutes: float | None = None  # stop before an epoch that would end past this
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    # COCO files only: labels of annotations without segmentation, and the
    # share of images held out for validation.
    box_labels: BoxLabelConfig = field(default_factory=BoxLabelConfig)
    val_fraction: float = 0.15

    def __post_init__(self):
        for name in ("epochs", "batch_size", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, not {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, not {self.learning_rate}")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise ValueError(f"max_minutes must be > 0, not {self.max_minutes}")
        if self.ema_decay is not None and not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) or None, not {self.ema_decay}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), not {self.val_fraction}")
        # A network that a model file may not describe could be trained but not loaded.
        check_network_cost(self.arch)


def segmentation_loss(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Binary cross-entropy plus (1 - soft IoU) per image, on the target's grid.

    ``weights``, (B, 1, h, w) in [0, 1] like ``targets``, scale each pixel's
    share of both terms; a pixel of weight 0 is ignored. None weighs all equally.
    """
    logits = functional.interpolate(
        logits, size=targets.shape[2:], mode="bilinear", align_corners=False
    )
    probs = torch.sigmoid(logits)
    if weights is None:
        bce = functional.binary_cross_entropy_with_logits(logits, targets)
        weights = torch.ones_like(targets)
    else:
        pixel_bce = functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        bce = (pixel_bce * weights).sum() / weights.sum().clamp_min(1.0)
    intersection = (weights * probs * targets).sum(dim=(1, 2, 3))
    union = (weights * (probs + targets - probs * targets)).sum(dim=(1, 2, 3))
    soft_iou = (intersection + 1.0) / (union + 1.0)
    return bce + (1.0 - soft_iou).mean()


def learning_rate_at(progress: float, config: TrainConfig) -> float:
    """Return the learning rate at ``progress`` in [0, 1] of all training steps."""
    if progress < config.warmup_fraction:
        return config.learning_rate * (progress / config.warmup_fraction)
    decay = (progress - config.warmup_fraction) / (1.0 - config.warmup_fraction)
    return config.learning_rate * (0.01 + 0.99 * 0.5 * (1.0 + np.cos(np.pi * min(decay, 1.0))))


@dataclass(frozen=True)
class TrainingData:
    """The training set and validation chips of a run, and how to score the chips."""

    train_set: TrainingSet
    val_chips: list  # EvalChip for a masks folder, coco_set.ValChip for a COCO file
    score: Callable[[Callable, list], dict]  # (predict, val_chips) -> score_eval_chips dict
    all_ones_iou: float | None = None  # None: TrainResult.start computes it
    coco: CocoSummary | None = None  # set for a COCO file


def load_training_data(config: TrainConfig) -> TrainingData:
    """Read a masks folder, or a COCO file when ``data_dir`` is a JSON file.

    Raises
    ------
    TrainingDataError, MaskSetError, AnnotationFileError, CocoDataError
        The data is missing, of an unknown kind, malformed or has no usable images.
    """
    path = config.data_dir
    if is_coco_file(path):
        # Imported here because coco imports TrainConfig and TrainingData from this module.
        from reviewer.training.coco import load_coco_data

        return load_coco_data(config)
    train_set = TrainingSet(path, config.augment)
    return TrainingData(train_set, prepare_eval_chips(path, "val"), score_eval_chips)


def train_background(config: TrainConfig) -> TrainResult:
    """Train a background model and write the best checkpoint and its model card.

    Ctrl-C during an epoch stops training at once. The best checkpoint written
    so far is kept (checkpoints are replaced atomically) and the model card
    describes it. Ctrl-C while the data is read and labelled re-raises
    KeyboardInterrupt, and nothing has been written then.

    Raises
    ------
    TrainingDataError, MaskSetError, AnnotationFileError, CocoDataError
        The data is missing, of an unknown kind, malformed or has no usable images.
    """
    start = time.monotonic()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    # Data: training photos in memory, validation chips cut once. The first
    # file is written when epoch 1 ends.
    try:
        data = load_training_data(config)
    except KeyboardInterrupt:
        log.warning(
            "Interrupted while reading the data and making labels: training had not "
            "started, and nothing was written (no %s)",
            config.out_path,
        )
        raise
    train_set, val_chips = data.train_set, data.val_chips
    log.info("Training on %d chips per epoch, validating on %d", len(train_set), len(val_chips))

    net = ForegroundNet(config.arch)
    optimizer = torch.optim.AdamW(
        net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    scored_net = _attach_weight_average(net, optimizer, config)
    predictor = BackgroundModel(
        name=config.out_path.stem,
        path=config.out_path,
        sha256="",
        net=scored_net,
        num_threads=config.threads,
    )
    result = TrainResult.start(config, train_set.records, val_chips, net)
    result = replace(result, data_seconds=time.monotonic() - start)
    if data.coco is not None:
        result = replace(result, coco=data.coco, all_ones_iou=data.all_ones_iou)

    try:
        for epoch in range(1, config.epochs + 1):
            if _out_of_time(config, start, result):
                log.info("Stopping before epoch %d: the time budget is spent", epoch)
                break
            loss = _train_one_epoch(net, optimizer, train_set, config, rng, epoch)

            scores = data.score(predictor.predict, val_chips)
            net.train()
            result = replace(
                result, epochs_run=epoch, seconds=time.monotonic() - start, last_loss=loss
            )
            if scores["mean_iou"] > result.best_val_iou:
                result = replace(result, best_epoch=epoch, best_scores=scores)
                save_background_model(config.out_path, scored_net, result.to_meta())
            _log_epoch(result, scores, config)
    except KeyboardInterrupt:
        result = replace(result, interrupted=True, seconds=time.monotonic() - start)
        _log_interrupt(result)

    if result.best_epoch is not None:
        write_model_card(result)
    return result


def _log_interrupt(result: TrainResult) -> None:
    out_path = result.config.out_path
    if result.best_epoch is None:
        log.warning(
            "Interrupted in epoch %d, before the first checkpoint: nothing was written (no %s)",
            result.epochs_run + 1,
            out_path,
        )
    else:
        log.warning(
            "Interrupted in epoch %d; %s keeps the best checkpoint so far, from epoch %d",
            result.epochs_run + 1,
            out_path,
            result.best_epoch,
        )


def _attach_weight_average(net, optimizer, config: TrainConfig) -> ForegroundNet:
    """Return the network to score and save: a weight average updated after every step."""
    if config.ema_decay is None:
        return net
    average = WeightAverage(net, config.ema_decay)
    optimizer.register_step_post_hook(lambda *_: average.update(net))
    return average.net


def _train_one_epoch(net, optimizer, train_set, config, rng, epoch) -> float:
    net.train()
    batches = train_set.plan_epoch(config, rng)
    losses = []
    for step, plans in enumerate(batches):
        progress = (epoch - 1 + step / len(batches)) / config.epochs
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(progress, config)
        images, targets, weights = train_set.make_batch(plans)
        loss = segmentation_loss(net(images), targets, weights)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().item())
    return float(np.mean(losses))


def _out_of_time(config: TrainConfig, start: float, result: TrainResult) -> bool:
    if config.max_minutes is None or result.epochs_run == 0:
        return False
    return time.monotonic() - start + result.seconds_per_epoch > config.max_minutes * 60.0


def _log_epoch(result: TrainResult, scores: dict, config: TrainConfig) -> None:
    per_epoch = result.seconds_per_epoch
    left = per_epoch * (config.epochs - result.epochs_run)
    log.info(
        "epoch %d/%d: loss %.4f, val IoU %.4f (best %.4f at epoch %d), %.0f s/epoch, ETA %s",
        result.epochs_run,
        config.epochs,
        result.last_loss,
        scores["mean_iou"],
        result.best_val_iou,
        result.best_epoch,
        per_epoch,
        _format_duration(left),
    )


def _format_duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``reviewer train-background`` to a parser."""
    defaults = TrainConfig(data_dir=Path("."), out_path=Path("."), threads=1)
    low_px, high_px = INPUT_SIZE_RANGE_PX
    parser.add_argument(
        "data",
        type=Path,
        metavar="DATA",
        help="masks folder with index.csv, images/ and masks/, or a COCO annotation file "
        "(.json) with boxes and optional segmentation",
    )
    # No default: a fixed path would overwrite the bundled model in a clone,
    # or create a stray models/ folder anywhere else.
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="OUT.pt",
        help="weights file to write, e.g. models/background_NAME.pt; the model card goes "
        "next to it as .md",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=defaults.epochs,
        help="passes over the training split (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="seed of every random draw; equal seeds give equal weights on "
        "the same machine and thread count (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=defaults.batch_size,
        help="chips per batch (default: %(default)s)",
    )
    parser.add_argument(
        "--input-size",
        type=int,
        default=defaults.arch.input_size_px,
        help=f"longer side of the network input in pixels, in [{low_px}, {high_px}] and a "
        f"multiple of {defaults.arch.stride} (default: %(default)s)",
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=defaults.learning_rate,
        help="peak learning rate of AdamW (default: %(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: the number of physical cores)",
    )
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="stop before an epoch that would end past this many minutes",
    )
    parser.add_argument(
        "--box-labels",
        choices=BOX_LABEL_MODES,
        default=defaults.box_labels.mode,
        help="COCO files: labels of annotations without segmentation; 'refined' runs "
        "GrabCut inside each box, 'plain' calls the whole box animal (default: %(default)s)",
    )
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=defaults.val_fraction,
        help="COCO files: share of the images held out to pick the best epoch "
        "(default: %(default)s)",
    )


def run_train(args: argparse.Namespace) -> int:
    """Run ``reviewer train-background``; return the exit code.

    Returns 0 on success, and 130 when Ctrl-C stopped an epoch. Invalid options
    or data raise ``ReviewerError``, which the command line reports as
    ``error: ...`` with exit code 2. Ctrl-C while the data is read and labelled
    re-raises KeyboardInterrupt.
    """
    config = _config_from_args(args)
    with torch_threads(config.threads):
        result = train_background(config)

    if result.best_epoch is None:
        if result.interrupted:
            return EXIT_INTERRUPTED
        raise ReviewerError(
            f"No checkpoint was written to {config.out_path}: no epoch gave a valid val IoU "
            f"(last loss {result.last_loss}). Check the data, or lower --lr."
        )
    log.info(
        "Best val IoU %.4f at epoch %d, written to %s and %s",
        result.best_val_iou,
        result.best_epoch,
        config.out_path,
        result.card_path,
    )
    return EXIT_INTERRUPTED if result.interrupted else 0


# TrainConfig fields and the options that set them, for error messages.
_OPTION_OF_FIELD = {
    "input_size_px": "--input-size",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "learning_rate": "--lr",
    "threads": "--threads",
    "max_minutes": "--max-minutes",
    "val_fraction": "--val-fraction",
}


def _config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Build the run's config; raise TrainOptionError naming the invalid option."""
    if args.out.is_dir():
        raise TrainOptionError(
            f"--out {args.out} is a folder; give the weights file to write, "
            f"e.g. {args.out / 'background_NAME.pt'}."
        )
    try:
        return TrainConfig(
            data_dir=args.data,
            out_path=args.out,
            epochs=args.epochs,
            seed=args.seed,
            batch_size=args.batch_size,
            arch=ForegroundArch(input_size_px=args.input_size),
            learning_rate=args.lr,
            threads=args.threads or physical_core_count(),
            max_minutes=args.max_minutes,
            box_labels=BoxLabelConfig(mode=args.box_labels),
            val_fraction=args.val_fraction,
        )
    except ValueError as err:
        text = str(err)
        option = next((o for name, o in _OPTION_OF_FIELD.items() if name in text), None)
        if option is None:
            raise TrainOptionError(f"Invalid training option: {text}.") from None
        raise TrainOptionError(f"Invalid value for {option}: {text}.") from None
