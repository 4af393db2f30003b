"""The generator's forward is user code: its failures during a probe become one line, and
its prints go to stderr.

The loader runs the generator once on a batch of four latents; a generator can still fail
later, on the probe's larger batches or in the other mode (a shape that only breaks at 64,
a BatchNorm1d that refuses a batch of one, a TorchScript ``raise``). Without a guard that
would end a probe with a traceback through gandoctor's own code. The guard replaces the
module's ``forward`` on the instance, so the module keeps its type, its parameter names and
its state dict, and every caller (the probe, the remedy checks) is covered at once.
``api.probe`` and ``api.inspect`` guard the generators they load from files; a module a
library user passes in, or gets from ``load_generator``, keeps its own exceptions.
"""

from __future__ import annotations

import sys
from contextlib import redirect_stdout
from typing import Any

import torch
from torch import nn

from gandoctor.errors import CheckpointError, GanDoctorError
from gandoctor.messages import describe_exception, format_shape


def guard_forward(module: nn.Module, path: str) -> None:
    """Make ``module``'s failures in forward, and outputs that are not one floating tensor
    with a row per latent, raise :class:`CheckpointError` naming ``path``."""
    original = module.forward

    def forward(*inputs: Any, **kwargs: Any) -> Any:
        batch = _batch_size(inputs)
        try:
            # Its prints go to stderr: stdout may carry the report (--json -).
            with redirect_stdout(sys.stderr):
                output = original(*inputs, **kwargs)
        except GanDoctorError:
            raise
        except (Exception, SystemExit) as exc:  # SystemExit: user code calling sys.exit()
            raise CheckpointError(
                f"{path}: the generator's forward failed on a batch of {batch} latents: "
                f"{describe_exception(exc)}"
            ) from exc
        if not isinstance(output, torch.Tensor):
            raise CheckpointError(
                f"{path}: the generator's forward returned a {type(output).__name__}, not a "
                f"tensor, on a batch of {batch} latents"
            )
        if output.dim() == 0 or (batch is not None and output.shape[0] != batch):
            raise CheckpointError(
                f"{path}: the generator's forward returned shape {format_shape(output.shape)} "
                f"for a batch of {batch} latents"
            )
        return output

    # nn.Module calls self.forward, so an instance attribute takes the class method's place.
    module.forward = forward


def _batch_size(inputs: tuple[Any, ...]) -> int | None:
    first = inputs[0] if inputs else None
    return int(first.shape[0]) if isinstance(first, torch.Tensor) and first.dim() else None
