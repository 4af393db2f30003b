"""omniart-eye-generator 0.1 (a test dependency): a trained conditional DCGAN, 128x128 eyes
in eight colours, whose weights file ``generator_model_state.pth`` ships inside the package,
saved by its author on a GPU.

Its import cannot run on a CPU machine (its ``__init__`` loads those CUDA tensors with no
``map_location``), so the route is the adapter ``examples/adapters/omniart_eyes.py``. Tested
here on the package's own file:

- the adapter's generator gives the images of the package's own ``generate_eye`` path, its
  labels in the package's order;
- the file alone, and ``--arch`` on the package's module, end in one line that says what to
  do, the advice kept where the line is cut;
- (``-m long``) the verdicts on a real trained generator, with a known answer each: against
  its own samples, healthy; against scikit-learn's digits, failing on saturation.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image
from test_load_notes import error_lines
from typer.testing import CliRunner

from gandoctor.cli import app
from gandoctor.config import LoadOptions
from gandoctor.loading import load_generator

PACKAGE = importlib.util.find_spec("omniart_eye_generator")  # found, not imported
if PACKAGE is None or not PACKAGE.submodule_search_locations:
    pytest.skip(
        "omniart-eye-generator is not installed (pip install omniart-eye-generator==0.1)",
        allow_module_level=True,
    )
WEIGHTS = Path(next(iter(PACKAGE.submodule_search_locations))) / "generator_model_state.pth"
ADAPTER = Path(__file__).resolve().parents[1] / "examples" / "adapters" / "omniart_eyes.py"
CLASSES = ("amber", "blue", "brown", "gray", "grayscale", "green", "hazel", "red")
runner = CliRunner()


@pytest.fixture
def package() -> Iterator[Any]:
    """The package's ``eye_generator`` module as its ``__init__`` makes it, with ``torch.load``
    mapped to the CPU; taken out of ``sys.modules`` afterwards, so that other tests meet the
    package as a user's machine has it."""
    load = torch.load
    with mock.patch.object(torch, "load", partial(load, map_location="cpu")):
        module = importlib.import_module("omniart_eye_generator.eye_generator")
    yield module
    for name in [name for name in sys.modules if name.startswith("omniart_eye_generator")]:
        del sys.modules[name]


def test_the_adapter_gives_the_packages_own_images(package: Any) -> None:
    loaded = load_generator(WEIGHTS, LoadOptions(adapter=str(ADAPTER)))
    assert loaded.info.num_classes == 8 and loaded.info.latent_shape == (100,)
    assert loaded.info.output_shape == (3, 128, 128)
    assert loaded.info.parameters == sum(p.numel() for p in package.generator.parameters())
    assert package.classes == CLASSES  # the order the adapter's labels follow
    make_label = getattr(package, "__make_label")
    z = torch.randn(4, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for index, name in enumerate(CLASSES):
            want = package.generator(z[:, :, None, None], make_label(name, 4))
            got = loaded.module(z, torch.full((4,), index))
            assert torch.equal(got, want), name
        # The colour changes the image: a label that did not arrive would not.
        assert not torch.equal(loaded.module(z, torch.zeros(4)), loaded.module(z, torch.ones(4)))


def test_the_file_alone_says_to_use_an_adapter() -> None:
    lines = error_lines(runner.invoke(app, ["inspect", str(WEIGHTS)]))
    assert len(lines) == 1, lines
    line = lines[0]
    assert "looks like the PyTorch DCGAN example's generator" in line
    # A long site-packages path: the details may be cut, the advice is not.
    assert "pass --arch FILE.py:Class or --adapter FILE.py" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="the package imports where CUDA is")
def test_arch_on_the_package_names_the_adapter() -> None:
    lines = error_lines(
        runner.invoke(
            app, ["inspect", str(WEIGHTS), "--arch", "omniart_eye_generator.generator:Generator"]
        )
    )
    assert len(lines) == 1, lines
    assert "loads weights saved on a GPU as it is imported" in lines[0]
    assert "examples/adapters/omniart_eyes.py" in lines[0]
    assert "latent" not in lines[0]  # the shape is not the cause


def write_images(folder: Path, images: np.ndarray) -> Path:
    """``images`` (N, 128, 128, 3) uint8 as PNG files."""
    folder.mkdir()
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{index:04d}.png")
    return folder


def own_samples(count: int) -> np.ndarray:
    """The generator's own images, labels drawn as the probe draws them: real data that the
    generator matches by construction."""
    generator = load_generator(WEIGHTS, LoadOptions(adapter=str(ADAPTER))).module
    seeded = torch.Generator().manual_seed(123)
    with torch.no_grad():
        out = generator(torch.randn(count, 100, generator=seeded),
                        torch.randint(0, 8, (count,), generator=seeded))  # fmt: skip
    return ((out.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def digits_at_128(count: int) -> np.ndarray:
    from sklearn.datasets import load_digits

    digits = load_digits().images[:count] / 16 * 255
    return np.stack(
        [
            np.asarray(Image.fromarray(d.astype(np.uint8)).convert("RGB").resize((128, 128)))
            for d in digits
        ]
    )


def probe(tmp_path: Path, data: Path) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        ["probe", str(WEIGHTS), "--data", str(data), "--adapter", str(ADAPTER),
         "--steps", "100", "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(out.read_text())["checkpoints"][0]


@pytest.mark.long
def test_a_trained_generator_against_its_own_samples_is_healthy(tmp_path: Path) -> None:
    code, result = probe(tmp_path, write_images(tmp_path / "own", own_samples(512)))
    assert code == 0 and result["verdict"] == "healthy", result["findings"]
    assert all(finding["severity"] == "info" for finding in result["findings"])
    assert result["summary"]["steps_to_saturation"] is None
    assert 0.4 <= result["summary"]["final_accuracy"] <= 0.65  # D cannot tell them apart


@pytest.mark.long
def test_a_trained_generator_against_other_data_saturates(tmp_path: Path) -> None:
    code, result = probe(tmp_path, write_images(tmp_path / "digits", digits_at_128(512)))
    assert code == 1 and result["verdict"] == "failing"
    saturation = next(f for f in result["findings"] if f["code"] == "saturation")
    assert saturation["severity"] == "fail" and not saturation["borderline"]
    assert result["summary"]["final_accuracy"] >= 0.95
