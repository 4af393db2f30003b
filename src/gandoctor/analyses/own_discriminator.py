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
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from gandoctor.analyses.memorisation import memorisation
from gandoctor.nn import metrics
from gandoctor.nn.backward import samples_per_backward, summed_gradients
from gandoctor.nn.generator import frozen, generate, mode_matters
from gandoctor.nn.latent import GeneratorInputs, first
from gandoctor.results.own_discriminator import OwnDiscriminator, Spread

Logits = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]
"""``logits(samples, labels)``: the D's raw output for a batch."""
CHUNK = 64
"""Samples per call: a multiple of every minibatch-std group size in use (4, 8, 16, 32)."""


def chunked(disc: nn.Module, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """D's logits for ``x`` in calls of whole minibatch-std groups; a remainder that is not a
    whole group is dropped (at most group size - 1 samples)."""
    group = int(getattr(disc, "group_size", 1) or 1)
    size = max(group, CHUNK - CHUNK % group)
    usable = len(x) - len(x) % group if len(x) >= group else len(x)
    outs = []
    for start in range(0, usable, size):
        part = x[start : min(start + size, usable)]
        args = (part,) if labels is None else (part, labels[start : start + len(part)])
        outs.append(disc(*args).reshape(len(part), -1)[:, 0].float())
    return torch.cat(outs)


def _labels(inputs: GeneratorInputs) -> torch.Tensor | None:
    return inputs[1] if len(inputs) > 1 else None


def _cycled(labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
    """``labels`` repeated to length ``n`` (None stays None)."""
    if labels is None:
        return None
    return labels.repeat((n + len(labels) - 1) // len(labels), *([1] * (labels.dim() - 1)))[:n]


def _input_gradients(disc: nn.Module, x: torch.Tensor, labels: torch.Tensor | None
                     ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Per-sample ||grad_x sum(D(x))||, D's slope at each sample (no parameter grads), and
    the logits on the way (the same values a pass without a graph gives)."""
    x = x.detach().requires_grad_(True)
    logits = chunked(disc, x, labels)
    (grad,) = torch.autograd.grad(logits.sum(), x)
    return grad[: len(logits)].flatten(1).double().norm(dim=1), logits.detach()


def _slopes_and_logits(disc: nn.Module, x: torch.Tensor, labels: torch.Tensor | None,
                       count: int) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """D's slope at the first ``count`` samples of ``x`` (_input_gradients) and its logits at
    all of them, the rest in a pass without a graph."""
    slopes, logits = _input_gradients(disc, x[:count], None if labels is None else labels[:count])
    if count < len(x):
        with torch.no_grad():
            rest = chunked(disc, x[count:], None if labels is None else labels[count:])
        logits = torch.cat([logits, rest])
    return slopes, logits


def _slope_count(disc: nn.Module, n: int, slope_samples: int | None) -> int:
    """How many of ``n`` samples the slopes are taken at: ``slope_samples`` in whole
    minibatch-std groups, or all ``n`` where the D's logits depend on its batch's
    statistics (BatchNorm in train mode: a smaller batch would change every logit)."""
    if slope_samples is None or slope_samples >= n or mode_matters(disc):
        return n
    group = int(getattr(disc, "group_size", 1) or 1)
    return min(n, -(-slope_samples // group) * group)


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
    _slope_count)."""
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


def _gradient_norms(
    disc: nn.Module, generator: nn.Module, params: list[nn.Parameter], latents: GeneratorInputs
) -> tuple[torch.Tensor, tuple[float, float]]:
    """G(z) and both costs' gradient norms at it. D sees the whole batch (its minibatch
    layers make a logit depend on the others), G's backward pass runs in chunks whose
    graphs fit in memory (nn.backward), which gives the whole batch's gradient."""
    with torch.no_grad():
        fake = generator(*latents)
    d_minimax, d_nonsat = _cost_gradients(disc, fake, _labels(latents))

    def forward(inputs: GeneratorInputs) -> torch.Tensor:
        return generator(*inputs)

    chunk = samples_per_backward(forward, latents)
    grads = summed_gradients(forward, params, latents, [d_minimax, d_nonsat], chunk)
    norms = [metrics.norm_of(metrics.squares_of(g)) for g in grads]
    return fake, (norms[0], norms[1])


def _per_sample(disc: nn.Module) -> bool:
    """Whether sample i's logit depends on sample i alone: a build that says so
    (``group_size`` 1: no minibatch-std layer) and has no layer whose train mode reads the
    batch. A D that does not say (``--disc``) is not assumed to."""
    return getattr(disc, "group_size", None) == 1 and not mode_matters(disc)


def _cost_gradients(disc: nn.Module, fake: torch.Tensor, labels: torch.Tensor | None
                    ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """d cost / d G(z) for the minimax and the -log D cost. Where each logit depends on its
    own sample only, both are c'(l_i) * dl_i/dG(z)_i with c'(l) = -sigmoid(l) / n and
    -sigmoid(-l) / n (the probe's measurement does the same, probing.steps): one backward
    pass through D instead of two."""
    at = fake.detach().requires_grad_()
    logits = chunked(disc, at, labels)
    if not _per_sample(disc):
        (d_minimax,) = torch.autograd.grad(metrics.minimax_cost(logits), at, retain_graph=True)
        (d_nonsat,) = torch.autograd.grad(metrics.nonsaturating_cost(logits), at)
        return d_minimax, d_nonsat
    (logit_grads,) = torch.autograd.grad(logits.sum(), at)
    shape = (-1,) + (1,) * (logit_grads.dim() - 1)
    logits = logits.detach()
    minimax_weights = -torch.sigmoid(logits) / len(logits)
    nonsat_weights = -torch.sigmoid(-logits) / len(logits)
    return minimax_weights.view(shape) * logit_grads, nonsat_weights.view(shape) * logit_grads


def _figures(disc: nn.Module, generator: nn.Module, params: list[nn.Parameter],
             heldout_real: torch.Tensor, heldout_latents: list[GeneratorInputs],
             grad_latents: list[GeneratorInputs], train_real: torch.Tensor,
             unseen_real: torch.Tensor | None, seed: int,
             slope_samples: int | None) -> dict[str, Any]:  # fmt: skip
    """The measured fields of :class:`OwnDiscriminator`."""
    fake_batches, mm, ns = [], [], []
    for index, inputs in enumerate(heldout_latents):
        taken = 0
        if index < len(grad_latents):
            fake, norms = _gradient_norms(disc, generator, params, grad_latents[index])
            mm.append(norms[0])
            ns.append(norms[1])
            fake_batches.append(fake)
            taken = len(fake)
        if taken < len(inputs[0]):  # the rest, for the held-out figures only
            with torch.no_grad():
                rest = tuple(t[taken:] for t in inputs)
                fake_batches.append(generate(generator, rest, heldout_real[0].numel()))
    fakes = torch.cat(fake_batches)
    n = min(len(heldout_real), len(fakes), len(train_real))
    real, train = heldout_real[:n], train_real[:n]
    labels = [_labels(i) for i in heldout_latents]
    # The reals have no labels: a conditional D is asked about them with the labels drawn
    # for the fakes at the same positions (uniform classes), so its real-side figures are
    # those of a D that does not know the class.
    drawn = [lab for lab in labels if lab is not None]
    classes = torch.cat(drawn)[:n] if drawn else None
    # R1 and R2 are taken at the held-out reals and fakes: their passes give those logits.
    s = _slope_count(disc, n, slope_samples)
    r1_slopes, real_logits = _slopes_and_logits(disc, real, classes, s)
    r2_slopes, fake_logits = _slopes_and_logits(disc, fakes[:n], classes, s)
    with torch.no_grad():
        train_logits = chunked(disc, train, classes)
        unseen_logits = real_logits
        if unseen_real is not None:
            unseen_logits = chunked(disc, unseen_real, _cycled(classes, len(unseen_real)))
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
        gp_norm=_spread(_input_gradients(disc, mixed, None if classes is None else classes[:s])[0]),
        r_t=memo.r_t,
        r_v=memo.r_v if math.isfinite(memo.r_v) else math.nan,
        r_t_uncertainty=memo.r_t_uncertainty,
        r_v_uncertainty=memo.r_v_uncertainty,
        unseen_auc=memo.auc if unseen_real is not None else None,
        unseen_auc_uncertainty=memo.auc_uncertainty if unseen_real is not None else 0.0,
        latent_batches=len(grad_latents),
        r1_samples=len(r1_slopes),
    )
