"""The DCGAN generator of the PyTorch-GAN collection (``implementations/dcgan/dcgan.py``), and
recognition of its checkpoints.

A Linear ``l1`` lifts z to 128 maps of ``init_size = img_size // 4`` pixels a side; then
``conv_blocks`` is BatchNorm2d(128), Upsample(2), Conv2d(128, 128, 3, 1, 1),
BatchNorm2d(128, 0.8), LeakyReLU(0.2), Upsample(2), Conv2d(128, 64, 3, 1, 1),
BatchNorm2d(64, 0.8), LeakyReLU(0.2), Conv2d(64, channels, 3, 1, 1), Tanh. Parameterised
modules sit at ``conv_blocks.0, 2, 3, 6, 7, 9``. As in its MLP sibling, ``0.8`` is the norms'
``eps`` (the second positional argument): absent from the state dict, present in every output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from gandoctor.loading.layouts.architectures.base import (
    BuiltinGenerator,
    LayoutMismatch,
    flat_latent,
    missing,
    sequential_layers,
    size_of,
)

LAYOUT = "the PyTorch-GAN collection's DCGAN generator (l1.0.* and conv_blocks.N.* keys)"

MAPS = 128
"""Channels of ``l1``'s output and the first convolutions, fixed in the script."""

BATCHNORM_EPS = 0.8
"""What ``nn.BatchNorm2d(width, 0.8)`` in the script sets."""

UPSAMPLINGS = 2
"""Two ``Upsample(scale_factor=2)``: the image side is 4 times ``init_size``."""


class PyTorchGANDCGANGenerator(BuiltinGenerator):
    """``z (N, latent_dim) -> image (N, channels, S, S)`` in (-1, 1), ``S = 4 * (img_size // 4)``
    (the script's rounding, kept)."""

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)

    def __init__(self, latent_dim: int, img_size: int, channels: int) -> None:
        super().__init__()
        if latent_dim < 1 or channels < 1 or img_size < 2**UPSAMPLINGS:
            raise ValueError(
                "PyTorchGANDCGANGenerator needs latent_dim >= 1, channels >= 1 and "
                f"img_size >= 4, got latent_dim={latent_dim}, img_size={img_size}, "
                f"channels={channels}"
            )
        self.latent_dim, self.img_size, self.channels = (
            int(latent_dim),
            int(img_size),
            int(channels),
        )
        self.init_size = self.img_size // 2**UPSAMPLINGS
        self.l1 = nn.Sequential(nn.Linear(latent_dim, MAPS * self.init_size**2))
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(MAPS),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(MAPS, MAPS, 3, stride=1, padding=1),
            nn.BatchNorm2d(MAPS, BATCHNORM_EPS),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(MAPS, MAPS // 2, 3, stride=1, padding=1),
            nn.BatchNorm2d(MAPS // 2, BATCHNORM_EPS),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(MAPS // 2, channels, 3, stride=1, padding=1),
            nn.Tanh(),
        )

    @property
    def latent_shape(self) -> tuple[int]:
        return (self.latent_dim,)

    def arch_kwargs(self) -> dict[str, Any]:
        return {"latent_dim": self.latent_dim, "img_size": self.img_size, "channels": self.channels}

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.l1(flat_latent(z))
        out = out.view(out.shape[0], MAPS, self.init_size, self.init_size)
        image: torch.Tensor = self.conv_blocks(out)
        return image


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """``PyTorchGANDCGANGenerator`` kwargs from a file with ``conv_blocks.N.*`` keys.

    ``img_size`` is 4 times the side of ``l1``'s output maps (its outputs over 128, a square);
    the channels come from the last convolution.
    """
    if not sequential_layers(tensors, "conv_blocks"):
        return None
    latent_dim = size_of(tensors, ("l1.0.weight", 2, 1))
    if latent_dim is None:
        raise missing("l1.0.weight", why="it tells the latent size")
    features = size_of(tensors, ("l1.0.weight", 2, 0), ("l1.0.bias", 1, 0))
    side = math.isqrt(features // MAPS) if features else 0
    if features is None or side < 1 or MAPS * side * side != features:
        raise LayoutMismatch(f"l1 has {features} outputs, not {MAPS} x init_size x init_size")
    channels = size_of(tensors, ("conv_blocks.9.weight", 4, 0), ("conv_blocks.9.bias", 1, 0))
    if channels is None:
        raise missing("conv_blocks.9.bias", "conv_blocks.9.weight", why="the last convolution")
    return {"latent_dim": latent_dim, "img_size": side * 2**UPSAMPLINGS, "channels": channels}
