"""The discriminator of rosinality/stylegan2-pytorch checkpoints (``d``), named as its
``model.py`` names it: a 1x1 ``convs.0``, residual blocks ``convs.N`` that halve the
resolution, the minibatch standard deviation over groups of 4, ``final_conv`` and two
``final_linear`` layers -> one logit. Sizes are read from the weights."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.loading.layouts.architectures.base import block_sizes, missing, size_of
from gandoctor.loading.layouts.architectures.stylegan2.discriminator import minibatch_std
from gandoctor.loading.layouts.architectures.stylegan2.layers import fir_filter
from gandoctor.loading.layouts.architectures.stylegan2.ops import (
    CHANNELS_LAST,
    FullyConnected,
    bias_act,
    conv2d_down,
)
from gandoctor.loading.layouts.architectures.stylegan2.rosinality import ActivationBias

LAYOUT = "rosinality/stylegan2-pytorch's Discriminator (convs.N, final_conv, final_linear)"
STDDEV_GROUP = 4


class _Blur(nn.Module):
    kernel: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("kernel", fir_filter([1.0, 3.0, 3.0, 1.0]))


class _EqualConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale = 1 / math.sqrt(cin * k * k)


class ConvLayer(nn.Sequential):
    """[blur,] equalised conv [, leaky ReLU with its bias]: rosinality's ConvLayer, whose
    indexes are the state dict's (``conv2.0.kernel``, ``conv2.1.weight``, ``conv2.2.bias``)."""

    def __init__(self, cin: int, cout: int, k: int, downsample: bool = False,
                 activate: bool = True, bias: bool = True) -> None:  # fmt: skip
        layers: list[nn.Module] = [_Blur()] if downsample else []
        layers.append(_EqualConv(cin, cout, k, bias and not activate))
        if activate:
            layers.append(ActivationBias(cout))
        super().__init__(*layers)
        self.downsample, self.activate = downsample, activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = list(self)
        conv = parts[1] if self.downsample else parts[0]
        assert isinstance(conv, _EqualConv)
        weight = conv.weight * conv.scale
        if self.downsample:
            blur = parts[0]
            assert isinstance(blur, _Blur)
            x = conv2d_down(x, weight, blur.kernel)
        else:
            x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
        if conv.bias is not None:
            x = x + conv.bias.reshape(1, -1, 1, 1)
        if self.activate:
            act = parts[-1]
            assert isinstance(act, ActivationBias)
            x = bias_act(x, act.bias, "lrelu")
        return x


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(cin, cin, 3)
        self.conv2 = ConvLayer(cin, cout, 3, downsample=True)
        self.skip = ConvLayer(cin, cout, 1, downsample=True, activate=False, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)


class RosinalityDiscriminator(nn.Module):
    """Image -> logit; a batch must be a multiple of 4 samples, or smaller (minibatch std)."""

    def __init__(self, channels: list[int], img_channels: int = 3) -> None:
        super().__init__()
        self.group_size = STDDEV_GROUP
        blocks = [ResBlock(a, b) for a, b in itertools.pairwise(channels)]
        self.convs = nn.Sequential(ConvLayer(img_channels, channels[0], 1), *blocks)
        last = channels[-1]
        self.final_conv = ConvLayer(last + 1, last, 3)
        self.final_linear = nn.Sequential(
            FullyConnected(last * 16, last, activation="lrelu"), FullyConnected(last, 1)
        )

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = minibatch_std(self.convs(img.contiguous(memory_format=CHANNELS_LAST)), self.group_size)
        return self.final_linear(self.final_conv(x).flatten(1))


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Kwargs for a state dict in the layout, None for another layout."""
    if not any(k.startswith("final_linear.") for k in tensors):
        return None
    first = size_of(tensors, ("convs.0.0.weight", 4, 0), ("convs.0.1.bias", 1, 0))
    img_channels = size_of(tensors, ("convs.0.0.weight", 4, 1))
    if first is None or img_channels is None:
        raise missing("convs.0.0.weight")
    blocks = sorted({int(k.split(".")[1]) for k in tensors if k.startswith("convs.")} - {0})
    channels = [first, *block_sizes(tensors, blocks, lambda b: (
        (f"convs.{b}.conv2.1.weight", 4, 0), (f"convs.{b}.skip.1.weight", 4, 0)))]  # fmt: skip
    return {"channels": channels, "img_channels": img_channels}
