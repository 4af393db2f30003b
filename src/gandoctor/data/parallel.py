"""Decoding many image files on all CPU cores, with torch's DataLoader worker processes.

Decoding a small image is mostly Python (Pillow's open, mode conversion, crop, resize) and
holds the GIL: threads run no faster than one thread. Worker processes do, and torch's
DataLoader already manages them (start, order, shutdown, Ctrl-C), so it does the work.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

Decoded = tuple[np.ndarray, str] | str
"""One file's pixels and its stored mode and size, or a one-line reason it was skipped."""

# A worker process costs tens of milliseconds to start: worth it from this many files each.
MIN_FILES_PER_WORKER = 256
MAX_WORKERS = 8
_BATCH = 64


class _ImageFiles(Dataset[Decoded]):
    """The chosen files of a folder; item i is file i decoded (module level: picklable for
    the worker processes of platforms that spawn rather than fork)."""

    def __init__(self, files: list[str], decode: Callable[[str], Decoded]) -> None:
        self.files = files
        self.decode = decode

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> Decoded:
        with warnings.catch_warnings():
            # A decompression-bomb warning skips the file; Pillow's other warnings about a
            # file's bytes (a TIFF tag past the end, corrupt EXIF), several lines each on
            # stderr, are dropped: the file decodes or counts as unreadable.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return self.decode(self.files[index])


Batch = tuple[torch.Tensor | None, list[str | None]]
"""The decoded pixels of a batch stacked (a tensor travels from a worker through shared
memory, far cheaper than pickled arrays), and per file None or the reason it was skipped."""


def _stack(results: list[Decoded]) -> tuple[Batch, list[str]]:
    decoded = [r for r in results if not isinstance(r, str)]
    pixels = torch.from_numpy(np.stack([r[0] for r in decoded])) if decoded else None
    return (pixels, [r if isinstance(r, str) else None for r in results]), [r[1] for r in decoded]


def usable_cpus() -> int:
    """CPUs this process may run on (a container's or taskset's limit, where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def decode_all(files: list[str], decode: Callable[[str], Decoded]) -> Iterator[Decoded]:
    """``decode(file)`` for every file, in file order, on up to one worker per CPU."""
    workers = min(usable_cpus(), MAX_WORKERS, len(files) // MIN_FILES_PER_WORKER)
    workers = workers if workers > 1 else 0  # one worker is slower than none
    loader = DataLoader(
        _ImageFiles(files, decode),
        batch_size=_BATCH,
        num_workers=workers,
        collate_fn=_stack,
        # Workers decode with one torch thread each (none of torch's work is theirs).
        worker_init_fn=_one_thread if workers else None,
    )
    for (pixels, reasons), stored in loader:
        decoded = iter(zip(pixels if pixels is not None else [], stored, strict=True))
        for reason in reasons:
            if reason is not None:
                yield reason
            else:
                image, description = next(decoded)
                yield image.numpy(), description


def _one_thread(_: int) -> None:
    torch.set_num_threads(1)
