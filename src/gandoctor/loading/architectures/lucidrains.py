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
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.loading.architectures.base import BuiltinGenerator, missing, size_of

LAYOUT = "lucidrains stylegan2-pytorch's StyleGAN2 (S.net.N, G.initial_block, G.blocks.N)"
NOISE_SEED = 0
LR_MLP = 0.1
"""The package's default ``lr_mlp``; a checkpoint's weights do not record it."""


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
    """Weights times (style + 1), demodulated unless ``demod`` is off; "same" padding."""

    def __init__(self, cin: int, cout: int, k: int, demod: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.demod = demod

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        weights = self.weight[None] * (style[:, None, :, None, None] + 1)  # N O I k k
        if self.demod:
            weights = weights * torch.rsqrt(weights.square().sum(dim=(2, 3, 4), keepdim=True)
                                            + 1e-8)  # fmt: skip
        k = self.weight.shape[-1]
        out = F.conv2d(x.reshape(1, -1, *x.shape[2:]), weights.reshape(-1, *weights.shape[2:]),
                       padding=(k - 1) // 2, groups=n)  # fmt: skip
        return out.reshape(n, -1, *x.shape[2:])


class Blur(nn.Module):
    """The [1, 2, 1] outer-product low-pass filter, normalised, with reflected borders."""

    f: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("f", torch.tensor([1.0, 2.0, 1.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.f[None, :] * self.f[:, None]
        kernel = (kernel / kernel.sum()).to(x.dtype)
        padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
        return F.conv2d(padded, kernel[None, None].repeat(x.shape[1], 1, 1, 1), groups=x.shape[1])


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
    def __init__(self, latent: int, filters: list[int], channels: int) -> None:
        super().__init__()
        self.initial_block = nn.Parameter(torch.randn(1, filters[0], 4, 4))
        self.initial_conv = nn.Conv2d(filters[0], filters[0], 3, padding=1)
        last = len(filters) - 2
        self.blocks = nn.ModuleList(
            GeneratorBlock(latent, a, b, i != 0, i != last, channels)
            for i, (a, b) in enumerate(itertools.pairwise(filters))
        )

    def forward(self, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        x = self.initial_conv(self.initial_block.expand(len(w), -1, -1, -1))
        rgb = None
        for block in self.blocks:
            x, rgb = block(x, rgb, w, noise)
        assert rgb is not None
        return rgb


class LucidrainsStyleGAN2(BuiltinGenerator):
    """z -> image; the mapping network as ``S``, the synthesis network as ``G``."""

    output_range: ClassVar[tuple[float, float] | None] = (0.0, 1.0)
    noise: torch.Tensor

    def __init__(self, latent_dim: int, style_depth: int, filters: list[int],
                 channels: int = 3, lr_mlp: float = LR_MLP) -> None:  # fmt: skip
        super().__init__()
        self.kwargs: dict[str, Any] = {"latent_dim": latent_dim, "style_depth": style_depth,
                                       "filters": list(filters), "channels": channels}  # fmt: skip
        if lr_mlp != LR_MLP:
            self.kwargs["lr_mlp"] = lr_mlp
        self.latent_dim = latent_dim
        self.S = StyleVectorizer(latent_dim, style_depth, lr_mlp)
        self.G = Synthesis(latent_dim, filters, channels)
        size = 4 * 2 ** (len(filters) - 2)
        noise = torch.rand(1, size, size, 1, generator=torch.Generator().manual_seed(NOISE_SEED))
        self.register_buffer("noise", noise, persistent=False)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.latent_dim,)

    def arch_kwargs(self) -> dict[str, Any]:
        return dict(self.kwargs)

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
    first = size_of(tensors, ("G.initial_block", 4, 1), ("G.initial_conv.weight", 4, 0))
    if latent is None or first is None:
        raise missing("S.net.0.weight", "G.initial_block")
    depth = len({k.split(".")[2] for k in tensors if k.startswith("S.net.")})
    blocks = sorted({int(k.split(".")[2]) for k in tensors if k.startswith("G.blocks.")})
    filters = [first]
    for b in blocks:
        width = size_of(tensors, (f"G.blocks.{b}.conv1.weight", 4, 0),
                        (f"G.blocks.{b}.conv2.weight", 4, 0))  # fmt: skip
        if width is None:
            raise missing(f"G.blocks.{b}.conv1.weight")
        filters.append(width)
    channels = (
        size_of(tensors, (f"G.blocks.{blocks[-1]}.to_rgb.conv.weight", 4, 0)) if blocks else 3
    )
    return {"latent_dim": latent, "style_depth": depth, "filters": filters,
            "channels": channels or 3}  # fmt: skip


def ema_pair(stored: object, key: str | None) -> tuple[object, str | None]:
    """A Trainer checkpoint with its moving averages SE and GE chosen (``--key G`` keeps S
    and G) and renamed S. and G., so that one layout serves both, and the ``--key`` left to
    apply; anything else as it is."""
    gan = stored.get("GAN") if isinstance(stored, Mapping) else None
    if not isinstance(gan, Mapping) or key not in (None, "GAN", "G", "GAN.G", "GE", "GAN.GE"):
        return stored, key
    heads = {str(k).split(".", 1)[0] for k in gan}
    if not {"S", "G", "SE", "GE"} <= heads:
        return stored, key
    old = {"S": "S", "G": "G"} if key in ("G", "GAN.G") else {"S": "SE", "G": "GE"}
    chosen = {
        f"{new}.{str(k)[len(prefix) + 1 :]}": value
        for k, value in gan.items()
        for new, prefix in old.items()
        if str(k).startswith(f"{prefix}.")
    }
    assert isinstance(stored, Mapping)
    return {**dict(stored), "GAN": chosen}, "GAN"
