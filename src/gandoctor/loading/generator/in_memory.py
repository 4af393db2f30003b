"""Generators and real data the caller already holds: a ``torch.nn.Module`` from a training
script or a test, a tensor of real samples.

A module is described the way the loader describes a checkpoint (``GeneratorInfo``), from
the same clues in the same order, and is left exactly as it was given: not moved, not cast,
its mode, BatchNorm statistics and ``requires_grad`` flags restored after the one forward
pass that reveals its output.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gandoctor.config import LoadOptions, ProbeConfig
from gandoctor.errors import ConfigError
from gandoctor.loading.generator.info import GeneratorInfo, LoadedGenerator
from gandoctor.loading.generator.inspection import (
    detect_output_range,
    latent_from_attributes,
    latent_from_first_layer,
    probe_output,
)
from gandoctor.messages import check_latent_shape, check_output_range
from gandoctor.nn.generator import frozen

MODULE_FORMAT = "module"
"""``GeneratorInfo.format`` of a generator passed as a module."""


def module_names(modules: Sequence[nn.Module]) -> list[str]:
    """Report names for modules: the class name, numbered where several share it."""
    names = [type(m).__name__ for m in modules]
    return [f"{n}[{i}]" if names.count(n) > 1 else n for i, n in enumerate(names)]


def module_device(module: nn.Module) -> torch.device:
    """Where the module's parameters (else buffers) live; CPU for a module with neither."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


def check_device(name: str, module: nn.Module, config: ProbeConfig) -> None:
    """The probe runs where the module is: moving the caller's module is not ours to do."""
    have, want = module_device(module), torch.device(config.device)
    same = have.type == want.type and (
        have.index is None or want.index is None or have.index == want.index
    )
    if not same:
        raise ConfigError(
            f"{name} is on {have} but the probe runs on {want}; pass "
            f"config=ProbeConfig(device={str(have)!r}) or move the generator"
        )


def load_module(module: nn.Module, name: str, options: LoadOptions) -> LoadedGenerator:
    """A held module as a LoadedGenerator. The latent shape comes from
    ``options.latent_shape``, a ``latent_shape``/``nz``/``z_dim``/``latent_dim`` attribute
    (gandoctor's built-in architectures have one), or the first layer; the output range from
    ``options.output_range``, the class's declared ``output_range``, a final Tanh/Sigmoid,
    or the observed outputs."""
    if not isinstance(module, nn.Module):
        raise ConfigError(f"expected a checkpoint path or a torch.nn.Module, got {module!r}")
    if options.latent_shape is not None:
        latent = check_latent_shape(options.latent_shape, "latent_shape", ConfigError)
        latent_source = "option"
    else:
        found = latent_from_attributes(module)
        latent_source = "attribute"
        if found is None:
            found, latent_source = latent_from_first_layer(module), "first layer"
        if found is None:
            raise ConfigError(
                f"{name}: cannot tell the generator's latent shape (no nz/z_dim/latent_dim "
                "attribute and no Linear or ConvTranspose2d first layer); pass "
                "latent_shape=, e.g. latent_shape=(100, 1, 1)"
            )
        latent = found
    with frozen(module, train_mode=False):  # eval mode; BatchNorm statistics untouched
        output = probe_output(
            name,
            module,
            latent,
            str(module_device(module)),
            hint=""
            if latent_source == "option"
            else "if the latent shape is wrong, pass latent_shape=",
            distribution=options.latent_distribution,
            num_classes=options.num_classes,
        )
    declared = getattr(type(module), "output_range", None)
    option = options.output_range
    value_range, range_source = detect_output_range(
        module,
        output,
        None if option is None else check_output_range(option, "output_range", ConfigError),
        (float(declared[0]), float(declared[1]))
        if isinstance(declared, tuple) and len(declared) == 2
        else None,
    )
    info = GeneratorInfo(
        checkpoint=name,
        format=MODULE_FORMAT,
        architecture=type(module).__qualname__,
        arch_source=MODULE_FORMAT,
        arch_kwargs={},
        latent_shape=latent,
        latent_source=latent_source,
        output_shape=tuple(int(size) for size in output.shape[1:]),
        output_range=value_range,
        range_source=range_source,
        parameters=sum(p.numel() for p in module.parameters()),
    )
    return LoadedGenerator(module=module, info=info)
