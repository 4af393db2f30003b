"""gandoctor's own builds of five generator families at their packages' default sizes.

``build(family, size)`` gives the generator (and the family's D, where gandoctor builds one)
with the widths each original package picks for that image size when its users keep its
defaults; ``settings(family, size)`` gives those package-level hyperparameters, which
``reference_packages`` passes to the original code, so both sides are built from one dict.
The widths rules below restate each package's rule; gandoctor's ``recognise`` functions read
the same widths back from a state dict.

- dcgan: the PyTorch DCGAN example (nz 100, ngf = ndf = 64, 3 channels); widths ngf * 2**k,
  halving down to ngf, one block per doubling (64 px: 512, 256, 128, 64).
- nvlabs: StyleGAN2-ADA's ``train.py --cfg auto`` (mapping 2 layers, channel_base 16384
  below 512 px, channel_max 512, num_fp16_res 4, conv_clamp 256, mbstd group 4).
- rosinality: rosinality/stylegan2-pytorch's ``train.py`` (latent 512, n_mlp 8,
  channel_multiplier 2, lr_mlp 0.01).
- lucidrains: stylegan2-pytorch's ``StyleGAN2`` and CLI (latent 512, network_capacity 16,
  fmap_max 512, style_depth 8, no attention, lr_mlp 0.1).
- lightweight_gan: lightweight-gan's CLI (latent 256, fmap_max 512, fmap_inverse_coef 12,
  attention at 32 px, global-context SLE); gandoctor builds no D for it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gandoctor.loading.discriminators.checkpoint import DCGANDiscriminator
from gandoctor.loading.layouts.architectures.dcgan import DCGANGenerator
from gandoctor.loading.layouts.architectures.lightweight_gan import SLE, LightweightGANGenerator
from gandoctor.loading.layouts.architectures.lucidrains import LucidrainsStyleGAN2
from gandoctor.loading.layouts.architectures.lucidrains_d import LucidrainsDiscriminator
from gandoctor.loading.layouts.architectures.stylegan2.discriminator import NVlabsDiscriminator
from gandoctor.loading.layouts.architectures.stylegan2.generator import StyleGAN2Generator
from gandoctor.loading.layouts.architectures.stylegan2.rosinality import RosinalityGenerator
from gandoctor.loading.layouts.architectures.stylegan2.rosinality_d import RosinalityDiscriminator

FAMILIES = ("dcgan", "nvlabs", "rosinality", "lucidrains", "lightweight_gan")

LIGHTWEIGHT_ATTN_INNER = 64 * 8
"""lightweight-gan's LinearAttention width: dim_head 64 times 8 heads."""


@dataclass(frozen=True)
class Built:
    generator: nn.Module
    latent_shape: tuple[int, ...]
    output_range: tuple[float, float]
    disc: nn.Module | None
    settings: dict[str, Any]


def settings(family: str, size: int) -> dict[str, Any]:
    """The package-level hyperparameters a user of ``family`` gets by default at ``size``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; one of {', '.join(FAMILIES)}")
    if size < 8 or size & (size - 1):
        raise ValueError(f"size must be a power of two >= 8, got {size}")
    if family == "dcgan":
        return {"nz": 100, "ngf": 64, "ndf": 64, "nc": 3}
    if family == "nvlabs":
        # cfg_specs["auto"] with one GPU: mb = min(4096 // res, 32), mbstd = min(mb, 4).
        return {"z_dim": 512, "w_dim": 512, "c_dim": 0, "img_channels": 3, "map": 2,
                "channel_base": 32768 if size >= 512 else 16384, "channel_max": 512,
                "num_fp16_res": 4, "conv_clamp": 256,
                "mbstd_group_size": min(max(4096 // size, 1), 4)}  # fmt: skip
    if family == "rosinality":
        return {"latent": 512, "n_mlp": 8, "channel_multiplier": 2, "lr_mlp": 0.01}
    if family == "lucidrains":
        return {"latent_dim": 512, "network_capacity": 16, "fmap_max": 512, "style_depth": 8,
                "attn_layers": [], "no_const": False, "lr_mlp": 0.1}  # fmt: skip
    # The CLI's defaults (the Trainer's own say attn_res_layers=[]). Its antialias=False swaps
    # every Blur for nn.Identity; gandoctor's build always blurs, so both sides blur here.
    return {"latent_dim": 256, "fmap_max": 512, "fmap_inverse_coef": 12,
            "attn_res_layers": [32], "freq_chan_attn": False, "antialias": True}  # fmt: skip


def build(family: str, size: int, seed: int = 0) -> Built:
    """gandoctor's build of ``family`` at ``size`` px, random weights drawn from ``seed``
    (the global RNG is left as it was), in eval mode."""
    chosen = settings(family, size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        built = _BUILDERS[family](size, chosen)
    built.generator.eval()
    if built.disc is not None:
        built.disc.eval()
    return built


def _log2(size: int) -> int:
    return int(math.log2(size))


def _dcgan_init(module: nn.Module) -> None:
    """The example's weights_init: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02)."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _dcgan(size: int, s: dict[str, Any]) -> Built:
    g = DCGANGenerator.standard(nz=s["nz"], ngf=s["ngf"], nc=s["nc"], image_size=size)
    # netD mirrors G: conv, LeakyReLU, then (conv, BatchNorm, LeakyReLU) per halving, a last
    # 4x4 conv to one value. The layout is (Sequential index, kind, weight shape).
    widths = [s["ndf"] * 2**i for i in range(_log2(size) - 2)]
    layout: list[tuple[int, str, tuple[int, ...]]] = [(0, "conv", (widths[0], s["nc"], 4, 4))]
    index = 2
    for cin, cout in itertools.pairwise(widths):
        layout += [(index, "conv", (cout, cin, 4, 4)), (index + 1, "bn", (cout,))]
        index += 3
    layout.append((index, "conv", (1, widths[-1], 4, 4)))
    d = DCGANDiscriminator(layout)
    g.apply(_dcgan_init)
    d.apply(_dcgan_init)
    return Built(g, g.latent_shape, (-1.0, 1.0), d, s)


def _nvlabs(size: int, s: dict[str, Any]) -> Built:
    synthesis = {key: s[key] for key in ("channel_base", "channel_max", "num_fp16_res",
                                          "conv_clamp")}  # fmt: skip
    g = StyleGAN2Generator(s["z_dim"], s["c_dim"], s["w_dim"], size, s["img_channels"],
                           mapping_kwargs={"num_layers": s["map"]},
                           synthesis_kwargs=synthesis)  # fmt: skip
    epilogue = {"mbstd_group_size": s["mbstd_group_size"]}
    d = NVlabsDiscriminator(s["c_dim"], size, s["img_channels"], architecture="resnet",
                            epilogue_kwargs=epilogue, **synthesis)  # fmt: skip
    return Built(g, (s["z_dim"],), (-1.0, 1.0), d, s)


def rosinality_width(res: int, channel_multiplier: int) -> int:
    """model.py's channel dict: 512 up to 32 px, then 256 * cm at 64 px, halving."""
    return 512 if res <= 32 else 16384 * channel_multiplier // res


def _rosinality(size: int, s: dict[str, Any]) -> Built:
    # The generator's widths from 4 px up; the D's from ``size`` px down to 4.
    widths = [rosinality_width(2**k, s["channel_multiplier"]) for k in range(2, _log2(size) + 1)]
    g = RosinalityGenerator(s["latent"], s["n_mlp"], widths, 3, lr_mlp=s["lr_mlp"])
    d = RosinalityDiscriminator(widths[::-1], 3)
    return Built(g, (s["latent"],), (-1.0, 1.0), d, s)


def _lucidrains(size: int, s: dict[str, Any]) -> Built:
    cap, fmap_max, layers = s["network_capacity"], s["fmap_max"], _log2(size) - 1
    # Generator: capacity * 2**(i + 1) for i < log2(size) - 1, widest first, the first repeated
    # for the 4x4 start; Discriminator: 3 channels in, then capacity * 4 * 2**i, one more block.
    widths = [min(cap * 2 ** (i + 1), fmap_max) for i in range(layers)][::-1]
    filters = [widths[0], *widths]
    g = LucidrainsStyleGAN2(s["latent_dim"], s["style_depth"], filters, 3, lr_mlp=s["lr_mlp"],
                            attention=None, no_const=s["no_const"])  # fmt: skip
    d_filters = [3, *(min(cap * 4 * 2**i, fmap_max) for i in range(layers + 1))]
    d = LucidrainsDiscriminator(d_filters, [None] * (len(d_filters) - 1))
    return Built(g, (s["latent_dim"],), (0.0, 1.0), d, s)


def _lightweight_gan(size: int, s: dict[str, Any]) -> Built:
    log2 = _log2(size)
    resolutions = range(2, log2)  # log2 of each block's input
    # Output channels of the block at resolution n: 2**(coef - n) capped at fmap_max, 3 from
    # 256 px inputs on (as the package has it).
    out = {n: 3 if n >= 8 else min(2 ** (s["fmap_inverse_coef"] - n), s["fmap_max"])
           for n in resolutions}  # fmt: skip
    sle: list[list[Any] | None] = []
    for n in resolutions:
        target = SLE.get(n)
        if target is None or target > log2:
            sle.append(None)
        elif s["freq_chan_attn"]:
            sle.append(["fca", max(3, out[target - 1] // 4)])
        else:
            sle.append(["global", max(3, out[target - 1] // 2)])
    attention: list[int | None] = [
        LIGHTWEIGHT_ATTN_INNER if 2**n in s["attn_res_layers"] else None for n in resolutions
    ]
    g = LightweightGANGenerator(s["latent_dim"], [out[n] for n in resolutions], 3, sle,
                                attention)  # fmt: skip
    return Built(g, (s["latent_dim"],), (0.0, 1.0), None, s)


_BUILDERS: dict[str, Callable[[int, dict[str, Any]], Built]] = {
    "dcgan": _dcgan,
    "nvlabs": _nvlabs,
    "rosinality": _rosinality,
    "lucidrains": _lucidrains,
    "lightweight_gan": _lightweight_gan,
}
