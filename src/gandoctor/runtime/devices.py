"""Which torch device a probe runs on: ``auto`` picks the fastest one present."""

from __future__ import annotations

from gandoctor.errors import ConfigError

AUTO = "auto"
"""CUDA if a GPU is usable, else Apple's MPS, else the CPU."""


def resolve_device(name: str) -> str:
    """``name`` as a concrete torch device string; ``auto`` resolved. A device that this
    machine or torch build lacks is a ConfigError naming it, not a crash later on."""
    import torch  # here, not at the top: the command line imports AUTO without torch

    if name == AUTO:
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(
            f"unknown device {name!r}: expected e.g. auto, cpu, cuda, cuda:1, mps"
        ) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {name!r}: no CUDA GPU is usable here; use {{opt:device}} cpu or auto"
        )
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    if device.type == "cuda" and device.index is not None and device.index >= gpus:
        raise ConfigError(f"device {name!r}: only {gpus} CUDA GPU(s) here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(
            f"device {name!r}: MPS is not available here; use {{opt:device}} cpu or auto"
        )
    return name
