"""Training and evaluation of the background model (``reviewer train-background``).

This package needs torch and the masks data set; the engine does not import it.
"""

from reviewer.training.background import add_train_arguments, run_train
from reviewer.training.evaluate import evaluate_masks_split

__all__ = ["add_train_arguments", "evaluate_masks_split", "run_train"]
