"""Real data from a ``.npy`` or ``.npz`` file: vectors as they are, images rescaled.

Files are memory-mapped and never unpickled; only the chosen rows are read, in chunks.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from gandoctor.config import DataOptions
from gandoctor.data.common import RealData, choose, crop_box, one_line, scale_
from gandoctor.errors import DataError
from gandoctor.runtime.resources import check_memory

_NPZ_KEYS = ("images", "x", "data", "arr_0")
_ARRAY_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile)
# Array rows are converted in chunks of about 64 MB of float32, so memory follows the result.
_CHUNK_ELEMENTS = 1 << 24
# ITU-R 601 luma, the weights Pillow uses for "RGB" -> "L": arrays and folders agree.
_LUMA = (0.299, 0.587, 0.114)
# Slack for float arrays that a normalisation left a rounding error outside 0..1 or -1..1.
_RANGE_SLACK = 1e-3


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
        raise DataError(f"cannot read {source} as a numpy array: {one_line(exc)}") from None
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
    top, left, rows, cols = crop_box(images.shape[-2], images.shape[-1], height, width)
    images = images[..., top : top + rows, left : left + cols]
    if tuple(images.shape[-2:]) != (height, width):
        images = F.interpolate(
            images, size=(height, width), mode="bilinear", antialias=True, align_corners=False
        )
    return images


def load_array_file(
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
    rows = choose(array.shape[0], options.max_images, options.seed)
    if len(rows) < 2:
        raise DataError(f"{source}: {len(rows)} sample(s); the probe needs at least 2")
    check_memory(
        len(rows) * math.prod(shape) * 4,  # the float32 samples; the file stays memory-mapped
        lambda needed, available: (
            f"{source}: {len(rows)} samples of shape {tuple(shape)} need about {needed} of "
            f"memory as float32 but only {available} is available; pass a smaller "
            f"{{opt:max_images}}"
        ),
        DataError,
    )
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
        scale_(target, value_source, value_range)
    if layout == "vector":
        conversion = f"{array.dtype} vectors {tuple(array.shape[1:])}, values as stored"
    else:
        conversion = (
            f"{array.dtype} {tuple(array.shape[1:])} as {layout} -> {tuple(shape)} (centre "
            f"crop, bilinear resize), values [{value_source[0]:g}, {value_source[1]:g}] -> "
            f"[{value_range[0]:g}, {value_range[1]:g}]"
        )
    return RealData(samples, source, kind, int(array.shape[0]), len(rows), 0, conversion)
