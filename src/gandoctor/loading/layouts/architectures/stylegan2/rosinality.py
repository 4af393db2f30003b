"""StyleGAN2 in the layout of rosinality/stylegan2-pytorch checkpoints (``g_ema`` of the
``torch.save`` dicts its ``train.py`` writes), built on the same operations as the NVlabs
layout (``ops``).

The network is the paper's: a mapping network (``style``: pixel norm, ``n_mlp`` equalised
layers), a learned 4x4 ``input``, per resolution two modulated convolutions with noise and a
``to_rgb`` whose outputs are upsampled and summed. Every layer gets the same w (no style
mixing), and the noise is the checkpoint's own stored buffers (``noises.noise_N``, as
``randomize_noise=False``), so the generator is a deterministic function of z. Sizes are
read from the weights, not from ``args``: a checkpoint's tensors are what it holds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from gandoctor.loading.layouts.architectures.base import FlatLatentGenerator, missing, size_of
from gandoctor.loading.layouts.architectures.stylegan2.layers import fir_filter
from gandoctor.loading.layouts.architectures.stylegan2.ops import (
    CHANNELS_LAST,
    FullyConnected,
    bias_act,
    modulated_conv2d,
    normalize_2nd_moment,
    upsample2d,
)

LAYOUT = "rosinality/stylegan2-pytorch's Generator (style.N, input.input, convs.N, to_rgbs.N)"
_BLUR = [1.0, 3.0, 3.0, 1.0]


class PixelNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return normalize_2nd_moment(x)


class ModulatedConv(nn.Module):
    """Rosinality's ModulatedConv2d: ``weight`` stored as (1, O, I, k, k), the upsampling
    filter as ``blur.kernel`` already multiplied by 4."""

    def __init__(self, cin: int, cout: int, k: int, style_dim: int, demodulate: bool = True,
                 upsample: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, cout, cin, k, k))
        self.modulation = FullyConnected(style_dim, cin, bias_init=1)
        self.scale = 1 / math.sqrt(cin * k * k)
        self.demodulate, self.upsample = demodulate, upsample
        if upsample:
            self.blur = _Kernel(fir_filter(_BLUR) * 4)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None = None
                ) -> torch.Tensor:  # fmt: skip
        fir = self.blur.kernel / 4 if self.upsample else None  # ops apply the gain of 4
        return modulated_conv2d(x, self.weight[0] * self.scale, self.modulation(w),
                                self.demodulate, 2 if self.upsample else 1, fir,
                                noise)  # fmt: skip


class _Kernel(nn.Module):
    kernel: torch.Tensor

    def __init__(self, kernel: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("kernel", kernel)


class NoiseStrength(nn.Module):
    """Rosinality's NoiseInjection: the learned ``weight`` the noise is scaled by."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))


class ActivationBias(nn.Module):
    """Rosinality's FusedLeakyReLU: the ``bias`` added before the leaky ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))


class ConstantInput(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, 4, 4))


class StyledConv(nn.Module):
    def __init__(self, cin: int, cout: int, style_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv(cin, cout, 3, style_dim, upsample=upsample)
        self.noise = NoiseStrength()
        self.activate = ActivationBias(cout)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        x = self.conv(x, w, self.noise.weight * noise)
        return bias_act(x, self.activate.bias, "lrelu")


class ToRGB(nn.Module):
    def __init__(self, cin: int, style_dim: int, channels: int, upsample: bool = True) -> None:
        super().__init__()
        if upsample:
            self.upsample = _Kernel(fir_filter(_BLUR) * 4)
        self.conv = ModulatedConv(cin, channels, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor, skip: torch.Tensor | None = None
                ) -> torch.Tensor:  # fmt: skip
        out = self.conv(x, w) + self.bias
        if skip is not None:
            out = out + upsample2d(skip, self.upsample.kernel / 4)
        return out


class RosinalityGenerator(FlatLatentGenerator):
    """z -> image in [-1, 1]; ``truncation_psi`` pulls w towards its mean over 4096 fixed
    draws of z (rosinality's own ``mean_latent(4096)``; the checkpoint stores none)."""

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)
    w_avg: torch.Tensor

    def __init__(self, style_dim: int, n_mlp: int, channels: list[int], img_channels: int = 3,
                 lr_mlp: float = 0.01) -> None:  # fmt: skip
        super().__init__()
        self.kwargs: dict[str, Any] = {"style_dim": style_dim, "n_mlp": n_mlp,
                                       "channels": list(channels),
                                       "img_channels": img_channels}  # fmt: skip
        if lr_mlp != 0.01:  # rosinality's default, which no weight records
            self.kwargs["lr_mlp"] = lr_mlp
        self.style_dim, self.truncation_psi = style_dim, 1.0
        self.latent_size = style_dim
        self.style = nn.Sequential(PixelNorm(), *[
            FullyConnected(style_dim, style_dim, activation="lrelu", lr_multiplier=lr_mlp)
            for _ in range(n_mlp)
        ])  # fmt: skip
        self.input = ConstantInput(channels[0])
        self.conv1 = StyledConv(channels[0], channels[0], style_dim)
        self.to_rgb1 = ToRGB(channels[0], style_dim, img_channels, upsample=False)
        self.convs, self.to_rgbs = nn.ModuleList(), nn.ModuleList()
        self.noises = nn.Module()
        for cin, cout in itertools.pairwise(channels):
            self.convs.append(StyledConv(cin, cout, style_dim, upsample=True))
            self.convs.append(StyledConv(cout, cout, style_dim))
            self.to_rgbs.append(ToRGB(cout, style_dim, img_channels))
        for layer in range(2 * len(channels) - 1):
            side = 2 ** ((layer + 5) // 2)  # 4, 8, 8, 16, 16, ...
            self.noises.register_buffer(f"noise_{layer}", torch.randn(1, 1, side, side))
        self.register_buffer("w_avg", torch.zeros(style_dim), persistent=False)

    def set_truncation(self, psi: float) -> None:
        """Truncate towards the mean w of 4096 z drawn with seed 0 (after the weights load)."""
        self.truncation_psi = psi
        if psi != 1:
            z = torch.randn(4096, self.style_dim, generator=torch.Generator().manual_seed(0))
            with torch.no_grad():
                self.w_avg.copy_(self.style(z.to(self.w_avg.device)).mean(dim=0))

    def layer_group(self, parameter: str) -> str:
        """``--layers`` groups: each mapping layer, the 4x4 block, each ``convs`` pair's
        resolution (with its to_rgb), as the NVlabs layout groups its blocks."""
        parts = parameter.split(".")
        if parts[0] in ("convs", "to_rgbs"):
            index = int(parts[1]) // (2 if parts[0] == "convs" else 1)
            return f"block {4 * 2 ** (index + 1)}"
        return "style." + parts[1] if parts[0] == "style" else "block 4"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = self.style(z)
        if self.truncation_psi != 1:
            w = self.w_avg.lerp(w, self.truncation_psi)
        noise = [getattr(self.noises, f"noise_{i}") for i in range(2 * len(self.to_rgbs) + 1)]
        start = self.input.input.repeat(z.shape[0], 1, 1, 1).contiguous(memory_format=CHANNELS_LAST)
        x = self.conv1(start, w, noise[0])
        skip = self.to_rgb1(x, w)
        for i, to_rgb in enumerate(self.to_rgbs):
            x = self.convs[2 * i](x, w, noise[2 * i + 1])
            x = self.convs[2 * i + 1](x, w, noise[2 * i + 2])
            skip = to_rgb(x, w, skip)
        return skip


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Kwargs for a state dict in rosinality's layout, None for another layout. Each size is
    read from more than one tensor, so one missing tensor is named by the strict load."""
    names = {key.split(".")[0] for key in tensors}
    if not {"input", "conv1", "to_rgb1"} & names or "style" not in names:
        return None
    n_mlp = len({k.split(".")[1] for k in tensors if k.startswith("style.")})
    style_dim = size_of(tensors, ("style.1.weight", 2, 1), ("style.1.bias", 1, 0),
                        ("conv1.conv.modulation.weight", 2, 1))  # fmt: skip
    first = size_of(tensors, ("input.input", 4, 1), ("conv1.conv.weight", 5, 2),
                    ("conv1.activate.bias", 1, 0))  # fmt: skip
    img_channels = size_of(tensors, ("to_rgb1.conv.weight", 5, 1), ("to_rgb1.bias", 4, 1))
    if style_dim is None or first is None or img_channels is None:
        raise missing("style.1.weight", "input.input", "to_rgb1.conv.weight")
    convs = {int(k.split(".")[1]) for k in tensors if k.startswith("convs.")}
    rgbs = {int(k.split(".")[1]) for k in tensors if k.startswith("to_rgbs.")}
    blocks = max([*(c // 2 + 1 for c in convs), *(r + 1 for r in rgbs), 0])
    channels = [first]
    for block in range(blocks):
        a, b = 2 * block, 2 * block + 1
        width = size_of(tensors, (f"convs.{a}.conv.weight", 5, 1),
                        (f"convs.{a}.activate.bias", 1, 0), (f"convs.{b}.conv.weight", 5, 2),
                        (f"to_rgbs.{block}.conv.weight", 5, 2))  # fmt: skip
        if width is None:
            raise missing(f"convs.{a}.conv.weight")
        channels.append(width)
    return {"style_dim": style_dim, "n_mlp": n_mlp, "channels": channels,
            "img_channels": img_channels}  # fmt: skip
