"""The passes through a checkpoint's own D that analyses.own_discriminator reads its figures
from: logits in whole minibatch-std groups, D's slope at each sample, and G's gradients under
both costs through D.

The own D can be as large as G (lucidrains' default D has 23 M parameters): each pass with an
input gradient is the costly part, so where D's logit for a sample depends on that sample
alone, one pass serves several figures (``per_sample``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gandoctor.nn import metrics
from gandoctor.nn.backward import samples_per_backward, summed_gradients
from gandoctor.nn.generator import mode_matters
from gandoctor.nn.latent import GeneratorInputs

CHUNK = 64
"""Samples per call: a multiple of every minibatch-std group size in use (4, 8, 16, 32)."""
PER_SAMPLE_CHUNK = 16
"""Samples per call for a per-sample D, whose logits do not depend on how the samples are
grouped into calls: on the 2-core CPU, 64 samples through lucidrains' D at 64 px took
0.43-0.50 s in calls of 16 against 0.59-1.00 s in one call, and 0.48-0.57 s in calls of 8
(activations that stay in cache, and one batch shape for every pass: the D's first calls
set up one set of kernels, not one per shape)."""


def labels_of(inputs: GeneratorInputs) -> torch.Tensor | None:
    return inputs[1] if len(inputs) > 1 else None


def chunked(disc: nn.Module, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """D's logits for ``x`` in calls of whole minibatch-std groups; a remainder that is not a
    whole group is dropped (at most group size - 1 samples)."""
    group = int(getattr(disc, "group_size", 1) or 1)
    size = PER_SAMPLE_CHUNK if per_sample(disc) else max(group, CHUNK - CHUNK % group)
    usable = len(x) - len(x) % group if len(x) >= group else len(x)
    outs = []
    for start in range(0, usable, size):
        part = x[start : min(start + size, usable)]
        args = (part,) if labels is None else (part, labels[start : start + len(part)])
        outs.append(disc(*args).reshape(len(part), -1)[:, 0].float())
    return torch.cat(outs)


def per_sample(disc: nn.Module) -> bool:
    """Whether sample i's logit depends on sample i alone: a build that says so
    (``group_size`` 1: no minibatch-std layer) and has no layer whose train mode reads the
    batch. A D that does not say (``--disc``) is not assumed to."""
    return getattr(disc, "group_size", None) == 1 and not mode_matters(disc)


def input_gradients(disc: nn.Module, x: torch.Tensor, labels: torch.Tensor | None
                    ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Per-sample ||grad_x sum(D(x))||, D's slope at each sample (no parameter grads), and
    the logits on the way (the same values a pass without a graph gives)."""
    x = x.detach().requires_grad_(True)
    logits = chunked(disc, x, labels)
    (grad,) = torch.autograd.grad(logits.sum(), x)
    return grad[: len(logits)].flatten(1).double().norm(dim=1), logits.detach()


def slopes_and_logits(disc: nn.Module, x: torch.Tensor, labels: torch.Tensor | None,
                      count: int, known: tuple[torch.Tensor, torch.Tensor] | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """D's slope at the first ``count`` samples of ``x`` (input_gradients) and its logits at
    all of them, the rest in a pass without a graph. ``known``: the slopes and logits of a
    per-sample D at the first samples, from its gradient passes; only the others are run."""
    slopes, logits = known if known is not None else (x.new_zeros(0).double(), x.new_zeros(0))
    slopes, logits, done = slopes[:count], logits[: len(x)], len(slopes)

    def part(start: int, stop: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        return x[start:stop], None if labels is None else labels[start:stop]

    if done < count:
        more, more_logits = input_gradients(disc, *part(done, count))
        slopes, logits = torch.cat([slopes, more]), torch.cat([logits, more_logits])
    if max(done, count) < len(x):
        with torch.no_grad():
            logits = torch.cat([logits, chunked(disc, *part(max(done, count)))])
    return slopes, logits


def slope_count(disc: nn.Module, n: int, slope_samples: int | None) -> int:
    """How many of ``n`` samples the slopes are taken at: ``slope_samples`` in whole
    minibatch-std groups, or all ``n`` where the D's logits depend on its batch's
    statistics (BatchNorm in train mode: a smaller batch would change every logit)."""
    if slope_samples is None or slope_samples >= n or mode_matters(disc):
        return n
    group = int(getattr(disc, "group_size", 1) or 1)
    return min(n, -(-slope_samples // group) * group)


@dataclass(frozen=True)
class GradientBatch:
    """One latent batch's pass: G(z), both costs' gradient norms, and for a per-sample D
    its slopes and logits at G(z) (None otherwise)."""

    fake: torch.Tensor
    minimax: float
    nonsat: float
    slopes: torch.Tensor | None
    logits: torch.Tensor | None


def gradient_batch(disc: nn.Module, generator: nn.Module, params: list[nn.Parameter],
                   latents: GeneratorInputs) -> GradientBatch:  # fmt: skip
    """G(z) and both costs' gradient norms at it. D sees the whole batch (its minibatch
    layers make a logit depend on the others). Where the batch's graph fits in memory
    (nn.backward), G runs once with it, for D's fakes and both backward passes; otherwise
    G's backward pass runs in chunks, which gives the whole batch's gradient."""

    def forward(inputs: GeneratorInputs) -> torch.Tensor:
        return generator(*inputs)

    chunk = samples_per_backward(forward, latents)
    whole = chunk >= len(latents[0])
    if whole:
        out = forward(latents)
        fake = out.detach()
    else:
        with torch.no_grad():
            fake = forward(latents)
    upstream, slopes, logits = _cost_gradients(disc, fake, labels_of(latents))
    if whole:
        grads = [metrics.parameter_gradients(out, params, index == 0, grad.to(out.dtype))
                 for index, grad in enumerate(upstream)]  # fmt: skip
    else:
        grads = summed_gradients(forward, params, latents, list(upstream), chunk)
    minimax, nonsat = (metrics.norm_of(metrics.squares_of(g)) for g in grads)
    return GradientBatch(fake, minimax, nonsat, slopes, logits)


def _cost_gradients(disc: nn.Module, fake: torch.Tensor, labels: torch.Tensor | None
                    ) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor | None,
                               torch.Tensor | None]:  # fmt: skip
    """d cost / d G(z) for the minimax and the -log D cost. Where each logit depends on its
    own sample only, both are c'(l_i) * dl_i/dG(z)_i with c'(l) = -sigmoid(l) / n and
    -sigmoid(-l) / n (the probe's measurement does the same, probing.steps): one backward
    pass through D instead of two, which also gives D's slope at each fake and its logits
    (None, None for any other D)."""
    at = fake.detach().requires_grad_()
    logits = chunked(disc, at, labels)
    if not per_sample(disc):
        (d_minimax,) = torch.autograd.grad(metrics.minimax_cost(logits), at, retain_graph=True)
        (d_nonsat,) = torch.autograd.grad(metrics.nonsaturating_cost(logits), at)
        return (d_minimax, d_nonsat), None, None
    (logit_grads,) = torch.autograd.grad(logits.sum(), at)
    shape = (-1,) + (1,) * (logit_grads.dim() - 1)
    logits = logits.detach()
    minimax_weights = -torch.sigmoid(logits) / len(logits)
    nonsat_weights = -torch.sigmoid(-logits) / len(logits)
    upstream = (minimax_weights.view(shape) * logit_grads, nonsat_weights.view(shape) * logit_grads)
    return upstream, logit_grads.flatten(1).double().norm(dim=1), logits
