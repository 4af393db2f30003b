"""Pure tensor functions behind the probe's figures. Nothing here trains or prints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

LOG2 = math.log(2.0)

# D(G(z)) below this counts as "fake rejected with confidence" in fake_saturated_share.
SATURATED_FAKE_PROB = 0.01


@dataclass(frozen=True)
class HeldoutStats:
    """How well D separates held-out real samples from held-out fakes."""

    accuracy: float
    """Balanced accuracy: mean of the real and the fake hit rates at threshold D = 0.5."""
    d_loss: float
    """L_D: the sum of the two held-out BCE means (real labelled 1, fake labelled 0)."""
    d_real: float
    """Mean D(x) on held-out real samples."""
    d_fake: float
    """Mean D(G(z)) on held-out latents."""
    fake_saturated_share: float
    """Share of held-out fakes with D(G(z)) < 0.01."""
    js_lower_bound: float
    """max(0, log 2 - L_D / 2): any D has L_D >= 2 log 2 - 2 JS(Pr, Pg)."""


def heldout_stats(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> HeldoutStats:
    real_logits = real_logits.detach().double()
    fake_logits = fake_logits.detach().double()
    # BCE with logits written through softplus: -log sigma(l) = softplus(-l) and
    # -log(1 - sigma(l)) = softplus(l), exact for logits of any size.
    d_loss = float(F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean())
    real_hits = float((real_logits > 0).double().mean())
    fake_hits = float((fake_logits < 0).double().mean())
    d_fake = torch.sigmoid(fake_logits)
    return HeldoutStats(
        accuracy=(real_hits + fake_hits) / 2,
        d_loss=d_loss,
        d_real=float(torch.sigmoid(real_logits).mean()),
        d_fake=float(d_fake.mean()),
        fake_saturated_share=float((d_fake < SATURATED_FAKE_PROB).double().mean()),
        js_lower_bound=js_lower_bound(d_loss),
    )


def js_lower_bound(d_loss: float) -> float:
    """Lower bound on JS(Pr, Pg) in nats from a discriminator's loss L_D.

    At the optimal D, L_D = 2 log 2 - 2 JS; any other D has a larger loss, so
    JS >= log 2 - L_D / 2. Clamped at 0 (a poor D bounds nothing).
    """
    if not math.isfinite(d_loss):
        return math.nan
    return max(0.0, LOG2 - d_loss / 2)


def minimax_cost(fake_logits: torch.Tensor) -> torch.Tensor:
    """The original generator cost E[log(1 - D(G(z)))] = E[-softplus(l)], minimised by G."""
    return -F.softplus(fake_logits).mean()


def nonsaturating_cost(fake_logits: torch.Tensor) -> torch.Tensor:
    """The alternative generator cost E[-log D(G(z))] = E[softplus(-l)]."""
    return F.softplus(-fake_logits).mean()


def gradient_norm(
    cost: torch.Tensor,
    parameters: Sequence[torch.Tensor],
    retain_graph: bool = False,
    grad_outputs: torch.Tensor | None = None,
) -> float:
    """Global L2 norm of d cost / d parameters; parameters the cost does not reach add 0.
    ``grad_outputs`` as in :func:`parameter_gradient_squares`."""
    return norm_of(parameter_gradient_squares(cost, parameters, retain_graph, grad_outputs))


def parameter_gradient_squares(
    cost: torch.Tensor,
    parameters: Sequence[torch.Tensor],
    retain_graph: bool = False,
    grad_outputs: torch.Tensor | None = None,
) -> list[torch.Tensor | None]:
    """Squared L2 norm of d cost / d p for each parameter p (0-d float64 tensors), None
    where the cost does not reach p. Their sum is the global norm squared.

    With ``grad_outputs``, ``cost`` is an intermediate tensor (e.g. G(z)) and the gradient
    is the vector-Jacobian product of ``grad_outputs`` (d cost / d that tensor)."""
    return squares_of(parameter_gradients(cost, parameters, retain_graph, grad_outputs))


def parameter_gradients(
    cost: torch.Tensor,
    parameters: Sequence[torch.Tensor],
    retain_graph: bool = False,
    grad_outputs: torch.Tensor | None = None,
) -> list[torch.Tensor | None]:
    """d cost / d p for each parameter p, None where the cost does not reach p."""
    if not cost.requires_grad:  # e.g. a generator that detaches its output: no gradient
        return [None] * len(parameters)
    grads = torch.autograd.grad(
        cost, parameters, grad_outputs, retain_graph=retain_graph, allow_unused=True
    )
    return [None if g is None else g.detach() for g in grads]


def add_gradients(
    total: list[torch.Tensor | None] | None, part: list[torch.Tensor | None]
) -> list[torch.Tensor | None]:
    """``total + part``, parameter by parameter (None: not reached, adds nothing)."""
    if total is None:
        return part
    return [a if b is None else b if a is None else a + b for a, b in zip(total, part, strict=True)]


def squares_of(grads: Sequence[torch.Tensor | None]) -> list[torch.Tensor | None]:
    """Each gradient's squared L2 norm (0-d float64), None kept."""
    return [None if g is None else g.double().pow(2).sum() for g in grads]


def norm_of(squares: Sequence[torch.Tensor | None]) -> float:
    """The global norm from per-parameter squared norms (unreached parameters add 0)."""
    reached = [s for s in squares if s is not None]
    if not reached:
        return 0.0
    return float(torch.stack(reached).sum().sqrt())


def sample_spread(samples: torch.Tensor) -> float:
    """Mean over features of the standard deviation across the batch (0 = all identical)."""
    flat = samples.detach().double().flatten(1)
    if flat.shape[0] < 2:
        return 0.0
    return float(flat.std(dim=0).mean())


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / ||b||, for comparing a generator's train-mode and eval-mode outputs."""
    a, b = a.detach().double(), b.detach().double()
    denom = float(b.norm())
    return float((a - b).norm()) / denom if denom > 0 else math.inf


def nonfinite_count(tensors: Sequence[torch.Tensor]) -> int:
    """Number of NaN or infinite elements over floating-point tensors."""
    return sum(int((~torch.isfinite(t)).sum()) for t in tensors if t.is_floating_point())
