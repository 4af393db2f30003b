"""What a probe's protocol repeats, and what it costs: timed on this machine for
``--max-seconds``, counted for the default CPU budget (probing.plan predicts from either).

A plan changes what is measured, so a plan chosen by the clock makes the figures depend on
the machine: measured on the stability matrix (benchmarks/matrix.py), the same 32 px DCGAN
ran the full protocol with 2 threads and plan level 5 with 1 thread or under bf16, and
level 3 with another seed, on one idle 2-core machine. The default budget therefore plans
by the *work* the protocol needs, counted (FLOPs and operator calls, in fp32, whatever the
precision) and priced at a reference CPU: the same checkpoint, data and settings get the
same plan on every machine, thread count, precision and load. ``--max-seconds`` is a
user's own wall-clock limit, so it plans by the clock, and the report states the plan.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from gandoctor.config import ProbeConfig
from gandoctor.nn.backward import forward_with_graph_bytes
from gandoctor.nn.latent import GeneratorInputs, first
from gandoctor.runtime.precision import FP32, autocast

TIMED_GRADIENT_SAMPLES = 16
"""Samples of the timed pass through G with its gradient: the smallest gradient batch of
any level, so that timing a large generator costs little; other sizes are scaled from it
in proportion (on a CPU the cost per sample falls a little with the batch, so the
prediction errs long)."""
CHEAP_SECONDS = 0.25
"""A gradient pass this cheap is also timed on a whole batch: a small network's cost is far
from proportional to its batch."""
RETIME_SECONDS = 2.0
"""Passes are timed again, the fastest kept, up to three times while they took less than
this in all: the first pass of a network in a process carries one-time set-up (measured:
0.5 s for a small DCGAN's first backward pass, 3 ms after), a small share of a slow one."""
REFERENCE_FLOPS_PER_SECOND = 9.0e10
"""The reference CPU's fp32 throughput on a probe's convolutions and matrix products (the
project's 2-core development machine with 2 torch threads; benchmarks/plan.py --price
measures it on the machine it runs on)."""
REFERENCE_SECONDS_PER_OP = 1.2e-4
"""... and its cost of one operator call beyond the arithmetic (dispatch, allocation,
the elementwise work FLOP counting leaves out), which dominates small networks."""


@dataclass(frozen=True)
class Costs:
    """Seconds of the work a probe repeats: timed before its first D step, or counted and
    priced at the reference CPU (``priced``)."""

    generate: float
    """G's forward pass on one batch, without gradient (a D step's fakes)."""
    d_step: float
    """D's forward and backward pass on one batch of reals and one of fakes."""
    gradient: float
    """G's forward pass with its graph and one backward pass, on ``gradient_samples``."""
    gradient_samples: int
    whole_gradient: float | None
    """The same on a whole batch, where it was cheap enough to time too; None if not."""
    sample_values: int
    """Values of one generated sample (for the rules that keep graphs: probing.steps)..."""
    graph_bytes: int = 0
    """... and the bytes its autograd graph saves."""
    priced: bool = False
    """Counted work priced at the reference CPU, not seconds timed on this machine."""


@dataclass(frozen=True)
class Work:
    """Arithmetic and operator calls of one pass, as counted by torch."""

    flops: int
    ops: int

    @property
    def seconds(self) -> float:
        """The pass's price at the reference CPU."""
        return self.flops / REFERENCE_FLOPS_PER_SECOND + self.ops * REFERENCE_SECONDS_PER_OP


class _OperatorCalls(TorchDispatchMode):
    """Counts the aten operators a pass dispatches, backward ones included."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.calls += 1
        return func(*args, **(kwargs or {}))


def counted(run: Callable[[], None]) -> Work:
    """The work of ``run()``, which runs once (the global random state restored after, so
    that a generator drawing its own noise draws in the probe as it would have)."""
    with (
        torch.random.fork_rng(devices=[]),
        FlopCounterMode(display=False) as flops,
        _OperatorCalls() as calls,
    ):
        run()
    return Work(int(flops.get_total_flops()), calls.calls)


def best_of(run: Callable[[], None], tries: int = 3) -> float:
    """Seconds of the fastest of up to ``tries`` calls of ``run`` (see RETIME_SECONDS); the
    global random state restored, so that how many tries ran changes no later draw."""
    best, spent = math.inf, 0.0
    with torch.random.fork_rng(devices=[]):
        for _ in range(tries):
            began = time.perf_counter()
            run()
            seconds = time.perf_counter() - began
            best, spent = min(best, seconds), spent + seconds
            if spent >= RETIME_SECONDS:
                break
    return best


def time_costs(generator: nn.Module, disc: nn.Module, params: list[nn.Parameter],
               real: torch.Tensor, images: list[torch.Tensor], latents: list[GeneratorInputs],
               generate_seconds: float, config: ProbeConfig) -> Costs:  # fmt: skip
    """Time a D step and a gradient pass through G (at TIMED_GRADIENT_SAMPLES, and at a
    whole batch where that is cheap). D's weights and optimiser are not touched (its
    gradients are dropped), so the probe that follows is the same probe."""
    d_pass, g_pass, saved = _passes(generator, disc, params, real, images, latents, config,
                                    config.precision)  # fmt: skip
    d_step = best_of(d_pass)
    disc.zero_grad(set_to_none=True)
    small = min(TIMED_GRADIENT_SAMPLES, len(images[0]))
    gradient = best_of(lambda: g_pass(small))
    whole = None
    if gradient < CHEAP_SECONDS and len(images[0]) > small:
        whole = best_of(lambda: g_pass(len(images[0])))
    return Costs(
        generate=generate_seconds / len(images), d_step=d_step, gradient=gradient,
        gradient_samples=small, whole_gradient=whole, sample_values=images[0][0].numel(),
        graph_bytes=max(saved),
    )  # fmt: skip


def count_costs(generator: nn.Module, disc: nn.Module, params: list[nn.Parameter],
                real: torch.Tensor, images: list[torch.Tensor], latents: list[GeneratorInputs],
                config: ProbeConfig) -> Costs:  # fmt: skip
    """The passes time_costs times, counted in fp32 and priced at the reference CPU: a
    figure of the generator, D and settings alone. Each pass runs once."""
    images = [images[0].float()]  # as made in fp32, whatever the precision made them in
    # A copy of the probe D in the default memory format: in bf16 the probe's own D is
    # channels-last (probing.loop), which dispatches other operators.
    plain = copy.deepcopy(disc).to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
    d_pass, g_pass, saved = _passes(generator, plain, params, real.float(), images, latents,
                                    config, FP32)  # fmt: skip
    d_step = counted(d_pass).seconds
    small = min(TIMED_GRADIENT_SAMPLES, len(images[0]))
    gradient = counted(lambda: g_pass(small)).seconds
    whole = counted(lambda: g_pass(len(images[0]))).seconds if len(images[0]) > small else None

    def generate() -> None:
        with torch.no_grad():
            generator(*latents[0])

    return Costs(
        generate=counted(generate).seconds, d_step=d_step, gradient=gradient,
        gradient_samples=small, whole_gradient=whole, sample_values=images[0][0].numel(),
        graph_bytes=max(saved), priced=True,
    )  # fmt: skip


def _passes(generator: nn.Module, disc: nn.Module, params: list[nn.Parameter],
            real: torch.Tensor, images: list[torch.Tensor], latents: list[GeneratorInputs],
            config: ProbeConfig, precision: str
            ) -> tuple[Callable[[], None], Callable[[int], None], list[int]]:  # fmt: skip
    """A D step's pass, G's gradient pass on n samples, and the graph bytes per sample the
    latter saw (appended at each call)."""
    batch = torch.cat([real[: config.batch_size], images[0]])
    labels = torch.cat([torch.ones(len(images[0])), torch.zeros(len(images[0]))])

    def d_pass() -> None:
        with autocast(config.device, precision):
            logits = disc(batch).float().reshape(-1)
        F.binary_cross_entropy_with_logits(logits, labels.to(logits.device)).backward()

    saved: list[int] = []

    def g_pass(n: int) -> None:
        with autocast(config.device, precision):
            fake, graph = forward_with_graph_bytes(lambda: generator(*first(latents[0], n)))
        saved.append(graph // n)
        if fake.requires_grad:
            torch.autograd.grad(fake, params, torch.ones_like(fake), allow_unused=True)

    return d_pass, g_pass, saved
