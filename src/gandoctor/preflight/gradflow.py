"""Gradient flow at initialisation: each generator layer's gradient under both costs, through
a freshly initialised probe D or the user's own D (the per-layer figures of ``--layers``)."""

from __future__ import annotations

import copy
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
    revived: list[str] = []
    dead = {layer.name for layer in layers if layer.dead}
    if dead and len(dead) < len(layers):
        alive = _alive_after_one_step(generator, used, z_batches, probabilities, train_mode)
        revived = [layer.name for layer in layers if layer.name in dead & alive]
    dead_check = _dead_check([x for x in layers if x.name not in revived], evidence, revived)
    return [*rows, dead_check, _balance_check(layers, evidence, t)]


def _alive_after_one_step(
    generator: nn.Module,
    disc: nn.Module,
    z_batches: list[GeneratorInputs],
    probabilities: bool,
    train_mode: bool,
) -> set[str]:
    """Layers that get a gradient after one optimiser step of G.

    A zero-initialised gate (SAGAN's attention gamma) cuts the gradient to the layers behind
    it at step 0 only: the gate itself gets gradient, moves, and opens the path. A layer is
    dead when it stays without gradient after that step. The step is Adam's first (lr 2e-4,
    the DCGAN setting; its first step moves every weight with a gradient by about lr, so the
    figure does not depend on the gradients' scale), on the -log D cost, taken on a copy:
    the user's generator is never changed.
    """
    trial = copy.deepcopy(generator, _computed_attributes(generator))
    with frozen(trial, train_mode) as params:
        optimizer = torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))
        _, nonsat = disc_costs(disc(trial(*z_batches[0])), probabilities)
        optimizer.zero_grad()
        nonsat.backward()
        optimizer.step()
        recorder = LayerRecorder(trial, params)
        for inputs in z_batches:
            minimax, nonsat = disc_costs(disc(trial(*inputs)), probabilities)
            recorder.norm("minimax", minimax, retain_graph=True)
            recorder.norm("nonsat", nonsat)
        recorder.end_measurement(0)
    result = recorder.result()
    assert result is not None
    return {layer.name for layer in result.layers if not layer.dead}


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


def _dead_check(layers: list[LayerGradient], evidence: dict[str, Any], revived: list[str]) -> Check:
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
    total = len(layers) + len(revived)
    reason = (
        f"all {total} layers get a gradient under both costs"
        if total > 1
        else "its one layer gets a gradient under both costs"
    )
    if revived:
        more = f" and {len(revived) - 4} more" if len(revived) > 4 else ""
        names = ", ".join(revived[:4]) + more
        reason = (
            f"{reason}; {names} only after one optimiser step (none at initialisation, "
            "as behind a zero-initialised gate)"
        )
        evidence = {**evidence, "zero_at_initialisation": revived}
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


def _computed_attributes(generator: nn.Module) -> dict[int, torch.Tensor]:
    """A deepcopy memo that stands detached copies in for the tensors a forward left as
    plain module attributes with a graph behind them: ``torch.nn.utils.spectral_norm`` and
    ``weight_norm`` (and attn-gan-pytorch's own SpectralNorm) set ``weight`` to such a tensor
    at every forward, and torch refuses to deep-copy a tensor that is not a graph leaf. The
    next forward of the copy computes them again."""
    return {
        id(value): value.detach().clone()
        for module in generator.modules()
        for value in vars(module).values()
        if isinstance(value, torch.Tensor) and value.grad_fn is not None
    }
