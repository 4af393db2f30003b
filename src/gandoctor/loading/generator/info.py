"""What loading returns: the generator module and the facts detected about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from torch import nn

from gandoctor.enums import LatentDistribution


@dataclass(frozen=True)
class GeneratorInfo:
    """What was detected about a checkpoint; ``gandoctor inspect`` prints this."""

    checkpoint: str
    """The path as given."""
    format: str
    """``"safetensors"``, ``"hf-folder"``, ``"torch"``, ``"torchscript"``, ``"torch.export"``,
    ``"pickled-module"`` or ``"stylegan-snapshot"``."""
    architecture: str
    """A registry name (``"dcgan"``), the ``--arch`` string, or the class the file records."""
    arch_source: str
    """``"--arch"``, ``"metadata"``, ``"recognised"``, ``"sidecar config: <file>"``,
    ``"folder config: <file>"``, ``"file"`` or ``"pickled module"``."""
    arch_kwargs: dict[str, Any]
    """The constructor kwargs actually used."""
    latent_shape: tuple[int, ...]
    """One latent vector, without the batch axis."""
    latent_source: str
    """``"option"``, ``"architecture"``, ``"attribute"`` or ``"first layer"``."""
    output_shape: tuple[int, ...]
    """One generated sample, without the batch axis."""
    output_range: tuple[float, float]
    range_source: str
    """``"option"``, ``"architecture"``, ``"observed"`` or ``"default"``."""
    parameters: int
    """Number of parameter elements (tied parameters counted once)."""
    key: str | None = None
    """The entry of a nested checkpoint that held the generator, e.g. ``models.netG``."""
    stripped_prefix: str | None = None
    """What was removed from the front of every state-dict key, e.g. ``module.``."""
    num_classes: int | None = None
    """Classes of a conditional generator as the file declares them (a StyleGAN snapshot's
    c_dim); ``LoadOptions.num_classes`` overrides it."""
    details: dict[str, Any] = field(default_factory=dict)
    """What the file says about the generator and its training (a StyleGAN snapshot's
    z_dim, w_dim, mapping layers, ADA's augment p, training_set_kwargs, ...)."""

    latent_distribution: str | None = None
    """How z is drawn, as an adapter's GeneratorSpec declares it; None = not declared."""

    def classes(self, asked: int | None) -> int | None:
        """The classes a probe draws labels from: the option's, else the file's."""
        return asked or self.num_classes

    def distribution(self, asked: LatentDistribution) -> LatentDistribution:
        """How a probe draws z: ``--latent`` where it is not the default (normal), else the
        declared distribution."""
        return choose_distribution(asked, self.latent_distribution)

    def to_dict(self) -> dict[str, Any]:
        """The facts as JSON-ready values: tuples become lists."""
        return {key: _jsonable(value) for key, value in asdict(self).items()}


@dataclass
class LoadedGenerator:
    """A generator module ready to probe, with what was detected about it."""

    module: nn.Module
    """On the requested device, float32, eval mode; parameters keep ``requires_grad``."""
    info: GeneratorInfo


def choose_distribution(asked: LatentDistribution, declared: str | None) -> LatentDistribution:
    """``--latent`` where it is not the default (normal), else the declared distribution."""
    if asked != LatentDistribution.NORMAL or declared is None:
        return asked
    return LatentDistribution(declared)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value
