"""The two things a probe does over and over: one D step, and one measurement.

Both are where the time goes (benchmarks/README.md), so both avoid work that cannot change
a number: the frozen generator's held-out samples are made once, and the discriminator's
backward pass is shared by the two generator costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.analyses.layers import LayerRecorder
from gandoctor.analyses.overfitting import overfit_figures
from gandoctor.config import ProbeConfig
from gandoctor.nn import metrics
from gandoctor.nn.backward import forward_with_graph_bytes, samples_per_backward
from gandoctor.nn.generator import generate
from gandoctor.nn.latent import GeneratorInputs, LatentSpec, first
from gandoctor.probing.graphs import MAX_KEPT_GRAPH_VALUES, kept_graph_bytes
from gandoctor.probing.noise import InstanceNoise, no_noise
from gandoctor.runtime.precision import autocast

# Held-out samples go through D in chunks of this size: bounded memory, same numbers.
EVAL_CHUNK = 256


class HeldoutFakes:
    """The generator's samples of the fixed held-out latents: all of them as images for D's
    held-out figures, and the gradient batches (the first ``grad_batch_size`` samples of
    the first ``grad_batches`` batches: all of them in the full protocol) with their
    autograd graphs for the gradient norms.

    The generator is frozen and, in eval mode, deterministic: G(z) is the same at every
    measurement. So G runs once: ``images`` are computed once (the health check's, where
    given), and each measurement back-propagates through the same retained graphs, which
    gives the very gradients a fresh forward pass would. In train mode (dropout draws anew
    each pass) or for large outputs, G runs at each measurement instead.
    """

    def __init__(
        self,
        generator: nn.Module,
        z_batches: list[GeneratorInputs],
        config: ProbeConfig,
        images: list[torch.Tensor] | None = None,
        grad_batches: int | None = None,
        grad_batch_size: int | None = None,
    ) -> None:
        self.generator = generator
        self.device, self.precision = config.device, config.precision
        self.fresh = config.train_mode
        count = min(grad_batches or len(z_batches), len(z_batches))
        size = grad_batch_size or config.batch_size
        self.z_batches = z_batches
        self.sample_values = images[0][0].numel() if images else 0
        self.grad_inputs = [first(z, size) for z in z_batches[:count]]
        self._images = None if self.fresh else images
        self._kept: list[torch.Tensor] | None = None
        self.chunk = self._chunk_size()
        if not self.fresh and self.chunk == len(self.grad_inputs[0][0]):
            head, saved = forward_with_graph_bytes(lambda: self._forward(self.grad_inputs[0]))
            count = len(self.grad_inputs)
            if (head.numel() * count <= MAX_KEPT_GRAPH_VALUES
                    and saved * count <= kept_graph_bytes()):  # fmt: skip
                self._kept = [head] + [self._forward(z) for z in self.grad_inputs[1:]]

    def _chunk_size(self) -> int:
        """Samples per backward pass (nn.backward): the whole batch where its graph fits."""
        return samples_per_backward(self._forward, self.grad_inputs[0])

    def autocast(self) -> AbstractContextManager[object]:
        """The probe's precision, for D's passes at these fakes too."""
        return autocast(self.device, self.precision)

    def _forward(self, inputs: GeneratorInputs) -> torch.Tensor:
        with self.autocast():
            return self.generator(*inputs)

    @property
    def kept(self) -> bool:
        return self._kept is not None

    def batches(self) -> Iterator[tuple[int, Iterator[torch.Tensor]]]:
        """Each gradient batch's size and its samples with their graphs, in chunks of at
        most ``chunk`` samples, each made when the one before has been used."""
        if self._kept is not None:
            for fake in self._kept:
                yield len(fake), iter([fake])
            return
        for inputs in self.grad_inputs:
            size = len(inputs[0])
            starts = range(0, size, self.chunk)
            parts = (tuple(t[s : s + self.chunk] for t in inputs) for s in starts)
            yield size, (self._forward(part) for part in parts)

    def others(self) -> list[torch.Tensor]:
        """The held-out samples outside the gradient batches, without graphs (none in the
        full protocol): for D's held-out figures only."""
        skip = len(self.grad_inputs[0][0])
        rest: list[torch.Tensor] = []
        for index, inputs in enumerate(self.z_batches):
            start = skip if index < len(self.grad_inputs) else 0
            if start >= len(inputs[0]):
                continue
            if self._images is not None:
                rest.append(self._images[index][start:])
            else:
                with torch.no_grad(), self.autocast():
                    part = tuple(t[start:] for t in inputs)
                    rest.append(generate(self.generator, part, self.sample_values))
        return rest


class TrainingFakes:
    """The fakes of D's training steps: a fresh batch at each step (``reuse`` 1, the
    protocol), or drawn from a pool in which each fake serves ``reuse`` steps on average
    (a plan, probing.plan): the pool holds up to POOL_BATCHES batches, a fresh batch
    replaces the oldest every ``reuse`` steps, and each step draws its batch from the pool
    without replacement. G is frozen, so an older fake is as good a sample as a new one."""

    def __init__(self, generator: nn.Module, latent: LatentSpec, config: ProbeConfig,
                 rng: torch.Generator, device: torch.device, reuse: int = 1,
                 sample_values: int = 0) -> None:  # fmt: skip
        self.generator, self.latent, self.config = generator, latent, config
        self.rng, self.device, self.reuse = rng, device, reuse
        self.sample_values = sample_values  # for generate()'s chunks; 0: unknown, no chunks
        self.pool: list[torch.Tensor] = []
        self.steps = 0

    def _fresh(self) -> torch.Tensor:
        inputs = self.latent.sample(self.config.batch_size, self.rng, self.device)
        with torch.no_grad(), autocast(self.config.device, self.config.precision):
            if not self.sample_values:
                return self.generator(*inputs)
            return generate(self.generator, inputs, self.sample_values)

    def next(self) -> torch.Tensor:
        self.steps += 1
        if self.reuse == 1:
            return self._fresh()
        if len(self.pool) < min(self.reuse, POOL_BATCHES):
            self.pool.append(self._fresh())
        elif self.steps % self.reuse == 0:
            self.pool = [*self.pool[1:], self._fresh()]
        pooled = torch.cat(self.pool)
        pick = torch.randperm(len(pooled), generator=self.rng)[: self.config.batch_size]
        return pooled[pick.to(pooled.device)]


POOL_BATCHES = 4
"""Batches a reuse pool holds: each fake still serves ``reuse`` steps on average whatever
the pool's size (one fresh batch every ``reuse`` steps), and four batches mix a step's
batch from fakes of several ages rather than showing D one batch many times in a row."""


def train_step(
    disc: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_real: torch.Tensor,
    fakes: TrainingFakes,
    config: ProbeConfig,
    rng: torch.Generator,
    noise: InstanceNoise | None = None,
) -> None:
    """One D step on a real batch and a batch of ``fakes`` (BCE with logits), both noised
    when instance noise is on."""
    n = config.batch_size
    real = train_real[torch.randint(len(train_real), (n,), generator=rng).to(train_real.device)]
    fake = fakes.next()
    with autocast(config.device, config.precision):
        batch = torch.cat([real, fake])
        logits = disc(batch if noise is None else noise.on_training_batch(batch)).float()
    labels = torch.cat([torch.ones(n), torch.zeros(n)]).to(logits.device)
    # Sum of the two class means, the same L_D as reported on held-out data.
    loss = 2 * F.binary_cross_entropy_with_logits(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def measure(
    disc: nn.Module,
    params: list[nn.Parameter],
    fakes: HeldoutFakes,
    heldout_real: torch.Tensor,
    noise: InstanceNoise | None = None,
    recorder: LayerRecorder | None = None,
    train_subset: torch.Tensor | None = None,
) -> dict[str, float]:
    """Held-out figures and generator gradient norms for both costs at the current D. With
    instance noise, D sees noised held-out samples and the gradient flows through G(z)+noise.

    Both costs are functions of the logits l, so d cost / d G(z) = c'(l_i) * dl_i/dG(z)_i
    with c'(l) = -sigmoid(l) / n (minimax, -softplus(l) averaged) and -sigmoid(-l) / n
    (-log D, softplus(-l) averaged). One D backward pass gives dl_i/dG(z)_i for all i at
    once: the probe D has no BatchNorm, so sample i's logit depends on sample i only. Only
    the generator's backward pass is run once per cost.
    """
    noisy = noise.heldout() if noise is not None else no_noise
    with torch.no_grad(), fakes.autocast():
        real_logits = torch.cat([disc(noisy(c)) for c in heldout_real.split(EVAL_CHUNK)])
    real_logits = real_logits.float()
    fake_logits, minimax, nonsat = [], [], []
    for size, chunks in fakes.batches():
        totals: dict[str, list[torch.Tensor | None] | None] = {"minimax": None, "nonsat": None}
        for fake in chunks:
            at_fake = fake.detach().requires_grad_()
            with fakes.autocast():
                logits = disc(noisy(at_fake)).float()
            (logit_grads,) = torch.autograd.grad(logits.sum(), at_fake)
            logits = logits.detach()
            shape = (-1,) + (1,) * (logit_grads.dim() - 1)
            per_sample = {
                "minimax": -torch.sigmoid(logits) / size,
                "nonsat": -torch.sigmoid(-logits) / size,
            }
            for cost, weights in per_sample.items():
                # The graph of G(z) is kept for the next cost, and across measurements when
                # the fakes are made once.
                keep = fakes.kept or cost == "minimax"
                # In the dtype of G(z) (bf16 under autocast, whose exponent range is float32's).
                grad_out = (weights.view(shape) * logit_grads).to(fake.dtype)
                grads = metrics.parameter_gradients(fake, params, keep, grad_out)
                totals[cost] = metrics.add_gradients(totals[cost], grads)
            fake_logits.append(logits)
        norms = {}
        for cost, total in totals.items():
            squares = metrics.squares_of(total if total is not None else [None] * len(params))
            norms[cost] = recorder.record(cost, squares) if recorder else metrics.norm_of(squares)
        minimax.append(norms["minimax"])
        nonsat.append(norms["nonsat"])
    with torch.no_grad(), fakes.autocast():
        fake_logits += [disc(noisy(c)).float() for c in fakes.others()]
    stats = metrics.heldout_stats(real_logits, torch.cat(fake_logits))
    mm, ns = torch.tensor(minimax, dtype=torch.float64), torch.tensor(nonsat, dtype=torch.float64)
    single = len(minimax) == 1  # a spread needs two batches
    with fakes.autocast():
        overfit = overfit_figures(disc, train_subset, real_logits, torch.cat(fake_logits), noisy)
    return {
        "heldout_accuracy": stats.accuracy,
        "d_loss": stats.d_loss,
        "d_real": stats.d_real,
        "d_fake": stats.d_fake,
        "fake_saturated_share": stats.fake_saturated_share,
        "js_lower_bound": stats.js_lower_bound,
        "minimax_grad_mean": float(mm.mean()),
        "minimax_grad_std": 0.0 if single else float(mm.std()),
        "nonsat_grad_mean": float(ns.mean()),
        "nonsat_grad_std": 0.0 if single else float(ns.std()),
        **overfit,
    }
