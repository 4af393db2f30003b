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

The cost is memory held: freed memory stays with the process, and a heap that served
tensors of many sizes keeps the gaps between them (measured: a run over generators of
five families and four sizes grew to 24 GB, its largest live set near 10 GB). So the
command line turns it on, and hands what is free back to the system after each
checkpoint's probe (``release_freed_memory``, glibc's ``malloc_trim``); the library leaves
the process as it found it unless asked.
"""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_KEEP_BYTES = 2**31 - 1
"""Free memory at the top of the heap kept rather than returned to the system: the most
``mallopt`` takes (an int), far above any one activation a probe keeps alive."""


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None)  # the process's own C library
    except OSError:
        return None


def release_freed_memory() -> bool:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim``, which also
    releases free pages inside the heap); True where it ran. The live tensors stay."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is None:
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True


def retain_freed_memory() -> bool:
    """Serve large allocations from the heap and keep freed memory for reuse, where the C
    library is glibc; True when it took effect (elsewhere nothing changes)."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None  # glibc's only
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Both calls return 1 on success; no mmap for any size, and no trimming below the cap.
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
