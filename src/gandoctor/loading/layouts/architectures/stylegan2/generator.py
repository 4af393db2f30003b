"""The StyleGAN2 generator (Karras et al. 2020), in the layout of NVlabs' StyleGAN2-ADA
snapshots, as a z -> image module for the probe.

z -> mapping network (normalise, ``num_layers`` equalised fully-connected layers) -> w,
repeated once per layer and pulled towards the tracked mean ``w_avg`` by the truncation psi
-> synthesis network: a learned 4x4 constant, then per resolution a block of two modulated
3x3 convolutions (the first upsamples by 2) with per-pixel noise, and a 1x1 ``torgb`` whose
outputs are upsampled and summed ("skip"), taken from the last block only ("orig"), or with
a residual path around the block ("resnet"). The noise is each layer's stored constant
(``noise_const``), so the generator is a deterministic function of z (and the label).

Every block runs in float32 with one shared convolution per layer: the probe measures the
generator's function, fast for a batch and its gradients, and gandoctor's thresholds were
calibrated in fp32; this matches NVlabs' code run with ``force_fp32`` to about 1e-6 of
the output's scale. ``as_trained`` runs it as NVlabs' code runs a snapshot at inference
instead (its ``num_fp16_res`` highest resolutions in float16, the others as one grouped
convolution with per-sample weights), which is how a snapshot's reference outputs come
out; the two differ by about 1e-3 of the output's scale, float16's rounding.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.errors import CheckpointError
from gandoctor.loading.layouts.architectures.base import FlatLatentGenerator
from gandoctor.loading.layouts.architectures.stylegan2.layers import (
    Conv2dLayer,
    Mapping,
    SynthesisLayer,
    ToRGB,
    fir_filter,
)
from gandoctor.loading.layouts.architectures.stylegan2.ops import CHANNELS_LAST, upsample2d

ARCHITECTURES = ("orig", "skip", "resnet")

_LAYER_OPTIONS = frozenset({"kernel_size", "use_noise", "activation"})
"""SynthesisLayer options a block passes through."""
_BLOCK_OPTIONS = frozenset({"architecture", "resample_filter", "conv_clamp",
                            "fp16_channels_last"}) | _LAYER_OPTIONS  # fmt: skip
_SYNTHESIS_OPTIONS = frozenset({"channel_base", "channel_max", "num_fp16_res"}) | _BLOCK_OPTIONS
_MAPPING_OPTIONS = frozenset({"num_layers", "embed_features", "layer_features", "activation",
                              "lr_multiplier", "w_avg_beta"})  # fmt: skip


class SynthesisBlock(nn.Module):
    resample_filter: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        img_channels: int,
        is_last: bool,
        architecture: str = "skip",
        resample_filter: list[float] | None = None,
        conv_clamp: float | None = None,
        use_fp16: bool = False,
        fused: bool = False,
        as_trained: bool = False,
        **layer_kwargs: Any,
    ) -> None:
        super().__init__()
        taps = resample_filter or [1, 3, 3, 1]
        self.in_channels, self.architecture = in_channels, architecture
        self.dtype = torch.float16 if use_fp16 else torch.float32
        self.fused, self.as_trained = fused, as_trained
        self.register_buffer("resample_filter", fir_filter(taps))
        self.num_conv = 1 if in_channels == 0 else 2
        self.num_torgb = 1 if is_last or architecture == "skip" else 0
        layer = {"w_dim": w_dim, "resolution": resolution, "conv_clamp": conv_clamp,
                 "resample_filter": taps, "as_trained": as_trained, **layer_kwargs}  # fmt: skip
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, up=2, **layer)
        self.conv1 = SynthesisLayer(out_channels, out_channels, **layer)
        if self.num_torgb:
            self.torgb = ToRGB(out_channels, img_channels, w_dim, conv_clamp)
        if in_channels and architecture == "resnet":
            self.skip = Conv2dLayer(in_channels, out_channels, taps)

    def forward(
        self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        w = iter(ws.unbind(dim=1))
        fused = self.fused and not self.training  # NVlabs fuses at inference only
        if x is None:
            const = self.const.to(self.dtype).unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
            if not self.as_trained:
                const = const.contiguous(memory_format=CHANNELS_LAST)
            x = self.conv1(const, next(w), fused=fused)
        elif self.architecture == "resnet":
            x = x.to(self.dtype)
            # Both paths scaled by sqrt(1/2), so the sum keeps the signal's magnitude.
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x, next(w), fused=fused)
            x = y + self.conv1(x, next(w), gain=math.sqrt(0.5), fused=fused)
        else:
            x = self.conv0(x.to(self.dtype), next(w), fused=fused)
            x = self.conv1(x, next(w), fused=fused)
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        if self.num_torgb:
            y = self.torgb(x, next(w), fused=fused).float()
            img = y if img is None else img + y
        return x, img


class Synthesis(nn.Module):
    def __init__(
        self,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        channel_base: int = 32768,
        channel_max: int = 512,
        num_fp16_res: int = 0,
        as_trained: bool = False,
        **block_kwargs: Any,
    ) -> None:
        super().__init__()
        log2 = int(math.log2(img_resolution))
        if img_resolution < 4 or 2**log2 != img_resolution:
            raise CheckpointError(
                f"StyleGAN2 resolution {img_resolution} is not a power of 2 of at least 4"
            )
        self.resolutions = [2**i for i in range(2, log2 + 1)]
        channels = {res: min(channel_base // res, channel_max) for res in self.resolutions}
        # The snapshot ran its num_fp16_res highest resolutions (never below 8) in fp16.
        fp16_from = max(2 ** (log2 + 1 - num_fp16_res), 8) if as_trained else math.inf
        self.num_ws = 0
        for res in self.resolutions:
            block = SynthesisBlock(channels[res // 2] if res > 4 else 0, channels[res], w_dim,
                                   res, img_channels, res == img_resolution,
                                   use_fp16=res >= fp16_from,
                                   fused=as_trained and res < fp16_from,
                                   as_trained=as_trained,
                                   **block_kwargs)  # fmt: skip
            self.num_ws += block.num_conv + (block.num_torgb if res == img_resolution else 0)
            self.add_module(f"b{res}", block)

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        x = img = None
        index = 0
        for res in self.resolutions:
            block = getattr(self, f"b{res}")
            # Neighbouring blocks share a w: a block's torgb takes the next block's first.
            x, img = block(x, img, ws.narrow(1, index, block.num_conv + block.num_torgb))
            index += block.num_conv
        assert img is not None
        return img


class StyleGAN2Generator(FlatLatentGenerator):
    """z (and a label for c_dim > 0) -> image in [-1, 1], with truncation ``psi``.

    Called as ``G(z)`` or ``G(z, labels)`` with integer labels, which go in as one-hot
    vectors (the conditional path of the probe)."""

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        mapping_kwargs: dict[str, Any] | None = None,
        synthesis_kwargs: dict[str, Any] | None = None,
        truncation_psi: float = 1.0,
        as_trained: bool = False,
    ) -> None:
        super().__init__()
        mapping_kwargs, synthesis_kwargs = dict(mapping_kwargs or {}), dict(synthesis_kwargs or {})
        _check_options("mapping_kwargs", mapping_kwargs, _MAPPING_OPTIONS)
        _check_options("synthesis_kwargs", synthesis_kwargs, _SYNTHESIS_OPTIONS)
        architecture = synthesis_kwargs.get("architecture", "skip")
        if architecture not in ARCHITECTURES:
            raise CheckpointError(
                f"StyleGAN2 synthesis architecture {architecture!r} is not one of "
                f"{', '.join(ARCHITECTURES)}"
            )
        synthesis_kwargs.pop("fp16_channels_last", None)  # a memory layout only
        self.z_dim, self.c_dim, self.img_channels = z_dim, c_dim, img_channels
        self.latent_size = z_dim
        self.truncation_psi = truncation_psi
        self.kwargs = {"z_dim": z_dim, "c_dim": c_dim, "w_dim": w_dim,
                       "img_resolution": img_resolution, "img_channels": img_channels,
                       "mapping_kwargs": mapping_kwargs, "synthesis_kwargs": synthesis_kwargs,
                       "truncation_psi": truncation_psi, "as_trained": as_trained}  # fmt: skip
        self.synthesis = Synthesis(w_dim, img_resolution, img_channels, as_trained=as_trained,
                                   **synthesis_kwargs)  # fmt: skip
        self.mapping = Mapping(z_dim, c_dim, w_dim, self.synthesis.num_ws, **mapping_kwargs)
        if truncation_psi != 1 and not self.mapping.has_w_avg:
            raise CheckpointError("the snapshot tracks no w_avg, so it cannot be truncated")

    def layer_group(self, parameter: str) -> str:
        """``--layers`` groups: each mapping layer (``mapping.fc0``, ``mapping.embed``), and
        each synthesis block (``synthesis.b8``: its styles, convolutions, noise strengths
        and torgb), the units the paper's figures name."""
        return ".".join(parameter.split(".")[:2])

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.c_dim:
            if labels is None:
                raise ValueError(f"a conditional StyleGAN2 (c_dim {self.c_dim}) needs labels")
            c = F.one_hot(labels.long(), self.c_dim).to(z.dtype)
        else:
            c = z.new_zeros(z.shape[0], 0)
        return self.synthesis(self.mapping(z, c, self.truncation_psi))


def _check_options(name: str, given: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise CheckpointError(
            f"the snapshot's {name} has options this StyleGAN2 does not build: {', '.join(unknown)}"
        )
