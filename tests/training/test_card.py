"""Model card text."""

from reviewer.training.background import TrainConfig
from reviewer.training.card import TrainResult, _limitations


def _result(per_class):
    return TrainResult(
        config=TrainConfig(data_dir="masks", out_path="m.pt"),
        train_classes={},
        val_classes={},
        train_count=0,
        val_count=0,
        parameter_count=0,
        all_ones_iou=0.5,
        sources={},
        best_scores={"per_class": per_class},
    )


def test_limitations_name_weak_classes():
    text = "\n".join(
        _limitations(
            _result(
                {
                    "bird": {"iou": 0.5, "count": 5},
                    "horse": {"iou": 0.9, "count": 48},
                    "dog": {"iou": 0.6, "count": 9},
                }
            )
        )
    )
    weak_line = text.splitlines()[-1]
    assert "bird 0.500 (5 images), dog 0.600 (9 images)." in weak_line
    assert "horse" not in weak_line


def test_limitations_without_weak_classes():
    text = "\n".join(_limitations(_result({"horse": {"iou": 0.9, "count": 48}})))
    assert "Classes below" not in text
