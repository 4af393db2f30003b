"""The generator architectures gandoctor builds by name and recognises from a state dict.

Each module holds one architecture: an ``nn.Module`` class (a :class:`BuiltinGenerator`), its
``recognise(tensors)`` function and a ``LAYOUT`` phrase for messages. The registry
(``gandoctor.loading.layouts.registry.REGISTRY``) names them; adding an architecture is one module
here, one registry entry and a test.
"""

from gandoctor.loading.layouts.architectures.base import (
    BuiltinGenerator,
    LayoutMismatch,
    Recogniser,
)

__all__ = ["BuiltinGenerator", "LayoutMismatch", "Recogniser"]
