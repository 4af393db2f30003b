"""Typed, frozen configuration. Every default of gandoctor lives in this file, but for the
thresholds of the findings, which have a file of their own (thresholds.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gandoctor.enums import FindingCode, LatentDistribution, Severity, Verdict
from gandoctor.errors import ConfigError
from gandoctor.plans import PLAN_CHOICES
from gandoctor.runtime.precision import check_precision
from gandoctor.thresholds import Thresholds

__all__ = [
    "DataOptions",
    "FindingCode",
    "LatentDistribution",
    "LoadOptions",
    "PreflightConfig",
    "ProbeConfig",
    "RemedyOptions",
    "Severity",
    "Thresholds",  # re-exported: the settings of a probe include its thresholds
    "Verdict",
]


LABEL_FORMATS = ("index", "onehot")


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
    the second argument, ``G(z, labels)``; None = what the checkpoint declares (a StyleGAN
    snapshot's c_dim), else unconditional."""
    label_format: str = "index"
    """How labels go into a conditional generator: ``index`` (integer classes) or
    ``onehot`` (float one-hot vectors over ``num_classes``, BigGAN's ``class_label``)."""
    forward_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments added to every generator call (``--forward-kwargs``), for a forward
    such as ``G(z, depth, alpha)``."""
    output_index: int | str | None = None
    """Take this item of what the generator returns (``--output-index``): a position in a
    tuple or list, or a dict key; None = the output itself."""
    adapter: str | None = None
    """``path/to/adapter.py`` or ``package.module`` whose ``build(state, **arch_kwargs)``
    returns the z -> sample module or a ``GeneratorSpec`` (``--adapter``)."""
    disc_checkpoint: str | None = None
    """The checkpoint's own discriminator saved in a file of its own (``--disc-checkpoint``);
    None = looked for in the checkpoint, or beside it (``netD_*`` for ``netG_*``)."""
    disc: str | None = None
    """``package.module:Class`` or ``path/to/file.py:Class`` of the checkpoint's own D
    (``--disc``), for a layout gandoctor does not recognise; None = recognised from its keys."""
    disc_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for ``disc`` (``--disc-kwargs``; ``$call`` values as for ``arch``)."""
    truncation: float = 1.0
    """StyleGAN truncation psi: w is pulled towards its tracked mean, w_avg + psi (w - w_avg).
    1 = none, the generator as trained (the default: truncation trades diversity for
    fidelity, and would hide collapse)."""

    def __post_init__(self) -> None:
        if self.num_classes is not None and self.num_classes < 1:
            raise ConfigError(f"{{opt:num_classes}} must be at least 1, got {self.num_classes}")
        if self.label_format not in LABEL_FORMATS:
            raise ConfigError(
                f"{{opt:label_format}} is one of {', '.join(LABEL_FORMATS)}, "
                f"not {self.label_format!r}"
            )
        if self.label_format == "onehot" and self.num_classes is None:
            raise ConfigError("{opt:label_format} onehot needs {opt:num_classes}")
        if not math.isfinite(self.truncation):
            raise ConfigError(f"{{opt:truncation}} must be a finite number, got {self.truncation}")


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
    precision: str = "fp32"
    """fp32, bf16 (autocast of D's steps and the measurements' passes) or auto (bf16 where
    the device has it in hardware). The library stays exact by default; the command line
    defaults to auto (runtime.precision, README "Precision")."""
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
    instance_noise: float = 0.0
    """Standard deviation, in the generator's output units, of Gaussian noise added to both
    real and generated inputs of D, in training and in the held-out measurements (the
    paper's sec. 3 remedy; ``--remedies`` probes a few values). 0 = none, and no extra
    random draws: a probe without noise gives the same numbers as before it existed."""
    per_layer: bool = False
    """Also record the generator gradient norms per layer (``--layers``). They come from the
    same autograd call as the global norm, which stays exactly the same."""
    own_discriminator: bool = True
    """Also measure the checkpoint's own discriminator where it holds one gandoctor can
    build (``--own-d``, the default; ``--no-own-d``): no training, the same held-out data."""
    max_seconds: float | None = None
    """Time budget of the probe in seconds (``--max-seconds``); None = none. The probe
    plans to fit it (``plan``), stops before a D step that would not fit, after a last
    measurement, and marks its verdict partial (``ProbeOutcome.complete``).
    ``gandoctor.probe`` shares one budget among all checkpoints of a run."""
    plan: str = "auto"
    """``auto``: time the generator and D before the loop, predict the protocol's time, and
    where it exceeds ``max_seconds`` (or, on a CPU, ``cpu_budget``) run the first
    of ``plans.PLAN_LEVELS`` predicted to fit (probing.plan); ``full``: the protocol whatever its
    time; ``1`` .. ``5``: that level."""
    cpu_budget: float | None = None
    """Seconds a probe on a CPU plans to fit where no ``max_seconds`` is given; None = none,
    the full protocol (the library's default, so that its figures do not depend on the
    machine's speed). The command line sets ``plans.DEFAULT_CPU_SECONDS``. It only plans:
    unlike ``max_seconds`` it never cuts a run short."""
    threads: int | None = None
    """CPU threads of torch's operations during the probe (``--threads``); None = auto:
    the CPUs this process may use, less those busy with other work when it starts
    (runtime.threads). Restored after the probe."""

    def __post_init__(self) -> None:
        if self.max_seconds is not None and not (
            math.isfinite(self.max_seconds) and self.max_seconds > 0
        ):
            raise ConfigError(f"max seconds must be a positive number, got {self.max_seconds}")
        if not (math.isfinite(self.instance_noise) and self.instance_noise >= 0):
            raise ConfigError(
                f"instance noise must be a finite number >= 0, got {self.instance_noise}"
            )
        if self.steps < 1:
            raise ConfigError(f"steps must be at least 1, got {self.steps}")
        if not 0 <= self.seed < 2**63:  # what both numpy's and torch's generators accept
            raise ConfigError(f"seed must be in 0 .. 2**63 - 1, got {self.seed}")
        if self.batch_size < 2:
            raise ConfigError(f"batch size must be at least 2, got {self.batch_size}")
        if self.grad_batches < 1:
            raise ConfigError(f"grad batches must be at least 1, got {self.grad_batches}")
        if not 0 < self.heldout_fraction < 1:
            raise ConfigError(f"held-out fraction must be in (0, 1), got {self.heldout_fraction}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"learning rate must be positive, got {self.lr}")
        check_precision(self.precision)
        if self.measure_growth <= 1:
            raise ConfigError(f"measure growth must exceed 1, got {self.measure_growth}")
        if self.plan not in PLAN_CHOICES:
            raise ConfigError(
                f"unknown {{opt:plan}} {self.plan!r}: expected one of {', '.join(PLAN_CHOICES)}"
            )
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"{{opt:threads}} must be at least 1, got {self.threads}")


@dataclass(frozen=True)
class RemedyOptions:
    """The remedy checks of ``--remedies``: instance noise at a few levels, and a WGAN-GP
    critic, each trained against the same frozen generator as the probe."""

    noise_levels: tuple[float, ...] = (0.1, 0.05, 0.02)
    """Standard deviations of instance noise, as shares of the data range (the width of the
    generator's output range): each is one more probe with the same seed and split."""
    critic: bool = True
    """Train a WGAN-GP critic too."""
    critic_steps: int | None = None
    """Critic steps; None = as many as the probe ran, so its gradient is compared with the
    minimax one over the same number of D steps."""
    critic_lr: float = 1e-4
    critic_betas: tuple[float, float] = (0.0, 0.9)
    """Adam settings of the WGAN-GP paper (Gulrajani et al. 2017, Algorithm 1)."""
    gradient_penalty: float = 10.0
    """lambda of the gradient penalty, as in the WGAN-GP paper."""
    w1_noise_divisor: float = 3.0
    """When no noise level tried helps, suggest sigma = W1 / this (the critic's W1
    estimate). Noise makes the supports overlap only at a sigma comparable to the distance
    between them: along the direction that separates them best, distributions W1 apart
    with noise sigma = W1 / 3 are 3 sigma apart, which a D tells apart at best Phi(1.5) =
    93 % of the time. Measured on the example (README): the untrained generator (W1 ~ 25)
    kept its minimax signal from sigma = 8 (held-out accuracy 0.90), the 10-epoch one
    (W1 ~ 11) from sigma = 4 (0.85); smaller ones tried did not (up to 2 for the
    untrained generator, 0.2 for the 10-epoch one)."""

    def __post_init__(self) -> None:
        for level in self.noise_levels:
            if not (math.isfinite(level) and level > 0):
                raise ConfigError(f"noise levels must be finite numbers > 0, got {level}")
        if self.critic_steps is not None and self.critic_steps < 1:
            raise ConfigError(f"critic steps must be at least 1, got {self.critic_steps}")
        if not (math.isfinite(self.critic_lr) and self.critic_lr > 0):
            raise ConfigError(f"critic learning rate must be positive, got {self.critic_lr}")
        if not (math.isfinite(self.gradient_penalty) and self.gradient_penalty >= 0):
            raise ConfigError(f"gradient penalty must be >= 0, got {self.gradient_penalty}")
        if not (math.isfinite(self.w1_noise_divisor) and self.w1_noise_divisor > 0):
            raise ConfigError(f"W1 noise divisor must be > 0, got {self.w1_noise_divisor}")


@dataclass(frozen=True)
class PreflightConfig:
    """``gandoctor preflight``: checks of an (untrained) generator and its data in seconds."""

    probe: ProbeConfig = field(default_factory=lambda: ProbeConfig(steps=200, train_mode=True))
    """The short probe. 200 steps: an untrained generator is separated within tens of steps
    and its minimax gradient peaks by step 50-120 (README), so the usual findings show; the
    generator runs in train mode, the mode it trains in."""
    calibration_batches: int = 10
    """Train-mode batches whose BatchNorm statistics are averaged (cumulatively, on a copy)
    before train- and eval-mode outputs are compared, standing in for the running averages
    training builds up: with its fresh statistics (mean 0, variance 1) an untrained
    generator's train- and eval-mode outputs differ by 0.7-1750 times their size, after 10
    averaged batches by 2-12 % (README)."""
    raw_files: int = 32
    """Image files whose stored mode and size are read to describe the data."""

    def __post_init__(self) -> None:
        if self.calibration_batches < 1:
            raise ConfigError(
                f"calibration batches must be at least 1, got {self.calibration_batches}"
            )
        if self.raw_files < 1:
            raise ConfigError(f"raw files must be at least 1, got {self.raw_files}")
