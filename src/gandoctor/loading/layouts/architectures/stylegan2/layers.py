"""The layers of the StyleGAN2 generator, named as NVlabs' StyleGAN2-ADA snapshots name
them, so that a snapshot's parameters and buffers load by name (``fc0.weight``,
``affine.bias``, ``noise_const``, ...). The network they make up is in ``generator``."""

from __future__ import annotations

import math

import torch
from torch import nn

from gandoctor.loading.layouts.architectures.stylegan2.ops import (
    ACTIVATION_GAINS,
    FullyConnected,
    bias_act,
    check_activation,
    conv2d_up,
    modulated_conv2d,
    normalize_2nd_moment,
)


def fir_filter(taps: list[float]) -> torch.Tensor:
    """The separable 2-D low-pass filter of 1-D ``taps``, normalised to sum 1."""
    f = torch.tensor(taps, dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


class Mapping(nn.Module):
    w_avg: torch.Tensor

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_ws: int | None,
        num_layers: int = 8,
        embed_features: int | None = None,
        layer_features: int | None = None,
        activation: str = "lrelu",
        lr_multiplier: float = 0.01,
        w_avg_beta: float | None = 0.995,
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.num_ws, self.num_layers = z_dim, c_dim, num_ws, num_layers
        embed = (w_dim if embed_features is None else embed_features) if c_dim else 0
        hidden = w_dim if layer_features is None else layer_features
        features = [z_dim + embed] + [hidden] * (num_layers - 1) + [w_dim]
        if c_dim:
            self.embed = FullyConnected(c_dim, embed)
        for i in range(num_layers):
            layer = FullyConnected(features[i], features[i + 1], activation=activation,
                                   lr_multiplier=lr_multiplier)  # fmt: skip
            self.add_module(f"fc{i}", layer)
        self.has_w_avg = w_avg_beta is not None
        if self.has_w_avg:
            self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, c: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        parts = []
        if self.z_dim:
            parts.append(normalize_2nd_moment(z))
        if self.c_dim:
            parts.append(normalize_2nd_moment(self.embed(c)))
        x = torch.cat(parts, dim=1)
        for i in range(self.num_layers):
            layer: nn.Module = getattr(self, f"fc{i}")
            x = layer(x)
        if self.num_ws is None:  # a discriminator's label embedding: one vector per sample
            return x
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if psi != 1:
            ws = self.w_avg.lerp(ws, psi)
        return ws


class SynthesisLayer(nn.Module):
    resample_filter: torch.Tensor
    noise_const: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        kernel_size: int = 3,
        up: int = 1,
        use_noise: bool = True,
        activation: str = "lrelu",
        resample_filter: list[float] | None = None,
        conv_clamp: float | None = None,
        as_trained: bool = False,
    ) -> None:
        super().__init__()
        self.up, self.use_noise, self.conv_clamp = up, use_noise, conv_clamp
        self.as_trained = as_trained
        self.activation = check_activation(activation)
        self.register_buffer("resample_filter", fir_filter(resample_filter or [1, 3, 3, 1]))
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        if use_noise:
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, gain: float = 1.0, fused: bool = False
    ) -> torch.Tensor:
        noise = self.noise_const * self.noise_strength if self.use_noise else None
        x = modulated_conv2d(x, self.weight, self.affine(w), up=self.up,
                             fir=self.resample_filter, noise=noise, fused=fused,
                             as_nvlabs=self.as_trained)  # fmt: skip
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, self.activation, ACTIVATION_GAINS[self.activation] * gain,
                        clamp)  # fmt: skip


class ToRGB(nn.Module):
    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, conv_clamp: float | None = None
    ) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused: bool = False) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused=fused)
        return bias_act(x, self.bias, clamp=self.conv_clamp)


class Conv2dLayer(nn.Module):
    """The resnet architecture's 1x1 skip: an unmodulated, upsampling convolution."""

    resample_filter: torch.Tensor

    def __init__(self, in_channels: int, out_channels: int, resample_filter: list[float]) -> None:
        super().__init__()
        self.register_buffer("resample_filter", fir_filter(resample_filter))
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, gain: float) -> torch.Tensor:
        weight = (self.weight * self.weight_gain).to(x.dtype)
        return conv2d_up(x, weight, self.resample_filter, 2) * gain
