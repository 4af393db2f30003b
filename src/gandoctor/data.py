"""Real data for the probe discriminator: a folder of images or a numpy array, as one tensor.

Whatever the source, the result is float32 in the generator's output shape and value range,
so real and generated samples can go through the same discriminator. Loading is
deterministic for a seed, reads at most ``DataOptions.max_images`` samples and never writes
anything next to the data.
"""

from __future__ import annotations

import math
import os
import stat
import struct
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from gandoctor.config import DataOptions
from gandoctor.errors import ConfigError, DataError

# Named first when no image is found, because they are the ones users look for.
_COMMON_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_NPZ_KEYS = ("images", "x", "data", "arr_0")
_WIDE_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "PA"})
# What Pillow's plugins raise for a file they cannot decode (broken headers give the odd
# IndexError or KeyError). DecompressionBombError is not an OSError: Pillow's guard stays on
# and such files count as unreadable.
_BROKEN_FILE = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, struct.error)
_DECODE_ERRORS = (*_BROKEN_FILE, Image.DecompressionBombError)
_ARRAY_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile)
# Array rows are converted in chunks of about 64 MB of float32, so memory follows the result.
_CHUNK_ELEMENTS = 1 << 24
# ITU-R 601 luma, the weights Pillow uses for "RGB" -> "L": arrays and folders agree.
_LUMA = (0.299, 0.587, 0.114)
# Slack for float arrays that a normalisation left a rounding error outside 0..1 or -1..1.
_RANGE_SLACK = 1e-3


@dataclass(frozen=True, eq=False)  # eq=False: comparing tensors with == has no single truth
class RealData:
    """Real samples, float32 (N, C, H, W) or (N, D) in the generator's range, and their origin.

    ``kind`` is "image folder", "npy", "npz" or "tensor"; ``found`` counts candidate files or
    array rows, ``used`` the samples loaded (after the cap, minus unreadable files) and
    ``skipped`` the files that could not be decoded.
    """

    samples: torch.Tensor
    source: str
    kind: str
    found: int
    used: int
    skipped: int

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary for the report."""
        names = ("source", "kind", "found", "used", "skipped")
        return {**{name: getattr(self, name) for name in names}, "shape": list(self.samples.shape)}


def load_real_data(
    path: str | os.PathLike[str],
    *,
    sample_shape: tuple[int, ...],
    value_range: tuple[float, float],
    options: DataOptions = DataOptions(),  # noqa: B008 - frozen dataclass, safe as a default
    on_warning: Callable[[str], None] | None = None,
) -> RealData:
    """Read a folder of images, a ``.npy`` or a ``.npz`` file into a :class:`RealData`.

    ``sample_shape`` is one generated sample's shape, (C, H, W) or (D,); ``value_range`` is
    the generator's output range. Raises :class:`DataError` with one line naming the path.
    """
    shape, target = _check_target(sample_shape, value_range)
    if options.max_images < 2:
        raise ConfigError(f"max images must be at least 2, got {options.max_images}")
    source = os.fspath(path)
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        raise DataError(f"data path not found: {source}") from None
    except OSError as exc:
        raise DataError(f"cannot read data path {source}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        return _load_folder(source, shape, target, options, on_warning)
    suffix = Path(source).suffix.lower()
    if stat.S_ISREG(mode) and suffix in (".npy", ".npz"):
        return _load_array_file(source, shape, target, options)
    if stat.S_ISREG(mode) and suffix in _image_extensions():
        raise DataError(f"{source} is a single image; pass the folder that holds the real images")
    raise DataError(f"unsupported data path {source}: expected a folder of images, .npy or .npz")


def real_data_from_tensor(
    samples: torch.Tensor | np.ndarray,
    *,
    sample_shape: tuple[int, ...],
    value_range: tuple[float, float],
    source: str = "tensor",
) -> RealData:
    """Wrap samples already in ``value_range`` (for library users and tests); float32 on CPU.

    A float32 CPU tensor is used as is, not copied.
    """
    shape, _ = _check_target(sample_shape, value_range)
    if isinstance(samples, np.ndarray):
        if samples.dtype.kind not in "uif":
            raise DataError(f"{source}: samples of dtype {samples.dtype} are not numbers")
        tensor = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    else:
        if samples.dtype == torch.bool or samples.dtype.is_complex:
            raise DataError(f"{source}: samples of dtype {samples.dtype} are not real numbers")
        tensor = samples.detach().to(device="cpu", dtype=torch.float32).contiguous()
    if tuple(tensor.shape[1:]) != shape:
        raise DataError(f"{source}: samples of shape {tuple(tensor.shape)} do not fit {shape}")
    if tensor.shape[0] < 2:
        raise DataError(f"{source}: {tensor.shape[0]} sample(s); the probe needs at least 2")
    if not bool(torch.isfinite(tensor).all()):
        raise DataError(f"{source}: the samples contain NaN or infinite values")
    count = int(tensor.shape[0])
    return RealData(tensor, source, "tensor", count, count, 0)


def _check_target(
    sample_shape: Sequence[int], value_range: tuple[float, float]
) -> tuple[tuple[int, ...], tuple[float, float]]:
    shape = tuple(int(size) for size in sample_shape)
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise DataError(f"real data fits images (C, H, W) or vectors (D,), not samples {shape}")
    low, high = float(value_range[0]), float(value_range[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(f"value range must be finite with low < high, got {value_range}")
    return shape, (low, high)


def _scale_(values: torch.Tensor, source: tuple[float, float], target: tuple[float, float]) -> None:
    """Map ``source`` linearly onto ``target`` in place; the ends land exactly on the ends."""
    values.sub_(source[0]).div_(source[1] - source[0]).mul_(target[1] - target[0])
    values.add_(target[0])


def _choose(count: int, cap: int, seed: int) -> np.ndarray:
    """Indices of the samples to load: all of them, or ``cap`` drawn with the seed, sorted.

    Drawn before anything is decoded, so time and memory follow the cap, not the data size.
    """
    if count <= cap:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=cap, replace=False))


def _crop_box(rows: int, cols: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Top, left, rows and columns of the centred crop with the target's aspect ratio (a
    square for square outputs), so that resizing to height x width does not distort."""
    if cols * height > rows * width:
        keep = max(1, round(rows * width / height))
        return 0, (cols - keep) // 2, rows, keep
    keep = max(1, round(cols * height / width))
    return (rows - keep) // 2, 0, keep, cols


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _image_extensions() -> frozenset[str]:
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
    extensions = _image_extensions()
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


def _decode_image(file: str, mode: str, size: tuple[int, int]) -> np.ndarray:
    """One image as uint8 (H, W) or (H, W, 3), centre-cropped and resized to ``size`` (W, H)."""
    if not os.path.isfile(file):  # a FIFO named x.png would block the read forever
        raise OSError("not a regular file")
    with Image.open(file) as opened:
        # JPEG decodes at 1/2, 1/4 or 1/8 scale while both sides stay at least the target's
        # longer side (either may end up as the height once EXIF rotation is applied).
        side = max(size)
        opened.draft(mode, (side, side))
        image = _to_mode(ImageOps.exif_transpose(opened), mode)
        top, left, rows, cols = _crop_box(image.height, image.width, size[1], size[0])
        # Cropped first, then resized: ImageOps.fit() resizes with a box, and its bicubic
        # kernel then reads pixels from outside the crop (a seam of colour at the edges).
        # Pillow widens the kernel when it shrinks an image, i.e. it antialiases.
        image = image.crop((left, top, left + cols, top + rows))
        image = image.resize(size, Image.Resampling.BICUBIC)
        return np.array(image, dtype=np.uint8)  # a copy: torch wants writable memory


def _load_folder(
    root: str,
    shape: tuple[int, ...],
    value_range: tuple[float, float],
    options: DataOptions,
    on_warning: Callable[[str], None] | None,
) -> RealData:
    if len(shape) != 3:
        size = shape[0]
        raise DataError(
            f"{root} holds images, the generator makes {size}-vectors: save (N, {size}) .npy"
        )
    channels, height, width = shape
    if channels not in (1, 3):
        raise DataError(
            f"{root}: images give 1 or 3 channels, not {channels}; save an (N, C, H, W) .npy"
        )
    files = _list_images(root)
    if not files:
        known = _image_extensions()
        common = [ext for ext in _COMMON_EXTENSIONS if ext in known]
        hint = f"{', '.join(common)} and {len(known) - len(common)} more"
        raise DataError(f"no image files found in {root} (looked for {hint})")
    chosen = [files[i] for i in _choose(len(files), options.max_images, options.seed)]
    mode = "L" if channels == 1 else "RGB"

    def decode(relative: str) -> np.ndarray | str:
        try:
            return _decode_image(os.path.join(root, relative), mode, (width, height))
        except _DECODE_ERRORS as exc:
            return f"{relative}: {_one_line(exc)}"

    # Preallocated to the files chosen: memory is bounded by the cap.
    samples = torch.empty((len(chosen), channels, height, width), dtype=torch.float32)
    used = 0
    failures: list[str] = []
    # Pillow releases the GIL while decoding and resizing; map() keeps the file order, so
    # the result does not depend on which thread finishes first.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for result in pool.map(decode, chosen):
            if isinstance(result, str):
                failures.append(result)
                continue
            pixels = torch.from_numpy(result)
            samples[used] = pixels.permute(2, 0, 1) if pixels.ndim == 3 else pixels
            used += 1
    if used < 2:
        first = f" (first: {failures[0]})" if failures else ""
        raise DataError(f"{used} of {len(chosen)} image files in {root} could be read{first}")
    if failures and on_warning is not None:
        sampled = "sampled " if len(chosen) < len(files) else ""
        on_warning(
            f"skipped {len(failures)} of {len(chosen)} {sampled}files that could not be read "
            f"as images (first: {failures[0]})"
        )
    if used < len(chosen):
        samples = samples[:used].clone()  # clone: give back the unused rows' memory
    _scale_(samples, (0.0, 255.0), value_range)
    return RealData(samples, root, "image folder", len(files), used, len(failures))


def _open_array(source: str) -> tuple[np.ndarray, str]:
    """The array in a .npy or .npz file; never unpickles (allow_pickle=False)."""
    try:
        # Memory-mapped, so a capped selection reads only its rows from disk. np.load looks
        # at the content, not the name: a zip saved as .npy still comes back as an NpzFile.
        loaded = np.load(source, mmap_mode="r", allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            return loaded, "npy"
        with loaded:
            keys = list(loaded.files)
            if len(keys) == 1:
                return loaded[keys[0]], "npz"
            for key in _NPZ_KEYS:
                if key in keys:
                    return loaded[key], "npz"
    except _ARRAY_ERRORS as exc:
        raise DataError(f"cannot read {source} as a numpy array: {_one_line(exc)}") from None
    raise DataError(
        f"{source} holds arrays {', '.join(keys) or '(none)'}; expected one array or one named "
        f"{', '.join(_NPZ_KEYS)}"
    )


def _image_layout(source: str, shape: tuple[int, ...], channels: int) -> str:
    """How an array stores images: "hw" (N, H, W), "hwc" (N, H, W, C) or "chw" (N, C, H, W)."""
    if len(shape) == 3 and min(shape[1:]) > 0:
        return "hw"
    if len(shape) == 4 and min(shape[1:]) > 0:
        # Where both readings fit (N, 3, H, 3), channels first wins: it is PyTorch's layout.
        if shape[1] in (1, 3, channels):
            return "chw"
        if shape[3] in (1, 3, 4):
            return "hwc"
    raise DataError(
        f"{source}: an array of shape {shape} is not a stack of images; expected (N, H, W), "
        "(N, H, W, C) with C in 1, 3, 4 or (N, C, H, W) with C in 1, 3"
    )


def _chunks(array: np.ndarray, rows: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """The chosen rows in chunks, each with the position of its first row in the result."""
    step = max(1, _CHUNK_ELEMENTS // max(1, math.prod(array.shape[1:])))
    for start in range(0, len(rows), step):
        yield start, np.asarray(array[rows[start : start + step]])


def _value_span(source: str, array: np.ndarray, rows: np.ndarray) -> tuple[float, float]:
    """Smallest and largest value of the chosen rows, which must all be finite."""
    low, high = math.inf, -math.inf
    for _, chunk in _chunks(array, rows):
        if chunk.dtype.kind == "f" and not np.isfinite(chunk).all():
            raise DataError(f"{source} contains NaN or infinite values")
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    return low, high


def _source_range(source: str, dtype: np.dtype, low: float, high: float) -> tuple[float, float]:
    """Which range image values are in: 0..255 for integers; 0..1, -1..1 or 0..255 for floats."""
    if dtype.kind in "ui":
        if low >= 0 and high <= 255:
            return 0.0, 255.0
        raise DataError(
            f"{source}: integer values span {low:g}..{high:g}, outside 0..255; rescale them "
            "to 0..255 (uint8) or to floats in 0..1"
        )
    for candidate in ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0)):
        if low >= candidate[0] - _RANGE_SLACK and high <= candidate[1] + _RANGE_SLACK:
            return candidate
    raise DataError(
        f"{source}: values span {low:g}..{high:g}, none of 0..1, -1..1 or 0..255; rescale "
        "the images to one of these ranges"
    )


def _to_images(chunk: np.ndarray, layout: str, shape: tuple[int, ...], source: str) -> torch.Tensor:
    """Array rows as float (n, C, H, W) in the generator's channels and size, values unscaled."""
    channels, height, width = shape
    images = torch.from_numpy(np.ascontiguousarray(chunk, dtype=np.float32))
    if layout == "hw":
        images = images.unsqueeze(1)
    elif layout == "hwc":
        images = images.permute(0, 3, 1, 2)
    if images.shape[1] == 4 and channels != 4:
        images = images[:, :3]  # RGBA: alpha dropped, arrays are taken as the user saved them
    if images.shape[1] == 1 and channels == 3:
        images = images.expand(-1, 3, -1, -1)
    elif images.shape[1] == 3 and channels == 1:
        luma = torch.tensor(_LUMA, dtype=torch.float32).view(1, 3, 1, 1)
        images = (images * luma).sum(dim=1, keepdim=True)
    elif images.shape[1] != channels:
        raise DataError(
            f"{source}: images with {images.shape[1]} channels do not convert to the "
            f"generator's {channels}"
        )
    top, left, rows, cols = _crop_box(images.shape[-2], images.shape[-1], height, width)
    images = images[..., top : top + rows, left : left + cols]
    if tuple(images.shape[-2:]) != (height, width):
        images = F.interpolate(
            images, size=(height, width), mode="bilinear", antialias=True, align_corners=False
        )
    return images


def _load_array_file(
    source: str,
    shape: tuple[int, ...],
    value_range: tuple[float, float],
    options: DataOptions,
) -> RealData:
    array, kind = _open_array(source)
    if array.dtype.kind not in "uif":
        raise DataError(f"{source}: arrays of dtype {array.dtype} are not supported; save numbers")
    if len(shape) == 1:
        if array.ndim != 2 or array.shape[1] != shape[0]:
            raise DataError(
                f"{source}: an array of shape {array.shape} does not fit a generator of vectors "
                f"of size {shape[0]}; expected (N, {shape[0]})"
            )
        layout = "vector"
    else:
        layout = _image_layout(source, array.shape, shape[0])
    rows = _choose(array.shape[0], options.max_images, options.seed)
    if len(rows) < 2:
        raise DataError(f"{source}: {len(rows)} sample(s); the probe needs at least 2")
    # Checked on the chosen rows only: they are read anyway, the others never are. uint8
    # needs no pass over the data: it is finite and in 0..255 by construction.
    low, high = (0.0, 255.0) if array.dtype == np.uint8 else _value_span(source, array, rows)
    value_source = (
        (low, high) if layout == "vector" else _source_range(source, array.dtype, low, high)
    )
    samples = torch.empty((len(rows), *shape), dtype=torch.float32)
    for start, chunk in _chunks(array, rows):
        if layout == "vector":
            # Vectors are not pixels: their values are taken as they are, never rescaled.
            samples[start : start + len(chunk)] = torch.from_numpy(chunk.astype(np.float32))
            continue
        images = _to_images(chunk, layout, shape, source)
        target = samples[start : start + len(chunk)]
        # Clamp: luma weights and resampling may round a hair past the source range.
        target.copy_(images).clamp_(*value_source)
        _scale_(target, value_source, value_range)
    return RealData(samples, source, kind, int(array.shape[0]), len(rows), 0)
