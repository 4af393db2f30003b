"""What goes into a generator and what comes out: latent shape, output shape, output range.
The loader asks in order of trust: the user's option, what the architecture declares, what
the module says about itself, and last what one forward pass shows."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import redirect_stdout
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import UninitializedParameter

from gandoctor.enums import LatentDistribution
from gandoctor.errors import CheckpointError
from gandoctor.loading.generator.forward import ForwardAdapter
from gandoctor.loading.generator.raised import ForwardFailed, raising_frame
from gandoctor.messages import check_latent_shape, describe_exception, format_shape
from gandoctor.nn.latent import LatentSpec

LATENT_ATTRIBUTES = ("latent_shape", "nz", "z_dim", "latent_dim")
"""Attribute names generators commonly use for their input size, most specific first."""

PROBE_BATCH = 4
"""Latent vectors in the forward pass that reveals the output: more than one, so that layers
that need a batch (BatchNorm in train mode, minibatch discrimination) still run, and few, so a
large generator answers quickly."""

PROBE_SEED = 0
"""The same latents every time, so ``inspect`` reports the same observed range every run."""

# How far outside a conventional range observed values may stray and still be called that
# range: a few percent covers generators without a final squashing layer whose outputs were
# trained towards [-1, 1] or [0, 1] and overshoot slightly.
_SLACK = 0.05
_BYTE_MAX = 255.0


def sample_latents(
    latent_shape: tuple[int, ...],
    n: int,
    generator: torch.Generator,
    device: str = "cpu",
) -> torch.Tensor:
    """``n`` standard-normal latent vectors, shape ``(n, *latent_shape)``, on ``device``.

    They are drawn on ``generator``'s device and then moved, so a CPU generator gives the same
    numbers whatever device the probe runs on.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    latents = torch.randn((n, *latent_shape), generator=generator, device=generator.device)
    return latents.to(device)


def first_parameterised_layer(module: nn.Module) -> nn.Module | None:
    """The first submodule, in registration order, that owns parameters itself."""
    for submodule in module.modules():
        if next(submodule.parameters(recurse=False), None) is not None:
            return submodule
    return None


def latent_from_attributes(module: nn.Module) -> tuple[int, ...] | None:
    """A latent shape from attributes such as ``nz`` or ``latent_shape``, if present and sane:
    the module's own, then its ``config``'s (BigGAN keeps ``z_dim`` there, not on itself).

    A bare size ``n`` becomes ``(n, 1, 1)`` when the first layer is a ConvTranspose2d (the
    DCGAN convention of a 1x1 "image" of n channels) and ``(n,)`` otherwise.
    """
    image_like = isinstance(first_parameterised_layer(module), nn.ConvTranspose2d)
    if isinstance(module, ForwardAdapter):  # --forward-kwargs and the like: G's own attributes
        module = module.generator
    config = getattr(module, "config", None)
    for owner in (module, config) if config is not None else (module,):
        for name in LATENT_ATTRIBUTES:
            value: Any = owner.get(name) if isinstance(owner, dict) else getattr(owner, name, None)
            if isinstance(value, torch.Size):
                value = tuple(value)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return (value, 1, 1) if image_like else (value,)
            if isinstance(value, Sequence) and not isinstance(value, str):
                try:
                    return check_latent_shape(value, name, CheckpointError)
                except CheckpointError:
                    continue  # an unrelated attribute of that name; try the next one
    return None


def latent_from_first_layer(module: nn.Module) -> tuple[int, ...] | None:
    """``(in,)`` for a first nn.Linear, ``(in, 1, 1)`` for a first nn.ConvTranspose2d.

    The size is read from the loaded weight rather than ``in_features``/``in_channels``: a lazy
    layer (nn.LazyLinear) gets its weight from the checkpoint but keeps a zero ``in_features``
    until its first forward. Spectral and weight normalisation store the weight under other
    names (``weight_orig``, ``weight_v``, ``parametrizations.weight.original``, a SAGAN-style
    wrapper's ``weight_bar``); the shape is the same.
    """
    layer = first_parameterised_layer(module)
    if not isinstance(layer, nn.Linear | nn.ConvTranspose2d):
        return None
    weight = _stored_weight(layer)
    if weight is None:
        return None
    # Linear weights are (out, in); ConvTranspose2d weights are (in, out / groups, kH, kW).
    if isinstance(layer, nn.Linear):
        return (int(weight.shape[1]),)
    return (int(weight.shape[0]), 1, 1)


_WEIGHT_NAMES = ("weight_orig", "weight_v", "weight_bar")


def _stored_weight(layer: nn.Module) -> torch.Tensor | None:
    """The layer's weight as stored, whatever normalisation renamed it; None if unknown."""
    candidates = [p for n, p in layer.named_parameters() if n in _WEIGHT_NAMES]
    candidates += [p for n, p in layer.named_parameters() if n.endswith("weight.original")]
    weight = layer.__dict__.get("_parameters", {}).get("weight")
    found = weight if isinstance(weight, torch.Tensor) else next(iter(candidates), None)
    if found is None or isinstance(found, UninitializedParameter) or found.dim() < 2:
        return None
    return found


def infer_latent_shape(path: str, module: nn.Module) -> tuple[tuple[int, ...], str]:
    """Latent shape and its source (``"attribute"`` or ``"first layer"``) for an unknown
    architecture; raises :class:`CheckpointError` asking for ``--latent-shape`` otherwise."""
    shape = latent_from_attributes(module)
    if shape is not None:
        return shape, "attribute"
    shape = latent_from_first_layer(module)
    if shape is not None:
        return shape, "first layer"
    layer = first_parameterised_layer(module)
    found = "has no parameters" if layer is None else f"starts with {type(layer).__name__}"
    raise CheckpointError(
        f"{path}: cannot tell the generator's latent shape ({type(module).__name__} {found} "
        "and has no nz/z_dim/latent_dim attribute); pass {opt:latent_shape}, e.g. 100,1,1"
    )


def probe_output(
    path: str,
    module: nn.Module,
    latent_shape: tuple[int, ...],
    device: str,
    *,
    hint: str = "",
    distribution: LatentDistribution = LatentDistribution.NORMAL,
    num_classes: int | None = None,
) -> torch.Tensor:
    """Run ``module`` once on a fixed small latent batch and return its checked output.

    The module must already be in the mode the caller wants (eval); gradients are off so the
    pass costs only a forward. ``hint`` is appended to a forward failure, e.g. to suggest
    ``--latent-shape`` when the shape was guessed.
    """
    generator = torch.Generator().manual_seed(PROBE_SEED)
    spec = LatentSpec(latent_shape, distribution, num_classes)
    inputs = spec.sample(PROBE_BATCH, generator, device)
    latents = inputs[0]
    suffix = f"; {hint}" if hint else ""
    if num_classes is not None:
        suffix += f" (called as G(z, labels) with {num_classes} classes, from --num-classes)"
    try:
        # Prints of user code go to stderr: stdout may carry the report (--json -).
        with torch.no_grad(), redirect_stdout(sys.stderr):
            output = module(*inputs)
    except (Exception, SystemExit) as exc:  # SystemExit: user code calling sys.exit()
        # User code may raise anything; the message keeps its type and text on one line.
        cause = describe_exception(exc)
        bare = (
            f"{path}: the generator's forward failed on a latent of shape "
            f"{format_shape(latents.shape)}: {cause}{raising_frame(exc)}"
        )
        raise ForwardFailed(bare + suffix, bare, cause) from exc
    if not isinstance(output, torch.Tensor):
        raise CheckpointError(
            f"{path}: the generator's forward returned a {type(output).__name__}, not a tensor; "
            "pass {opt:output_index} N (or a dict key) to take the samples from it, or an "
            "{opt:adapter}"
        )
    if not output.is_floating_point():
        raise CheckpointError(
            f"{path}: the generator's forward returned dtype {output.dtype}; "
            "gradients need a floating-point output"
        )
    if output.dim() not in (2, 4) or output.shape[0] != PROBE_BATCH:
        raise CheckpointError(
            f"{path}: the generator's forward returned shape {format_shape(output.shape)} for "
            f"{PROBE_BATCH} latents; expected ({PROBE_BATCH}, D) vectors or "
            f"({PROBE_BATCH}, C, H, W) images"
        )
    return output


def latent_candidates(guess: tuple[int, ...]) -> list[tuple[int, ...]]:
    """A guessed latent size n as guessed, then the other of (n,) and (n, 1, 1): never a
    shape with more dimensions than a first Linear or ConvTranspose2d takes."""
    n = guess[0]
    if guess not in ((n,), (n, 1, 1)):
        return [guess]
    return [guess, (n, 1, 1) if guess == (n,) else (n,)]


def probe_first_working(
    path: str,
    module: nn.Module,
    candidates: list[tuple[int, ...]],
    device: str,
    **probe: Any,
) -> tuple[tuple[int, ...], torch.Tensor, list[str]]:
    """The first latent shape of ``candidates`` whose forward runs, its output, and the shapes
    whose forward failed before it (``probe_output``'s keyword arguments pass through). A
    forward that runs but returns something unusable is the answer, not a reason to try the
    next shape. Where no forward runs, the error is that of the first candidate."""
    tried: list[str] = []
    failures: list[ForwardFailed] = []
    for shape in candidates:
        try:
            return shape, probe_output(path, module, shape, device, **probe), tried
        except ForwardFailed as exc:
            failures.append(exc)
            tried.append(f"{shape} failed")
    first = failures[0] if failures else None
    assert first is not None, "no latent shape to try"
    if len(failures) > 1 and len({failure.cause for failure in failures}) == 1:
        # Every shape raised the very same error: the shape is not its cause, and a hint to
        # pass another would send the user after the wrong thing.
        shapes = " and ".join(format_shape(shape) for shape in candidates)
        raise ForwardFailed(
            f"{first.bare}; the same error for latent shapes {shapes}, so the shape is not "
            "its cause"
        ) from first
    raise first


def last_leaf_module(module: nn.Module) -> nn.Module:
    """The last module without children, in registration order (usually the output layer)."""
    leaves = [sub for sub in module.modules() if next(sub.children(), None) is None]
    return leaves[-1] if leaves else module


def range_from_final_layer(module: nn.Module) -> tuple[float, float] | None:
    """The range a squashing output layer guarantees, if the module ends in one."""
    last = last_leaf_module(module)
    if isinstance(last, nn.Tanh):
        return (-1.0, 1.0)
    if isinstance(last, nn.Sigmoid):
        return (0.0, 1.0)
    if isinstance(last, nn.Hardtanh):  # also ReLU6: a clamp to [min_val, max_val]
        return (float(last.min_val), float(last.max_val))
    return None


def detect_output_range(
    module: nn.Module,
    output: torch.Tensor,
    option: tuple[float, float] | None = None,
    declared: tuple[float, float] | None = None,
) -> tuple[tuple[float, float], str]:
    """The generator's output range and where it came from, first found of: the user's
    ``option``; the architecture's ``declared`` range; a final Tanh or Sigmoid; the values
    in ``output`` (snapped to the conventional ranges)."""
    if option is not None:
        return option, "option"
    if declared is not None:
        return declared, "architecture"
    final = range_from_final_layer(module)
    if final is not None:
        return final, "architecture"
    return range_from_values(output)


def range_from_values(output: torch.Tensor) -> tuple[tuple[float, float], str]:
    """Guess the intended value range from observed outputs.

    Observed values are snapped to the conventional ranges, because a few samples of a
    generator without a final tanh rarely reach the bounds it was trained towards. With no
    finite value at all (NaN weights) the range falls back to (-1, 1), source ``"default"``:
    that generator is reported as broken by the probe, not refused here.
    """
    finite = output.detach()[torch.isfinite(output.detach())]
    if finite.numel() == 0:
        return (-1.0, 1.0), "default"
    low, high = float(finite.min()), float(finite.max())
    if low >= -1 - _SLACK and high <= 1 + _SLACK and low < 0:
        return (-1.0, 1.0), "observed"
    if low >= -_SLACK and high <= 1 + _SLACK:
        return (0.0, 1.0), "observed"
    if low >= 0 and 1.5 < high <= _BYTE_MAX * (1 + _SLACK):
        return (0.0, _BYTE_MAX), "observed"
    if low == high:
        # A constant output (a generator ignoring z) gives no usable span; the probe reports
        # it, and a unit range keeps later rescaling finite.
        return (-1.0, 1.0), "default"
    return (low, high), "observed"
