"""Typed, frozen configuration. Every default of gandoctor lives in this file.

Each threshold carries the reason for its value next to it; the measurements behind the
defaults are in the README ("How the thresholds were chosen").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gandoctor.errors import ConfigError


class Severity(StrEnum):
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"


class FindingCode(StrEnum):
    SATURATION = "saturation"
    VANISHING = "vanishing"
    EXPLODING = "exploding"
    COLLAPSE = "collapse"
    BROKEN = "broken"
    MODE_MISMATCH = "mode_mismatch"
    RANGE_MISMATCH = "range_mismatch"


class LatentDistribution(StrEnum):
    NORMAL = "normal"
    """Standard normal, as in DCGAN and most GANs."""
    UNIFORM = "uniform"
    """Uniform on [-1, 1]."""


class Verdict(StrEnum):
    HEALTHY = "healthy"
    WARNING = "warning"
    FAILING = "failing"
    BROKEN = "broken"


@dataclass(frozen=True)
class LoadOptions:
    """How to turn a checkpoint file into a generator module."""

    arch: str | None = None
    """``package.module:Class`` or ``path/to/file.py:Class``; None = metadata or recognition."""
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    latent_shape: tuple[int, ...] | None = None
    """Shape of one latent vector without the batch axis, e.g. (100, 1, 1); None = inferred."""
    output_range: tuple[float, float] | None = None
    """Value range of the generator's output; None = from the architecture or observed."""
    device: str = "cpu"
    key: str | None = None
    """Entry of a nested checkpoint dict that holds the generator's state dict (``--key``),
    e.g. ``netG_state_dict`` or ``state_dict``; None = picked where unambiguous."""
    strip_prefix: str | None = None
    """Prefix to remove from every state-dict key (``module.``, ``generator.``); None =
    found where unambiguous."""
    trust_pickle: bool = False
    """Allow full unpickling (arbitrary code execution) for files that hold whole pickled
    modules. Off by default: ``torch.load`` runs with ``weights_only=True``."""
    latent_distribution: LatentDistribution = field(
        default_factory=lambda: LatentDistribution.NORMAL
    )
    num_classes: int | None = None
    """Conditional generators: labels drawn uniformly from this many classes are passed as
    the second argument, ``G(z, labels)``."""

    def __post_init__(self) -> None:
        if self.num_classes is not None and self.num_classes < 1:
            raise ConfigError(f"--num-classes must be at least 1, got {self.num_classes}")


@dataclass(frozen=True)
class DataOptions:
    """How to read the real data."""

    max_images: int = 10_000
    """Cap on images decoded, sampled with the seed. 10k held-out/train images are far more
    than a probe of a few hundred steps at batch 64 can use (500 x 64 = 32k draws), and keep
    decoding time and memory bounded for folders of any size."""
    seed: int = 0
    cache: bool = True
    """Keep decoded image folders in the user's cache folder (gandoctor.data.cache), so a
    second probe of the same files skips decoding."""


@dataclass(frozen=True)
class Thresholds:
    """Where a measurement becomes a finding. See the README for the measurements."""

    saturation_accuracy: float = 0.99
    """Held-out balanced accuracy from which real and fake count as separated (the
    paper's Figure 1 shows accuracy reaching 1)."""
    saturation_fake_prob: float = 0.01
    """Mean D(G(z)) at or below which D is saturated on fakes: the minimax cost's gradient
    carries a factor D(G(z)), so at 0.01 it is scaled down 50-fold against D = 0.5."""
    separable_accuracy: float = 0.9
    """Final held-out accuracy that earns a saturation warning even without saturation: D
    already tells nine in ten samples apart. Measured (README): the example generator
    trained 25 epochs ends 500 steps at 0.98 without saturating; a generator matched to
    its data stays at 0.48-0.52."""
    vanishing_fail_decades: float = 2.0
    """Minimax gradient lost this many decades (log10 peak/final): a 100-fold weaker signal.
    Measured on the example (README): untrained DCGANs reach 2 decades within 270-420 steps,
    one trained 10 epochs loses 1.4 in 500 steps, 25 epochs 0.1, a generator matched to its
    data 0."""
    vanishing_warn_decades: float = 1.0
    """A 10-fold weaker signal: the 10-epoch generator's 1.4 decades land here."""
    exploding_fail_decades: float = 0.5
    """The -log D gradient grew this many decades (about 3-fold) after the minimax gradient
    peaked, i.e. while D grew confident on the fakes (Figure 3). Measured on the example:
    untrained DCGANs 1.0-1.5, trained 10 epochs 0.6, 25 epochs 0.01, matched 0."""
    exploding_warn_decades: float = 0.25
    noisy_cv: float = 0.5
    """Coefficient of variation of the -log D gradient norm across the measurement steps of
    the second half of the probe, around its log-linear trend, from which it is reported as
    unstable (the spread of Figure 3). The largest value measured on the reference cases
    was 0.33, a D wandering against a matched generator (0.17 on the example's matched
    case, 0.08 for the 25-epoch generator), so only worse counts as noisy."""
    ignores_z_ratio: float = 1e-4
    """Generated samples whose spread across z is below this share of the real data's
    spread: the generator ignores its latent input. An untrained DCGAN in eval mode (fresh
    BatchNorm statistics) varies 2.5e-3 times as much as real digits and does use z; a
    generator that ignores z varies 0 times, or ~1e-7 from rounding."""
    range_overlap: float = 0.75
    """Share of the real data's value span that generated values must overlap. Below it,
    and with generated values spanning at least 40 % of the range (an untrained generator
    whose outputs are all near 0 says nothing about ranges), the two were likely scaled
    differently: a tanh generator trained on data in [0, 1] overlaps digits scaled to
    [-1, 1] by 0.5, the example generators trained on [-1, 1] by 0.9 or more."""
    range_overshoot: float = 0.05
    """Generated values beyond the declared output range by more than this share of the
    range: the range is wrong (an unbounded generator trained on [0, 255] data, say)."""
    mode_mismatch_ratio: float = 0.5
    """Relative difference between train-mode and eval-mode outputs for the same z above
    which the report notes that the two modes behave differently."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"threshold {name} must be a finite number >= 0, got {value}")
        for name in (
            "saturation_accuracy",
            "saturation_fake_prob",
            "separable_accuracy",
            "range_overlap",
        ):
            if getattr(self, name) > 1:
                raise ConfigError(f"threshold {name} is a probability, got {getattr(self, name)}")


@dataclass(frozen=True)
class ProbeConfig:
    """Settings of one probe: the discriminator, its training and the measurements."""

    steps: int = 500
    """Maximum discriminator iterations. An untrained generator saturates within ~50 steps
    and loses its minimax gradient within a few hundred (README), so 500 separates the cases
    at a cost of minutes on a CPU; early stopping ends clear cases sooner."""
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    grad_batches: int = 4
    """K: fixed latent batches per gradient measurement, for a mean and a spread."""
    heldout_min: int = 256
    heldout_fraction: float = 0.1
    disc_width: int | None = None
    """Base channel width of the probe D; None = sized to the resolution."""
    seed: int = 0
    device: str = "cpu"
    train_mode: bool = False
    """Keep the generator in train mode (BatchNorm batch statistics) instead of eval mode."""
    early_stop: bool = True
    measure_growth: float = 1.25
    """Measurement steps grow geometrically by this factor (dense early, where the paper's
    curves move fastest) ..."""
    measure_max_interval: int = 25
    """... until they are this many steps apart; from then on they are evenly spaced, so the
    second half of the run has enough points to judge the gradient's variation."""
    settle_steps: int = 50
    """Early stop: saturation must have held this many steps before the run may end."""
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ConfigError(f"steps must be at least 1, got {self.steps}")
        if self.batch_size < 2:
            raise ConfigError(f"batch size must be at least 2, got {self.batch_size}")
        if self.grad_batches < 1:
            raise ConfigError(f"grad batches must be at least 1, got {self.grad_batches}")
        if not 0 < self.heldout_fraction < 1:
            raise ConfigError(f"held-out fraction must be in (0, 1), got {self.heldout_fraction}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"learning rate must be positive, got {self.lr}")
        if self.measure_growth <= 1:
            raise ConfigError(f"measure growth must exceed 1, got {self.measure_growth}")
