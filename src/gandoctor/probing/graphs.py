"""How much memory the autograd graphs of the held-out fakes may take, kept across
measurements (G runs once); made at each, they are back-propagated in chunks
(``nn.backward``)."""

from __future__ import annotations

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


def kept_graph_bytes() -> int:
    """MAX_KEPT_GRAPH_BYTES, or a quarter of the memory available now where that is less."""
    available = available_memory()
    return MAX_KEPT_GRAPH_BYTES if available is None else min(MAX_KEPT_GRAPH_BYTES, available // 4)
