"""gandoctor: a doctor for GAN generators.

Freeze a generator, train a fresh probe discriminator against real data, and measure what
Arjovsky & Bottou (2017) measured: how fast D saturates, how the generator's gradient
vanishes under the minimax cost and grows under the -log D cost.

The public API is imported lazily so that ``gandoctor --help`` does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gandoctor._version import __version__

__all__ = [
    "DataOptions",
    "GeneratorCheckFailed",
    "GeneratorSpec",
    "LoadOptions",
    "ProbeConfig",
    "RemedyOptions",
    "Report",
    "Thresholds",
    "__version__",
    "check",
    "inspect",
    "load_generator",
    "load_real_data",
    "probe",
    "run_probe",
]

_LAZY = {
    "probe": "gandoctor.api",
    "check": "gandoctor.assertions",
    "inspect": "gandoctor.api",
    "GeneratorCheckFailed": "gandoctor.assertions",
    "GeneratorSpec": "gandoctor.loading.layouts.adapters",
    "load_generator": "gandoctor.loading",
    "load_real_data": "gandoctor.data",
    "run_probe": "gandoctor.probing.loop",
    "Report": "gandoctor.report",
    "DataOptions": "gandoctor.config",
    "LoadOptions": "gandoctor.config",
    "ProbeConfig": "gandoctor.config",
    "RemedyOptions": "gandoctor.config",
    "Thresholds": "gandoctor.config",
}

if TYPE_CHECKING:
    from gandoctor.api import inspect, probe
    from gandoctor.assertions import GeneratorCheckFailed, check
    from gandoctor.config import DataOptions, LoadOptions, ProbeConfig, RemedyOptions, Thresholds
    from gandoctor.data import load_real_data
    from gandoctor.loading import load_generator
    from gandoctor.loading.layouts.adapters import GeneratorSpec
    from gandoctor.probing.loop import run_probe
    from gandoctor.report import Report


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gandoctor' has no attribute {name!r}")
