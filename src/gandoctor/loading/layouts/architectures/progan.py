"""ProGAN (Karras et al. 2018, "Progressive Growing of GANs") as the PyPI package
pro-gan-pth (``pro_gan_pytorch``, tried at 3.4) saves it: ``ProGAN.train`` writes
``{"generator": {"conf", "state_dict"}, "shadow_generator": {"conf", "state_dict"},
"discriminator": ..., "gen_optim": ..., "dis_optim": ...}``. The moving average
``shadow_generator`` is the copy its own samplers use (chosen by the entry selection); the
``conf`` beside each state dict gives ``use_eql``, which the weights cannot tell. gandoctor's
own build, named as the package names its layers so the weights load strictly, written from
reading it: probing needs neither the package nor its forward, which fails on torch >= 2.

z (N, latent) -> pixel norm -> a transposed 4x4 convolution and a 3x3 one, each with a
LeakyReLU(0.2), pixel norm -> per further resolution: nearest 2x upsampling, two 3x3
convolutions, each with a LeakyReLU(0.2) and pixel norm -> the last ``rgb_converters``, a
1x1 convolution with no final activation.

The package's forward takes ``(x, depth, alpha)``; a finished generator runs at its full
depth with the fade-in done (alpha 1), where the lower-resolution branch is multiplied by 0.
That branch is left out here, and the lower ``rgb_converters`` it alone uses are kept as
buffers: they load from the file but have no gradient to report, and are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.loading.layouts.architectures.base import (
    FlatLatentGenerator,
    LayoutMismatch,
    block_sizes,
    flat_latent,
    missing,
    size_of,
)

LAYOUT = "pro-gan-pth's ProGAN generator (layers.N.conv_1/conv_2, rgb_converters.N)"
PIXEL_NORM_EPSILON = 1e-8
SLOPE = 0.2


def pixel_norm(x: torch.Tensor) -> torch.Tensor:
    """Each pixel's feature vector scaled to unit mean square (the package's eps inside)."""
    return x / (x.pow(2.0).mean(dim=1, keepdim=True) + PIXEL_NORM_EPSILON).sqrt()


class EqualisedConv(nn.Module):
    """A convolution (``transposed`` for the first) whose weight is scaled at every forward
    by sqrt(2 / fan_in) when ``equalised`` (the package's ``use_eql``): the file stores the
    unscaled N(0, 1)-initialised weight, so scaling at load time would be wrong for anyone
    training further, and scaling per call is what the package does. Unequalised, it is a
    plain ``nn.Conv2d`` / ``nn.ConvTranspose2d`` as the package then uses."""

    def __init__(self, chan_in: int, chan_out: int, kernel: int, *, transposed: bool = False,
                 equalised: bool = True) -> None:  # fmt: skip
        super().__init__()
        shape = (chan_in, chan_out) if transposed else (chan_out, chan_in)
        self.weight = nn.Parameter(torch.zeros(*shape, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(chan_out))
        self.transposed = transposed
        self.padding = 0 if transposed else kernel // 2
        # The package's fan-in: in_channels * kernel area for its convolutions, but
        # in_channels alone for its transposed one. Reproduced as computed there: that is
        # the scale the weights were trained with.
        fan_in = chan_in if transposed else chan_in * kernel * kernel
        self.scale = math.sqrt(2) / math.sqrt(fan_in) if equalised else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight if self.scale is None else self.weight * self.scale
        if self.transposed:
            return F.conv_transpose2d(x, weight, self.bias)
        return F.conv2d(x, weight, self.bias, padding=self.padding)


class Block(nn.Module):
    """One resolution: ``conv_1`` and ``conv_2`` (the first block: 4x4 transposed, 3x3)."""

    def __init__(self, chan_in: int, chan_out: int, first: bool, equalised: bool) -> None:
        super().__init__()
        self.first = first
        kernel = 4 if first else 3
        self.conv_1 = EqualisedConv(chan_in, chan_out, kernel, transposed=first,
                                    equalised=equalised)  # fmt: skip
        self.conv_2 = EqualisedConv(chan_out, chan_out, 3, equalised=equalised)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.first:  # pixel norm of z; the norm once, after both convolutions
            x = F.leaky_relu(self.conv_1(pixel_norm(x)), SLOPE)
            return pixel_norm(F.leaky_relu(self.conv_2(x), SLOPE))
        x = F.interpolate(x, scale_factor=2)  # nearest, the package's default
        x = pixel_norm(F.leaky_relu(self.conv_1(x), SLOPE))
        return pixel_norm(F.leaky_relu(self.conv_2(x), SLOPE))


class UnusedConverter(nn.Module):
    """A lower resolution's ``rgb_converters.N``, which alpha 1 never uses: its tensors as
    buffers, so the file loads strictly without parameters that never get a gradient."""

    weight: torch.Tensor
    bias: torch.Tensor

    def __init__(self, chan_in: int, channels: int) -> None:
        super().__init__()
        self.register_buffer("weight", torch.zeros(channels, chan_in, 1, 1))
        self.register_buffer("bias", torch.zeros(channels))


class ProGANGenerator(FlatLatentGenerator):
    """z -> image in pro-gan-pth's layout, at full depth (``len(features) + 1``, the
    package's ``depth``: log2 of the resolution) with alpha 1. ``features``: each block's
    channels (the package's ``nf(1)``, ``nf(2)``, ...); ``use_eql``: equalised learning
    rate, the package's default."""

    # No final activation: the package trains on images in [-1, 1] and clamps its samples
    # to that range (``adjust_dynamic_range`` from (-1, 1) before saving a grid).
    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)

    def __init__(self, latent_size: int, features: list[int], num_channels: int = 3,
                 use_eql: bool = True) -> None:  # fmt: skip
        super().__init__()
        if not features:
            raise ValueError("features must name at least one block's channels")
        self.kwargs = {"latent_size": latent_size, "features": list(features),
                       "num_channels": num_channels, "use_eql": use_eql}  # fmt: skip
        self.latent_size = latent_size
        self.depth = len(features) + 1
        widths = [latent_size, *features]
        self.layers = nn.ModuleList(
            Block(widths[i], widths[i + 1], i == 0, use_eql) for i in range(len(features))
        )
        converters: list[nn.Module] = [UnusedConverter(f, num_channels) for f in features[:-1]]
        converters.append(EqualisedConv(features[-1], num_channels, 1, equalised=use_eql))
        self.rgb_converters = nn.ModuleList(converters)

    def layer_group(self, parameter: str) -> str:
        """``--layers`` groups: each resolution's block, the output converter."""
        return ".".join(parameter.split(".")[:2])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = flat_latent(z)[:, :, None, None]
        for block in self.layers:
            x = block(x)
        output: torch.Tensor = self.rgb_converters[-1](x)
        return output


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Kwargs for a state dict in the layout (``layers.N.conv_1/conv_2`` and
    ``rgb_converters.N`` only), None for another. ``use_eql`` is the package's default
    here; :func:`conf_settings` reads it from the saved ``conf``."""
    heads = {k.split(".")[0] for k in tensors}
    if heads != {"layers", "rgb_converters"}:
        return None
    if not any(".conv_1." in k or ".conv_2." in k for k in tensors):
        return None
    latent = size_of(tensors, ("layers.0.conv_1.weight", 4, 0))
    if latent is None:
        raise missing("layers.0.conv_1.weight", why="the first, transposed convolution")
    keys = [k.split(".") for k in tensors if k.startswith("layers.")]
    blocks = sorted({int(p[1]) for p in keys if len(p) > 1 and p[1].isdigit()})
    if blocks != list(range(len(blocks))):
        raise missing("layers.0.conv_1.weight", why="the blocks must be numbered from 0")
    features = block_sizes(tensors, blocks, lambda b: (
        (f"layers.{b}.conv_2.weight", 4, 0), (f"layers.{b}.conv_1.weight", 4, 1 if b == 0 else 0),
        (f"layers.{b}.conv_2.bias", 1, 0)))  # fmt: skip
    channels = size_of(tensors, *((f"rgb_converters.{b}.weight", 4, 0) for b in blocks)) or 3
    return {"latent_size": latent, "features": features, "num_channels": channels,
            "use_eql": True}  # fmt: skip


def conf_settings(kwargs: dict[str, Any], saved: Mapping[str, Any]) -> dict[str, Any]:
    """``kwargs`` with ``use_eql`` from the ``conf`` the package saves beside the state
    dict. Its depth, latent size and channels must agree with the weights: a conf that
    disagrees belongs to another network, and is not silently overruled by either side."""
    if isinstance(saved.get("use_eql"), bool):
        kwargs = {**kwargs, "use_eql": saved["use_eql"]}
    found = {"depth": len(kwargs["features"]) + 1, "latent_size": kwargs["latent_size"],
             "num_channels": kwargs["num_channels"]}  # fmt: skip
    for name, value in found.items():
        said = saved.get(name)
        if isinstance(said, int) and not isinstance(said, bool) and said != value:
            raise LayoutMismatch(
                f"its saved conf says {name} {said} while its weights hold {name} {value}"
            )
    return kwargs
