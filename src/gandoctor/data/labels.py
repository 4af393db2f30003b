"""Class labels of real data, and the labels a conditional generator's fakes are drawn with.

Labels come from NVlabs' ``dataset.json`` (written by stylegan2-ada-pytorch's
``dataset_tool.py`` beside the images of a ZIP or a folder: ``{"labels": [[name, class],
...]}``, or ``{"labels": null}`` for a data set without them), else from class folders
(``root/cat/*.png``, ``root/dog/*.png``: the sorted folder names are classes 0..K-1, as
torchvision's ImageFolder numbers them). A ``dataset.json`` decides where there is one, so
NVlabs' numbered chunk folders (``00000/``, ``00001/``) are never taken for classes.

Where the generator is conditional, its fakes get labels drawn at the real data's class
frequencies (:func:`conditioned`): D then compares fakes and real samples that hold the
classes equally often, and a rare class does not make the fakes look wrong to D.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gandoctor.data.common import RealData, printable
from gandoctor.errors import DataError
from gandoctor.nn.latent import LatentSpec

DATASET_JSON = "dataset.json"
CLASS_FOLDERS = "class folders"
MAX_JSON_BYTES = 256 * 2**20
"""A dataset.json above this is refused unread: 1.3 million labels (ImageNet) take ~50 MB."""
MAX_CLASSES = 100_000
"""A label at or above this is no class index (the weights hold one number per class)."""


@dataclass(frozen=True)
class FileLabels:
    """One class per listed image file, in the listing's order."""

    values: np.ndarray
    """int64, one per file."""
    source: str
    """DATASET_JSON or CLASS_FOLDERS."""
    classes: int
    """The largest label + 1 (NVlabs' label_dim; every class folder for folders)."""


def find_labels(
    names: Sequence[str],
    dataset_json: bytes | None,
    where: str,
    on_warning: Callable[[str], None] | None = None,
) -> FileLabels | None:
    """The labels of the image files ``names`` (relative, "/"-separated): from the bytes of
    a ``dataset.json`` where there is one, else from class folders; None without labels."""
    if dataset_json is not None:
        return _from_dataset_json(names, dataset_json, where, on_warning)
    return _from_class_folders(names)


def _from_class_folders(names: Sequence[str]) -> FileLabels | None:
    """Classes from the folder level below any single folder that holds everything
    (``data.zip: data/cat/1.png``); None where an image lies at that level itself, or where
    fewer than two folders hold images (a plain folder of images)."""
    parts = [name.split("/") for name in names]
    depth = 0
    while all(len(p) > depth + 2 for p in parts) and len({p[depth] for p in parts}) == 1:
        depth += 1
    if not parts or any(len(p) <= depth + 1 for p in parts):
        return None
    folders = sorted({p[depth] for p in parts})
    if len(folders) < 2:
        return None
    index = {folder: i for i, folder in enumerate(folders)}
    values = np.array([index[p[depth]] for p in parts], dtype=np.int64)
    return FileLabels(values, CLASS_FOLDERS, len(folders))


def _from_dataset_json(
    names: Sequence[str],
    raw: bytes,
    where: str,
    on_warning: Callable[[str], None] | None,
) -> FileLabels | None:
    """NVlabs' dataset.json, checked as training/dataset.py reads it: every image must have
    a label (NVlabs' lookup fails otherwise); entries for files not listed are ignored."""
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "not valid JSON"
        raise DataError(f"{where}: {DATASET_JSON} is {reason}") from None
    if not isinstance(parsed, dict) or "labels" not in parsed:
        raise DataError(f'{where}: {DATASET_JSON} must be an object with "labels" (or null)')
    entries = parsed["labels"]
    if entries is None:
        return None  # dataset_tool.py's mark of a data set without labels
    labels = _label_map(entries, where)
    missing = [name for name in names if name not in labels]
    if missing:
        raise DataError(
            f"{where}: {DATASET_JSON} has no label for {len(missing)} of {len(names)} images "
            f"(first: {printable(missing[0])})"
        )
    rows = [labels[name] for name in names]
    classes = _one_hot_indices(rows) if rows and isinstance(rows[0], list) else rows
    if classes is None:
        if on_warning is not None:
            on_warning(
                f"{where}: {DATASET_JSON} holds label vectors, not classes: the labels are not used"
            )
        return None
    values = np.array(classes, dtype=np.int64)
    return FileLabels(values, DATASET_JSON, int(values.max()) + 1 if len(values) else 0)


def _label_map(entries: Any, where: str) -> dict[str, int | list[float]]:
    """``[[name, label], ...]`` as a dict (a later duplicate wins, as in NVlabs' dict()),
    each label a class index or a vector of numbers, all of one kind."""
    bad = f"{where}: {DATASET_JSON}: "
    if not isinstance(entries, list):
        raise DataError(f'{bad}"labels" must be a list of [file name, label] pairs or null')
    labels: dict[str, int | list[float]] = {}
    width: int | None = None
    for position, entry in enumerate(entries):
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise DataError(f"{bad}entry {position} is not a [file name, label] pair")
        name, label = entry
        shown = printable(name)
        if _is_number(label, integer=True):
            if not 0 <= label < MAX_CLASSES:
                value = str(label)[:20]  # a JSON integer may run to thousands of digits
                raise DataError(f"{bad}the label of {shown} is {value}, not a class in 0..99999")
            kind = 0
        elif isinstance(label, list) and label and all(_is_number(v) for v in label):
            kind = len(label)
        else:
            raise DataError(f"{bad}the label of {shown} is neither a class nor a list of numbers")
        if width is None:
            width = kind
        elif kind != width:
            raise DataError(f"{bad}the label of {shown} is not of the same kind as the first")
        labels[name] = label
    return labels


def _is_number(value: object, integer: bool = False) -> bool:
    if isinstance(value, bool):  # JSON true/false: bool is an int subclass in Python
        return False
    return isinstance(value, int) if integer else isinstance(value, int | float)


def _one_hot_indices(rows: list[Any]) -> list[Any] | None:
    """The class of each one-hot vector; None where any vector is not one-hot."""
    classes = []
    for row in rows:
        ones = [i for i, v in enumerate(row) if v == 1]
        if len(ones) != 1 or any(v != 0 for i, v in enumerate(row) if i != ones[0]):
            return None
        classes.append(ones[0])
    return classes


def conditioned(spec: LatentSpec, real: RealData) -> LatentSpec:
    """``spec`` with its labels drawn at the real data's class frequencies, where the
    generator is conditional and the data carry labels; ``spec`` unchanged otherwise.

    Labels from a dataset.json that name a class the generator lacks are an error (the data
    or ``--num-classes`` are wrong); fewer classes are a subset, the others get weight 0.
    Class folders are a reading of the folder layout, not a statement (``train/`` and
    ``val/`` are folders too): they are used only where there are exactly as many as the
    generator has classes, and the labels stay uniform otherwise.
    """
    if spec.num_classes is None or real.labels is None:
        return spec
    counts = real.label_counts()
    if real.label_source == CLASS_FOLDERS and real.classes != spec.num_classes:
        return spec
    if real.classes > spec.num_classes:
        raise DataError(
            f"{real.source}: the labels of {real.label_source} name {real.classes} classes, "
            f"the generator takes {spec.num_classes}; pass the data it was trained on or "
            f"{{opt:num_classes}} {real.classes}"
        )
    total = sum(counts)
    if total == 0:
        return spec
    weights = [count / total for count in counts] + [0.0] * (spec.num_classes - real.classes)
    return replace(spec, label_weights=tuple(weights))
