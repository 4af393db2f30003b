"""The generator under probe: frozen in place while D trains, and checked before."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from gandoctor.nn import metrics
from gandoctor.nn.latent import GeneratorInputs
from gandoctor.results.series import GeneratorHealth

GENERATE_CHUNK_VALUES = 2**22
"""A batch made without gradient is made in chunks of at most this many output values (4 M:
21 samples of 3x256x256, more than a whole batch of 64 up to 128x128). A generator's
activations are tens to hundreds of times its output: an untrained 256x256 StyleGAN2
(NVlabs' default widths) needed 9.9 GB for a batch of 64 at once. In eval mode each sample
is computed on its own, so the chunks give the same samples; below the size nothing is
split, so no figure of a smaller generator moves."""


def generate(generator: nn.Module, inputs: GeneratorInputs, sample_values: int) -> torch.Tensor:
    """``generator(*inputs)``, in chunks of GENERATE_CHUNK_VALUES output values where a
    sample has ``sample_values`` and no module is in train mode (BatchNorm's batch
    statistics would change with the chunk). The caller holds ``no_grad`` and autocast."""
    n = len(inputs[0])
    chunk = max(1, GENERATE_CHUNK_VALUES // max(sample_values, 1))
    chunk = 1 << (chunk.bit_length() - 1)  # a power of two
    if chunk >= n or any(m.training for m in generator.modules()):
        return generator(*inputs)
    return torch.cat([generator(*(t[i : i + chunk] for t in inputs)) for i in range(0, n, chunk)])


def check_health(
    generator: nn.Module,
    z_batches: list[GeneratorInputs],
    heldout_real: torch.Tensor,
    train: bool,
    output_range: tuple[float, float] | None = None,
    samples: list[torch.Tensor] | None = None,
) -> GeneratorHealth:
    """NaN/Inf in weights and outputs, spread across z against the real data's, and the
    difference between train- and eval-mode outputs (run inside ``frozen``). ``samples``:
    the generator's outputs for ``z_batches`` where already made (no gradient)."""
    nonfinite_parameters = metrics.nonfinite_count([*generator.parameters(), *generator.buffers()])
    with torch.no_grad():
        if samples is None:
            samples = [generator(*inputs) for inputs in z_batches]
        fakes = torch.cat(samples)
        difference = other_share = other_spread = None
        if mode_matters(generator):
            # The same first latent batch through the other mode. BatchNorm momentum is 0
            # under frozen(), but 0 * NaN batch statistics still write NaN: keep a copy.
            saved = [(b, b.clone()) for b in generator.buffers()]
            this_mode = fakes[: len(z_batches[0][0])]
            generator.train(not train)
            other_mode = generator(*z_batches[0])
            generator.train(train)
            for buffer, copy in saved:
                buffer.copy_(copy)
            train_out, eval_out = (this_mode, other_mode) if train else (other_mode, this_mode)
            difference = metrics.relative_difference(train_out, eval_out)
            other_share = float((~torch.isfinite(other_mode)).double().mean())
            if other_share == 0 and len(other_mode) > 1:
                other_spread = metrics.sample_spread(other_mode)
    nonfinite_share = float((~torch.isfinite(fakes)).double().mean())
    return GeneratorHealth(
        nonfinite_parameters=nonfinite_parameters,
        nonfinite_output_share=nonfinite_share,
        output_spread=metrics.sample_spread(fakes) if nonfinite_share == 0 else math.nan,
        real_spread=metrics.sample_spread(heldout_real),
        train_eval_difference=difference,
        output_min=_extreme(fakes, torch.min),
        output_max=_extreme(fakes, torch.max),
        real_min=_extreme(heldout_real, torch.min),
        real_max=_extreme(heldout_real, torch.max),
        output_range=output_range,
        extreme_uncertainty=max(_extreme_gap(fakes), _extreme_gap(heldout_real)),
        probed_in_train_mode=train,
        other_mode_nonfinite_share=other_share,
        other_mode_spread=other_spread,
    )


def _extreme(values: torch.Tensor, reduce: Callable[[torch.Tensor], torch.Tensor]) -> float:
    finite = values[torch.isfinite(values)]
    return float(reduce(finite)) if finite.numel() else math.nan


def _extreme_gap(values: torch.Tensor) -> float:
    """How far an extreme moves with the samples drawn: the larger gap between the two most
    extreme samples' maxima (or minima). For the maximum of n draws, the gap to the runner-up
    is the scale of its fluctuation from one draw of n to the next (order-statistic
    spacing); 0 with fewer than two samples or any NaN sample."""
    per_sample = values.detach().flatten(1).double()
    if len(per_sample) < 2 or not bool(torch.isfinite(per_sample).all()):
        return 0.0
    top = per_sample.max(dim=1).values.topk(2).values
    bottom = per_sample.min(dim=1).values.topk(2, largest=False).values
    return float(max(top[0] - top[1], bottom[1] - bottom[0]))


def mode_matters(module: nn.Module) -> bool:
    """Whether train and eval mode can give different outputs."""
    kinds = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd, nn.InstanceNorm2d)
    # TorchScript modules hide their layer types: compare the two modes rather than guess.
    opaque = (torch.jit.ScriptModule, torch.fx.GraphModule)
    return any(isinstance(m, kinds + opaque) for m in module.modules())


@contextmanager
def frozen(generator: nn.Module, train_mode: bool) -> Iterator[list[nn.Parameter]]:
    """Put the generator in the probe's mode; restore everything about it afterwards.

    The generator is never updated: no optimizer sees its parameters, and BatchNorm
    momentum is set to 0 so that train-mode forward passes leave the running statistics
    alone (they are also restored from a copy). ``requires_grad`` is switched on for
    floating-point parameters so that gradient norms can be taken.
    """
    was_training = generator.training
    grad_flags = [(p, p.requires_grad) for p in generator.parameters()]
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    buffers = [(b, b.detach().clone()) for b in generator.buffers()]
    try:
        generator.train(train_mode)
        for m in norms:
            m.momentum = 0.0
        params = []
        for p, _ in grad_flags:
            if p.is_floating_point():
                p.requires_grad_(True)
                params.append(p)
        yield params
    finally:
        generator.train(was_training)
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        for p, flag in grad_flags:
            p.requires_grad_(flag)
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
