"""Decoding many image files on all CPU cores, with torch's DataLoader worker processes.

Decoding a small image is mostly Python (Pillow's open, mode conversion, crop, resize) and
holds the GIL: threads run no faster than one thread. Worker processes do, and torch's
DataLoader already manages them (start, order, shutdown, Ctrl-C), so it does the work.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from gandoctor.data.common import one_line
from gandoctor.errors import ConfigError, DataError

Decoded = tuple[np.ndarray, str] | str
"""One file's pixels and its stored mode and size, or a one-line reason it was skipped."""


class Damaged(str):
    """The reason of a file that an archive could not give back intact (a bad CRC, a cut
    member, a missing record): not a bad image to skip but a damaged archive, an error.
    A str, so it travels from a worker process like any reason."""

    __slots__ = ()


# A worker process costs tens of milliseconds to start: worth it from this many files each.
MIN_FILES_PER_WORKER = 256
MAX_WORKERS = 8
WORKERS_VARIABLE = "GANDOCTOR_DECODE_WORKERS"
_BATCH = 64
_BATCH_BYTES = 4 * 2**20


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


def worker_count(files: int, environ: Mapping[str, str] = os.environ) -> int:
    """Worker processes for decoding ``files`` files: one per usable CPU, none for few files
    or where a process may not have children; ``$GANDOCTOR_DECODE_WORKERS`` decides when set
    (0 decodes in this process, e.g. where /dev/shm is too small for torch's workers)."""
    chosen = environ.get(WORKERS_VARIABLE, "").strip()
    if chosen:
        if not chosen.isdigit():
            raise ConfigError(f"{WORKERS_VARIABLE} must be a whole number, got {chosen!r}")
        return int(chosen)
    if multiprocessing.current_process().daemon:  # a pool's worker: no children allowed
        return 0
    workers = min(usable_cpus(), MAX_WORKERS, files // MIN_FILES_PER_WORKER)
    return workers if workers > 1 else 0  # one worker is slower than none


@dataclass(frozen=True)
class DecodedBatch:
    """Consecutive files decoded: the readable ones' pixels stacked in file order, their
    stored modes and sizes, and a one-line reason for each file that was skipped."""

    pixels: np.ndarray | None
    stored: list[str]
    failures: list[str]
    kept: list[bool]
    """Per file of the batch, whether it decoded (its pixels are in ``pixels``)."""


def decode_all(
    files: list[str], decode: Callable[[str], Decoded], image_bytes: int
) -> Iterator[DecodedBatch]:
    """``decode(file)`` for every file, in file order, on ``worker_count`` processes, handed
    over a batch at a time (the main process copies a batch in one go, not image by image).
    ``image_bytes`` (one decoded image) sizes the batches a worker hands over."""
    workers = worker_count(len(files))
    loader = DataLoader(
        _ImageFiles(files, decode),
        # Batches travel through shared memory: a few MiB each keeps a container's small
        # /dev/shm (64 MiB by default in Docker) far from full.
        batch_size=max(1, min(_BATCH, _BATCH_BYTES // max(1, image_bytes))),
        num_workers=workers,
        collate_fn=_stack,
        # Workers decode with one torch thread each (none of torch's work is theirs).
        worker_init_fn=_one_thread if workers else None,
    )
    try:
        for (pixels, reasons), stored in loader:
            failures = [reason for reason in reasons if reason is not None]
            kept = [reason is None for reason in reasons]
            yield DecodedBatch(None if pixels is None else pixels.numpy(), stored, failures, kept)
    except RuntimeError as exc:  # a worker died (out of memory or shared memory)
        raise DataError(
            f"an image-decoding worker process failed ({one_line(exc)}); set "
            f"{WORKERS_VARIABLE}=0 to decode in the main process"
        ) from None


def _one_thread(_: int) -> None:
    torch.set_num_threads(1)
