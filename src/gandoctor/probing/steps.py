"""The two things a probe does over and over: one D step, and one measurement.

Both are where the time goes (benchmarks/README.md), so both avoid work that cannot change
a number: the frozen generator's held-out samples are made once, and the discriminator's
backward pass is shared by the two generator costs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.analyses.layers import LayerRecorder, layer_gradient_norm
from gandoctor.analyses.overfitting import overfit_figures
from gandoctor.config import ProbeConfig
from gandoctor.nn import metrics
from gandoctor.nn.generator import generate
from gandoctor.nn.latent import GeneratorInputs, LatentSpec, first
from gandoctor.probing.noise import InstanceNoise, no_noise
from gandoctor.runtime.precision import autocast
from gandoctor.runtime.resources import available_memory

# Held-out samples go through D in chunks of this size: bounded memory, same numbers.
EVAL_CHUNK = 256
# Autograd graphs of the held-out fakes are kept for the whole probe while the fakes hold at
# most this many values (2**23: 256 RGB samples at 128x128 is 12.6M, too many; at 64x64,
# 3.1M, kept) ...
MAX_KEPT_GRAPH_VALUES = 2**23
# ... and the tensors the graphs save take at most this many bytes, counted as the first
# one is made: a 64x64 DCGAN (ngf 64) saves 2.4 MB a sample, 50 times its output, but a
# StyleGAN2 of NVlabs' default widths (512 channels) 42 MB a sample at 32x32, 3,400 times
# its output, so that the values rule alone kept 11 GB of graphs for 256 samples.
MAX_KEPT_GRAPH_BYTES = 2**31


def forward_with_graph_bytes(forward: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, int]:
    """``forward()`` and the bytes its autograd graph saves (tensors saved more than once,
    weights among them, counted each time: an upper bound)."""
    saved = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal saved
        saved += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = forward()
    return out, saved


def kept_graph_bytes() -> int:
    """MAX_KEPT_GRAPH_BYTES, or a quarter of the memory available now where that is less."""
    available = available_memory()
    return MAX_KEPT_GRAPH_BYTES if available is None else min(MAX_KEPT_GRAPH_BYTES, available // 4)


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
        if not self.fresh:
            head, saved = forward_with_graph_bytes(lambda: self._forward(self.grad_inputs[0]))
            count = len(self.grad_inputs)
            if (head.numel() * count <= MAX_KEPT_GRAPH_VALUES
                    and saved * count <= kept_graph_bytes()):  # fmt: skip
                self._kept = [head] + [self._forward(z) for z in self.grad_inputs[1:]]

    def autocast(self) -> AbstractContextManager[object]:
        """The probe's precision, for D's passes at these fakes too."""
        return autocast(self.device, self.precision)

    def _forward(self, inputs: GeneratorInputs) -> torch.Tensor:
        with self.autocast():
            return self.generator(*inputs)

    @property
    def kept(self) -> bool:
        return self._kept is not None

    def batches(self) -> Iterator[torch.Tensor]:
        """The gradient batches, with their graphs."""
        if self._kept is not None:
            yield from self._kept
        else:
            for inputs in self.grad_inputs:
                yield self._forward(inputs)

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
    for fake in fakes.batches():
        at_fake = fake.detach().requires_grad_()
        with fakes.autocast():
            logits = disc(noisy(at_fake)).float()
        (logit_grads,) = torch.autograd.grad(logits.sum(), at_fake)
        logits = logits.detach()
        shape = (-1,) + (1,) * (logit_grads.dim() - 1)
        per_sample = {
            "minimax": -torch.sigmoid(logits) / len(logits),
            "nonsat": -torch.sigmoid(-logits) / len(logits),
        }
        norms = {}
        for cost, weights in per_sample.items():
            # The graph of G(z) is kept for the next cost, and across measurements when
            # the fakes are made once.
            keep = fakes.kept or cost == "minimax"
            # In the dtype of G(z) (bf16 under autocast, whose exponent range is float32's).
            grad_out = (weights.view(shape) * logit_grads).to(fake.dtype)
            norms[cost] = layer_gradient_norm(fake, params, keep, recorder, cost, grad_out)
        minimax.append(norms["minimax"])
        nonsat.append(norms["nonsat"])
        fake_logits.append(logits)
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
