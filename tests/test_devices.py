"""Device choice: ``auto`` and clear errors for devices that are not there; the GPU path
where a GPU exists (skipped otherwise)."""

from __future__ import annotations

import pytest
import torch

from gandoctor import probe
from gandoctor.config import ProbeConfig
from gandoctor.errors import ConfigError
from gandoctor.runtime.devices import resolve_device

CUDA = torch.cuda.is_available()
EXAMPLE = "examples/dcgan_digits_epoch0.safetensors"


def test_auto_picks_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"


@pytest.mark.parametrize("name", ["gpu", "cuda:x"])
def test_unknown_devices_are_named(name):
    with pytest.raises(ConfigError, match=f"unknown device '{name}'"):
        resolve_device(name)


@pytest.mark.skipif(CUDA, reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ConfigError, match="no CUDA GPU is usable here"):
        resolve_device("cuda")


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_gpu_probe_reaches_the_cpu_verdict(precision):
    """The same probe on the GPU (fp32, and bf16 where the GPU has it) and on the CPU in
    fp32: the same verdict and saturation point (kernels differ, so figures agree to a
    tolerance, not bit for bit)."""
    settings = {"steps": 150, "early_stop": False}
    cpu = probe(EXAMPLE, "examples/digits", config=ProbeConfig(device="cpu", **settings))
    on_gpu = ProbeConfig(device="cuda", precision=precision, **settings)
    gpu = probe(EXAMPLE, "examples/digits", config=on_gpu)
    assert gpu.verdict == cpu.verdict
    cpu_summary = cpu.checkpoints[0].outcome.summary
    gpu_summary = gpu.checkpoints[0].outcome.summary
    assert cpu_summary is not None and gpu_summary is not None
    assert cpu_summary.steps_to_saturation is not None
    assert gpu_summary.steps_to_saturation == pytest.approx(cpu_summary.steps_to_saturation, abs=25)
    assert gpu_summary.minimax_decades_lost == pytest.approx(
        cpu_summary.minimax_decades_lost, abs=0.3
    )
