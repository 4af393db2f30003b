"""FasGAN's generator (the ``fasgan`` package on PyPI, tried at 0.1.0), and recognition of its
checkpoints.

The package ships no training or saving code; its README builds ``Generator()`` and a user
saves ``netG.state_dict()`` as in the PyTorch DCGAN example. Its keys are its attribute
names, which no other layout here uses: ``conv0``, ``bn1``, then ``block1``, ``block2`` and
``block3``, each a Sequential of one ``Core`` of two transposed-convolution blocks
(``block1.0.layer0.0.weight``, ``block1.0.layer1.1.running_var``, ...), with ``inflate1`` and
``inflate2`` between them, and ``conv1`` last.

Every width is a multiple of the constructor's ``image_dim``, which despite its name is a
width, not the image's side (a multiplier like DCGAN's ``ngf``): ``conv0`` makes
``16 * image_dim`` maps. Each ``Core`` halves the maps twice over (its ``layer1`` keeps half
of ``layer0``'s output) and each ``inflate`` doubles them back, so ``image_dim``, the latent
size and the channels are all read off ``conv0`` and ``conv1``; the strict load then checks
every other tensor against them.

A z of ``(N, latent_dim, 1, 1)`` always becomes a 64 x 64 image: ``conv0`` (3x3, padding 1)
and ``block3`` (1x1) keep the side, each ``Core`` of ``block1``/``block2`` (4x4, stride 2)
quadruples it and each ``inflate`` (2x2, stride 2) doubles it: 1 -> 4 -> 8 -> 32 -> 64.
The output ends in Tanh.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from gandoctor.loading.layouts.architectures.base import (
    BuiltinGenerator,
    LayoutMismatch,
    missing,
    size_of,
)

LAYOUT = "FasGAN's generator (conv0, block1.0.layer0.*, inflate1.* ... conv1 keys)"

STEM = 16
"""``conv0`` makes ``STEM * image_dim`` maps."""

RESOLUTION = 64
"""The side of every image, whatever the widths."""


def _block(
    in_channels: int, out_channels: int, kernel: int, stride: int, padding: int
) -> nn.Sequential:
    """Transposed convolution (no bias), BatchNorm2d, ReLU: the package's unit everywhere."""
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, padding, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class _Core(nn.Module):
    """The package's ``gencore.Core``: ``in -> out`` then ``out -> out // 2``, same kernel."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, stride: int, padding: int
    ) -> None:
        super().__init__()
        self.layer0 = _block(in_channels, out_channels, kernel, stride, padding)
        self.layer1 = _block(out_channels, out_channels // 2, kernel, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layer1(self.layer0(x))
        return out


class FasGANGenerator(BuiltinGenerator):
    """``z (N, latent_dim, 1, 1) -> image (N, num_channels, 64, 64)`` in (-1, 1), with the
    package's attribute names, so that its state dicts load unchanged."""

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)

    def __init__(self, latent_dim: int = 100, image_dim: int = 64, num_channels: int = 3) -> None:
        super().__init__()
        if min(latent_dim, image_dim, num_channels) < 1:
            raise ValueError(
                "FasGANGenerator needs positive sizes, got "
                f"latent_dim={latent_dim}, image_dim={image_dim}, num_channels={num_channels}"
            )
        self.latent_dim, self.image_dim = int(latent_dim), int(image_dim)
        self.num_channels = int(num_channels)
        width = self.image_dim
        self.conv0 = nn.ConvTranspose2d(self.latent_dim, width * 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width * 16)
        self.relu = nn.ReLU(inplace=True)
        self.block1 = nn.Sequential(_Core(width * 16, width * 8, 4, 2, 1))
        self.inflate1 = _block(width * 4, width * 8, 2, 2, 0)
        self.block2 = nn.Sequential(_Core(width * 8, width * 4, 4, 2, 1))
        self.inflate2 = _block(width * 2, width * 4, 2, 2, 0)
        self.block3 = nn.Sequential(_Core(width * 4, width * 2, 1, 1, 0))
        self.conv1 = nn.ConvTranspose2d(width, self.num_channels, 1, 1, bias=False)
        self.tanh = nn.Tanh()

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        return (self.latent_dim, 1, 1)

    def arch_kwargs(self) -> dict[str, Any]:
        return {
            "latent_dim": self.latent_dim,
            "image_dim": self.image_dim,
            "num_channels": self.num_channels,
        }

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:  # flat latents are the same numbers
            z = z[:, :, None, None]
        out = self.relu(self.bn1(self.conv0(z)))
        out = self.inflate1(self.block1(out))
        out = self.inflate2(self.block2(out))
        image: torch.Tensor = self.tanh(self.conv1(self.block3(out)))
        return image


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """``FasGANGenerator`` kwargs from a file with ``inflate1.*`` and ``block1.0.layer0.*``
    keys (names no other layout uses); sizes from ``conv0`` (its BatchNorm ``bn1`` where
    ``conv0`` is missing) and ``conv1``."""
    if not any(key.startswith("inflate1.") for key in tensors) or not any(
        key.startswith("block1.0.layer0.") for key in tensors
    ):
        return None
    stem = size_of(
        tensors, ("conv0.weight", 4, 1), ("bn1.weight", 1, 0), ("bn1.running_mean", 1, 0)
    )
    if stem is None:
        raise missing("conv0.weight", why="it tells the widths")
    if stem % STEM:
        raise LayoutMismatch(f"conv0 makes {stem} maps, not {STEM} x image_dim")
    latent_dim = size_of(tensors, ("conv0.weight", 4, 0))
    if latent_dim is None:
        raise missing("conv0.weight", why="it tells the latent size")
    channels = size_of(tensors, ("conv1.weight", 4, 1))
    if channels is None:
        raise missing("conv1.weight", why="the last convolution tells the channels")
    return {"latent_dim": latent_dim, "image_dim": stem // STEM, "num_channels": channels}
