"""Real data read once per source and target: a probe of several generators reads a folder
again only for a generator whose output shape or range differs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gandoctor.config import DataOptions
from gandoctor.data import RealData, load_real_data, real_data_from_tensor

DataSource = str | os.PathLike[str] | torch.Tensor | np.ndarray
"""A folder of images, an NVlabs dataset ``.zip``, a rosinality LMDB, a ``.npy``/``.npz``
file, or samples already in the generator's shape and range."""


class RealDataReader:
    """Reads real data for a generator's output shape and range, each folder or file once
    per (source, shape, range)."""

    def __init__(
        self, options: DataOptions, on_warning: Callable[[str], None] | None = None
    ) -> None:
        self.options = options
        self.on_warning = on_warning
        self._cache: dict[tuple[object, ...], RealData] = {}

    def read(
        self,
        source: DataSource,
        sample_shape: tuple[int, ...],
        value_range: tuple[float, float],
    ) -> RealData:
        if isinstance(source, torch.Tensor | np.ndarray):
            return real_data_from_tensor(source, sample_shape=sample_shape, value_range=value_range)
        key = (os.fspath(source), sample_shape, value_range)
        if key not in self._cache:
            self._cache[key] = load_real_data(
                Path(source),
                sample_shape=sample_shape,
                value_range=value_range,
                options=self.options,
                on_warning=self.on_warning,
            )
        return self._cache[key]
