"""Shared test material: real images (scikit-learn's digits) and reference generators."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from gandoctor.loading import DCGANGenerator

LATENT = 16
RESOLUTION = 16


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch) -> None:
    """Each test gets its own empty cache of decoded images, never the user's."""
    monkeypatch.setenv("GANDOCTOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@cache
def _digits(resolution: int) -> torch.Tensor:
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().images, dtype=torch.float32)[:, None] / 16.0
    images = F.interpolate(images, size=resolution, mode="bilinear", align_corners=False)
    return images * 2 - 1  # the range of a tanh generator


@pytest.fixture
def digits() -> torch.Tensor:
    """1797 real 16x16 grayscale digits in [-1, 1]."""
    return _digits(RESOLUTION).clone()


@pytest.fixture
def digits32() -> torch.Tensor:
    """The same digits at 32x32, where the default probe D has three conv layers."""
    return _digits(32).clone()


def dcgan_init(module: nn.Module) -> nn.Module:
    """The DCGAN paper's initialisation, as in the PyTorch example."""
    for m in module.modules():
        if isinstance(m, nn.ConvTranspose2d | nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


def untrained_dcgan(seed: int = 0, widths: tuple[int, ...] = (32, 16)) -> DCGANGenerator:
    """A freshly initialised DCGAN generator, as saved before any training step: 16x16
    with two widths, 32x32 with three."""
    torch.manual_seed(seed)
    return dcgan_init(DCGANGenerator(LATENT, widths, 1)).eval()  # type: ignore[return-value]


def calibrated_dcgan(seed: int = 0) -> DCGANGenerator:
    """A random DCGAN generator whose BatchNorm statistics were set from its own batches, so
    its eval-mode samples vary as much as real images do (an untrained generator's fresh
    statistics shrink its samples to almost nothing)."""
    torch.manual_seed(seed)
    g = DCGANGenerator(LATENT, [32, 16], 1)
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the calibration batches
    g.train()
    with torch.no_grad():
        for _ in range(20):
            g(torch.randn(256, LATENT, 1, 1))
    return g.eval()


def samples_of(generator: nn.Module, n: int, seed: int) -> torch.Tensor:
    """Samples of ``generator``: real data that follow its own distribution exactly."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return torch.cat(
            [generator(torch.randn(256, LATENT, 1, 1, generator=rng)) for _ in range(n // 256)]
        )


def write_pngs(folder, images: torch.Tensor) -> None:
    """Write images in [-1, 1] as 8-bit grayscale PNGs."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = ((images[:, 0].numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
    for i, image in enumerate(pixels):
        Image.fromarray(image, mode="L").save(folder / f"{i:04d}.png")


class PoolGenerator(nn.Module):
    """A generator whose samples follow a fixed pool of images exactly: z's first coordinate
    picks one uniformly (through the normal CDF). With ``noise`` > 0, z's second coordinate
    adds one of 4096 fixed Gaussian noise images of that standard deviation. Its one
    parameter, an output scale of 1, lets gradients reach it."""

    def __init__(self, pool: torch.Tensor, noise: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("pool", pool.clone())
        bank = torch.randn((4096, *pool.shape[1:]), generator=torch.Generator().manual_seed(0))
        self.register_buffer("noise", noise * bank)
        self.scale = nn.Parameter(torch.ones(()))

    def _pick(self, z: torch.Tensor, n: int) -> torch.Tensor:
        return (torch.special.ndtr(z) * n).long().clamp(0, n - 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z.flatten(1)
        image = self.pool[self._pick(z[:, 0], len(self.pool))]
        return (image + self.noise[self._pick(z[:, 1], len(self.noise))]) * self.scale


def pool_and_data(digits: torch.Tensor, pool_size: int = 897) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits split at random (seed 0) into a generator's pool and disjoint real data.
    A split by index would not match: a fresh D tells the first 897 digits from the others
    with held-out accuracy 0.66."""
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(0))
    return digits[order[:pool_size]], digits[order[pool_size:]]


def drop_timings(probe: dict) -> dict:
    """A report's ``probe`` block without what depends on the machine's speed: its
    seconds, and the plan's timed prediction (its level and settings stay)."""
    probe.pop("seconds")
    plan = probe.get("plan") or {}
    for key in ("predicted_seconds", "full_seconds", "budget_seconds", "reason"):
        plan.pop(key, None)
    return probe
