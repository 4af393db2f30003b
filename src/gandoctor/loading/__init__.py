"""Turning a checkpoint file into a generator module, and saying what was detected.

The package follows the data flow: ``formats`` (bytes to state: safetensors, torch.save,
NVlabs pickles, TorchScript, checkpoint folders), ``selection`` (which entry holds G, which
prefix to strip), ``layouts`` (state to module: recognisers and builds), ``generator`` (the
built module's facts and calls) and ``discriminators`` (the checkpoint's own D). Its root
holds only :func:`load_generator` (``loader``), which runs those stages in order.

The public surface is :func:`load_generator` (with :class:`LoadedGenerator` and
:class:`GeneratorInfo`), :func:`sample_latents` for drawing latents of the detected shape,
:func:`architecture_metadata` for writing files gandoctor loads without options, and the
:class:`DCGANGenerator` that recognised checkpoints are built as.
"""

from gandoctor.loading.generator.info import GeneratorInfo, LoadedGenerator
from gandoctor.loading.generator.inspection import sample_latents
from gandoctor.loading.layouts.architectures.dcgan import DCGANGenerator
from gandoctor.loading.layouts.registry import REGISTRY, architecture_metadata
from gandoctor.loading.loader import load_generator

__all__ = [
    "REGISTRY",
    "DCGANGenerator",
    "GeneratorInfo",
    "LoadedGenerator",
    "architecture_metadata",
    "load_generator",
    "sample_latents",
]
