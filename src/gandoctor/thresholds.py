"""Where a measurement becomes a finding: the thresholds of the verdict, each with the
reason for its value next to it; the measurements behind the defaults are in the README
("How the thresholds were chosen")."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gandoctor.errors import ConfigError


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
    trained 25 epochs ends 500 steps at 0.98 (95 % interval 0.964-0.989; seeds 0-2:
    0.98-0.99) without saturating; a generator matched to its data stays at 0.45-0.52. A
    final accuracy within its 95 % half-width of this value is a borderline finding."""
    c2st_alpha: float = 0.01
    """A saturation warning needs D's held-out accuracy to beat chance at this level in a
    classifier two-sample test (judge.c2st). At the default 256 held-out reals and 256
    fakes an accuracy of 0.9 has p < 1e-70, so this only holds back warnings on tiny
    held-out sets (below about 40 samples a side)."""
    vanishing_fail_decades: float = 2.0
    """Minimax gradient lost this many decades (log10 peak/end): a 100-fold weaker signal.
    Measured on the examples (benchmarks/stability.py, 500 steps, fp32, seeds 0-2):
    untrained 2.33-2.53, trained 1 epoch 2.22-2.28, 10 epochs 1.44-1.95 (borderline at
    seeds 1-2: +/- 0.3-0.4), 25 epochs 0.1 +/- 0.7 (a noisy plateau), a generator matched to
    its data 0."""
    vanishing_warn_decades: float = 1.0
    """A 10-fold weaker signal: the 10-epoch generator's 1.4-1.95 decades land here."""
    exploding_fail_decades: float = 0.3
    """The -log D gradient grew this many decades (2-fold) from where the minimax gradient
    turned down, i.e. while D grew confident on the fakes (Figure 3), counted only where
    the minimax gradient declined (``growth_needs_decline_decades``). A factor of the
    gradient's size, not a value tuned to cases: the readings scatter across both levels.
    Measured (benchmarks/stability.py and matrix.py, 500 steps, fp32): the untrained example
    0.17-0.24 between seeds 0-2, 1 epoch 0.23-0.26, 10 epochs 0.10-0.18, 25 epochs not
    counted (no decline; one seed 0.14) nor a matched generator; the matrix's DCGANs
    0.05-0.40 between seeds 0-4 of one generator. The margins hold that scatter (the onset
    and horizon shifts: +/- 0.04-0.17), so most such findings are borderline, and
    ``--seeds N`` settles them."""
    exploding_warn_decades: float = 0.15
    """A 1.4-fold growth: above the curves' own noise (+/- 0.01-0.03 before the shifts),
    below the untrained and 1-epoch examples' readings."""
    growth_needs_decline_decades: float = 0.3
    """The -log D gradient's growth after the minimax peak counts only where the minimax
    gradient fell at least this far (a factor 2) below its peak: Theorem 2.6 is about a
    near-optimal D, and a minimax gradient that has not declined says D is not one; the
    growth is then D's weights growing. Measured (500 steps, fp32): the 25-epoch example
    loses 0.07 decades (its growth of 0.3 was the finding that flipped between runners),
    the 10-epoch one 1.4, untrained ones 2.0; a matched generator 0."""
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
    birthday-paradox test, analyses.collapse): few distinct outputs. Measured on 256 digits
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
    """r_t = E[sign(D(x_train))] (analyses.overfitting) from which D counts as overfitting, with
    r_v: StyleGAN2-ADA's target, above which ADA adds augmentation. Alone it also grows when
    D separates off samples (untrained generator: 1.0)."""
    overfit_rv: float = 0.5
    """r_v from which, with r_t, the report notes that the probe D memorises its training
    set: unseen real samples score closer to generated ones than to D's training samples,
    so most of D's confidence is memorisation. Measured (README): off samples give 0.00-0.03
    (untrained, 3 digits, noisy digits on 644 images); a generator matching the data gives
    0.5-1.7 wherever r_v is defined (D has nothing else to separate), but r_t reaches 0.6
    only on a small training set (64 images: 0.8; 644-1792: 0.1-0.2)."""
    own_d_dominant_decades: float = 1.0
    """Decades by which the minimax gradient through the checkpoint's own D lies below the
    -log D one, from which (with held-out accuracy of at least ``separable_accuracy``) the
    own D dominates its generator. Per sample the two costs' gradients differ by the factor
    D(G(z)) / (1 - D(G(z))) (the derivatives of softplus(l) and softplus(-l) in the logit),
    so one decade means the own D rates the fakes at about 0.09: the regime of the paper's
    Theorem 2.4, where the minimax cost stops training G. Measured: the untrained StyleGAN
    fixtures' own Ds sit at -0.2 to -0.3 (they rate fakes above reals); the probe's fresh D,
    saturated against the untrained example, ends 3.5 decades apart (3.0e-4 against 0.91)."""
    own_d_overfit_auc: float = 0.8
    """P(D(training real) > D(unseen real)) of the checkpoint's own D from which it has
    memorised the GAN's training reals (``d_overfit``; needs ``--val-data``): 0.5 is no gap.
    Measured (tests/test_own_d_findings.py, digits 16 px, the fakes a pool of other real
    digits so that D can only win by memorising): a D trained on 64 images 0.93 after 300
    steps (1.00 after 1500), on 900 images 0.55 (0.66 after 1500). With --val-data, r_t >=
    ``overfit_rt`` and r_v >= ``overfit_rv`` is the other reason (64 images: r_t 0.94-1.00,
    r_v 0.89-0.90; 900: r_v 0.24-0.36)."""
    own_d_penalty_loss: float = 1.386
    """gamma / 2 * R1 of the checkpoint's own D, for the gamma the run claims, from which the
    penalty cannot have been acting on this D (``penalty_ineffective``): ln 4, the whole
    adversarial loss of a D that outputs a constant, which pays no penalty at all. A D
    trained on loss + gamma / 2 R1 keeps the term well below it (measured: gamma 10 gives
    0.26 after 150 steps and 0.08 after 600; gamma 1, 0.06 and 0.05); the same D trained
    without the penalty would pay 6.3 and 39 at gamma 10."""
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
    logged_d_loss_collapse: float = 0.191
    """The run's logged D loss (NVlabs ``Loss/D/loss``: softplus(D(fake)) + softplus(-D(real))
    per sample, averaged over a tick) at or below which it has fallen toward 0
    (``d_loss_collapse``). Chance, a D that outputs logit 0, is 2 ln 2 = 1.386; this is
    2 ln 1.1, the loss of a D that gives every real the logit +ln 10 and every fake -ln 10,
    i.e. D(G(z)) = 1/11 = 0.09: where the minimax gradient is a tenth of the -log D one,
    the point ``own_d_dominant_decades`` marks on the checkpoint's own D (softplus is convex,
    so a mean at this level needs mean logits at least this far apart). Runs whose loss is
    defined otherwise (TensorBoard tags of the user's choosing) have no known chance level
    and are not judged."""
    logged_rt_collapse: float = 0.9
    """The logged r_t = E[sign(D(x_real))] (``Loss/signs/real``) from which, with the D loss
    above, the run's D is sure of its reals: 95 % of them on the real side. ADA steers r_t to
    its target, 0.6 by default (train.py ``--aug=ada``), so 0.9 says the controller has lost
    hold of D; one tick averages the signs of some 4000 reals (4 kimg per tick), whose
    standard error (at most 1/sqrt(4000) = 0.016) is far below the 0.3 between the two."""
    logged_augment_ceiling: float = 0.8
    """ADA's logged p (``Progress/augment``) from which it is at its ceiling. NVlabs'
    training_loop.py only clamps p at 0 (``.max(0)``) and AugmentPipe applies each
    augmentation where rand < p, so in practice p tops out at 1 (every augmentation always).
    Karras et al. (2020, section 2.2 and Figure 3) find that their augmentations start to
    leak into the generated images once p exceeds about 0.8 and rarely below it, so 0.8 is
    where ADA runs out of safe room; ``d_loss_collapse`` takes it as ADA's ceiling, too."""
    logged_augment_ceiling_ticks: float = 10
    """Consecutive logged ticks (up to the snapshot) with p at or above
    ``logged_augment_ceiling`` from which p is pinned there (``augment_ceiling``): 40 kimg at
    NVlabs' default 4 kimg per tick. The controller moves p by at most kimg_per_tick /
    ada_kimg per tick (0.008 at the default ada_kimg = 500), so in ten ticks it could have
    taken p 0.08 back down; a p still at the ceiling after them is held there by r_t staying
    above the target, not passing by."""
    logged_fid_rises: float = 3
    """Consecutive rises of the logged FID, evaluation after evaluation up to the snapshot,
    from which FID has regressed (``fid_regressed``). If the evaluations were noise around a
    flat curve, each order of four values would be as likely as any other, and all three
    rises in a row would come 1 time in 4! = 24 (4 %)."""
    logged_fid_rise: float = 0.10
    """Relative rise of the logged FID over those evaluations (last / first - 1) from which
    it counts. FID differs between training runs of one recipe by a few per cent (Karras et
    al. 2020 report their FIDs as mean +- standard deviation over three runs, the standard
    deviations 1-3 % of the means), and redrawing the samples of one network moves it less
    still; at a 2 % spread, the 95 % band of the difference of two readings is 1.96 x sqrt 2
    x 2 % = 5.5 %, so a rise of 10 % is beyond that noise. The same 2 % gives the figure's
    uncertainty (judge.run_log)."""

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
