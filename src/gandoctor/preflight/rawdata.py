"""The real data as stored, before gandoctor converts them to the generator's channels, size
and range: what a training pipeline has to convert too."""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gandoctor.data.archives.lmdb_records import list_lmdb, lmdb_layout
from gandoctor.data.archives.zipped import is_zip, list_zip
from gandoctor.data.images import image_extensions
from gandoctor.data.pipeline import ImageSet
from gandoctor.errors import DataError

# Channels of Pillow modes once alpha is composited away, as the folder loader converts them.
_MODE_CHANNELS = {"1": 1, "L": 1, "LA": 1, "I": 1, "I;16": 1, "F": 1, "P": 3, "PA": 3}
_ROWS_FOR_RANGE = 1024
"""Array rows whose values are scanned for the stored range: enough to find 0..255 or -1..1."""


@dataclass(frozen=True)
class RawData:
    """The stored form of the real data."""

    kind: str
    """"image folder", "zip", "lmdb", "npy" or "npz"."""
    channels: int | None
    """Channels per sample (the most common among images), None for vectors."""
    size: tuple[int, int] | None
    """(height, width) (the most common among images), None for vectors."""
    features: int | None
    """Values per sample for vector data."""
    value_range: tuple[float, float]
    """The range the stored values are in: 0..255 for 8-bit images, else the values seen."""
    description: str
    """In words, e.g. "RGB 64x64 (30), L 28x28 (2) PNG-style images, 8-bit"."""
    gray_rgb: bool = False
    """Colour images whose three channels are equal in every file read: grey content."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "channels": self.channels,
            "size": list(self.size) if self.size else None,
            "features": self.features,
            "value_range": list(self.value_range),
            "description": self.description,
            "gray_rgb": self.gray_rgb,
        }


def read_raw(path: str, max_files: int) -> RawData:
    """Look at the stored data without converting it: image headers (and pixels of the first
    ``max_files`` files, for grey content) or the array's shape, dtype and value span."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise DataError(f"data path not found or unreadable: {path} ({exc.strerror})") from None
    subdir = lmdb_layout(path, mode)
    if subdir is not None:
        images = list_lmdb(path, subdir, _LARGEST, lambda n: list(range(min(n, max_files))))
        return _archive(images, max_files, "lmdb")
    if stat.S_ISREG(mode) and is_zip(path):
        return _archive(list_zip(path, None), max_files, "zip")
    if stat.S_ISDIR(mode):
        return _folder(path, max_files)
    if Path(path).suffix.lower() in (".npy", ".npz"):
        return _array(path)
    raise DataError(
        f"unsupported data path {path}: expected a folder of images, a dataset .zip, an LMDB, "
        ".npy or .npz"
    )


_LARGEST = 1 << 30
"""The generator's side asked of an LMDB here: larger than any, so its largest resolution is
read (what the data hold at best); the probe reads the one that fits the generator."""


def _archive(images: ImageSet, max_files: int, kind: str) -> RawData:
    """The first ``max_files`` images of a dataset ZIP or LMDB, opened from their stored
    bytes in memory (nothing is extracted)."""
    import io

    from PIL import Image

    def opened() -> Iterator[Image.Image]:
        try:
            for name in images.names[:max_files]:
                content = images.stored_bytes(name)
                if content is not None:
                    yield Image.open(io.BytesIO(content))
        finally:
            images.finish()

    return _headers(opened(), images.source, kind, images.stored())


def _folder(root: str, max_files: int) -> RawData:
    from PIL import Image

    extensions = image_extensions()
    files: list[str] = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(n for n in subfolders if not n.startswith("."))
        files += [
            os.path.join(folder, n)
            for n in sorted(names)
            if not n.startswith(".") and os.path.splitext(n)[1].lower() in extensions
        ]
        if len(files) >= max_files:
            break

    def opened() -> Iterator[Image.Image]:
        for file in files[:max_files]:
            try:
                yield Image.open(file)
            except (OSError, ValueError, SyntaxError):
                continue  # unreadable files are the loader's to count and report

    return _headers(opened(), root, "image folder")


def _headers(images: Iterator[Any], source: str, kind: str, stored: str = "") -> RawData:
    """Modes, sizes and grey content of the images given (each closed after)."""
    counts: Counter[str] = Counter()
    channels: Counter[int] = Counter()
    sizes: Counter[tuple[int, int]] = Counter()
    gray = True
    for opened in images:
        try:
            with opened as image:
                counts[f"{image.mode} {image.width}x{image.height}"] += 1
                channels[_MODE_CHANNELS.get(image.mode, 3)] += 1
                sizes[(image.height, image.width)] += 1
                if image.mode in ("RGB", "RGBA"):
                    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
                    gray &= bool(
                        (pixels[..., 0] == pixels[..., 1]).all()
                        and (pixels[..., 1] == pixels[..., 2]).all()
                    )
        except (OSError, ValueError, SyntaxError):
            continue
    if not counts:
        raise DataError(f"no readable image files found in {source}")
    shown = ", ".join(f"{key} ({n})" for key, n in counts.most_common(3))
    return RawData(
        kind=kind,
        channels=channels.most_common(1)[0][0],
        size=sizes.most_common(1)[0][0],
        features=None,
        value_range=(0.0, 255.0),
        description=f"images {shown} of the first {sum(counts.values())} read{stored}, "
        "values 0..255",
        gray_rgb=gray and channels.most_common(1)[0][0] == 3,
    )


def _array(path: str) -> RawData:
    try:
        loaded = np.load(path, mmap_mode="r", allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                keys = [k for k in ("images", "x", "data", "arr_0") if k in loaded.files]
                array = np.asarray(loaded[keys[0] if keys else loaded.files[0]])
            kind = "npz"
        else:
            array, kind = loaded, "npy"
        rows = np.asarray(array[:_ROWS_FOR_RANGE], dtype=np.float64)
    except (OSError, ValueError, EOFError, IndexError) as exc:
        raise DataError(f"cannot read {path} as a numpy array: {exc}") from None
    finite = rows[np.isfinite(rows)]
    span = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    shape = tuple(int(s) for s in array.shape)
    channels: int | None
    size: tuple[int, int] | None
    features = None
    if len(shape) == 2:
        channels, size, features = None, None, shape[1]
    elif len(shape) == 3:
        channels, size = 1, (shape[1], shape[2])
    elif len(shape) == 4 and (shape[1] in (1, 3) or shape[3] not in (1, 3, 4)):
        channels, size = shape[1], (shape[2], shape[3])  # (N, C, H, W), as the loader reads it
    elif len(shape) == 4:
        channels, size = min(shape[3], 3), (shape[1], shape[2])  # (N, H, W, C); RGBA -> RGB
    else:
        raise DataError(f"{path}: an array of shape {shape} is neither images nor vectors")
    return RawData(
        kind=kind,
        channels=channels,
        size=size,
        features=features,
        value_range=span,
        description=f"{array.dtype} array {shape}, values {span[0]:g}..{span[1]:g} "
        f"(first {min(len(array), _ROWS_FOR_RANGE)} rows)",
    )
