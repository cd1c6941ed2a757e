"""``reviewer train-background``: train a background model."""

from __future__ import annotations

from reviewer.commands import add_common


def register(commands) -> None:
    """Add the ``train-background`` parser."""
    train = commands.add_parser(
        "train-background",
        help="train a background (foreground probability) model",
        description="Train a background model from a masks folder (index.csv, images/, "
        "masks/) or a COCO annotation file (segmentation masks, or boxes only). Progress "
        "and the time left are logged; Ctrl-C stops and keeps the best checkpoint.",
    )
    from reviewer.training.background import add_train_arguments, run_train

    add_train_arguments(train)
    add_common(train)
    # Training logs its progress and ETA at INFO, so that level is its default.
    train.set_defaults(run=run_train, base_verbosity=1)
