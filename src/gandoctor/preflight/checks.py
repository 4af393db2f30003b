"""Static preflight checks: data shape and range against the generator, NaN/Inf, use of z,
train/eval behaviour and batches of one. Each returns one :class:`Check` row."""

from __future__ import annotations

import math

import torch
from torch import nn

from gandoctor.config import Thresholds
from gandoctor.loading import GeneratorInfo
from gandoctor.loading.generator.inspection import last_leaf_module, range_from_final_layer
from gandoctor.messages import describe_exception
from gandoctor.nn import metrics
from gandoctor.nn.generator import frozen, mode_matters
from gandoctor.nn.latent import LatentSpec
from gandoctor.preflight.rawdata import RawData
from gandoctor.preflight.result import Check, Status
from gandoctor.results.series import GeneratorHealth

_CONVENTIONAL = ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0))
_SLACK = 1e-3  # a normalisation's rounding error outside 0..1 or -1..1, as the array loader


def _span(r: tuple[float, float]) -> str:
    return f"[{r[0]:g}, {r[1]:g}]"


def _coverage(bound: tuple[float, float], target: tuple[float, float]) -> float:
    """Share of ``target``'s span that ``bound`` covers."""
    overlap = min(bound[1], target[1]) - max(bound[0], target[0])
    return max(0.0, overlap) / (target[1] - target[0])


def shape_check(raw: RawData, output_shape: tuple[int, ...]) -> Check:
    """Channels and resolution of the stored data against one generated sample.
    ``evidence["compatible"]`` is False when the data cannot be converted at all."""
    evidence = {"data": raw.description, "generator_output": list(output_shape)}
    if len(output_shape) == 1 or raw.features is not None:
        made = f"{output_shape[0]}-vectors" if len(output_shape) == 1 else f"{output_shape} images"
        if raw.features is None or len(output_shape) != 1 or raw.features != output_shape[0]:
            stored = f"{raw.features}-vectors" if raw.features is not None else "images"
            reason = f"the data are {stored}, the generator makes {made}"
            return Check("data shape", Status.FAIL, reason, {**evidence, "compatible": False})
        return Check("data shape", Status.PASS, f"both are {made}", evidence)
    channels, height, width = output_shape
    if raw.kind == "image folder" and channels not in (1, 3):
        reason = f"the generator makes {channels} channels; image files give 1 or 3"
        return Check("data shape", Status.FAIL, reason, {**evidence, "compatible": False})
    assert raw.channels is not None and raw.size is not None
    if raw.channels != channels and not (raw.gray_rgb and channels == 1):
        names = {1: "grey (1 channel)", 3: "colour (3 channels)"}
        stored = names.get(raw.channels, f"{raw.channels} channels")
        reason = (
            f"the data are {stored}, the generator makes {channels} channel(s): check the "
            "generator's channel argument (nc) against the data"
        )
        return Check("data shape", Status.FAIL, reason, {**evidence, "compatible": True})
    note = " (RGB files with grey content)" if raw.gray_rgb and channels == 1 else ""
    if raw.size != (height, width):
        direction = "upsampled, so real images lose detail" if raw.size[0] < height else "resized"
        reason = (
            f"the data are {raw.size[0]}x{raw.size[1]}, the generator makes {height}x{width}: "
            f"the data must be {direction} (gandoctor centre-crops and resizes; so must the "
            "training pipeline)"
        )
        return Check("data shape", Status.WARN, reason + note, evidence)
    reason = f"{channels} channel(s) at {height}x{width}, as the generator makes{note}"
    return Check("data shape", Status.PASS, reason, evidence)


def stored_range(raw: RawData) -> tuple[float, float]:
    """The conventional range the stored values are in (0..1, -1..1, 0..255), else their span."""
    for candidate in _CONVENTIONAL:
        low, high = raw.value_range
        if low >= candidate[0] - _SLACK and high <= candidate[1] + _SLACK:
            return candidate
    return raw.value_range


def range_check(
    raw: RawData, info: GeneratorInfo, module: nn.Module, health: GeneratorHealth, t: Thresholds
) -> Check:
    """What the generator can produce (its final layer's bound, its outputs now) against the
    range the data are in and the range they are scaled to."""
    target, source = info.output_range, info.range_source
    bound = range_from_final_layer(module)
    measured = (health.output_min, health.output_max)
    stored = stored_range(raw)
    evidence = {
        "data_range": list(target),
        "range_source": source,
        "final_layer_bound": bound,
        "outputs_at_init": list(measured),
        "stored_data_range": list(stored),
        "data_kind": raw.kind,
    }
    layer = type(last_leaf_module(module)).__name__ if bound else ""
    if bound is not None and source == "option" and _coverage(bound, target) < t.range_overlap:
        share = _coverage(bound, target)
        reason = (
            f"the final {layer} bounds outputs to {_span(bound)}, {share:.1%} of the data "
            f"range {_span(target)} (--output-range)"
        )
        return Check("value range", Status.FAIL, reason, evidence)
    if raw.kind != "image folder" and bound is not None and stored != target:
        share = _coverage(bound, stored)
        if share < t.range_overlap:
            reason = (
                f"the data are stored in {_span(stored)}, the final {layer} bounds outputs to "
                f"{_span(bound)} ({share:.1%} of it): rescale the data or change the layer"
            )
            return Check("value range", Status.FAIL, reason, evidence)
    if raw.features is not None and _coverage(target, raw.value_range) < t.range_overlap:
        reason = (
            f"the vectors span {_span(raw.value_range)} as stored (vectors are not rescaled), "
            f"the generator makes {_span(target)}"
        )
        return Check("value range", Status.FAIL, reason, evidence)
    width = target[1] - target[0]
    over = max(target[0] - measured[0], measured[1] - target[1], 0.0) / width
    if math.isfinite(over) and over > t.range_overshoot:
        reason = (
            f"generated values reach {measured[0]:.3g}..{measured[1]:.3g}, beyond the "
            f"range {_span(target)} by {over:.0%} of it"
        )
        return Check("value range", Status.WARN, reason, evidence)
    if source in ("observed", "default"):
        reason = (
            f"no final Tanh/Sigmoid and no --output-range: {_span(target)} was guessed from "
            f"outputs at initialisation ({measured[0]:.3g}..{measured[1]:.3g}); pass "
            "--output-range with the range the training data are scaled to"
        )
        return Check("value range", Status.WARN, reason, evidence)
    if raw.kind != "image folder" and stored != target:
        reason = (
            f"the array is stored in {_span(stored)}, the generator makes {_span(target)}: "
            "gandoctor rescales it, make sure the training code does too"
        )
        return Check("value range", Status.WARN, reason, evidence)
    made = f"final {layer} {_span(bound)}" if bound else f"{_span(target)} ({source})"
    reason = (
        f"generator {made}, generated values {measured[0]:.3g}..{measured[1]:.3g}; "
        f"data stored in {_span(stored)}, scaled to {_span(target)}"
    )
    return Check("value range", Status.PASS, reason, evidence)


def finite_check(health: GeneratorHealth) -> Check:
    evidence = {
        "nonfinite_parameters": health.nonfinite_parameters,
        "nonfinite_output_share": health.nonfinite_output_share,
    }
    if health.nonfinite_parameters:
        reason = f"{health.nonfinite_parameters} NaN/Inf values among the weights and buffers"
        return Check("NaN/Inf", Status.FAIL, reason, evidence)
    if health.nonfinite_output_share > 0:
        reason = f"{health.nonfinite_output_share:.1%} of the output values are NaN/Inf"
        return Check("NaN/Inf", Status.FAIL, reason, evidence)
    return Check("NaN/Inf", Status.PASS, "weights and outputs are finite", evidence)


def uses_z_check(health: GeneratorHealth, t: Thresholds) -> Check:
    ratio = health.spread_ratio
    evidence = {
        "spread_ratio": ratio,
        "output_spread": health.output_spread,
        "real_spread": health.real_spread,
        "threshold": t.ignores_z_ratio,
    }
    if not math.isfinite(health.output_spread):
        return Check("uses z", Status.SKIP, "outputs are not finite", evidence)
    text = f"samples vary {ratio:.2g} times as much across z as the real data do"
    if ratio < t.ignores_z_ratio:
        return Check("uses z", Status.FAIL, f"{text}: the generator ignores z", evidence)
    return Check("uses z", Status.PASS, text, evidence)


def mode_check(
    generator: nn.Module,
    spec: LatentSpec,
    batch: int,
    calibrate: int,
    untrained: bool,
    t: Thresholds,
) -> Check:
    """Train- against eval-mode outputs for the same z. An untrained generator's BatchNorm
    statistics are first averaged over ``calibrate`` train-mode batches on a copy, as
    training would; a checkpoint is compared as it is."""
    if not mode_matters(generator):
        return Check("train/eval mode", Status.PASS, "no BatchNorm, dropout or instance norm")
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    frozen_stats = [m for m in norms if m.momentum == 0 and m.track_running_stats]
    rng = torch.Generator().manual_seed(0)
    # No copy: frozen() restores every buffer and momentum it changes, and a copy would fail
    # on generators that keep computed tensors as attributes (spectral norm's weight).
    model = generator
    with frozen(model, train_mode=False), torch.no_grad():
        if untrained:
            for m in model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.momentum = None  # a cumulative average: the statistics training converges to
                    m.reset_running_stats()
            model.train()
            for _ in range(calibrate):
                model(*spec.sample(batch, rng))
        inputs = spec.sample(batch, rng)
        model.eval()
        eval_out = model(*inputs)
        model.train()
        difference = metrics.relative_difference(model(*inputs), eval_out)
    evidence = {
        "train_eval_difference": difference,
        "calibration_batches": calibrate if untrained else 0,
        "zero_momentum_layers": len(frozen_stats),
    }
    after = f" after averaging BatchNorm statistics over {calibrate} batches" if untrained else ""
    text = f"train- and eval-mode outputs differ by {difference:.0%}{after}"
    if frozen_stats:
        reason = (
            f"{len(frozen_stats)} BatchNorm layer(s) have momentum 0: their running statistics "
            "never update, so eval-mode samples use the initial mean 0 and variance 1"
        )
        return Check("train/eval mode", Status.WARN, reason, evidence)
    if not math.isfinite(difference) or difference > t.mode_mismatch_ratio:
        reason = f"{text}: samples drawn in eval mode will not look like those trained"
        return Check("train/eval mode", Status.WARN, reason, evidence)
    return Check("train/eval mode", Status.PASS, text, evidence)


def batch_of_one_check(
    generator: nn.Module, spec: LatentSpec, disc: nn.Module | None, real: torch.Tensor | None
) -> Check:
    """Train-mode forward passes on a batch of one: a last, short batch of a data loader
    (the PyTorch DCGAN example draws z for as many samples as the real batch holds)."""
    inputs = spec.sample(1, torch.Generator().manual_seed(0))
    with frozen(generator, train_mode=True), torch.no_grad():
        try:
            generator(*inputs)
        except Exception as exc:  # user code: any error is the finding
            reason = (
                f"the generator fails on a batch of 1 in train mode ({describe_exception(exc)}); "
                "BatchNorm needs 2 samples or more: drop the last short batch (drop_last=True)"
            )
            return Check("batch of 1", Status.FAIL, reason, {"model": "generator"})
    if disc is not None and real is not None:
        was = disc.training
        try:
            disc.train()
            with torch.no_grad():
                disc(real[:1])
        except Exception as exc:
            reason = (
                f"the discriminator fails on a batch of 1 in train mode "
                f"({describe_exception(exc)}): drop the last short batch (drop_last=True)"
            )
            return Check("batch of 1", Status.FAIL, reason, {"model": "discriminator"})
        finally:
            disc.train(was)
    models = "generator and discriminator run" if disc is not None else "generator runs"
    return Check("batch of 1", Status.PASS, f"the {models} on a batch of 1 in train mode")
