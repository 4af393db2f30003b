"""gandoctor adapter for omniart-eye-generator (``pip install omniart-eye-generator==0.1``).

The package is a trained conditional DCGAN (128x128 eyes in eight colours) and ships its
weights, ``generator_model_state.pth``, inside the package. Two things stop ``--arch``:

- importing the package runs its ``__init__``, which loads those weights with ``torch.load``
  and no ``map_location``; they were saved on a GPU, so on a machine without CUDA the import
  fails ("Attempting to deserialize object on a CUDA device");
- its forward is ``G(noise, labels)`` with a one-hot ``labels`` of the eight colours
  concatenated to the 100 noise channels, and a Dropout after the first block shifts every
  later layer one index past the PyTorch DCGAN example's, so gandoctor's own DCGAN build
  does not fit it.

This adapter loads the package's ``generator.py`` from its file, without running the
package's ``__init__``, and gives it one-hot labels::

    WEIGHTS=$(python -c "import importlib.util as u; \\
        print(u.find_spec('omniart_eye_generator').submodule_search_locations[0])")
    gandoctor probe "$WEIGHTS/generator_model_state.pth" --data ./eyes \\
        --adapter examples/adapters/omniart_eyes.py

The probe then draws labels of the eight classes uniformly, in the package's order
(amber, blue, brown, gray, grayscale, green, hazel, red).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor import GeneratorSpec

PACKAGE = "omniart_eye_generator"


def generator_module() -> ModuleType:
    """The package's ``generator.py`` (it imports only torch), run from its file: the
    package's ``__init__``, which loads CUDA-saved weights, is not run."""
    package = importlib.util.find_spec(PACKAGE)  # finds it without importing it
    if package is None or not package.submodule_search_locations:
        raise ImportError(f"{PACKAGE} is not installed: pip install omniart-eye-generator==0.1")
    path = Path(next(iter(package.submodule_search_locations))) / "generator.py"
    spec = importlib.util.spec_from_file_location(f"{PACKAGE}_generator", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class OneHotLabels(nn.Module):
    """``G(z, labels)`` with class indices -> the package's ``G(noise, one_hot(labels))``."""

    def __init__(self, generator: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.generator, self.num_classes = generator, num_classes

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        classes = F.one_hot(labels.long(), self.num_classes).to(z.dtype)
        out: torch.Tensor = self.generator(z, classes)
        return out


def build(state: dict[str, torch.Tensor]) -> GeneratorSpec:
    package = generator_module()
    generator = package.Generator()
    generator.load_state_dict(state)
    return GeneratorSpec(
        module=OneHotLabels(generator, package.label_count),
        latent_shape=(package.latent_space_size,),
        output_range=(-1.0, 1.0),  # a final tanh
        num_classes=package.label_count,
    )
