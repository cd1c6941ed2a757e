"""Photometric augmentation: colour, blur and noise."""

import numpy as np
import pytest

from reviewer.training.augment import (
    AugmentConfig,
    ColourJitter,
    apply_colour_jitter,
    draw_colour_jitter,
)

NEUTRAL = {"brightness": 0.0, "contrast": 1.0, "saturation": 1.0, "hue_deg": 0.0}


def _image():
    image = np.zeros((40, 40, 3), np.uint8)
    image[:, 20:] = 200
    return image


def test_neutral_jitter_keeps_image():
    out = apply_colour_jitter(_image(), ColourJitter(**NEUTRAL, grayscale=False))
    assert np.abs(out.astype(int) - _image()).max() <= 1


def test_blur_softens_edge():
    jitter = ColourJitter(**NEUTRAL, grayscale=False, blur_sigma_px=1.5)
    out = apply_colour_jitter(_image(), jitter)
    assert 0 < out[20, 20, 0] < 200


def test_noise_repeatable():
    jitter = ColourJitter(**NEUTRAL, grayscale=False, noise_std=6.0, noise_seed=3)
    first = apply_colour_jitter(_image(), jitter)
    assert np.array_equal(first, apply_colour_jitter(_image(), jitter))


def test_noise_changes_pixels():
    jitter = ColourJitter(**NEUTRAL, grayscale=False, noise_std=6.0, noise_seed=3)
    assert not np.array_equal(apply_colour_jitter(_image(), jitter), _image())


def test_draw_without_blur_or_noise():
    config = AugmentConfig(blur_prob=0.0, noise_prob=0.0)
    jitter = draw_colour_jitter(config, np.random.default_rng(0))
    assert jitter.blur_sigma_px == 0.0
    assert jitter.noise_std == 0.0


def test_draw_always_blur_in_range():
    config = AugmentConfig(blur_prob=1.0, blur_sigma_max_px=1.0)
    sigmas = [draw_colour_jitter(config, np.random.default_rng(s)).blur_sigma_px for s in range(20)]
    assert min(sigmas) >= 0.3
    assert max(sigmas) <= 1.0


@pytest.mark.parametrize(
    "field, value", [("blur_prob", 1.5), ("noise_prob", -0.1), ("noise_std_max", -1.0)]
)
def test_invalid_config_raises(field, value):
    with pytest.raises(ValueError, match=field):
        AugmentConfig(**{field: value})
