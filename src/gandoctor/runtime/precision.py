"""Numeric precision of a probe's discriminator steps and measurements.

``fp32`` runs everything in float32. ``bf16`` runs D's steps and the measurements' forward
and backward passes under bfloat16 autocast: convolutions and matrix products in bf16 with
float32 accumulation, losses, sigmoids and gradient norms in float32. bf16 keeps float32's
exponent range, so a vanishing gradient of 1e-30 is still a number, not a zero as in fp16
(which is why fp16 is not offered: the minimax gradient is exactly the figure that would
underflow). It rounds to about 3 significant digits, far finer than the decades in which
the paper's figures move (README, "Precision").
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from gandoctor.errors import ConfigError

AUTO = "auto"
"""bf16 where the device computes it natively, else fp32."""
FP32 = "fp32"
BF16 = "bf16"
PRECISIONS = (AUTO, FP32, BF16)


def native_bf16(device: str) -> bool:
    """Whether ``device`` has bf16 arithmetic in hardware: CUDA GPUs from Ampere on, and CPUs
    with AMX tiles or AVX-512 BF16. Elsewhere torch emulates bf16, slower than fp32."""
    import torch  # here, not at the top: the command line imports AUTO without torch

    kind = torch.device(device).type
    if kind == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if kind == "cpu":
        # Private helpers of torch.cpu (present since torch 2.3); absent means unknown: fp32.
        checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
        return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)
    return False  # MPS: bf16 depends on the macOS version; fp32 is the safe choice


def check_precision(name: str) -> None:
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}: expected one of {', '.join(PRECISIONS)}")


def resolve_precision(name: str, device: str) -> str:
    """``name`` as fp32 or bf16, ``auto`` resolved for ``device``."""
    check_precision(name)
    if name == AUTO:
        return BF16 if native_bf16(device) else FP32
    return name


def autocast(device: str, precision: str) -> AbstractContextManager[object]:
    """The autocast context of ``precision`` on ``device``: a no-op for fp32."""
    import torch

    return torch.autocast(
        torch.device(device).type, dtype=torch.bfloat16, enabled=precision == BF16
    )
