"""How much memory the autograd graphs of the held-out fakes may take: kept across
measurements (G runs once), or made at each and back-propagated in chunks."""

from __future__ import annotations

from collections.abc import Callable

import torch

from gandoctor.runtime.resources import available_memory

# Autograd graphs of the held-out fakes are kept for the whole probe while the fakes hold at
# most this many values (2**23: 256 RGB samples at 128x128 is 12.6M, too many; at 64x64,
# 3.1M, kept) ...
MAX_KEPT_GRAPH_VALUES = 2**23
# ... and the tensors the graphs save take at most this many bytes, counted as the first
# one is made: a 64x64 DCGAN (ngf 64) saves 2.4 MB a sample, 50 times its output, but a
# StyleGAN2 of NVlabs' default widths (512 channels) 42 MB a sample at 32x32, 3,400 times
# its output, so that the values rule alone kept 11 GB of graphs for 256 samples.
MAX_KEPT_GRAPH_BYTES = 2**31
# A gradient batch whose graph would save more than this is back-propagated in chunks, the
# gradients summed: the same gradient (to float rounding), in bounded memory. An untrained
# 256x256 StyleGAN2 of NVlabs' default widths saves about 1.5 GB a sample, so that one batch
# of 16 was killed for memory on a 24 GB machine.
MAX_GRADIENT_GRAPH_BYTES = 2**32


def forward_with_graph_bytes(forward: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, int]:
    """``forward()`` and the bytes its autograd graph saves (tensors saved more than once,
    weights among them, counted each time: an upper bound)."""
    saved = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal saved
        saved += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = forward()
    return out, saved


def gradient_graph_bytes() -> int:
    """MAX_GRADIENT_GRAPH_BYTES, or a quarter of the memory available now where less."""
    available = available_memory()
    return (MAX_GRADIENT_GRAPH_BYTES if available is None
            else min(MAX_GRADIENT_GRAPH_BYTES, available // 4))  # fmt: skip


def kept_graph_bytes() -> int:
    """MAX_KEPT_GRAPH_BYTES, or a quarter of the memory available now where that is less."""
    available = available_memory()
    return MAX_KEPT_GRAPH_BYTES if available is None else min(MAX_KEPT_GRAPH_BYTES, available // 4)
