"""Real data for the probe discriminator, as one tensor: a folder of images (class folders
as labels), an NVlabs dataset ZIP, a rosinality LMDB, or a numpy array.

Whatever the source, the result is float32 in the generator's output shape and value range,
so real and generated samples can go through the same discriminator. Loading is
deterministic for a seed, reads at most ``DataOptions.max_images`` samples and never writes
anything next to the data.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gandoctor.config import DataOptions
from gandoctor.data.archives.lmdb_records import list_lmdb, lmdb_layout
from gandoctor.data.archives.zipped import is_zip, list_zip
from gandoctor.data.arrays import load_array_file
from gandoctor.data.common import RealData, check_target, choose
from gandoctor.data.images import image_extensions, load_folder
from gandoctor.data.pipeline import image_target, load_images
from gandoctor.errors import ConfigError, DataError

__all__ = ["RealData", "load_real_data", "real_data_from_tensor"]


def load_real_data(
    path: str | os.PathLike[str],
    *,
    sample_shape: tuple[int, ...],
    value_range: tuple[float, float],
    options: DataOptions = DataOptions(),  # noqa: B008 - frozen dataclass, safe as a default
    on_warning: Callable[[str], None] | None = None,
) -> RealData:
    """Read a folder of images, an NVlabs dataset ``.zip``, a rosinality LMDB (its folder or
    ``.mdb`` file), a ``.npy`` or a ``.npz`` file into a :class:`RealData`.

    ``sample_shape`` is one generated sample's shape, (C, H, W) or (D,); ``value_range`` is
    the generator's output range. Labels come with the data where a ``dataset.json`` or
    class folders give them (data.labels). Raises :class:`DataError` with one line naming
    the path.
    """
    shape, target = check_target(sample_shape, value_range)
    if options.max_images < 2:
        raise ConfigError(f"max images must be at least 2, got {options.max_images}")
    source = os.fspath(path)
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        raise DataError(f"data path not found: {source}") from None
    except OSError as exc:
        raise DataError(f"cannot read data path {source}: {exc.strerror or exc}") from None
    subdir = lmdb_layout(source, mode)
    if subdir is not None:  # before folders: prepare_data.py's output is a folder
        _, height, width = image_target(source, shape)
        chosen = lambda n: choose(n, options.max_images, options.seed).tolist()  # noqa: E731
        records = list_lmdb(source, subdir, max(height, width), chosen)
        return load_images(records, shape, target, options, on_warning)
    if stat.S_ISDIR(mode):
        return load_folder(source, shape, target, options, on_warning)
    suffix = Path(source).suffix.lower()
    if stat.S_ISREG(mode) and is_zip(source):
        image_target(source, shape)  # before reading the directory: vectors need no images
        return load_images(list_zip(source, on_warning), shape, target, options, on_warning)
    if stat.S_ISREG(mode) and suffix in (".npy", ".npz"):
        return load_array_file(source, shape, target, options)
    if stat.S_ISREG(mode) and suffix in image_extensions():
        raise DataError(f"{source} is a single image; pass the folder that holds the real images")
    raise DataError(
        f"unsupported data path {source}: expected a folder of images, a dataset .zip, an "
        "LMDB, .npy or .npz"
    )


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
    shape, _ = check_target(sample_shape, value_range)
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
