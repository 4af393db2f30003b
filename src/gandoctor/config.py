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
from gandoctor.precision import check_precision


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
    OVERFITTING = "overfitting"


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
    regression_saturation_share: float = 0.25
    """``--baseline``: a regression when D saturates this share of steps sooner than in the
    baseline report (a D that saturates sooner = a weaker training signal). Early on the
    measurement steps are 25 % apart (``measure_growth``), so one measurement earlier
    (20 % fewer steps) passes and two (36 %) do not. Between probe seeds 0-3 the example's
    untrained generator saturates at step 94 every time, the 10-epoch one at 193-218."""
    regression_decades: float = 0.5
    """``--baseline``: a regression when the minimax gradient's decades lost exceed the
    baseline's by this much (a 3-fold weaker signal): half the 1-decade step between the
    vanishing warning and failure levels, and 2.5 times its spread between probe seeds
    0-3 on the example (0.2: untrained 1.90-2.07, 10 epochs 1.21-1.41 in 300 steps)."""
    regression_growth_decades: float = 1.0
    """``--baseline``: the same for the -log D gradient's growth after the minimax peak,
    which varies twice as much between seeds (10 epochs: 0.60-1.12, untrained 0.88-1.25)."""
    collapse_fail_duplicates: float = 10.0
    """Generated samples hold this many times more near-duplicate pairs than real ones (the
    birthday-paradox test, collapse.py): few distinct outputs. Measured on 256 digits
    (README): 3 distinct digits 28-71, 10 digits 17, one class 8-30, the example's 10-epoch
    generator 12, untrained ~100 (every pair); a generator matching the data 0.9-1.6 (up
    to 1.9 at 64 samples), the 25-epoch generator 0.4."""
    collapse_warn_duplicates: float = 3.0
    """Three times the real rate: the generator covers about a third of the data's support
    (a sample drawn from a fraction f of it holds about 1/f times the pairs). 100 distinct
    digits give 1.4-2.6 and half the classes 2.0-3.3; a matched generator stays below 2."""
    collapse_warn_diversity: float = 0.75
    """Mean pairwise distance of generated samples below this share of the real one.
    Matched: 0.96-1.09; the 25-epoch generator 0.85; the 10-epoch one, whose samples are
    alike blobs, 0.62; samples shrunk half-way to the mean image 0.5."""
    collapse_warn_coverage: float = 0.75
    """Coverage (Naeem et al. 2020) below this, with precision at least
    ``collapse_coverage_precision``: realistic samples that leave a quarter of the real
    data without a generated neighbour, i.e. dropped modes. Matched: 0.89-1.0 (expected
    0.97 at k = 5); half the digit classes 0.55-0.65 at precision 0.92-1.0."""
    collapse_coverage_precision: float = 0.9
    """Precision from which low coverage means dropped modes rather than poor samples: in
    pixel space, blurred or noisy samples lose coverage and precision together (the
    25-epoch generator: precision 0.82, coverage 0.64); matched samples have 0.94-1.0."""
    overfit_rt: float = 0.6
    """r_t = E[sign(D(x_train))] (overfitting.py) from which D counts as overfitting, with
    r_v: StyleGAN2-ADA's target, above which ADA adds augmentation. Alone it also grows when
    D separates off samples (untrained generator: 1.0)."""
    overfit_rv: float = 0.5
    """r_v from which, with r_t, the report notes that the probe D memorises its training
    set: unseen real samples score closer to generated ones than to D's training samples,
    so most of D's confidence is memorisation. Measured (README): off samples give 0.00-0.03
    (untrained, 3 digits, noisy digits on 644 images); a generator matching the data gives
    0.5-1.7 wherever r_v is defined (D has nothing else to separate), but r_t reaches 0.6
    only on a small training set (64 images: 0.8; 644-1792: 0.1-0.2)."""
    layer_spread_warn_decades: float = 3.0
    """``preflight``: decades between the largest and smallest per-element (RMS) gradient of
    the generator's layers at initialisation, from which the layers learn at very different
    speeds. Measured through a fresh probe D in train mode (README): DCGANs of 16-64 px,
    the PyTorch-GAN and WGAN generators 0.6-1.9; a 10-layer ReLU MLP with PyTorch's default
    initialisation 3.5, a 10-layer sigmoid MLP 8.7 (the textbook vanishing gradient)."""
    layer_spread_fail_decades: float = 6.0
    """A millionfold: the first layers get a millionth of the last one's signal per weight,
    so under SGD they stay where they were initialised, and Adam (which rescales by each
    weight's gradient history) reaches them only while they stay above its eps of 1e-8."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"threshold {name} must be a finite number >= 0, got {value}")
        for name in (
            "saturation_accuracy",
            "saturation_fake_prob",
            "separable_accuracy",
            "range_overlap",
            "collapse_warn_coverage",
            "collapse_coverage_precision",
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
    precision: str = "fp32"
    """fp32, bf16 (autocast of D's steps and the measurements' passes) or auto (bf16 where
    the device has it in hardware). The library stays exact by default; the command line
    defaults to auto (precision.py, README "Precision")."""
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
    max_seconds: float | None = None
    """Time budget of the probe in seconds (``--max-seconds``); None = none. The probe
    stops before a D step that would not fit, after a last measurement, and marks its
    verdict partial (``ProbeOutcome.complete``). ``gandoctor.probe`` shares one budget
    among all checkpoints of a run."""

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
