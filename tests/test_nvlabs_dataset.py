"""A dataset ZIP written by NVlabs' own dataset_tool.py (tests/fixtures/make_nvlabs_dataset.py
says how): its images and labels as gandoctor reads them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from gandoctor.data import load_real_data

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ZIP = FIXTURES / "nvlabs_dataset" / "random16.zip"


def _maker():
    spec = importlib.util.spec_from_file_location("maker", FIXTURES / "make_nvlabs_dataset.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_a_zip_made_by_dataset_tool_reads_as_its_source_images() -> None:
    maker = _maker()
    real = load_real_data(ZIP, sample_shape=(3, 16, 16), value_range=(0.0, 255.0))
    assert real.kind == "zip" and real.used == maker.COUNT
    expected = torch.from_numpy(np.stack(maker.source_images())).permute(0, 3, 1, 2).float()
    assert torch.equal(real.samples, expected)  # every pixel, in dataset_tool's order
    assert real.labels is not None
    assert real.labels.tolist() == [i % maker.CLASSES for i in range(maker.COUNT)]
    assert real.describe()["labels"] == "from dataset.json, 3 classes"
