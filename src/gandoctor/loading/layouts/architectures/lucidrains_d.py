"""lucidrains stylegan2-pytorch's discriminator, as its Trainer saves it beside G in
``{"GAN": state_dict}`` (keys ``D.*``; ``D_aug.D.*`` is the same module inside the
augmentation wrapper). gandoctor's own build, named as the package names its layers.

Its sign is the other way round: the Trainer's hinge loss, ``relu(1 + D(real)) +
relu(1 - D(fake))``, pushes reals down to -1 and fakes up to +1, and G minimises D(G(z)).
The build returns ``-D(x)``, so that, as for every own D, a positive logit means "real".
Vector-quantised layers (``--fq-layers``) are not built: such a D is not measured.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any, cast

import torch
from torch import nn

from gandoctor.loading.layouts.architectures.base import block_sizes, size_of
from gandoctor.loading.layouts.architectures.lucidrains import attention_block
from gandoctor.loading.layouts.architectures.lucidrains_layers import Blur
from gandoctor.loading.layouts.architectures.stylegan2.ops import CHANNELS_LAST

LOSS = "hinge, reals scored low (lucidrains' Trainer); its output negated here"


class DiscriminatorBlock(nn.Module):
    def __init__(self, cin: int, cout: int, downsample: bool) -> None:
        super().__init__()
        self.conv_res = nn.Conv2d(cin, cout, 1, stride=2 if downsample else 1)
        self.net = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(cout, cout, 3, padding=1), nn.LeakyReLU(0.2),
        )  # fmt: skip
        self.downsample = (nn.Sequential(Blur(), nn.Conv2d(cout, cout, 3, padding=1, stride=2))
                           if downsample else None)  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = self.conv_res(x)
        x = self.net(x)
        if self.downsample is not None:
            x = self.downsample(x)
        return (x + res) / math.sqrt(2)


class LucidrainsDiscriminator(nn.Module):
    """Residual blocks (the last one without downsampling), attention after the blocks
    ``attention`` gives a width for, a 3x3 convolution, then one linear logit."""

    group_size = 1

    def __init__(self, filters: list[int], attention: list[int | None]) -> None:
        super().__init__()
        pairs = list(itertools.pairwise(filters))
        self.blocks = nn.ModuleList(DiscriminatorBlock(a, b, i != len(pairs) - 1)
                                    for i, (a, b) in enumerate(pairs))  # fmt: skip
        # Blocks without attention hold None, as in the package, so the indices match.
        attns = [attention_block(b, inner) if inner else None
                 for (_, b), inner in zip(pairs, attention, strict=True)]  # fmt: skip
        self.attn_blocks = nn.ModuleList(cast(list[nn.Module], attns))
        self.final_conv = nn.Conv2d(filters[-1], filters[-1], 3, padding=1)
        self.to_logit = nn.Linear(4 * filters[-1], 1)
        # Channels-last weights and activations, as gandoctor's G builds run
        # (stylegan2.ops.CHANNELS_LAST); load_state_dict copies into them and keeps it. At
        # 64 px an input-gradient pass over 64 samples ran 1.2x faster warm and 2.6x on its
        # first call (with NCHW weights oneDNN reorders them; measured in one run).
        self.to(memory_format=CHANNELS_LAST)  # type: ignore[call-overload]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=CHANNELS_LAST)
        for block, attn in zip(self.blocks, self.attn_blocks, strict=True):
            x = block(x)
            if attn is not None:
                x = attn(x)
        return -self.to_logit(self.final_conv(x).flatten(1))  # "real" positive (docstring)


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Kwargs for a D state dict in the layout (``blocks.N.conv_res``, ``to_logit``), None
    for another layout or one with vector-quantised layers."""
    if "to_logit.weight" not in tensors or any(k.startswith("quantize_blocks.") for k in tensors):
        return None
    blocks = sorted({int(k.split(".")[1]) for k in tensors
                     if k.startswith("blocks.") and k.split(".")[1].isdigit()})  # fmt: skip
    first = size_of(tensors, ("blocks.0.conv_res.weight", 4, 1))
    if not blocks or first is None:
        return None
    widths = block_sizes(tensors, blocks, lambda b: ((f"blocks.{b}.conv_res.weight", 4, 0),))
    attention = [size_of(tensors, (f"attn_blocks.{b}.0.fn.fn.to_q.weight", 4, 0)) for b in blocks]
    return {"filters": [first, *widths], "attention": attention}
