"""lucidrains' lightweight-gan (Liu et al. 2021, "Towards Faster and Stabilized GAN Training
for High-fidelity Few-shot Image Synthesis"), as its Trainer saves it: ``{"GAN":
state_dict, "version", ...}`` with the generator ``G``, its moving average ``GE`` (chosen
by the key-prefix selection) and the discriminator. gandoctor's own build, named as the
package names its layers so the weights load strictly, written from reading it.

z (N, latent_dim) -> a transposed 4x4 convolution, BatchNorm and a GLU -> normalised over
channels -> per resolution: optional attention, a pixel-shuffle upsampling, a [1, 2, 1] blur,
a 4x4 convolution, a noise input, BatchNorm and a GLU; skip-layer excitations (SLE) gate the
feature maps four resolutions up. The image comes from a last 3x3 convolution with no final
activation; the package clamps samples to [0, 1], the range it trains on.

The package draws fresh noise at every call; the probe needs a deterministic generator, so
each noise input gets one fixed standard-normal image (seed ``NOISE_SEED`` + layer index),
shared by the batch, as gandoctor's other StyleGAN-like builds do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.loading.layouts.architectures.base import (
    FlatLatentGenerator,
    block_sizes,
    missing,
    size_of,
)
from gandoctor.loading.layouts.architectures.lucidrains_layers import (
    DIM_HEAD,
    Blur,
    DepthWiseConv2d,
    PreNorm,
    heads_of,
    linear_attention,
    merge_heads,
)

LAYOUT = "lucidrains lightweight-gan's generator (initial_conv, layers.N, out_conv)"
NOISE_SEED = 0
SLE = {3: 7, 4: 8, 5: 9, 6: 10}
"""Skip-layer excitation: the resolution (log2) whose output gates the one at the value."""


class LinearAttention(nn.Module):
    """Two attentions over the feature map, concatenated: a linear (global) one, softmax
    over the query's channels and the keys' positions, and a full one over each pixel's 3x3
    neighbourhood (zero-padded at the border)."""

    def __init__(self, dim: int, inner: int) -> None:
        super().__init__()
        self.heads = inner // DIM_HEAD
        self.to_lin_q = nn.Conv2d(dim, inner, 1, bias=False)
        self.to_lin_kv = DepthWiseConv2d(dim, inner * 2)
        self.to_q = nn.Conv2d(dim, inner, 1, bias=False)
        self.to_kv = nn.Conv2d(dim, inner * 2, 1, bias=False)
        self.to_out = nn.Conv2d(inner * 2, dim, 1)

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        b, _, h, w = fmap.shape
        k, v = self.to_lin_kv(fmap).chunk(2, dim=1)
        linear = F.gelu(linear_attention(self.to_lin_q(fmap), k, v, self.heads))
        k, v = self.to_kv(fmap).chunk(2, dim=1)
        q = heads_of(self.to_q(fmap), self.heads) * DIM_HEAD**-0.5  # (B * heads, n, d)
        k, v = (F.unfold(t.reshape(b * self.heads, DIM_HEAD, h, w), 3, padding=1)
                for t in (k, v))  # fmt: skip
        # (B * heads, d * 9, n) -> (B * heads, n, 9, d): each pixel's 3x3 neighbours.
        k, v = (t.reshape(b * self.heads, DIM_HEAD, 9, h * w).permute(0, 3, 2, 1) for t in (k, v))
        sim = torch.einsum("bnd,bnjd->bnj", q, k)
        attn = (sim - sim.amax(dim=-1, keepdim=True).detach()).softmax(dim=-1)
        local = merge_heads(torch.einsum("bnj,bnjd->bnd", attn, v), b, h, w)
        return self.to_out(torch.cat((linear, local), dim=1))


class PixelShuffleUpsample(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(dim, dim * 4, 1), nn.SiLU(), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Noise(nn.Module):
    """x + weight * one fixed noise image (module docstring)."""

    noise: torch.Tensor

    def __init__(self, size: int, seed: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        noise = torch.randn(1, 1, size, size, generator=torch.Generator().manual_seed(seed))
        self.register_buffer("noise", noise, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight * self.noise


class GlobalContext(nn.Module):
    """Attention-pooled context -> a per-channel gate in (0, 1)."""

    def __init__(self, chan_in: int, chan_mid: int, chan_out: int) -> None:
        super().__init__()
        self.to_k = nn.Conv2d(chan_in, 1, 1)
        self.net = nn.Sequential(nn.Conv2d(chan_in, chan_mid, 1), nn.LeakyReLU(0.1),
                                 nn.Conv2d(chan_mid, chan_out, 1), nn.Sigmoid())  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.to_k(x).flatten(2).softmax(dim=-1)  # (B, 1, n)
        pooled = torch.einsum("bin,bcn->bci", weights, x.flatten(2))
        return self.net(pooled.unsqueeze(-1))


class FCANet(nn.Module):
    """Frequency channel attention: the feature map against stored DCT bases -> a gate."""

    dct_weights: torch.Tensor

    def __init__(self, chan_in: int, chan_mid: int, chan_out: int, width: int) -> None:
        super().__init__()
        self.register_buffer("dct_weights", torch.zeros(1, chan_in, width, width))
        self.net = nn.Sequential(nn.Conv2d(chan_in, chan_mid, 1), nn.LeakyReLU(0.1),
                                 nn.Conv2d(chan_mid, chan_out, 1), nn.Sigmoid())  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x * self.dct_weights).sum(dim=(2, 3), keepdim=True))


class LightweightGANGenerator(FlatLatentGenerator):
    """z -> image in lightweight-gan's layout. ``features``: the channels after each
    resolution's block; ``sle``: per block, ``"global"``, ``"fca"`` or None, with its middle
    width; ``attention``: per block, the attention's inner width or None."""

    output_range: ClassVar[tuple[float, float] | None] = (0.0, 1.0)

    def __init__(self, latent_dim: int, features: list[int], channels: int = 3,
                 sle: list[list[Any] | None] | None = None,
                 attention: list[int | None] | None = None,
                 antialias: bool = True) -> None:  # fmt: skip
        super().__init__()
        n = len(features)
        sle = sle if sle is not None else [None] * n
        attention = attention if attention is not None else [None] * n
        self.kwargs = {"latent_dim": latent_dim, "features": list(features),
                       "channels": channels, "sle": sle, "attention": attention}  # fmt: skip
        if not antialias:  # only where it differs, so files with the blur keep short kwargs
            self.kwargs["antialias"] = False
        self.latent_dim = self.latent_size = latent_dim
        width = latent_dim * 2
        self.initial_conv = nn.Sequential(nn.ConvTranspose2d(latent_dim, width, 4),
                                          nn.BatchNorm2d(width), nn.GLU(dim=1))  # fmt: skip
        self.resolutions = list(range(2, n + 2))  # log2 of each block's input size
        chan_out = dict(zip(self.resolutions, features, strict=True))
        layers = []
        for index, (res, chan_in, out) in enumerate(
            zip(self.resolutions, [latent_dim, *features[:-1]], features, strict=True)
        ):
            # The Trainer's default (antialias=False) swaps the blur for an identity, which
            # leaves no ``f`` buffer in the file.
            blur = Blur() if antialias else nn.Identity()
            up = nn.Sequential(PixelShuffleUpsample(chan_in), blur,
                               nn.Sequential(nn.ZeroPad2d((2, 1, 2, 1)),
                                             nn.Conv2d(chan_in, out * 2, 4)),
                               Noise(2 ** (res + 1), NOISE_SEED + index),
                               nn.BatchNorm2d(out * 2), nn.GLU(dim=1))  # fmt: skip
            gate: nn.Module | None = None
            if (kind := sle[index]) is not None:
                target = chan_out[SLE[res] - 1]
                gate = (GlobalContext(out, kind[1], target) if kind[0] == "global"
                        else FCANet(out, kind[1], target, 2 ** (res + 1)))  # fmt: skip
            inner = attention[index]
            attn = PreNorm(chan_in, LinearAttention(chan_in, inner)) if inner else None
            # Absent parts stay None in the list, as in the package, so the keys' indices match.
            layers.append(nn.ModuleList(cast(list[nn.Module], [up, gate, attn])))
        self.layers = nn.ModuleList(layers)
        self.out_conv = nn.Conv2d(features[-1], channels, 3, padding=1)

    def layer_group(self, parameter: str) -> str:
        """``--layers`` groups: the initial block, each resolution's block, the output."""
        parts = parameter.split(".")
        return ".".join(parts[:2]) if parts[0] == "layers" else parts[0]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = F.normalize(self.initial_conv(z[:, :, None, None]), dim=1)
        gates: dict[int, torch.Tensor] = {}
        for res, block in zip(self.resolutions, self.layers, strict=True):
            up, gate, attn = cast(list[Any], list(cast(nn.ModuleList, block)))
            if attn is not None:
                x = attn(x) + x
            x = up(x)
            if gate is not None:
                gates[SLE[res]] = gate(x)
            if res + 1 in gates:
                x = x * gates[res + 1]
        return self.out_conv(x)


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Kwargs for a state dict in the layout (initial_conv, layers.N, out_conv), None for
    another."""
    heads = {k.split(".")[0] for k in tensors}
    if not {"initial_conv", "layers", "out_conv"} <= heads:
        return None
    latent = size_of(tensors, ("initial_conv.0.weight", 4, 0))
    if latent is None:
        raise missing("initial_conv.0.weight")
    keys = [k.split(".") for k in tensors]
    blocks = sorted({int(p[1]) for p in keys if p[0] == "layers" and len(p) > 1 and p[1].isdigit()})
    # The block's 4x4 convolution makes twice its channels, for the GLU.
    widths = block_sizes(tensors, blocks, lambda b: ((f"layers.{b}.0.2.1.weight", 4, 0),))
    features = [width // 2 for width in widths]
    sle, attention = [], []
    for b in blocks:
        mid = size_of(tensors, (f"layers.{b}.1.net.0.weight", 4, 0))
        kind = "fca" if f"layers.{b}.1.dct_weights" in tensors else "global"
        sle.append([kind, mid] if mid is not None else None)
        attention.append(size_of(tensors, (f"layers.{b}.2.fn.to_q.weight", 4, 0)))
    if not blocks or blocks != list(range(len(blocks))):
        raise missing("layers.0.0.2.1.weight", why="the blocks must be numbered from 0")
    channels = size_of(tensors, ("out_conv.weight", 4, 0)) or 3
    kwargs = {"latent_dim": latent, "features": features, "channels": channels, "sle": sle,
              "attention": attention}  # fmt: skip
    if not any(f"layers.{b}.0.1.f" in tensors for b in blocks):
        kwargs["antialias"] = False  # the Trainer's default: no blur, no filter in the file
    return kwargs
