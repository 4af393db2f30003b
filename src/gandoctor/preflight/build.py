"""The models preflight checks: a freshly built generator (``--arch``) or a loaded checkpoint,
and optionally the user's own discriminator (``--disc``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from gandoctor.config import LoadOptions
from gandoctor.errors import ConfigError
from gandoctor.loading import GeneratorInfo, LoadedGenerator
from gandoctor.loading.generator.inspection import (
    detect_output_range,
    infer_latent_shape,
    probe_output,
    range_from_final_layer,
)
from gandoctor.loading.layouts.custom_arch import build_arch, import_arch_class, split_arch
from gandoctor.messages import check_latent_shape, check_output_range, describe_exception
from gandoctor.nn import metrics
from gandoctor.probing.setup import seeded

UNTRAINED = "untrained"
"""The ``format`` of a generator built from ``--arch`` without a checkpoint."""


def build_untrained(options: LoadOptions, seed: int) -> LoadedGenerator:
    """Construct ``options.arch`` with its kwargs, initialised from ``seed``, and detect its
    latent shape, output shape and range as the loader does for a checkpoint."""
    if not options.arch:
        raise ConfigError("preflight needs {opt:arch} module:Class, or a checkpoint to load")
    device = torch.device(options.device)
    with seeded(seed):  # the initial weights depend on the seed only
        module = build_arch(options.arch, options.arch_kwargs).float()
    try:
        module = module.to(device).eval()
    except (RuntimeError, AssertionError) as exc:
        raise ConfigError(f"cannot use device {device}: {describe_exception(exc)}") from exc
    name = f"{{opt:arch}} {options.arch}"
    if options.latent_shape is not None:
        latent = check_latent_shape(options.latent_shape, "{opt:latent_shape}", ConfigError)
        latent_source = "option"
    else:
        latent, latent_source = infer_latent_shape(name, module)
    output = probe_output(
        name,
        module,
        latent,
        str(device),
        hint=""
        if latent_source == "option"
        else "if the latent shape is wrong, pass {opt:latent_shape}",
        distribution=options.latent_distribution,
        num_classes=options.num_classes,
    )
    option = options.output_range
    output_range, range_source = detect_output_range(
        module,
        output,
        None if option is None else check_output_range(option, "{opt:output_range}", ConfigError),
    )
    info = GeneratorInfo(
        checkpoint=UNTRAINED,
        format=UNTRAINED,
        architecture=options.arch,
        arch_source="--arch",
        arch_kwargs=dict(options.arch_kwargs),
        latent_shape=latent,
        latent_source=latent_source,
        output_shape=tuple(int(size) for size in output.shape[1:]),
        output_range=output_range,
        range_source=range_source,
        parameters=sum(p.numel() for p in module.parameters()),
    )
    return LoadedGenerator(module=module, info=info)


def build_discriminator(spec: str, kwargs: Mapping[str, Any], seed: int, device: str) -> nn.Module:
    """The user's discriminator class (``--disc``), constructed with ``--disc-kwargs`` and
    initialised from ``seed``."""
    try:
        split_arch(spec)
        import_arch_class(spec)
        with seeded(seed):
            disc = build_arch(spec, kwargs)
    except ConfigError as error:
        # The builders speak of --arch; here the same rules apply to --disc.
        text = error.template.split(" (registered architectures")[0]
        raise ConfigError(
            text.replace("{opt:arch_kwargs}", "{opt:disc_kwargs}").replace(
                "{opt:arch}", "{opt:disc}"
            )
        ) from error
    try:
        return disc.float().to(device)
    except (RuntimeError, AssertionError) as exc:
        raise ConfigError(f"cannot use device {device}: {describe_exception(exc)}") from exc


def ends_in_sigmoid(disc: nn.Module) -> bool:
    """Whether D outputs probabilities (a final Sigmoid, as in the PyTorch DCGAN example)
    rather than logits."""
    return range_from_final_layer(disc) == (0.0, 1.0)


def disc_costs(out: torch.Tensor, probabilities: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The two generator costs from D's output on a batch: minimax E[log(1 - D(G(z)))] and
    E[-log D(G(z))], averaged over every value D gives (one per sample, or a map of patches
    per sample, as PatchGAN losses average). From logits as the probe computes them; from
    probabilities as training code with a final Sigmoid and BCELoss does."""
    values = out.reshape(-1)
    if probabilities:
        return torch.log1p(-values).mean(), -torch.log(values).mean()
    return metrics.minimax_cost(values), metrics.nonsaturating_cost(values)
