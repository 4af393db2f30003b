"""Layers that lucidrains' stylegan2-pytorch and lightweight-gan share, named as both
packages name them so their weights load strictly: a [1, 2, 1] blur, a channel norm before
a function, a depthwise-separable convolution, and the linear attention both use."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DIM_HEAD = 64
"""Both packages' attention head width (their LinearAttention default)."""


class Blur(nn.Module):
    """The [1, 2, 1] outer-product low-pass filter, normalised, with reflected borders."""

    f: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("f", torch.tensor([1.0, 2.0, 1.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.f[None, :] * self.f[:, None]
        kernel = (kernel / kernel.sum()).expand(x.shape[1], 1, 3, 3).to(x.dtype)
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), kernel, groups=x.shape[1])


class ChanNorm(nn.Module):
    """Normalisation over channels at every pixel, with a learned scale and shift."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))
        self.b = nn.Parameter(torch.zeros(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var, mean = torch.var_mean(x, dim=1, unbiased=False, keepdim=True)
        return (x - mean) / (var + self.eps).sqrt() * self.g + self.b


class PreNorm(nn.Module):
    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.norm = ChanNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class Residual(nn.Module):
    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + x


class DepthWiseConv2d(nn.Module):
    """A 3x3 depthwise convolution, then a 1x1 one to ``dim_out`` channels; no biases."""

    def __init__(self, dim: int, dim_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1, groups=dim, bias=False),
                                 nn.Conv2d(dim, dim_out, 1, bias=False))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def heads_of(t: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, heads * d, H, W) -> (B * heads, H * W, d)."""
    b, _, h, w = t.shape
    return t.reshape(b * heads, -1, h * w).transpose(1, 2)


def merge_heads(t: torch.Tensor, b: int, h: int, w: int) -> torch.Tensor:
    """(B * heads, H * W, d) -> (B, heads * d, H, W)."""
    return t.transpose(1, 2).reshape(b, -1, h, w)


def linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int
                     ) -> torch.Tensor:  # fmt: skip
    """Global attention at linear cost (Shen et al.'s efficient attention): softmax over each
    query's channels and over the keys' positions, the keys summarised into a d x d
    context first. Maps of shape (B, heads * d, H, W) in and out."""
    b, _, h, w = q.shape
    q = heads_of(q, heads).softmax(dim=-1) * DIM_HEAD**-0.5
    context = heads_of(k, heads).softmax(dim=-2).transpose(1, 2) @ heads_of(v, heads)
    return merge_heads(q @ context, b, h, w)
