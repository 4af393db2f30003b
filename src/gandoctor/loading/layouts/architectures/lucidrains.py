"""lucidrains' stylegan2-pytorch, as its Trainer saves it: ``{"GAN": state_dict, "version"}``
with the mapping network ``S`` (StyleVectorizer), the synthesis network ``G``, their moving
averages ``SE`` and ``GE``, and the discriminator. gandoctor's own build, named as the
package names its layers, written from reading it.

The probe's z -> image chain is that of the package's sampler: w = S(z) (normalise, then
``style_depth`` equalised layers with a learning-rate multiplier), the same w for every
layer, and G(w, noise) with one fixed noise image (uniform on [0, 1), seed 0): G's block
takes a per-pixel noise image through a learned ``to_noise`` layer. Its images have no final
activation; the package clamps samples to [0, 1], the range it trains on.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from pathlib import Path
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
    Residual,
    linear_attention,
)
from gandoctor.loading.layouts.architectures.stylegan2.ops import CHANNELS_LAST, demodulation

LAYOUT = "lucidrains stylegan2-pytorch's StyleGAN2 (S.net.N, G.initial_block, G.blocks.N)"
NOISE_SEED = 0
LR_MLP = 0.1
"""The package's default ``lr_mlp``; a checkpoint's weights do not record it (the Trainer's
``.config.json`` beside them does: ``trainer_settings``)."""


class EqualLinear(nn.Module):
    def __init__(self, dim: int, lr_mul: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(dim, dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.lr_mul, bias=self.bias * self.lr_mul)


class StyleVectorizer(nn.Module):
    def __init__(self, dim: int, depth: int, lr_mul: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [EqualLinear(dim, lr_mul), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(F.normalize(z, dim=1))


class Conv2DMod(nn.Module):
    """Weights times (style + 1), demodulated unless ``demod`` is off; "same" padding.

    The package convolves each sample with its own modulated weights (one grouped
    convolution); this scales the activations before and after one shared convolution
    instead, the same function (ops.modulated_conv2d), several times faster to
    differentiate on a CPU."""

    def __init__(self, cin: int, cout: int, k: int, demod: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.demod = demod

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        k = self.weight.shape[-1]
        scale = style + 1
        x = F.conv2d(x * scale.to(x.dtype)[:, :, None, None], self.weight.to(x.dtype),
                     padding=(k - 1) // 2)  # fmt: skip
        if not self.demod:
            return x
        return x * demodulation(self.weight, scale)[:, :, None, None].to(x.dtype)


class LinearAttention(nn.Module):
    """stylegan2-pytorch's attention: the linear attention of lucidrains_layers, its keys and
    values from one depthwise-separable convolution, a GELU, then back to ``dim``."""

    def __init__(self, dim: int, inner: int) -> None:
        super().__init__()
        self.heads = inner // DIM_HEAD
        self.to_q = nn.Conv2d(dim, inner, 1, bias=False)
        self.to_kv = DepthWiseConv2d(dim, inner * 2)
        self.to_out = nn.Conv2d(inner, dim, 1)

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        k, v = self.to_kv(fmap).chunk(2, dim=1)
        return self.to_out(F.gelu(linear_attention(self.to_q(fmap), k, v, self.heads)))


def attention_block(chan: int, inner: int) -> nn.Sequential:
    """Self-attention, then a 1x1 feed-forward, each residual after a channel norm."""
    feed_forward = nn.Sequential(nn.Conv2d(chan, chan * 2, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(chan * 2, chan, 1))  # fmt: skip
    return nn.Sequential(Residual(PreNorm(chan, LinearAttention(chan, inner))),
                         Residual(PreNorm(chan, feed_forward)))  # fmt: skip


class RGBBlock(nn.Module):
    def __init__(self, latent: int, cin: int, upsample: bool, channels: int) -> None:
        super().__init__()
        self.to_style = nn.Linear(latent, cin)
        self.conv = Conv2DMod(cin, channels, 1, demod=False)
        self.upsample = (nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear",
                                                   align_corners=False), Blur())
                         if upsample else None)  # fmt: skip

    def forward(self, x: torch.Tensor, prev: torch.Tensor | None, w: torch.Tensor) -> torch.Tensor:
        x = self.conv(x, self.to_style(w))
        if prev is not None:
            x = x + prev
        return self.upsample(x) if self.upsample is not None else x


class GeneratorBlock(nn.Module):
    def __init__(self, latent: int, cin: int, cout: int, upsample: bool, upsample_rgb: bool,
                 channels: int) -> None:  # fmt: skip
        super().__init__()
        self.upsample = upsample
        self.to_style1, self.to_noise1 = nn.Linear(latent, cin), nn.Linear(1, cout)
        self.conv1 = Conv2DMod(cin, cout, 3)
        self.to_style2, self.to_noise2 = nn.Linear(latent, cout), nn.Linear(1, cout)
        self.conv2 = Conv2DMod(cout, cout, 3)
        self.to_rgb = RGBBlock(latent, cout, upsample_rgb, channels)

    def forward(self, x: torch.Tensor, prev: torch.Tensor | None, w: torch.Tensor,
                noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        noise = noise[:, : x.shape[2], : x.shape[3], :]
        # The package's permute puts the noise image's width on the rows: kept as it is.
        x = F.leaky_relu(self.conv1(x, self.to_style1(w))
                         + self.to_noise1(noise).permute(0, 3, 2, 1), 0.2)  # fmt: skip
        x = F.leaky_relu(self.conv2(x, self.to_style2(w))
                         + self.to_noise2(noise).permute(0, 3, 2, 1), 0.2)  # fmt: skip
        return x, self.to_rgb(x, prev, w)


class Synthesis(nn.Module):
    """A learned 4x4 start (or, ``no_const``, one made from w by a transposed convolution),
    then the blocks, each after its attention block where ``attention`` gives one's width."""

    def __init__(self, latent: int, filters: list[int], channels: int,
                 attention: list[int | None], no_const: bool) -> None:  # fmt: skip
        super().__init__()
        if no_const:
            self.to_initial_block = nn.ConvTranspose2d(latent, filters[0], 4, 1, 0, bias=False)
        else:
            self.initial_block = nn.Parameter(torch.randn(1, filters[0], 4, 4))
        self.no_const = no_const
        self.initial_conv = nn.Conv2d(filters[0], filters[0], 3, padding=1)
        last = len(filters) - 2
        self.blocks = nn.ModuleList(
            GeneratorBlock(latent, a, b, i != 0, i != last, channels)
            for i, (a, b) in enumerate(itertools.pairwise(filters))
        )
        # Blocks without attention hold None, as in the package, so the indices match.
        attns = [attention_block(a, inner) if inner else None
                 for a, inner in zip(filters[:-1], attention, strict=True)]  # fmt: skip
        self.attns = nn.ModuleList(cast(list[nn.Module], attns))

    def forward(self, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        if self.no_const:
            x = self.to_initial_block(w[:, :, None, None])
        else:
            x = self.initial_block.expand(len(w), -1, -1, -1)
        x = self.initial_conv(x.contiguous(memory_format=CHANNELS_LAST))
        rgb = None
        for block, attn in zip(self.blocks, self.attns, strict=True):
            if attn is not None:
                x = attn(x)
            x, rgb = block(x, rgb, w, noise)
        assert rgb is not None
        return rgb


class LucidrainsStyleGAN2(FlatLatentGenerator):
    """z -> image; the mapping network as ``S``, the synthesis network as ``G``."""

    output_range: ClassVar[tuple[float, float] | None] = (0.0, 1.0)
    noise: torch.Tensor

    def __init__(self, latent_dim: int, style_depth: int, filters: list[int],
                 channels: int = 3, lr_mlp: float = LR_MLP,
                 attention: list[int | None] | None = None,
                 no_const: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.kwargs: dict[str, Any] = {"latent_dim": latent_dim, "style_depth": style_depth,
                                       "filters": list(filters), "channels": channels}  # fmt: skip
        # Only what differs from the package's defaults, so plain files keep short kwargs.
        attention = attention or [None] * (len(filters) - 1)
        extra = {"lr_mlp": (lr_mlp, LR_MLP), "no_const": (no_const, False),
                 "attention": (attention, [None] * (len(filters) - 1))}  # fmt: skip
        self.kwargs.update({k: value for k, (value, default) in extra.items() if value != default})
        self.latent_dim = self.latent_size = latent_dim
        self.S = StyleVectorizer(latent_dim, style_depth, lr_mlp)
        self.G = Synthesis(latent_dim, filters, channels, attention, no_const)
        size = 4 * 2 ** (len(filters) - 2)
        noise = torch.rand(1, size, size, 1, generator=torch.Generator().manual_seed(NOISE_SEED))
        self.register_buffer("noise", noise, persistent=False)

    def layer_group(self, parameter: str) -> str:
        """``--layers`` groups: each mapping layer and each synthesis block."""
        parts = parameter.split(".")
        return ".".join(parts[:3]) if parts[1] in ("net", "blocks") else ".".join(parts[:2])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.G(self.S(z), self.noise.expand(len(z), -1, -1, -1))


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Kwargs for a state dict in the layout (S.* and G.* keys), None for another."""
    heads = {".".join(k.split(".")[:2]) for k in tensors}
    if not {"S.net", "G.blocks"} <= heads:
        return None
    latent = size_of(tensors, ("S.net.0.weight", 2, 1), ("G.blocks.0.to_style1.weight", 2, 1))
    first = size_of(tensors, ("G.initial_block", 4, 1), ("G.to_initial_block.weight", 4, 1),
                    ("G.initial_conv.weight", 4, 0))  # fmt: skip
    if latent is None or first is None:
        raise missing("S.net.0.weight", "G.initial_block")
    depth = len({k.split(".")[2] for k in tensors if k.startswith("S.net.")})
    blocks = sorted({int(k.split(".")[2]) for k in tensors if k.startswith("G.blocks.")})
    filters = [first, *block_sizes(tensors, blocks, lambda b: (
        (f"G.blocks.{b}.conv1.weight", 4, 0), (f"G.blocks.{b}.conv2.weight", 4, 0)))]  # fmt: skip
    channels = (
        size_of(tensors, (f"G.blocks.{blocks[-1]}.to_rgb.conv.weight", 4, 0)) if blocks else 3
    )
    kwargs: dict[str, Any] = {"latent_dim": latent, "style_depth": depth, "filters": filters,
                              "channels": channels or 3}  # fmt: skip
    attention = [size_of(tensors, (f"G.attns.{b}.0.fn.fn.to_q.weight", 4, 0)) for b in blocks]
    if any(attention):
        kwargs["attention"] = attention
    if "G.to_initial_block.weight" in tensors:
        kwargs["no_const"] = True
    return kwargs


def trainer_settings(path: str) -> dict[str, Any]:
    """``lr_mlp`` from the ``.config.json`` the Trainer writes beside its checkpoints
    (``models/NAME/.config.json``): the one setting the weights do not record. Empty where
    the file is absent, unreadable or says the default."""
    try:
        config = json.loads((Path(path).parent / ".config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    lr_mlp = config.get("lr_mlp") if isinstance(config, dict) else None
    if not isinstance(lr_mlp, int | float) or isinstance(lr_mlp, bool) or not lr_mlp > 0:
        return {}
    return {"lr_mlp": float(lr_mlp)} if lr_mlp != LR_MLP else {}


def ema_pair(stored: object, key: str | None) -> tuple[object, str | None, str | None]:
    """A Trainer checkpoint with one copy of G and its mapping network chosen and renamed
    S. and G., so that one layout serves both: the moving averages SE and GE where the user
    named no entry (or ``--key GE``), the raw S and G for ``--key G``. Returns the checkpoint,
    the ``--key`` left to apply, and the name of the copy used (``GAN.GE``), for the report.

    An entry the user named otherwise (``--key GAN``: the whole module, D included) is theirs
    to have: nothing is chosen for them then.
    """
    gan = stored.get("GAN") if isinstance(stored, Mapping) else None
    if not isinstance(gan, Mapping) or key not in (None, "G", "GAN.G", "GE", "GAN.GE"):
        return stored, key, None
    heads = {str(k).split(".", 1)[0] for k in gan}
    if not {"S", "G", "SE", "GE"} <= heads:
        return stored, key, None
    raw = key in ("G", "GAN.G")
    old = {"S": "S", "G": "G"} if raw else {"S": "SE", "G": "GE"}
    chosen = {
        f"{new}.{str(k)[len(prefix) + 1 :]}": value
        for k, value in gan.items()
        for new, prefix in old.items()
        if str(k).startswith(f"{prefix}.")
    }
    assert isinstance(stored, Mapping)
    return {**dict(stored), "GAN": chosen}, "GAN", "GAN.G" if raw else "GAN.GE"
