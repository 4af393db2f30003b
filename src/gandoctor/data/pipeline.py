"""From a listing of image files to a RealData: the steps every image source shares.

A source (a folder, a ZIP's members, an LMDB's records: an :class:`ImageSet`) lists its
images and knows how to decode one and how to key the cache; the rest is here: the seeded
choice of files, the memory check, the cache, decoding on all cores, the labels of the
images that decoded, and the scaling to the generator's range.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gandoctor.config import DataOptions
from gandoctor.data import cache
from gandoctor.data.common import RealData, choose, most_common, scale_
from gandoctor.data.labels import FileLabels
from gandoctor.data.parallel import Damaged, Decoded, decode_all
from gandoctor.errors import DataError
from gandoctor.runtime.resources import check_memory

# Bytes per pixel value while loading: the decoded uint8 pixels and the float32 samples.
_BYTES_PER_VALUE = 1 + 4


@dataclass(frozen=True)
class ImageSet(ABC):
    """Images of one source, listed but not yet decoded."""

    source: str
    """The path, as messages and the report name it."""
    names: Sequence[str]
    """The images' names (relative paths, member names, record keys) in a fixed order
    (sorted, or an LMDB's record order): the seeded choice of files depends on it."""
    labels: FileLabels | None
    """One class per name, where the data carry labels."""

    kind = "image folder"
    """RealData.kind of what this set loads."""

    @abstractmethod
    def decoder(self, mode: str, size: tuple[int, int]) -> Callable[[str], Decoded]:
        """A picklable function from a name to its pixels at ``size`` (W, H) in ``mode``
        ("L" or "RGB"), or a reason it was skipped (a :class:`Damaged` one is fatal)."""

    @abstractmethod
    def cache_key(self, chosen: list[str], mode: str, size: tuple[int, int]) -> str | None:
        """The cache entry's key for the chosen names; None where there is none."""

    def stored(self) -> str:
        """What the source stores beyond the images' own modes, for the conversion text."""
        return ""

    def stored_bytes(self, name: str) -> bytes | None:
        """One image's file as stored (an archive member, a record); None for a source
        read from files (preflight opens those itself) or a member that cannot be read."""
        return None

    def finish(self) -> None:  # noqa: B027 - optional: only archives hold something open
        """Close what the decoder opened in this process (an archive); called after
        decoding, whatever its end."""


def image_target(source: str, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Channels, height and width of an image generator; a one-line error otherwise."""
    if len(shape) != 3:
        raise DataError(
            f"{source} holds images, the generator makes {shape[0]}-vectors: "
            f"save (N, {shape[0]}) .npy"
        )
    channels, height, width = shape
    if channels not in (1, 3):
        raise DataError(
            f"{source}: images give 1 or 3 channels, not {channels}; save an (N, C, H, W) .npy"
        )
    return channels, height, width


def load_images(
    images: ImageSet,
    shape: tuple[int, ...],
    value_range: tuple[float, float],
    options: DataOptions,
    on_warning: Callable[[str], None] | None,
) -> RealData:
    """Decode the chosen images of ``images`` (a non-empty listing) into a RealData."""
    source, names = images.source, images.names
    channels, height, width = image_target(source, shape)
    rows = choose(len(names), options.max_images, options.seed)
    chosen = [names[i] for i in rows]
    check_memory(
        len(chosen) * channels * height * width * _BYTES_PER_VALUE,
        lambda needed, available: (
            f"{source}: {len(chosen)} images at {channels}x{height}x{width} need about {needed} "
            f"of memory but only {available} is available; pass a smaller {{opt:max_images}}"
        ),
        DataError,
    )
    mode = "L" if channels == 1 else "RGB"
    size = (width, height)
    # The cache key needs a stat of each chosen file (or of the archive): cheap next to
    # decoding them.
    key = images.cache_key(chosen, mode, size) if options.cache else None
    decoded = cache.load(key) if key else None
    if decoded is not None and not _fits(decoded, len(chosen)):
        decoded = None  # an entry that does not fit its files: decoded again, overwritten
    if decoded is None:
        decoded = decode_chosen(images, chosen, mode, size)
        if key:
            cache.store(key, decoded)
    used, failures, stored = len(decoded.pixels), decoded.failures, decoded.stored
    pixels = torch.from_numpy(decoded.pixels)
    samples = (pixels.permute(0, 3, 1, 2) if pixels.ndim == 4 else pixels.unsqueeze(1)).float()
    if used < 2:
        first = f" (first: {failures[0]})" if failures else ""
        raise DataError(f"{used} of {len(chosen)} image files in {source} could be read{first}")
    if failures and on_warning is not None:
        sampled = "sampled " if len(chosen) < len(names) else ""
        on_warning(
            f"skipped {len(failures)} of {len(chosen)} {sampled}files that could not be read "
            f"as images (first: {failures[0]})"
        )
    scale_(samples, (0.0, 255.0), value_range)
    conversion = (
        f"{most_common(stored)}{images.stored()} -> {mode} {width}x{height} (centre crop to the "
        f"aspect ratio, bicubic resize), values 0..255 -> [{value_range[0]:g}, "
        f"{value_range[1]:g}]"
    )
    real = RealData(samples, source, images.kind, len(names), used, len(failures), conversion)
    if images.labels is None:
        return real
    labels = torch.from_numpy(images.labels.values[rows][decoded.kept])
    return RealData(samples, source, images.kind, len(names), used, len(failures), conversion,
                    labels, images.labels.source, images.labels.classes)  # fmt: skip


def _fits(decoded: cache.DecodedImages, chosen: int) -> bool:
    kept = decoded.kept
    return kept.dtype == bool and kept.shape == (chosen,) and int(kept.sum()) == len(decoded.pixels)


def decode_chosen(
    images: ImageSet, chosen: list[str], mode: str, size: tuple[int, int]
) -> cache.DecodedImages:
    """Decode the chosen names to uint8 pixels of ``size`` (W, H), in listing order
    whatever the number of worker processes; a damaged archive member is an error."""
    # Preallocated to the files chosen: memory is bounded by the cap.
    shape = (len(chosen), size[1], size[0]) + ((3,) if mode == "RGB" else ())
    pixels = np.empty(shape, dtype=np.uint8)
    used = 0
    failures: list[str] = []
    kept: list[bool] = []
    stored: Counter[str] = Counter()
    image_bytes = pixels[0].nbytes if len(chosen) else 0
    try:
        for batch in decode_all(chosen, images.decoder(mode, size), image_bytes):
            damaged = [reason for reason in batch.failures if isinstance(reason, Damaged)]
            if damaged:
                raise DataError(f"{images.source}: {damaged[0]}")
            failures += batch.failures
            kept += batch.kept
            stored.update(batch.stored)
            if batch.pixels is not None:
                pixels[used : used + len(batch.pixels)] = batch.pixels
                used += len(batch.pixels)
    finally:
        images.finish()
    return cache.DecodedImages(pixels[:used].copy() if used < len(chosen) else pixels,
                               stored, [str(f) for f in failures],
                               np.array(kept, dtype=bool))  # fmt: skip
