"""What the tests of real packages' checkpoints share: weights moved off their initial
values as training moves them, and the measure of a reproduced output."""

from __future__ import annotations

import torch
from torch import nn


def trained_like(module: nn.Module, seed: int = 0) -> nn.Module:
    """``module`` with its weights and BatchNorm statistics moved off their initial values,
    as training does, so that eps and running statistics all show in the output; in eval
    mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.randn(tensor.shape, generator=generator) * 0.05)
                if tensor.dim() == 1:
                    tensor.abs_()  # running_var stays positive
    return module.eval()


def max_relative_difference(got: torch.Tensor, want: torch.Tensor) -> float:
    """The largest elementwise difference, as a share of the largest value wanted: stricter
    than the norm ratio of gandoctor.nn.metrics.relative_difference."""
    return float((got - want).abs().max() / want.abs().max())
