"""G's backward pass in bounded memory: a batch whose autograd graph would not fit goes
through it a few samples at a time, the vector-Jacobian products summed, which is the
gradient the whole batch's graph gives (to float rounding)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from gandoctor.nn import metrics
from gandoctor.nn.latent import GeneratorInputs, first
from gandoctor.runtime.resources import available_memory

# A gradient batch whose graph would save more than this is back-propagated in chunks, the
# gradients summed: the same gradient (to float rounding), in bounded memory. A probe of an
# untrained 256x256 StyleGAN2 of NVlabs' default widths, its gradient batches of 16 made at
# once, was killed for memory on a 24 GB machine.
MAX_GRADIENT_GRAPH_BYTES = 2**32


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


def gradient_graph_bytes() -> int:
    """MAX_GRADIENT_GRAPH_BYTES, or a quarter of the memory available now where less."""
    available = available_memory()
    return (MAX_GRADIENT_GRAPH_BYTES if available is None
            else min(MAX_GRADIENT_GRAPH_BYTES, available // 4))  # fmt: skip


def samples_per_backward(forward: Callable[[GeneratorInputs], torch.Tensor],
                         inputs: GeneratorInputs) -> int:  # fmt: skip
    """Samples of ``inputs`` whose graph fits gradient_graph_bytes(), measured on two of
    them (the random state restored, so that a generator run in train mode draws as it
    would have); all of them where they fit."""
    size = len(inputs[0])
    few = min(2, size)
    with torch.random.fork_rng(devices=[]):
        _, saved = forward_with_graph_bytes(lambda: forward(first(inputs, few)))
    return max(1, min(size, gradient_graph_bytes() * few // max(saved, 1)))


def summed_gradients(forward: Callable[[GeneratorInputs], torch.Tensor],
                     params: Sequence[torch.Tensor], inputs: GeneratorInputs,
                     grad_outputs: Sequence[torch.Tensor],
                     chunk: int) -> list[list[torch.Tensor | None]]:  # fmt: skip
    """For each of ``grad_outputs`` (d cost / d G(z) for the whole batch), d cost / d params,
    with G run ``chunk`` samples at a time."""
    totals: list[list[torch.Tensor | None] | None] = [None] * len(grad_outputs)
    size = len(inputs[0])
    for start in range(0, size, chunk):
        out = forward(tuple(t[start : start + chunk] for t in inputs))
        for index, grad_output in enumerate(grad_outputs):
            last = index == len(grad_outputs) - 1
            part = grad_output[start : start + chunk].to(out.dtype)
            grads = metrics.parameter_gradients(out, params, not last, part)
            totals[index] = metrics.add_gradients(totals[index], grads)
    return [total if total is not None else [None] * len(params) for total in totals]
