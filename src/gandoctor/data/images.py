"""Real data from a folder of images: discovery, decoding, cropping and resizing with Pillow."""

from __future__ import annotations

import os
import struct
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from gandoctor.config import DataOptions
from gandoctor.data import cache
from gandoctor.data.common import RealData, choose, crop_box, most_common, one_line, scale_
from gandoctor.data.parallel import decode_all
from gandoctor.errors import DataError
from gandoctor.runtime.resources import check_memory

# Named first when no image is found, because they are the ones users look for.
_COMMON_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_WIDE_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "PA"})
# What Pillow's plugins raise for a file they cannot decode (broken headers give the odd
# IndexError or KeyError). Pillow's decompression-bomb guard stays on: an image above
# Image.MAX_IMAGE_PIXELS (89.5 million pixels) warns, one above twice that raises; both
# count as unreadable and are skipped (the warning is made an error while decoding), so no
# image larger than the limit is ever decoded.
_BROKEN_FILE = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, struct.error)
_DECODE_ERRORS = (*_BROKEN_FILE, Image.DecompressionBombError, Image.DecompressionBombWarning)
# Bytes per pixel value while loading: the decoded uint8 pixels and the float32 samples.
_BYTES_PER_VALUE = 1 + 4


def image_extensions() -> frozenset[str]:
    # Only formats Pillow can open: PDF, for one, is registered but can only be written.
    return frozenset(
        ext.lower() for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN
    )


def _list_images(root: str) -> list[str]:
    """Image files under ``root`` as sorted relative paths; hidden files and folders skipped."""
    try:
        os.listdir(root)
    except OSError as exc:
        raise DataError(f"cannot read data folder {root}: {exc.strerror or exc}") from None
    extensions = image_extensions()
    found: list[str] = []
    # Linked folders are not followed (os.walk's default): a link up the tree would loop.
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        relative = Path(os.path.relpath(folder, root))
        found.extend(
            (relative / name).as_posix()
            for name in names
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in extensions
        )
    return sorted(found)


def _to_mode(image: Image.Image, mode: str) -> Image.Image:
    """Convert any Pillow mode to ``mode`` ("L" or "RGB") with the values a viewer shows."""
    if image.mode in _WIDE_MODES:
        # Pillow converts 16-bit and float images to "L" by clipping at 255, which turns most
        # 16-bit images white; scale instead (65535 -> 255; float 0..1 -> 0..255).
        values = np.nan_to_num(np.asarray(image).astype(np.float64))
        if image.mode != "F":
            values = values / 257.0
        elif values.size and values.max() <= 1.0:
            values = values * 255.0
        image = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))
    if image.mode == "P":
        # A transparent palette index must go through RGBA, or its hidden colour would show.
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in _ALPHA_MODES:
        # Composite on black rather than drop alpha: the colour under transparent pixels is
        # arbitrary (often left over from editing), black is a defined, reproducible backdrop.
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
    # The rest (1, L, RGB, CMYK, YCbCr, ...) is Pillow's; RGB -> L uses ITU-R 601 luma.
    return image if image.mode == mode else image.convert(mode)


def _decode_image(file: str, mode: str, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """One image as uint8 (H, W) or (H, W, 3), centre-cropped and resized to ``size`` (W, H),
    and its mode and size as stored (for the report)."""
    if not os.path.isfile(file):  # a FIFO named x.png would block the read forever
        raise OSError("not a regular file")
    with Image.open(file) as opened:
        stored = f"{opened.mode} {opened.width}x{opened.height}"
        # JPEG decodes at 1/2, 1/4 or 1/8 scale while both sides stay at least the target's
        # longer side (either may end up as the height once EXIF rotation is applied).
        side = max(size)
        opened.draft(mode, (side, side))
        image = _to_mode(ImageOps.exif_transpose(opened), mode)
        top, left, rows, cols = crop_box(image.height, image.width, size[1], size[0])
        # Cropped first, then resized: ImageOps.fit() resizes with a box, and its bicubic
        # kernel then reads pixels from outside the crop (a seam of colour at the edges).
        # Pillow widens the kernel when it shrinks an image, i.e. it antialiases.
        image = image.crop((left, top, left + cols, top + rows))
        image = image.resize(size, Image.Resampling.BICUBIC)
        return np.array(image, dtype=np.uint8), stored  # a copy: torch wants writable memory


def load_folder(
    root: str,
    shape: tuple[int, ...],
    value_range: tuple[float, float],
    options: DataOptions,
    on_warning: Callable[[str], None] | None,
) -> RealData:
    if len(shape) != 3:
        raise DataError(
            f"{root} holds images, the generator makes {shape[0]}-vectors: "
            f"save (N, {shape[0]}) .npy"
        )
    channels, height, width = shape
    if channels not in (1, 3):
        raise DataError(
            f"{root}: images give 1 or 3 channels, not {channels}; save an (N, C, H, W) .npy"
        )
    files = _list_images(root)
    if not files:
        known = image_extensions()
        common = [ext for ext in _COMMON_EXTENSIONS if ext in known]
        hint = f"{', '.join(common)} and {len(known) - len(common)} more"
        raise DataError(f"no image files found in {root} (looked for {hint})")
    chosen = [files[i] for i in choose(len(files), options.max_images, options.seed)]
    check_memory(
        len(chosen) * channels * height * width * _BYTES_PER_VALUE,
        lambda needed, available: (
            f"{root}: {len(chosen)} images at {channels}x{height}x{width} need about {needed} "
            f"of memory but only {available} is available; pass a smaller {{opt:max_images}}"
        ),
        DataError,
    )
    mode = "L" if channels == 1 else "RGB"
    size = (width, height)
    # The cache key needs a stat of each chosen file: cheap next to decoding it.
    key = cache.cache_key(root, chosen, mode, size) if options.cache else None
    decoded = cache.load(key) if key else None
    if decoded is None:
        decoded = _decode_files(root, chosen, mode, size)
        if key:
            cache.store(key, decoded)
    used, failures, stored = len(decoded.pixels), decoded.failures, decoded.stored
    pixels = torch.from_numpy(decoded.pixels)
    samples = (pixels.permute(0, 3, 1, 2) if pixels.ndim == 4 else pixels.unsqueeze(1)).float()
    if used < 2:
        first = f" (first: {failures[0]})" if failures else ""
        raise DataError(f"{used} of {len(chosen)} image files in {root} could be read{first}")
    if failures and on_warning is not None:
        sampled = "sampled " if len(chosen) < len(files) else ""
        on_warning(
            f"skipped {len(failures)} of {len(chosen)} {sampled}files that could not be read "
            f"as images (first: {failures[0]})"
        )
    scale_(samples, (0.0, 255.0), value_range)
    conversion = (
        f"{most_common(stored)} -> {mode} {width}x{height} (centre crop to the aspect ratio, "
        f"bicubic resize), values 0..255 -> [{value_range[0]:g}, {value_range[1]:g}]"
    )
    return RealData(samples, root, "image folder", len(files), used, len(failures), conversion)


def _decode_files(
    root: str, chosen: list[str], mode: str, size: tuple[int, int]
) -> cache.DecodedImages:
    """Decode the chosen files (relative to ``root``) to uint8 pixels of ``size`` (W, H),
    in file order whatever the number of worker processes."""
    # Preallocated to the files chosen: memory is bounded by the cap.
    shape = (len(chosen), size[1], size[0]) + ((3,) if mode == "RGB" else ())
    pixels = np.empty(shape, dtype=np.uint8)
    used = 0
    failures: list[str] = []
    stored: Counter[str] = Counter()
    image_bytes = pixels[0].nbytes if len(chosen) else 0
    for batch in decode_all(chosen, partial(_decode_or_reason, root, mode, size), image_bytes):
        failures += batch.failures
        stored.update(batch.stored)
        if batch.pixels is not None:
            pixels[used : used + len(batch.pixels)] = batch.pixels
            used += len(batch.pixels)
    return cache.DecodedImages(pixels[:used].copy() if used < len(chosen) else pixels,
                               stored, failures)  # fmt: skip


def _decode_or_reason(
    root: str, mode: str, size: tuple[int, int], relative: str
) -> tuple[np.ndarray, str] | str:
    try:
        return _decode_image(os.path.join(root, relative), mode, size)
    except _DECODE_ERRORS as exc:
        return f"{relative}: {one_line(exc)}"
