"""Random boxes, flips and photometric changes for training the background model.

The box of a training chip starts as the bounding box of all mask pixels or,
sometimes, of one connected component. Its sides are then moved outward
(context) or inward by a random fraction of the box size, so that the network
learns from boxes that are not drawn tightly, as users draw them.

The photometric change alters colour, and sometimes blurs the chip or adds
sensor-like noise, because many field photos are small, upscaled or shot in
poor light, and the network should not rely on sharp, clean texture.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reviewer.training.data import BBox

BLUR_SIGMA_MIN_PX = 0.3  # below this a Gaussian blur barely changes a chip


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of the training augmentation."""

    component_prob: float = 0.25  # share of chips cut around one connected component
    min_component_fraction: float = 0.05  # components below this share of the mask get no chip
    jitter_prob: float = 0.7  # share of boxes whose sides are moved
    grow_max: float = 0.20  # a side moves outward by up to this fraction of the box size
    shrink_max: float = 0.06  # ... or inward by up to this fraction
    flip_prob: float = 0.5  # horizontal flip
    brightness_max: float = 0.25  # added brightness, fraction of 255
    contrast_max: float = 0.3  # contrast factor in [1 - c, 1 + c]
    saturation_max: float = 0.4  # saturation factor in [1 - s, 1 + s]
    hue_max_deg: float = 10.0  # hue shift in degrees
    grayscale_prob: float = 0.05  # chips turned to grey
    blur_prob: float = 0.2  # chips blurred with a Gaussian
    blur_sigma_max_px: float = 1.2  # Gaussian sigma in network-input pixels, drawn from [0.3, max]
    noise_prob: float = 0.2  # chips given Gaussian pixel noise
    noise_std_max: float = 8.0  # noise standard deviation in 0-255 units, drawn from [0, max]

    def __post_init__(self):
        for name in (
            "component_prob",
            "jitter_prob",
            "flip_prob",
            "grayscale_prob",
            "blur_prob",
            "noise_prob",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], not {value}")
        if not 0.0 <= self.shrink_max < 0.5:
            raise ValueError(f"shrink_max must be in [0, 0.5), not {self.shrink_max}")
        if self.blur_sigma_max_px < BLUR_SIGMA_MIN_PX:
            raise ValueError(
                f"blur_sigma_max_px must be >= {BLUR_SIGMA_MIN_PX}, not {self.blur_sigma_max_px}"
            )
        if self.noise_std_max < 0.0:
            raise ValueError(f"noise_std_max must be >= 0, not {self.noise_std_max}")


@dataclass(frozen=True)
class ColourJitter:
    """One draw of the photometric change applied to a chip: colour, blur and noise."""

    brightness: float  # added to every channel, in 0-255 units
    contrast: float  # factor around the mean grey level
    saturation: float  # factor away from grey
    hue_deg: float
    grayscale: bool
    blur_sigma_px: float = 0.0  # Gaussian blur sigma in pixels of the image; 0 = no blur
    noise_std: float = 0.0  # Gaussian noise standard deviation, 0-255 units; 0 = no noise
    noise_seed: int = 0  # seed of the noise pattern, so that a drawn change is repeatable


def jitter_box(box: BBox, image_size: tuple[int, int], config: AugmentConfig, rng) -> BBox:
    """Move each side of a box by a random fraction of its size.

    The result always overlaps the photo of ``image_size`` (width, height), so
    that ``extract_chip`` accepts it. Parts outside the photo come out black.
    """
    x, y, w, h = box
    if rng.random() >= config.jitter_prob:
        return box
    left, top, right, bottom = rng.uniform(-config.shrink_max, config.grow_max, size=4)
    x0, x1 = x - left * w, x + w + right * w
    y0, y1 = y - top * h, y + h + bottom * h

    # Keep at least one photo pixel inside the box.
    width, height = image_size
    x0, y0 = min(x0, width - 1.0), min(y0, height - 1.0)
    x1, y1 = max(x1, x0 + 1.0, 1.0), max(y1, y0 + 1.0, 1.0)
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def draw_colour_jitter(config: AugmentConfig, rng) -> ColourJitter:
    """Draw one random photometric change."""
    colour = {
        "brightness": float(rng.uniform(-1.0, 1.0) * config.brightness_max * 255.0),
        "contrast": float(1.0 + rng.uniform(-1.0, 1.0) * config.contrast_max),
        "saturation": float(1.0 + rng.uniform(-1.0, 1.0) * config.saturation_max),
        "hue_deg": float(rng.uniform(-1.0, 1.0) * config.hue_max_deg),
        "grayscale": bool(rng.random() < config.grayscale_prob),
    }
    blur_sigma_px = 0.0
    if rng.random() < config.blur_prob:
        blur_sigma_px = float(rng.uniform(BLUR_SIGMA_MIN_PX, config.blur_sigma_max_px))
    noise_std = 0.0
    if rng.random() < config.noise_prob:
        noise_std = float(rng.uniform(0.0, config.noise_std_max))
    noise_seed = int(rng.integers(2**31))
    return ColourJitter(
        **colour, blur_sigma_px=blur_sigma_px, noise_std=noise_std, noise_seed=noise_seed
    )


def apply_colour_jitter(image: np.ndarray, jitter: ColourJitter) -> np.ndarray:
    """Apply a photometric change to an (h, w, 3) uint8 BGR image; return a new uint8 image.

    Blur comes first and noise last, in the order of a camera's optics and sensor.
    """
    if jitter.blur_sigma_px > 0.0:
        image = cv2.GaussianBlur(
            image, (0, 0), sigmaX=jitter.blur_sigma_px, sigmaY=jitter.blur_sigma_px
        )

    # Hue on OpenCV's 0-180 scale, so 2 degrees per step.
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hue = (hsv[..., 0].astype(np.int16) + int(round(jitter.hue_deg / 2.0))) % 180
    hsv[..., 0] = hue.astype(np.uint8)
    out = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR).astype(np.float32)

    grey = out.mean(axis=2, keepdims=True)
    saturation = 0.0 if jitter.grayscale else jitter.saturation
    out = grey + (out - grey) * saturation
    out = (out - grey.mean()) * jitter.contrast + grey.mean() + jitter.brightness
    if jitter.noise_std > 0.0:
        noise = np.random.default_rng(jitter.noise_seed).normal(0.0, jitter.noise_std, out.shape)
        out = out + noise.astype(np.float32)
    return np.clip(out, 0.0, 255.0).astype(np.uint8)
