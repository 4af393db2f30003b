"""The DCGAN generator of the PyTorch examples, and recognition of its checkpoints.

The example (``pytorch/examples/dcgan``) is the generator most people reach for first and its
``state_dict`` has a fixed, telling layout: an ``nn.Sequential`` called ``main`` whose blocks
are ConvTranspose2d (no bias) / BatchNorm2d / ReLU, ending in ConvTranspose2d / Tanh. Every
size follows from the tensor shapes, so such a file can be probed without any ``--arch``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from gandoctor.errors import CheckpointError
from gandoctor.loading.common import format_keys

KERNEL = 4
"""Every transposed convolution of the layout: 4x4, stride 1 then 2 (so 1 -> 4 -> 8 -> ...)."""

_PREFIX = "main."
_BLOCK = 3  # ConvTranspose2d, BatchNorm2d, ReLU: the conv of block i sits at main.{3 i}


class DCGANGenerator(nn.Module):
    """``z (N, latent_dim, 1, 1) -> image (N, out_channels, R, R)`` with values in (-1, 1).

    ``widths`` are the output channels of all transposed convolutions but the last; there are
    ``len(widths) + 1`` of them and the resolution is ``R = 4 * 2 ** len(widths)``. Module
    indices match the PyTorch example exactly, so its checkpoints load unchanged.
    """

    output_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)

    def __init__(self, latent_dim: int, widths: Sequence[int], out_channels: int) -> None:
        super().__init__()
        widths = [int(width) for width in widths]
        if latent_dim < 1 or out_channels < 1 or not widths or min(widths) < 1:
            raise ValueError(
                "DCGANGenerator needs latent_dim >= 1, out_channels >= 1 and at least one "
                f"positive width, got latent_dim={latent_dim}, widths={widths}, "
                f"out_channels={out_channels}"
            )
        self.latent_dim = int(latent_dim)
        self.widths = widths
        self.out_channels = int(out_channels)

        layers: list[nn.Module] = []
        in_channels = self.latent_dim
        for index, width in enumerate(widths):
            stride, padding = (1, 0) if index == 0 else (2, 1)
            layers += [
                nn.ConvTranspose2d(in_channels, width, KERNEL, stride, padding, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(True),
            ]
            in_channels = width
        layers += [
            nn.ConvTranspose2d(in_channels, self.out_channels, KERNEL, 2, 1, bias=False),
            nn.Tanh(),
        ]
        self.main = nn.Sequential(*layers)

    @classmethod
    def standard(
        cls, nz: int = 100, ngf: int = 64, nc: int = 3, image_size: int = 64
    ) -> DCGANGenerator:
        """The example's generator: widths ``ngf * 8, ngf * 4, ngf * 2, ngf`` at 64x64.

        Other sizes keep the example's doubling pattern: 32x32 gets ``ngf * 4, ngf * 2, ngf``,
        128x128 ``ngf * 16, ..., ngf``. ``image_size`` must be 4 times a power of two, >= 8.
        """
        blocks = math.log2(image_size / KERNEL) if image_size >= 2 * KERNEL else -1.0
        if blocks < 1 or not blocks.is_integer():
            raise ValueError(f"image_size must be 8, 16, 32, 64, ..., got {image_size}")
        count = int(blocks)  # transposed convolutions before the last one
        widths = [ngf * 2 ** (count - 1 - index) for index in range(count)]
        return cls(latent_dim=nz, widths=widths, out_channels=nc)

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        return (self.latent_dim, 1, 1)

    @property
    def resolution(self) -> int:
        return KERNEL * 2 ** len(self.widths)

    def arch_kwargs(self) -> dict[str, Any]:
        """The constructor arguments, JSON-ready (what ``architecture_metadata`` stores)."""
        return {
            "latent_dim": self.latent_dim,
            "widths": list(self.widths),
            "out_channels": self.out_channels,
        }

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            # Flat latents are the same numbers; accept them so (N, nz) batches also work.
            z = z[:, :, None, None]
        output: torch.Tensor = self.main(z)
        return output


LOOKS_LIKE = "looks like the PyTorch DCGAN example's generator (main.N.* keys)"
"""How messages refer to a file whose keys follow the layout, fitting or not."""

OTHER_ARCH_HINT = "if it is another architecture, pass --arch module:Class --arch-kwargs '{...}'"


def looks_like_dcgan(keys: Sequence[str] | set[str]) -> bool:
    """True when the file uses the example's naming (``main.<index>.<name>``)."""
    return bool(_indices(keys))


def recognise_dcgan(path: str, tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The ``DCGANGenerator`` kwargs that the tensor shapes of a ``main.*`` file imply.

    Only the sizes are read here; whether every key and shape then fits is checked by loading
    the state dict strictly, which lists missing and unexpected keys. What cannot be read at
    all (no first convolution, a single convolution, a width no tensor tells) is reported here.
    """
    first = tensors.get(f"{_PREFIX}0.weight")
    if first is None or first.dim() != 4:
        found = "missing" if first is None else f"{first.dim()}-D"
        raise _unfit(
            path,
            f"main.0.weight, its first transposed convolution, is {found} "
            f"(keys: {format_keys(tensors)})",
        )
    last_block = max(
        index // _BLOCK
        for index in _indices(tensors)
        if index % _BLOCK == 0 and f"{_PREFIX}{index}.weight" in tensors
    )
    if last_block < 1:
        raise _unfit(path, "it holds a single transposed convolution; the layout needs two or more")
    widths = [_block_width(path, tensors, block) for block in range(last_block)]
    last = tensors[f"{_PREFIX}{last_block * _BLOCK}.weight"]
    if last.dim() != 4:
        raise _unfit(
            path,
            f"main.{last_block * _BLOCK}.weight, its last transposed convolution, is "
            f"{last.dim()}-D",
        )
    return {
        "latent_dim": int(first.shape[0]),
        "widths": widths,
        "out_channels": int(last.shape[1]),
    }


def _unfit(path: str, detail: str) -> CheckpointError:
    return CheckpointError(f"{path}: the checkpoint {LOOKS_LIKE} but {detail}; {OTHER_ARCH_HINT}")


def _indices(keys: Iterable[str]) -> set[int]:
    """The module indices ``N`` of all ``main.N.<name>`` keys."""
    indices = set()
    for key in keys:
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] == "main" and parts[1].isdigit():
            indices.add(int(parts[1]))
    return indices


def _block_width(path: str, tensors: dict[str, torch.Tensor], block: int) -> int:
    """Output channels of block ``block``: from its conv, else its BatchNorm, else the next conv.

    Several sources keep the inference going when one tensor is missing, so that the strict
    check afterwards can name the missing key instead of failing here.
    """
    conv = tensors.get(f"{_PREFIX}{block * _BLOCK}.weight")
    if conv is not None and conv.dim() == 4:
        return int(conv.shape[1])
    norm = tensors.get(f"{_PREFIX}{block * _BLOCK + 1}.weight")
    if norm is not None and norm.dim() == 1:
        return int(norm.shape[0])
    following = tensors.get(f"{_PREFIX}{(block + 1) * _BLOCK}.weight")
    if following is not None and following.dim() == 4:
        return int(following.shape[0])
    raise _unfit(
        path,
        f"no tensor tells the width of block {block} (main.{block * _BLOCK}.weight is missing)",
    )
