"""What the real-data loaders share: the result type, target checks and pixel geometry."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gandoctor.errors import ConfigError, DataError


@dataclass(frozen=True, eq=False)  # eq=False: comparing tensors with == has no single truth
class RealData:
    """Real samples, float32 (N, C, H, W) or (N, D) in the generator's range, and their origin.

    ``kind`` is "image folder", "zip", "lmdb", "npy", "npz" or "tensor"; ``found`` counts
    candidate files or array rows, ``used`` the samples loaded (after the cap, minus unreadable
    files) and ``skipped`` the files that could not be decoded.
    """

    samples: torch.Tensor
    source: str
    kind: str
    found: int
    used: int
    skipped: int
    conversion: str = ""
    """What was done to the data to fit the generator, in words, for the report."""
    labels: torch.Tensor | None = None
    """int64 (N,): each sample's class, where the data carry labels (data.labels)."""
    label_source: str = ""
    """Where the labels came from: "dataset.json" or "class folders"."""
    classes: int = 0
    """How many classes the labels index: the largest label + 1, as NVlabs counts them."""

    def label_counts(self) -> list[int]:
        """How many samples each class has (empty without labels)."""
        if self.labels is None:
            return []
        return torch.bincount(self.labels, minlength=self.classes).tolist()

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary for the report; "labels" and "label_counts" only where the
        data carry labels."""
        names = ("source", "kind", "found", "used", "skipped", "conversion")
        found = {**{name: getattr(self, name) for name in names}, "shape": list(self.samples.shape)}
        if self.labels is None:
            return found
        labels = f"from {self.label_source}, {self.classes} classes"
        return {**found, "labels": labels, "label_counts": self.label_counts()}


def check_target(
    sample_shape: Sequence[int], value_range: tuple[float, float]
) -> tuple[tuple[int, ...], tuple[float, float]]:
    shape = tuple(int(size) for size in sample_shape)
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise DataError(f"real data fits images (C, H, W) or vectors (D,), not samples {shape}")
    low, high = float(value_range[0]), float(value_range[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(f"value range must be finite with low < high, got {value_range}")
    return shape, (low, high)


def scale_(values: torch.Tensor, source: tuple[float, float], target: tuple[float, float]) -> None:
    """Map ``source`` linearly onto ``target`` in place; the ends land exactly on the ends."""
    values.sub_(source[0]).div_(source[1] - source[0]).mul_(target[1] - target[0])
    values.add_(target[0])


def choose(count: int, cap: int, seed: int) -> np.ndarray:
    """Indices of the samples to load: all of them, or ``cap`` drawn with the seed, sorted.

    Drawn before anything is decoded, so time and memory follow the cap, not the data size.
    """
    if count <= cap:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=cap, replace=False))


def crop_box(rows: int, cols: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Top, left, rows and columns of the centred crop with the target's aspect ratio (a
    square for square outputs), so that resizing to height x width does not distort."""
    if cols * height > rows * width:
        keep = max(1, round(rows * width / height))
        return 0, (cols - keep) // 2, rows, keep
    keep = max(1, round(cols * height / width))
    return (rows - keep) // 2, 0, keep, cols


def one_line(exc: BaseException) -> str:
    return printable(" ".join(str(exc).split())) or type(exc).__name__


def printable(name: str) -> str:
    """``name`` for a one-line message: control and other unprintable characters escaped
    (``\\r``, ``\\x1b``), so that a file or member name cannot break the line or drive the
    terminal. Archive member names are chosen by whoever made the archive."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in name)


def most_common(counts: Counter[str]) -> str:
    """``"RGB"`` when all are alike, else ``"RGB (120), L (3)"``, the three most common."""
    if len(counts) == 1:
        return next(iter(counts))
    shown = ", ".join(f"{key} ({n})" for key, n in counts.most_common(3))
    return shown if len(counts) <= 3 else f"{shown} and {len(counts) - 3} more"
