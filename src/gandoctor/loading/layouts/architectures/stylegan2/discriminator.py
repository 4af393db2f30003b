"""The StyleGAN2 discriminator in the layout of NVlabs' StyleGAN2-ADA snapshots (``D``), so
a snapshot's ``D`` loads by name and gives the logits the training loop saw.

Image -> per resolution a block of two 3x3 convolutions, the second downsampling by 2
(low-pass filter, then stride 2), with a 1x1 ``fromrgb`` on the first block ("orig",
"resnet") or on every block ("skip"), and a residual path around each block ("resnet") ->
at 4x4 the epilogue: the minibatch standard deviation as one more channel (over groups of
``mbstd_group_size`` samples: a batch must be a multiple of it, or smaller), a 3x3
convolution, two fully-connected layers -> one logit, or for c_dim > 0 the projection of
that output onto the label's embedding (the mapping network over c).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.errors import CheckpointError
from gandoctor.loading.layouts.architectures.stylegan2.layers import Mapping, fir_filter
from gandoctor.loading.layouts.architectures.stylegan2.ops import (
    ACTIVATION_GAINS,
    CHANNELS_LAST,
    FullyConnected,
    bias_act,
    check_activation,
    conv2d_down,
    downsample2d,
)


class Conv(nn.Module):
    """NVlabs' Conv2dLayer without upsampling: equalised weights, bias, activation, clamp,
    optionally downsampling by 2."""

    resample_filter: torch.Tensor

    def __init__(self, cin: int, cout: int, k: int, bias: bool = True, activation: str = "linear",
                 down: int = 1, conv_clamp: float | None = None) -> None:  # fmt: skip
        super().__init__()
        self.activation, self.down, self.conv_clamp = check_activation(activation), down, conv_clamp
        self.register_buffer("resample_filter", fir_filter([1.0, 3.0, 3.0, 1.0]))
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.weight_gain = 1 / math.sqrt(cin * k * k)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        weight = (self.weight * self.weight_gain).to(x.dtype)
        if self.down > 1:
            x = conv2d_down(x, weight, self.resample_filter, self.down)
        else:
            x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, self.activation, ACTIVATION_GAINS[self.activation] * gain,
                        clamp)  # fmt: skip


class DiscriminatorBlock(nn.Module):
    resample_filter: torch.Tensor

    def __init__(self, cin: int, tmp: int, cout: int, img_channels: int, architecture: str,
                 conv_clamp: float | None, use_fp16: bool, activation: str = "lrelu",
                 resample_filter: list[float] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.cin, self.architecture = cin, architecture
        self.dtype = torch.float16 if use_fp16 else torch.float32
        self.register_buffer("resample_filter", fir_filter(resample_filter or [1, 3, 3, 1]))
        if cin == 0 or architecture == "skip":
            self.fromrgb = Conv(img_channels, tmp, 1, activation=activation, conv_clamp=conv_clamp)
        self.conv0 = Conv(tmp, tmp, 3, activation=activation, conv_clamp=conv_clamp)
        self.conv1 = Conv(tmp, cout, 3, activation=activation, down=2, conv_clamp=conv_clamp)
        if architecture == "resnet":
            self.skip = Conv(tmp, cout, 1, bias=False, down=2)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:  # fmt: skip
        x = x.to(self.dtype) if x is not None else None
        if self.cin == 0 or self.architecture == "skip":
            assert img is not None
            img = img.to(self.dtype)
            y = self.fromrgb(img)
            x = x + y if x is not None else y
            img = downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        assert x is not None
        if self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = y + self.conv1(self.conv0(x), gain=math.sqrt(0.5))
        else:
            x = self.conv1(self.conv0(x))
        return x, img


def minibatch_std(x: torch.Tensor, group_size: int | None, channels: int = 1) -> torch.Tensor:
    """``x`` with the standard deviation over each group of samples appended as ``channels``
    more channels (Karras et al. 2018): how much the samples of a group differ."""
    n, c, h, w = x.shape
    g = min(group_size, n) if group_size is not None else n
    if n % g:
        raise ValueError(f"a batch of {n} does not split into minibatch-std groups of {g}")
    y = x.reshape(g, -1, channels, c // channels, h, w)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()
    y = y.mean(dim=[2, 3, 4]).reshape(-1, channels, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class Epilogue(nn.Module):
    def __init__(self, cin: int, cmap_dim: int, img_channels: int, architecture: str,
                 conv_clamp: float | None, mbstd_group_size: int | None = 4,
                 mbstd_num_channels: int = 1, activation: str = "lrelu") -> None:  # fmt: skip
        super().__init__()
        self.cmap_dim, self.architecture = cmap_dim, architecture
        self.group_size, self.mbstd_channels = mbstd_group_size, mbstd_num_channels
        if architecture == "skip":
            self.fromrgb = Conv(img_channels, cin, 1, activation=activation)
        self.conv = Conv(cin + mbstd_num_channels, cin, 3, activation=activation,
                         conv_clamp=conv_clamp)  # fmt: skip
        self.fc = FullyConnected(cin * 16, cin, activation=activation)
        self.out = FullyConnected(cin, cmap_dim or 1)

    def forward(self, x: torch.Tensor, img: torch.Tensor | None, cmap: torch.Tensor | None
                ) -> torch.Tensor:  # fmt: skip
        x = x.float()
        if self.architecture == "skip":
            assert img is not None
            x = x + self.fromrgb(img.float())
        if self.mbstd_channels:
            x = minibatch_std(x, self.group_size, self.mbstd_channels)
        x = self.out(self.fc(self.conv(x).flatten(1)))
        if cmap is not None:  # the projection discriminator's label term
            x = (x * cmap).sum(dim=1, keepdim=True) / math.sqrt(self.cmap_dim)
        return x


class NVlabsDiscriminator(nn.Module):
    """Image (and label, for c_dim > 0) -> logit. Called as ``D(x)`` or ``D(x, labels)`` with
    integer labels; ``as_trained`` runs the snapshot's fp16 blocks in float16."""

    def __init__(self, c_dim: int, img_resolution: int, img_channels: int,
                 architecture: str = "resnet", channel_base: int = 32768, channel_max: int = 512,
                 num_fp16_res: int = 0, conv_clamp: float | None = None,
                 cmap_dim: int | None = None, block_kwargs: dict[str, Any] | None = None,
                 mapping_kwargs: dict[str, Any] | None = None,
                 epilogue_kwargs: dict[str, Any] | None = None,
                 as_trained: bool = False) -> None:  # fmt: skip
        super().__init__()
        if architecture not in ("orig", "skip", "resnet"):
            raise CheckpointError(f"StyleGAN2 discriminator architecture {architecture!r}")
        log2 = int(math.log2(img_resolution))
        self.c_dim, self.as_trained = c_dim, as_trained
        self.group_size = (epilogue_kwargs or {}).get("mbstd_group_size", 4)
        self.resolutions = [2**i for i in range(log2, 2, -1)]
        channels = {r: min(channel_base // r, channel_max) for r in [*self.resolutions, 4]}
        fp16_from = max(2 ** (log2 + 1 - num_fp16_res), 8) if as_trained else math.inf
        block_kwargs = dict(block_kwargs or {})
        block_kwargs.pop("fp16_channels_last", None)  # a memory layout only
        for res in self.resolutions:
            block = DiscriminatorBlock(channels[res] if res < img_resolution else 0,
                                       channels[res], channels[res // 2], img_channels,
                                       architecture, conv_clamp, res >= fp16_from,
                                       **block_kwargs)  # fmt: skip
            self.add_module(f"b{res}", block)
        cmap = (channels[4] if cmap_dim is None else cmap_dim) if c_dim else 0
        if c_dim:
            self.mapping = Mapping(0, c_dim, cmap, None, w_avg_beta=None, **(mapping_kwargs or {}))
        self.b4 = Epilogue(channels[4], cmap, img_channels, architecture, conv_clamp,
                           **(epilogue_kwargs or {}))  # fmt: skip

    def forward(self, img: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x: torch.Tensor | None = None
        image: torch.Tensor | None = img
        if not self.as_trained:
            image = img.contiguous(memory_format=CHANNELS_LAST)
        for res in self.resolutions:
            x, image = getattr(self, f"b{res}")(x, image)
        cmap = None
        if self.c_dim:
            if labels is None:
                raise ValueError(f"a conditional StyleGAN2 D (c_dim {self.c_dim}) needs labels")
            c = F.one_hot(labels.long(), self.c_dim).to(img.dtype)
            cmap = self.mapping(img.new_zeros(len(img), 0), c)
        assert x is not None
        return self.b4(x, image, cmap)
