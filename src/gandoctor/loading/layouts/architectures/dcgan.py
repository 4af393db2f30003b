"""The DCGAN generator of the PyTorch examples, and recognition of its checkpoints.

The example (``pytorch/examples/dcgan``) is the generator most people reach for first and its
``state_dict`` has a fixed, telling layout: an ``nn.Sequential`` called ``main`` whose blocks
are ConvTranspose2d (no bias) / BatchNorm2d / ReLU, ending in ConvTranspose2d / Tanh. Every
size follows from the tensor shapes, so such a file can be probed without any ``--arch``.
Hugging Face community DCGANs save the same stack under ``model``; they load as well.

pytorch-gan-zoo (vmirly's Lightning GAN zoo, tried at 0.0.6) builds the same network, layer
for layer, but nests it: ``net.0`` is a Sequential of the first block, each later block an
``UpsampleBlock`` whose Sequential is ``main`` (``net.1.main.0.weight``), and the last
transposed convolution sits at ``net.K`` itself. ``attr="net"`` builds that nesting, so
its Lightning checkpoints (``generator.net.*`` in ``state_dict``) load unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from gandoctor.loading.layouts.architectures.base import (
    BuiltinGenerator,
    LayoutMismatch,
    missing,
    sequential_layers,
    size_of,
    weight_dims,
)
from gandoctor.messages import format_shape
from gandoctor.paths import natural_key

KERNEL = 4
"""Every transposed convolution of the layout: 4x4, stride 1 then 2 (so 1 -> 4 -> 8 -> ...)."""

ATTRS = ("main", "model", "net")
"""The Sequential's attribute: ``main`` in the example, ``model`` in the Hugging Face copies,
``net`` (nested blocks) in pytorch-gan-zoo."""

ZOO_ATTR = "net"

LAYOUT = "the PyTorch DCGAN example's generator (main.N.*, model.N.* or net.N.* keys)"

_BLOCK = 3  # ConvTranspose2d, BatchNorm2d, ReLU: the conv of block i sits at index 3 i


class DCGANGenerator(BuiltinGenerator):
    """``z (N, latent_dim, 1, 1) -> image (N, out_channels, R, R)`` with values in (-1, 1).

    ``widths`` are the output channels of all transposed convolutions but the last; there are
    ``len(widths) + 1`` of them and the resolution is ``R = 4 * 2 ** len(widths)``. Module
    indices match the PyTorch example exactly, and ``attr`` names the Sequential as the file
    does, so its checkpoints load unchanged.
    """

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)

    def __init__(
        self, latent_dim: int, widths: Sequence[int], out_channels: int, attr: str = "main"
    ) -> None:
        super().__init__()
        widths = [int(width) for width in widths]
        if latent_dim < 1 or out_channels < 1 or not widths or min(widths) < 1:
            raise ValueError(
                "DCGANGenerator needs latent_dim >= 1, out_channels >= 1 and at least one "
                f"positive width, got latent_dim={latent_dim}, widths={widths}, "
                f"out_channels={out_channels}"
            )
        if attr not in ATTRS:
            raise ValueError(f"attr must be one of {', '.join(ATTRS)}, got {attr!r}")
        self.latent_dim = int(latent_dim)
        self.widths = widths
        self.out_channels = int(out_channels)
        self.attr = attr

        layers: list[nn.Module] = []
        in_channels = self.latent_dim
        for index, width in enumerate(widths):
            stride, padding = (1, 0) if index == 0 else (2, 1)
            block = [
                nn.ConvTranspose2d(in_channels, width, KERNEL, stride, padding, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(True),
            ]
            if attr != ZOO_ATTR:
                layers += block
            else:  # the zoo's nesting; the same computation
                layers.append(nn.Sequential(*block) if index == 0 else _ZooBlock(block))
            in_channels = width
        layers += [
            nn.ConvTranspose2d(in_channels, self.out_channels, KERNEL, 2, 1, bias=False),
            nn.Tanh(),
        ]
        self.add_module(attr, nn.Sequential(*layers))

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
        kwargs: dict[str, Any] = {
            "latent_dim": self.latent_dim,
            "widths": list(self.widths),
            "out_channels": self.out_channels,
        }
        if self.attr != "main":  # the example's name stays implicit, as in older reports
            kwargs["attr"] = self.attr
        return kwargs

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            # Flat latents are the same numbers; accept them so (N, nz) batches also work.
            z = z[:, :, None, None]
        output: torch.Tensor = self.get_submodule(self.attr)(z)
        return output


class _ZooBlock(nn.Module):
    """pytorch-gan-zoo's ``UpsampleBlock``: a Sequential kept as ``main``."""

    def __init__(self, layers: Sequence[nn.Module]) -> None:
        super().__init__()
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.main(x)
        return out


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """``DCGANGenerator`` kwargs from the shapes of a ``main.N.*`` (or ``model.N.*``) file.

    The layout is claimed when the Sequential holds transposed-convolution (4-D) weights and
    no Linear (2-D) ones: the WGAN and PyTorch-GAN MLPs use the same attribute names. Only
    the sizes are read here; whether every key and shape then fits is checked by loading the
    state dict strictly, which lists missing and unexpected keys.
    """
    # Not the zoo's ``net``: its last convolution alone (net.K.weight) reads as a flat stack.
    flat = [name for name in ATTRS if name != ZOO_ATTR]
    attr = next((name for name in flat if _is_conv_stack(tensors, name)), None)
    if attr is None:
        return _recognise_zoo(tensors)
    layers = sequential_layers(tensors, attr)
    first = layers.get(0, {}).get("weight")
    if first is None:
        raise missing(f"{attr}.0.weight", why="the first transposed convolution")
    if first.dim() != 4:
        raise LayoutMismatch(f"its first transposed convolution {attr}.0.weight is {first.dim()}-D")
    # The last block is the one without a BatchNorm: a norm at 3 b + 1 says block b + 1 exists
    # even when that block's only tensor, its convolution's weight, is missing from the file.
    last_block = max(
        index // _BLOCK + (index % _BLOCK == 1)
        for index, layer in layers.items()
        if _is_conv(index, layer) or index % _BLOCK == 1
    )
    if last_block < 1:
        raise LayoutMismatch(
            "it holds a single transposed convolution; the layout needs two or more"
        )
    widths = [_block_width(tensors, layers, attr, block) for block in range(last_block)]
    last_key = f"{attr}.{last_block * _BLOCK}.weight"
    last = layers.get(last_block * _BLOCK, {}).get("weight")
    if last is None:
        raise missing(last_key, why="the last transposed convolution")
    if last.dim() != 4:
        raise LayoutMismatch(f"its last transposed convolution {last_key} is {last.dim()}-D")
    kwargs: dict[str, Any] = {
        "latent_dim": int(first.shape[0]),
        "widths": widths,
        "out_channels": int(last.shape[1]),
    }
    if attr != "main":
        kwargs["attr"] = attr
    return kwargs


def _recognise_zoo(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """The zoo's nesting: ``net.0.0.weight`` (the first block), ``net.B.main.0.weight`` for
    B = 1 .. K - 1, the last transposed convolution ``net.K.weight``; all 4-D."""
    first = tensors.get(f"{ZOO_ATTR}.0.0.weight")
    if first is None or first.dim() != 4:
        return None
    blocks = sorted(
        int(key.split(".")[1])
        for key in tensors
        if key.startswith(f"{ZOO_ATTR}.") and key.split(".")[1].isdigit() and ".main." in key
    )
    count = max(blocks, default=0) + 1  # the first block and the upsampling blocks
    widths = [int(first.shape[1])]
    for block in range(1, count):
        prefix = f"{ZOO_ATTR}.{block}.main"
        width = size_of(
            tensors,
            (f"{prefix}.0.weight", 4, 1),
            *((f"{prefix}.1.{name}", 1, 0) for name in ("weight", "bias", "running_mean")),
        )
        if width is None:
            raise missing(f"{prefix}.0.weight", why=f"the transposed convolution of block {block}")
        widths.append(width)
    last_key = f"{ZOO_ATTR}.{count}.weight"
    last = tensors.get(last_key)
    if last is None or last.dim() != 4:
        raise missing(last_key, why="the last transposed convolution")
    return {
        "latent_dim": int(first.shape[0]),
        "widths": widths,
        "out_channels": int(last.shape[1]),
        "attr": ZOO_ATTR,
    }


def _is_conv_stack(tensors: Mapping[str, torch.Tensor], attr: str) -> bool:
    dims = weight_dims(sequential_layers(tensors, attr))
    return 4 in dims and 2 not in dims


def _is_conv(index: int, layer: Mapping[str, torch.Tensor]) -> bool:
    weight = layer.get("weight")
    return index % _BLOCK == 0 and weight is not None and weight.dim() == 4


def _block_width(
    tensors: Mapping[str, torch.Tensor],
    layers: Mapping[int, Mapping[str, torch.Tensor]],
    attr: str,
    block: int,
) -> int:
    """Output channels of block ``block``: from its conv, else its BatchNorm, else the next conv.

    Several sources keep the inference going when one tensor is missing, so that the strict
    check afterwards can name the missing key instead of failing here.
    """
    conv = layers.get(block * _BLOCK, {}).get("weight")
    if conv is not None and conv.dim() == 4:
        return int(conv.shape[1])
    norm = layers.get(block * _BLOCK + 1, {})
    for name in ("weight", "bias", "running_mean", "running_var"):
        if name in norm and norm[name].dim() == 1:
            return int(norm[name].shape[0])
    following = layers.get((block + 1) * _BLOCK, {}).get("weight")
    if following is not None and following.dim() == 4:
        return int(following.shape[0])
    raise _no_width(tensors, attr, block)


def _no_width(tensors: Mapping[str, torch.Tensor], attr: str, block: int) -> LayoutMismatch:
    """Block ``block``'s width cannot be read: which key would hold it, and what the file has
    there instead (another stack: the registry's error adds ``--arch`` and ``--adapter``)."""
    start = block * _BLOCK
    near = [
        key
        for key in tensors
        if key.split(".")[0] == attr
        and len(parts := key.split(".")) > 2
        and parts[1].isdigit()
        and start - 1 <= int(parts[1]) <= start + _BLOCK
    ]
    near.sort(key=lambda key: (not key.endswith("weight"), natural_key(key)))
    more = f" and {len(near) - 1} more" if len(near) > 1 else ""
    found = (
        f"found {near[0]} {format_shape(tensors[near[0]].shape)}{more}"
        if near
        else f"the file has no {attr}.{start}.*"
    )
    return LayoutMismatch(
        f"does not fit it: block {block}'s width is read off {attr}.{start}.weight (a "
        f"transposed convolution) or {attr}.{start + 1}.weight (a BatchNorm); {found}"
    )
