"""Per-layer generator gradients: where in the generator the training signal dies.

The probe's global gradient norm is the L2 norm over all generator parameters. Its square
is the sum of the squared norms of each parameter's gradient, so the same
``torch.autograd.grad`` call that gives the global figure also gives the share of every
layer: no extra backward pass. A "layer" is the module that owns the parameters (``main.0``
for ``main.0.weight``), in registration order, unless the generator groups its parameters
itself with a ``layer_group(parameter_name) -> str`` method (StyleGAN2: one group per
mapping layer and per synthesis block, whose modulation, convolutions and torgb act
together).

Figures per layer follow the global ones (DESIGN.md): at each measurement the layer's norm
is averaged over the K fixed latent batches; "peak" is the running median at the step where
the *global* minimax gradient peaked, so every layer is compared at the same D, and "end"
the median over the run's end window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from gandoctor.nn import metrics
from gandoctor.results.layers import COSTS, ROOT, LayerGradient, LayerGradients
from gandoctor.results.readings import end_indexes


class LayerRecorder:
    """Collects per-layer squared gradient norms from the probe's own autograd calls.

    Use :meth:`norm` in place of :func:`metrics.gradient_norm` for every latent batch,
    then :meth:`end_measurement` once per measurement step.
    """

    def __init__(self, generator: nn.Module, params: Sequence[torch.Tensor]) -> None:
        names = {id(p): name for name, p in generator.named_parameters()}
        modules = dict(generator.named_modules())
        self.params = list(params)
        self.names: list[str] = []
        index: list[int] = []
        group_of = getattr(generator, "layer_group", None)
        for p in self.params:
            name = names.get(id(p), "")
            owner = group_of(name) if callable(group_of) else name.rpartition(".")[0]
            if owner not in self.names:
                self.names.append(owner)
            index.append(self.names.index(owner))
        self.kinds = [type(modules.get(n, generator)).__name__ for n in self.names]
        self.sizes = [0] * len(self.names)
        for group, p in zip(index, self.params, strict=True):
            self.sizes[group] += p.numel()
        self._index = torch.tensor(index, dtype=torch.long)
        self._batches: dict[str, list[torch.Tensor]] = {cost: [] for cost in COSTS}
        self.steps: list[int] = []
        self.series: dict[str, list[list[float]]] = {cost: [] for cost in COSTS}

    def norm(
        self,
        cost_name: str,
        cost: torch.Tensor,
        retain_graph: bool = False,
        grad_outputs: torch.Tensor | None = None,
    ) -> float:
        """The global gradient norm of ``cost`` (the very number :func:`metrics.gradient_norm`
        gives), recording each layer's squared norm on the way."""
        squares = metrics.parameter_gradient_squares(cost, self.params, retain_graph, grad_outputs)
        return self.record(cost_name, squares)

    def record(self, cost_name: str, squares: list[torch.Tensor | None]) -> float:
        """:meth:`norm` for squared norms already taken (a batch summed over chunks)."""
        reached = [s for s in squares if s is not None]
        if reached:  # stays on the device until end_measurement: no sync per batch
            zero = torch.zeros((), dtype=torch.float64, device=reached[0].device)
            per_param = torch.stack([zero if s is None else s for s in squares])
            groups = torch.zeros(len(self.names), dtype=torch.float64, device=zero.device)
            groups.index_add_(0, self._index.to(zero.device), per_param)
        else:
            groups = torch.zeros(len(self.names), dtype=torch.float64)
        self._batches[cost_name].append(groups.cpu())
        return metrics.norm_of(squares)

    def end_measurement(self, step: int) -> None:
        """Average the batches recorded since the last call into one measurement."""
        self.steps.append(step)
        for cost in COSTS:
            batches = self._batches[cost]
            norms = torch.stack(batches).sqrt().mean(dim=0) if batches else None
            self.series[cost].append(
                norms.tolist() if norms is not None else [math.nan] * len(self.names)
            )
            batches.clear()

    def result(self, peak_step: int | None = None) -> LayerGradients | None:
        """Per-layer figures; ``peak_step`` is the global minimax peak (default: the first
        measurement). None before any measurement."""
        if not self.steps:
            return None
        peak = self.steps.index(peak_step) if peak_step in self.steps else 0
        end = tuple(end_indexes(self.steps))
        layers = [
            LayerGradient(
                name=name or ROOT,
                kind=kind,
                parameters=size,
                minimax=[m[i] for m in self.series["minimax"]],
                nonsat=[m[i] for m in self.series["nonsat"]],
                peak_index=peak,
                end=end,
            )
            for i, (name, kind, size) in enumerate(
                zip(self.names, self.kinds, self.sizes, strict=True)
            )
        ]
        return LayerGradients(list(self.steps), self.steps[peak], layers)


def layer_gradient_norm(
    cost: torch.Tensor,
    params: Sequence[torch.Tensor],
    retain_graph: bool,
    recorder: LayerRecorder | None,
    cost_name: str,
    grad_outputs: torch.Tensor | None = None,
) -> float:
    """The probe's gradient norm, through ``recorder`` when per-layer figures are on and
    through the unchanged global path otherwise (no extra work). ``grad_outputs`` as in
    :func:`metrics.parameter_gradient_squares`."""
    if recorder is None:
        return metrics.gradient_norm(cost, params, retain_graph, grad_outputs)
    return recorder.norm(cost_name, cost, retain_graph, grad_outputs)
