"""Turning a checkpoint file into a generator module, and saying what was detected.

The public surface is :func:`load_generator` (with :class:`LoadedGenerator` and
:class:`GeneratorInfo`), :func:`sample_latents` for drawing latents of the detected shape,
:func:`architecture_metadata` for writing files gandoctor loads without options, and the
:class:`DCGANGenerator` that recognised checkpoints are built as.
"""

from gandoctor.loading.dcgan import DCGANGenerator
from gandoctor.loading.info import GeneratorInfo, LoadedGenerator
from gandoctor.loading.inspection import sample_latents
from gandoctor.loading.loader import load_generator
from gandoctor.loading.registry import REGISTRY, architecture_metadata

__all__ = [
    "REGISTRY",
    "DCGANGenerator",
    "GeneratorInfo",
    "LoadedGenerator",
    "architecture_metadata",
    "load_generator",
    "sample_latents",
]
