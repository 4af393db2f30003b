"""Measuring the checkpoint's own discriminator: no training, the probe's held-out reals and
fixed held-out latents (probing.setup.draw with the probe's seed), so its figures sit
beside the probe D's.

A minibatch-std D (StyleGAN2's) mixes the samples of a group: every batch it sees is a
multiple of its group size (``group_size`` on the module), and the reals and fakes are never
mixed in one call. A D with BatchNorm runs as it was trained, in train mode on batches of
only reals or only fakes (the PyTorch examples' loop), its running statistics untouched:
in eval mode such a D can call everything real (measured: held-out accuracy 0.5 in eval
mode, 0.94 in train mode, for a small DCGAN D after 150 steps), which is not the signal the
generator trained on.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from gandoctor.analyses import own_d_passes as passes
from gandoctor.analyses.memorisation import memorisation
from gandoctor.nn import metrics
from gandoctor.nn.generator import frozen, generate, mode_matters
from gandoctor.nn.latent import GeneratorInputs, first
from gandoctor.results.own_discriminator import OwnDiscriminator, Spread


def _cycled(labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
    """``labels`` repeated to length ``n`` (None stays None)."""
    if labels is None:
        return None
    return labels.repeat((n + len(labels) - 1) // len(labels), *([1] * (labels.dim() - 1)))[:n]


def _spread(values: torch.Tensor) -> Spread:
    values = values.double()
    return Spread(float(values.mean()), float(values.std()) if len(values) > 1 else 0.0)


def measure_own_discriminator(
    disc: nn.Module,
    generator: nn.Module,
    params: list[nn.Parameter],
    heldout_real: torch.Tensor,
    heldout_latents: list[GeneratorInputs],
    train_real: torch.Tensor,
    *,
    unseen_real: torch.Tensor | None = None,
    unseen: str | None = None,
    architecture: str,
    source: str,
    loss: str = "non-saturating (assumed)",
    augment_p: float | None = None,
    r1_gamma: float | None = None,
    seed: int = 0,
    grad_batches: int | None = None,
    grad_batch_size: int | None = None,
    samples: int | None = None,
    slope_samples: int | None = None,
) -> OwnDiscriminator:
    """Every figure of :class:`OwnDiscriminator`. ``generator`` is frozen by the caller
    (``params`` are its floating-point parameters, as the probe takes them); ``disc`` is in
    eval mode and never updated. ``unseen_real`` are reals the GAN never trained on, from
    ``unseen`` (``--val-data``). The gradient norms are taken over the first
    ``grad_batch_size`` samples of the first ``grad_batches`` latent batches, as the
    probe's plan took its own (None: all of them), the other figures over at most
    ``samples`` of the held-out, training and generated samples (None: all), and D's slopes
    (R1, R2, the interpolates' norm) over the first ``slope_samples`` of those (None: all;
    own_d_passes.slope_count)."""
    if samples is not None:
        heldout_latents = _first_samples(heldout_latents, samples)
        heldout_real, train_real = heldout_real[:samples], train_real[:samples]
    count = grad_batches or len(heldout_latents)
    grad_latents = [first(z, grad_batch_size or len(z[0])) for z in heldout_latents[:count]]
    with frozen(disc, train_mode=mode_matters(disc)):
        for p in disc.parameters():
            p.requires_grad_(False)
        figures = _figures(disc, generator, params, heldout_real, heldout_latents, grad_latents,
                           train_real, unseen_real, seed, slope_samples)  # fmt: skip
    return OwnDiscriminator(
        architecture=architecture,
        source=source,
        loss=loss,
        augment_p=augment_p,
        r1_gamma=r1_gamma,
        unseen=unseen if unseen_real is not None else None,
        **figures,
    )


def _first_samples(batches: list[GeneratorInputs], n: int) -> list[GeneratorInputs]:
    """The batches that hold the first ``n`` samples, the last one cut to fit."""
    kept: list[GeneratorInputs] = []
    for inputs in batches:
        if n <= 0:
            break
        kept.append(first(inputs, n))
        n -= len(inputs[0])
    return kept


def _joined(batches: list[passes.GradientBatch]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The slopes and logits of ``batches``, one after the other; None for none."""
    if not batches:
        return None
    slopes = [b.slopes for b in batches if b.slopes is not None]
    logits = [b.logits for b in batches if b.logits is not None]
    return torch.cat(slopes), torch.cat(logits)


def _first(labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
    return None if labels is None else labels[:n]


def _figures(disc: nn.Module, generator: nn.Module, params: list[nn.Parameter],
             heldout_real: torch.Tensor, heldout_latents: list[GeneratorInputs],
             grad_latents: list[GeneratorInputs], train_real: torch.Tensor,
             unseen_real: torch.Tensor | None, seed: int,
             slope_samples: int | None) -> dict[str, Any]:  # fmt: skip
    """The measured fields of :class:`OwnDiscriminator`."""
    fake_batches, mm, ns = [], [], []
    # A per-sample D's slopes and logits at the gradient batches' fakes, as far as those
    # are the first of the fakes (all of them in the full protocol): no pass runs there again.
    known: list[passes.GradientBatch] = []
    prefix = True
    for index, inputs in enumerate(heldout_latents):
        taken = 0
        if index < len(grad_latents):
            batch = passes.gradient_batch(disc, generator, params, grad_latents[index])
            mm.append(batch.minimax)
            ns.append(batch.nonsat)
            fake_batches.append(batch.fake)
            taken = len(batch.fake)
            prefix = prefix and batch.slopes is not None
            known += [batch] if prefix else []
        if taken < len(inputs[0]):  # the rest, for the held-out figures only
            with torch.no_grad():
                rest = tuple(t[taken:] for t in inputs)
                fake_batches.append(generate(generator, rest, heldout_real[0].numel()))
            prefix = False
    fakes = torch.cat(fake_batches)
    n = min(len(heldout_real), len(fakes), len(train_real))
    real, train = heldout_real[:n], train_real[:n]
    labels = [passes.labels_of(i) for i in heldout_latents]
    # The reals have no labels: a conditional D is asked about them with the labels drawn
    # for the fakes at the same positions (uniform classes), so its real-side figures are
    # those of a D that does not know the class.
    drawn = [lab for lab in labels if lab is not None]
    classes = torch.cat(drawn)[:n] if drawn else None
    # R1 and R2 are taken at the held-out reals and fakes: their passes give those logits.
    s = passes.slope_count(disc, n, slope_samples)
    r1_slopes, real_logits = passes.slopes_and_logits(disc, real, classes, s)
    at_fakes = _joined(known)
    r2_slopes, fake_logits = passes.slopes_and_logits(disc, fakes[:n], classes, s, at_fakes)
    with torch.no_grad():
        train_logits = passes.chunked(disc, train, classes)
        unseen_logits = real_logits
        if unseen_real is not None:
            unseen = _cycled(classes, len(unseen_real))
            unseen_logits = passes.chunked(disc, unseen_real, unseen)
    stats = metrics.heldout_stats(real_logits, fake_logits)
    # r_v and the AUC against reals the GAN never saw where given, else the held-out split.
    memo = memorisation(train_logits, unseen_logits, fake_logits)
    shape = (n,) + (1,) * (fakes.dim() - 1)
    alpha = torch.rand(shape, generator=torch.Generator().manual_seed(seed)).to(fakes.device)
    mixed = (alpha * real + (1 - alpha) * fakes[:n])[:s]
    return dict(
        heldout_accuracy=stats.accuracy,
        mean_d_real=stats.d_real,
        mean_d_fake=stats.d_fake,
        js_lower_bound=stats.js_lower_bound,
        minimax_grad_norm=_spread(torch.tensor(mm)),
        nonsat_grad_norm=_spread(torch.tensor(ns)),
        r1=_spread(r1_slopes.square()),
        r2=_spread(r2_slopes.square()),
        gp_norm=_spread(passes.input_gradients(disc, mixed, _first(classes, s))[0]),
        r_t=memo.r_t,
        r_v=memo.r_v if math.isfinite(memo.r_v) else math.nan,
        r_t_uncertainty=memo.r_t_uncertainty,
        r_v_uncertainty=memo.r_v_uncertainty,
        unseen_auc=memo.auc if unseen_real is not None else None,
        unseen_auc_uncertainty=memo.auc_uncertainty if unseen_real is not None else 0.0,
        latent_batches=len(grad_latents),
        r1_samples=len(r1_slopes),
    )
