"""Real data from a folder of images: discovery, decoding, cropping and resizing with Pillow."""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from gandoctor.config import DataOptions
from gandoctor.data import cache
from gandoctor.data.common import RealData, crop_box, one_line, printable
from gandoctor.data.labels import DATASET_JSON, MAX_JSON_BYTES, find_labels
from gandoctor.data.parallel import Decoded
from gandoctor.data.pipeline import ImageSet, image_target, load_images
from gandoctor.errors import DataError

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
DECODE_ERRORS = (*_BROKEN_FILE, Image.DecompressionBombError, Image.DecompressionBombWarning)


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


def decode_opened(opened: Image.Image, mode: str, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """An opened image as uint8 (H, W) or (H, W, 3), centre-cropped and resized to ``size``
    (W, H), and its mode and size as stored (for the report)."""
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


def _decode_image(file: str, mode: str, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """One image file decoded by :func:`decode_opened`."""
    if not os.path.isfile(file):  # a FIFO named x.png would block the read forever
        raise OSError("not a regular file")
    with Image.open(file) as opened:
        return decode_opened(opened, mode, size)


def decode_bytes(name: str, content: bytes, mode: str, size: tuple[int, int]) -> Decoded:
    """An image held in memory (an archive member) decoded like a file of a folder, or the
    one-line reason it could not be."""
    try:
        with Image.open(io.BytesIO(content)) as opened:
            return decode_opened(opened, mode, size)
    except DECODE_ERRORS as exc:
        return f"{printable(name)}: {one_line(exc)}"


@dataclass(frozen=True)
class FolderImages(ImageSet):
    """The image files under a folder."""

    def decoder(self, mode: str, size: tuple[int, int]) -> Callable[[str], Decoded]:
        return partial(_decode_or_reason, self.source, mode, size)

    def cache_key(self, chosen: list[str], mode: str, size: tuple[int, int]) -> str | None:
        return cache.cache_key(self.source, chosen, mode, size)


def load_folder(
    root: str,
    shape: tuple[int, ...],
    value_range: tuple[float, float],
    options: DataOptions,
    on_warning: Callable[[str], None] | None,
) -> RealData:
    image_target(root, shape)  # before listing: a vector generator needs no walk
    files = _list_images(root)
    if not files:
        raise DataError(f"no image files found in {root} (looked for {looked_for()})")
    labels = find_labels(files, _dataset_json(root), root, on_warning)
    return load_images(FolderImages(root, files, labels), shape, value_range, options, on_warning)


def looked_for() -> str:
    """The image extensions, the common ones by name."""
    known = image_extensions()
    common = [ext for ext in _COMMON_EXTENSIONS if ext in known]
    return f"{', '.join(common)} and {len(known) - len(common)} more"


def _dataset_json(root: str) -> bytes | None:
    """The bytes of NVlabs' dataset.json beside a folder's images, None where there is none."""
    path = os.path.join(root, DATASET_JSON)
    try:
        if not os.path.isfile(path):
            return None
        if os.path.getsize(path) > MAX_JSON_BYTES:
            raise DataError(f"{path} is larger than {MAX_JSON_BYTES >> 20} MiB; not read")
        with open(path, "rb") as handle:
            return handle.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _decode_or_reason(root: str, mode: str, size: tuple[int, int], relative: str) -> Decoded:
    try:
        return _decode_image(os.path.join(root, relative), mode, size)
    except DECODE_ERRORS as exc:
        return f"{printable(relative)}: {one_line(exc)}"
