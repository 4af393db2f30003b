"""Freed memory kept for the next allocation of the same size (glibc's malloc, Linux).

A probe makes and frees the same large activations thousands of times: a StyleGAN2 layer
at 64x64 with 64 channels and batch 64 is a 67 MB tensor. glibc serves every request above
its mmap threshold (at most 32 MiB on 64-bit) with a fresh ``mmap`` and unmaps it on free,
so each such tensor is page-faulted in anew, one 4 kB page at a time. Measured on the
project's 2-core machine: multiplying two such tensors took 30 ms into a new tensor and
3 ms into a reused one; a 64x64 StyleGAN2's forward pass at batch 64 ran 2.4 times faster,
its backward pass 2.2 times, once large allocations came from the heap and freed memory
stayed there (benchmarks/README.md). PyTorch's own CPU performance guide gives the same
reason for swapping in jemalloc or tcmalloc; this asks glibc for the same behaviour.

The cost is memory held: the process keeps its peak heap until it exits, which a
command-line probe does. So the command line turns it on, and the library leaves the
process as it found it unless asked (``retain_freed_memory``).
"""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_KEEP_BYTES = 2**31 - 1
"""Free memory at the top of the heap kept rather than returned to the system: the most
``mallopt`` takes (an int), far above any one activation a probe keeps alive."""


def retain_freed_memory() -> bool:
    """Serve large allocations from the heap and keep freed memory for reuse, where the C
    library is glibc; True when it took effect (elsewhere nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # glibc's; musl and others have none
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Both calls return 1 on success; no mmap for any size, and no trimming below the cap.
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
