"""Data sets written the way the training repositories' own tools write them, for the tests.

Each maker follows the tool's code step by step (read from the repositories; the code here
is written for the tests, not copied):

- :func:`nvlabs_zip` and :func:`nvlabs_folder`: NVlabs/stylegan2-ada-pytorch,
  ``dataset_tool.py``. ``open_dest`` opens the ZIP with
  ``zipfile.ZipFile(file=dest, mode='w', compression=zipfile.ZIP_STORED)`` and writes each
  file with ``writestr`` (a folder destination writes the same names as files);
  ``convert_dataset`` names image ``idx`` ``f'{idx:08d}'[:5] + '/img' + f'{idx:08d}' +
  '.png'``, saves it with PIL as PNG with ``compress_level=0, optimize=False`` (mode L for
  one channel, RGB for three), collects ``[name, label]`` pairs and writes ``dataset.json``
  last as ``json.dumps({'labels': pairs})``, with ``None`` for the labels where any image has
  none.
- :func:`rosinality_lmdb`: rosinality/stylegan2-pytorch, ``prepare_data.py``. ``__main__``
  opens ``lmdb.open(out, map_size=1024 ** 4, readahead=False)``; ``prepare`` sorts the
  ImageFolder's files by path and, per image ``i`` and size, puts
  ``f"{size}-{str(i).zfill(5)}".encode("utf-8")`` in its own write transaction, then
  ``length`` as the count in ASCII; ``resize_worker`` converts to RGB and
  ``resize_and_convert`` resizes the shorter side to ``size`` with LANCZOS
  (torchvision's ``resize``), centre-crops to ``size`` x ``size`` (``center_crop``) and
  saves JPEG at ``quality=100``. torchvision is not a dependency: its resize and crop
  arithmetic is redone with PIL below.
- :func:`class_folders`: torchvision's ImageFolder layout, ``root/<class>/<file>.png``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image


def _png(pixels: np.ndarray) -> bytes:
    """dataset_tool.py's PNG: mode L or RGB, uncompressed (compress_level=0)."""
    mode = "L" if pixels.ndim == 2 else "RGB"
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format="png", compress_level=0, optimize=False)
    return buffer.getvalue()


def nvlabs_name(index: int) -> str:
    """dataset_tool.py's archive name of image ``index``: ``00000/img00000000.png``."""
    digits = f"{index:08d}"
    return f"{digits[:5]}/img{digits}.png"


def _nvlabs_files(
    images: np.ndarray, labels: Sequence[int | list[float] | None] | None
) -> list[tuple[str, bytes]]:
    files, pairs = [], []
    for index, pixels in enumerate(images):
        name = nvlabs_name(index)
        files.append((name, _png(pixels)))
        label = None if labels is None else labels[index]
        pairs.append([name, label] if label is not None else None)
    # dataset_tool.py: labels only where every image has one.
    metadata = {"labels": pairs if all(pair is not None for pair in pairs) else None}
    files.append(("dataset.json", json.dumps(metadata).encode()))
    return files


def nvlabs_zip(
    path: Path, images: np.ndarray, labels: Sequence[int | list[float] | None] | None = None
) -> Path:
    """``images``: uint8 (N, H, W) or (N, H, W, 3). Written as dataset_tool.py writes."""
    with zipfile.ZipFile(file=path, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in _nvlabs_files(images, labels):
            archive.writestr(name, content)
    return path


def nvlabs_folder(
    root: Path, images: np.ndarray, labels: Sequence[int | list[float] | None] | None = None
) -> Path:
    """dataset_tool.py with a folder as ``--dest``: the same files as the ZIP's."""
    for name, content in _nvlabs_files(images, labels):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def _resize_and_convert(image: Image.Image, size: int, quality: int = 100) -> bytes:
    """prepare_data.py's resize_and_convert: shorter side to ``size`` (LANCZOS), centre
    crop to ``size`` x ``size``, JPEG at ``quality``."""
    width, height = image.size
    if width <= height:  # torchvision's resize: the long side scaled, truncated to an int
        new = (size, int(size * height / width))
    else:
        new = (int(size * width / height), size)
    image = image.resize(new, Image.Resampling.LANCZOS)
    left = round((image.width - size) / 2.0)  # torchvision's center_crop
    top = round((image.height - size) / 2.0)
    image = image.crop((left, top, left + size, top + size))
    buffer = io.BytesIO()
    image.save(buffer, format="jpeg", quality=quality)
    return buffer.getvalue()


def rosinality_records(images: Sequence[Image.Image], sizes: Sequence[int]) -> dict[str, bytes]:
    """The records prepare_data.py puts, by key (also to write as files for comparison)."""
    records = {}
    for index, image in enumerate(images):
        for size in sizes:
            records[f"{size}-{str(index).zfill(5)}"] = _resize_and_convert(
                image.convert("RGB"), size
            )
    return records


def rosinality_lmdb(
    path: Path,
    images: Sequence[Image.Image],
    sizes: Sequence[int] = (8, 16),
    length: int | None = None,
    extra: dict[bytes, bytes] | None = None,
) -> Path:
    """An LMDB as prepare_data.py writes it (a folder holding data.mdb and lock.mdb).
    ``length`` overrides the count written and ``extra`` adds records, for broken cases;
    ``length=-1`` writes none."""
    import lmdb

    with lmdb.open(str(path), map_size=1024**4, readahead=False) as env:
        for key, value in rosinality_records(images, sizes).items():
            with env.begin(write=True) as txn:
                txn.put(key.encode("utf-8"), value)
        with env.begin(write=True) as txn:
            count = len(images) if length is None else length
            if count >= 0:
                txn.put(b"length", str(count).encode("utf-8"))
            for key_bytes, value in (extra or {}).items():
                txn.put(key_bytes, value)
    return path


def class_folders(root: Path, images: np.ndarray, classes: Sequence[str]) -> Path:
    """``images[i]`` saved as ``root/<classes[i]>/<i>.png``."""
    for index, (pixels, name) in enumerate(zip(images, classes, strict=True)):
        (root / name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(root / name / f"{index:04d}.png")
    return root


def random_images(count: int, size: int = 8, channels: int = 3, seed: int = 0) -> np.ndarray:
    """uint8 images with some structure (a gradient and noise), (N, H, W[, 3])."""
    rng = np.random.default_rng(seed)
    shape = (count, size, size) + ((channels,) if channels == 3 else ())
    ramp = np.linspace(0, 200, size, dtype=np.float64)[None, :, None]
    ramp = ramp if channels == 3 else ramp[..., 0]
    noise = rng.integers(0, 56, shape)
    return (np.broadcast_to(ramp[None], shape) + noise).astype(np.uint8)


def rgb_pictures(count: int, size: int = 20, seed: int = 0) -> list[Image.Image]:
    """PIL RGB images (non-square 4:3 ones every third) as an ImageFolder would open."""
    pictures = []
    for index, pixels in enumerate(random_images(count, size, 3, seed)):
        image = Image.fromarray(pixels)
        pictures.append(image.resize((size * 4 // 3, size)) if index % 3 == 2 else image)
    return pictures
