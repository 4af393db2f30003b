"""``--adapter``: a small file of the user's that turns a checkpoint's weights into the
z -> sample module the probe calls, for generators no option describes.

An adapter is a Python file (or an importable module) with one function::

    def build(state: dict[str, torch.Tensor], **kwargs) -> torch.nn.Module | GeneratorSpec

``state`` is the generator's state dict as gandoctor found it (entry chosen, prefix
stripped; ``--key`` and ``--strip-prefix`` apply), ``kwargs`` are ``--arch-kwargs``. It
returns the module with its weights loaded, called as ``G(z)`` (or ``G(z, labels)``) and
returning the batch of samples; or a :class:`GeneratorSpec` that also declares what the
module cannot say about itself. ``examples/adapters/`` holds working ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gandoctor.enums import LatentDistribution
from gandoctor.errors import ConfigError
from gandoctor.loading.layouts.custom_arch import import_arch_target, user_code
from gandoctor.messages import check_latent_shape, check_output_range, describe_exception

ENTRY = "build"
"""The adapter function's name."""


@dataclass(frozen=True)
class GeneratorSpec:
    """What an adapter returns where the module alone does not say enough."""

    module: nn.Module
    """z -> samples, weights loaded."""
    latent_shape: tuple[int, ...] | None = None
    """One latent vector without the batch axis; None = inferred from the module."""
    latent_distribution: LatentDistribution | None = None
    """How z is drawn, where ``--latent`` is left at its default; None = normal."""
    output_range: tuple[float, float] | None = None
    """The range the generator was trained to produce; None = read from the module."""
    num_classes: int | None = None
    """Classes of a conditional generator, called as ``G(z, labels)``."""


def build_with_adapter(
    adapter: str, state: Mapping[str, torch.Tensor], kwargs: Mapping[str, Any]
) -> GeneratorSpec:
    """Call the adapter's ``build``; every way it can fail is one ConfigError line."""
    # FILE.py or MODULE means its build(); MODULE:NAME or FILE.py:NAME another function.
    named = ":" in adapter and not adapter.endswith(".py")
    build = import_arch_target(adapter if named else f"{adapter}:{ENTRY}")
    try:
        with user_code():
            built = build(dict(state), **kwargs)
    except (Exception, SystemExit) as exc:
        raise ConfigError(
            f"{{opt:adapter}} {adapter}: build failed: {describe_exception(exc)}"
        ) from exc
    spec = built if isinstance(built, GeneratorSpec) else GeneratorSpec(built)
    if not isinstance(spec.module, nn.Module):
        raise ConfigError(
            f"{{opt:adapter}} {adapter}: build returned a {type(built).__name__}, not a "
            "torch.nn.Module or a GeneratorSpec"
        )
    where = f"{{opt:adapter}} {adapter}: GeneratorSpec"
    latent, value_range = spec.latent_shape, spec.output_range
    return GeneratorSpec(
        spec.module,
        None if latent is None else check_latent_shape(latent, f"{where}.latent_shape",
                                                       ConfigError),
        spec.latent_distribution,
        None if value_range is None else check_output_range(value_range,
                                                            f"{where}.output_range",
                                                            ConfigError),
        spec.num_classes,
    )  # fmt: skip
