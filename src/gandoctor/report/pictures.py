"""Sample grids as PNG: for ``--samples DIR`` (a CI job's artifacts) and the HTML report.

A grid is 8 x 8 images (or as many as there are) at the data's own resolution, 2 pixels
of white between them, as Pillow writes it: no resampling, so what is shown is what the
probe D saw.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np

from gandoctor.errors import ConfigError
from gandoctor.paths import atomic_output
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.results.sample_images import GRID_COLUMNS

GAP = 2
"""Pixels of white between images: enough to tell neighbours apart at 1:1."""


def grid(images: np.ndarray, columns: int = GRID_COLUMNS) -> np.ndarray:
    """uint8 (N, H, W, C) -> one uint8 (rows, cols, C) image, ``columns`` images a row."""
    n, height, width, channels = images.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    out = np.full(
        (rows * height + (rows - 1) * GAP, columns * width + (columns - 1) * GAP, channels),
        255,
        dtype=np.uint8,
    )
    for index, image in enumerate(images):
        top, left = (index // columns) * (height + GAP), (index % columns) * (width + GAP)
        out[top : top + height, left : left + width] = image
    return out


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 (H, W, 1|3) image as PNG bytes."""
    from PIL import Image

    pixels = image[:, :, 0] if image.shape[2] == 1 else image
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")  # uint8 (H, W) is L, (H, W, 3) RGB
    return buffer.getvalue()


def check_samples_folder(folder: str | os.PathLike[str]) -> None:
    """Fail before a long probe when the folder cannot hold the grids."""
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{{opt:samples}} {folder} is a file, not a folder")
    if not target.exists() and not target.resolve().parent.is_dir():
        raise ConfigError(f"{{opt:samples}} {folder}: its parent folder does not exist")


def grid_names(report: Report) -> list[str]:
    """A file stem per checkpoint: its file name, made safe, numbered in report order so
    that a run's snapshots sort in the order they were probed and two ``G.pt`` in
    different folders do not overwrite each other."""
    width = len(str(len(report.checkpoints)))
    return [
        f"{index:0{width}d}_{_safe(Path(c.checkpoint).stem or 'generator')}"
        for index, c in enumerate(report.checkpoints, start=1)
    ]


def write_sample_grids(report: Report, folder: str | os.PathLike[str]) -> list[Path]:
    """``NN_<checkpoint>_generated.png`` and ``NN_<checkpoint>_real.png`` per checkpoint
    whose samples are images; returns the files written (none for vector samples)."""
    target = Path(folder)
    target.mkdir(exist_ok=True)
    written = []
    for stem, checkpoint in zip(grid_names(report), report.checkpoints, strict=True):
        for kind, image in checkpoint_grids(checkpoint).items():
            path = target / f"{stem}_{kind}.png"
            with atomic_output(path) as tmp:
                Path(tmp).write_bytes(png_bytes(image))
            written.append(path)
    return written


def checkpoint_grids(checkpoint: CheckpointReport) -> dict[str, np.ndarray]:
    """``{"generated": grid, "real": grid}``, or empty where there are no images."""
    samples = checkpoint.outcome.samples
    if samples is None:
        return {}
    return {"generated": grid(samples.generated), "real": grid(samples.real)}


def _safe(name: str) -> str:
    """A file name's stem with only letters, digits, ``.``, ``-`` and ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "generator"
