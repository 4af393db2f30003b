"""A few of the probe's images, as 8-bit pixels, for the eye: the generator's samples of the
held-out latents beside held-out real samples (``--html``, ``--samples``).

Kept out of the JSON: a report's figures are numbers; the pictures go to PNG and HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID_COLUMNS = 8
GRID_SAMPLES = GRID_COLUMNS * GRID_COLUMNS
"""An 8 x 8 grid, as the StyleGAN and DCGAN papers show samples: enough to see diversity
and collapse at a glance, small enough for a report."""


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth for ==
class SampleImages:
    """Generated and real images, uint8 (N, H, W, C) with C 1 or 3, at the data's size.

    Both were mapped from the generator's value range onto 0..255 the same way, so what
    looks darker in one looks darker in the other for the same reason.
    """

    generated: np.ndarray
    real: np.ndarray
    value_range: tuple[float, float]
    """The range mapped onto 0..255: the generator's output range."""

    @property
    def count(self) -> int:
        return len(self.generated)


def to_pixels(values: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """float (N, C, H, W) in ``value_range`` -> uint8 (N, H, W, C); values outside the range
    are clipped (the range finding reports them) and NaN shows as black."""
    low, high = value_range
    scaled = (np.nan_to_num(values, nan=low) - low) * (255.0 / (high - low))
    pixels = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    if pixels.shape[1] == 4:  # RGBA: drop alpha, which a grid on white would misread
        pixels = pixels[:, :3]
    return np.ascontiguousarray(pixels.transpose(0, 2, 3, 1))


def shows_as_image(sample_shape: tuple[int, ...]) -> bool:
    """Grey, RGB or RGBA images; vectors and other channel counts have no picture."""
    return len(sample_shape) == 3 and sample_shape[0] in (1, 3, 4) and min(sample_shape) > 0
