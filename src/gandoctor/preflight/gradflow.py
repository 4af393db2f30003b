"""Gradient flow at initialisation: each generator layer's gradient under both costs, through
a freshly initialised probe D or the user's own D (the per-layer figures of ``--layers``)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from gandoctor.analyses.layers import LayerRecorder
from gandoctor.config import Thresholds
from gandoctor.messages import describe_exception
from gandoctor.nn.discriminators import build_probe_discriminator
from gandoctor.nn.generator import frozen
from gandoctor.nn.latent import GeneratorInputs
from gandoctor.preflight.build import disc_costs, ends_in_sigmoid
from gandoctor.preflight.result import Check, Status
from gandoctor.probing.setup import seeded
from gandoctor.results.layers import LayerGradient


def gradient_flow(
    generator: nn.Module,
    z_batches: list[GeneratorInputs],
    output_shape: tuple[int, ...],
    disc: nn.Module | None,
    seed: int,
    train_mode: bool,
    t: Thresholds,
) -> list[Check]:
    """Rows: the user's D taking G's output (with ``--disc``), dead layers, layer balance."""
    rows: list[Check] = []
    device = next(iter(generator.parameters()), torch.empty(0)).device
    if disc is None:
        with seeded(seed):  # the same fresh D as the probe's first step
            probe_d = build_probe_discriminator(output_shape, None).to(device)
        used, probabilities = probe_d, False
    else:
        used, probabilities = disc.train(), ends_in_sigmoid(disc)
    n = len(z_batches[0][0])
    with frozen(generator, train_mode) as params:
        recorder = LayerRecorder(generator, params)
        for inputs in z_batches:
            fake = generator(*inputs)
            try:
                out = used(fake)
            except Exception as exc:  # user code: a D that cannot take G's output
                reason = f"D fails on the generator's output {tuple(fake.shape)}: "
                rows.append(Check("discriminator", Status.FAIL, reason + describe_exception(exc)))
                return rows + _skipped("the discriminator failed")
            if not isinstance(out, torch.Tensor) or out.shape[:1] != (n,):
                shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                reason = f"D returns {shape} for a batch of {n}; expected ({n}, ...) scores"
                return [
                    *rows,
                    Check("discriminator", Status.FAIL, reason),
                    *_skipped("the discriminator failed"),
                ]
            minimax, nonsat = disc_costs(out, probabilities)
            recorder.norm("minimax", minimax, retain_graph=True)
            recorder.norm("nonsat", nonsat)
        recorder.end_measurement(0)
    if disc is not None:
        kind = "probabilities (final Sigmoid)" if probabilities else "logits"
        reason = f"D maps the generator's {tuple(fake.shape)} output to {tuple(out.shape)} {kind}"
        rows.append(Check("discriminator", Status.PASS, reason))
    result = recorder.result()
    assert result is not None  # one measurement was recorded
    layers = result.layers
    evidence = {
        "discriminator": "user" if disc is not None else "probe",
        "layers": [_layer_facts(layer) for layer in layers],
    }
    return [*rows, _dead_check(layers, evidence), _balance_check(layers, evidence, t)]


def _layer_facts(layer: LayerGradient) -> dict[str, Any]:
    return {
        "layer": layer.name,
        "type": layer.kind,
        "parameters": layer.parameters,
        "minimax": layer.minimax[0],
        "nonsat": layer.nonsat[0],
        "nonsat_rms": _rms(layer),
    }


def _rms(layer: LayerGradient) -> float:
    """The layer's gradient per weight (norm / sqrt(elements)): layers of different sizes
    compare on the scale an optimizer step sees."""
    return layer.nonsat[0] / math.sqrt(layer.parameters) if layer.parameters else 0.0


def _dead_check(layers: list[LayerGradient], evidence: dict[str, Any]) -> Check:
    values = [v for layer in layers for v in (layer.minimax[0], layer.nonsat[0])]
    if not all(math.isfinite(v) for v in values):
        return Check(
            "gradient flow: dead layers",
            Status.FAIL,
            "a gradient norm is NaN/Inf at initialisation",
            evidence,
        )
    dead = [layer for layer in layers if layer.dead]
    if not layers or len(dead) == len(layers):
        return Check(
            "gradient flow: dead layers",
            Status.FAIL,
            "no gradient reaches any generator weight",
            evidence,
        )
    if dead:
        names = ", ".join(f"{layer.name} ({layer.kind})" for layer in dead[:4])
        more = f" and {len(dead) - 4} more" if len(dead) > 4 else ""
        reason = (
            f"{len(dead)} of {len(layers)} layers get exactly zero gradient under both costs: "
            f"{names}{more}; they will never train"
        )
        return Check("gradient flow: dead layers", Status.FAIL, reason, evidence)
    reason = (
        f"all {len(layers)} layers get a gradient under both costs"
        if len(layers) > 1
        else "its one layer gets a gradient under both costs"
    )
    return Check("gradient flow: dead layers", Status.PASS, reason, evidence)


def _balance_check(layers: list[LayerGradient], evidence: dict[str, Any], t: Thresholds) -> Check:
    live = [(layer, _rms(layer)) for layer in layers if _rms(layer) > 0]
    name = "gradient flow: layer balance"
    if len(live) < 2:
        return Check(name, Status.SKIP, "fewer than two layers get a gradient to compare", evidence)
    low, high = min(live, key=lambda x: x[1]), max(live, key=lambda x: x[1])
    spread = math.log10(high[1] / low[1])
    reason = (
        f"gradient per weight spans {spread:.1f} decades across layers, from {low[0].name} "
        f"({low[1]:.1e}) to {high[0].name} ({high[1]:.1e}) (-log D cost)"
    )
    evidence = {**evidence, "spread_decades": spread}
    if spread >= t.layer_spread_fail_decades:
        return Check(name, Status.FAIL, reason, evidence)
    if spread >= t.layer_spread_warn_decades:
        return Check(name, Status.WARN, reason, evidence)
    return Check(name, Status.PASS, reason, evidence)


def _skipped(why: str) -> list[Check]:
    return [
        Check("gradient flow: dead layers", Status.SKIP, why),
        Check("gradient flow: layer balance", Status.SKIP, why),
    ]
