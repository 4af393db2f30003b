"""Mode collapse: how diverse generated samples are, against held-out real samples.

Feature space: pixels, average-pooled to at most 8 x 8 per channel (vectors as they are),
compared by Euclidean distance. It needs no downloaded weights and means the same for every
checkpoint. Pooling keeps the layout and colour of a sample, where collapse shows (the same
digit, the same face pose), and drops pixel-level texture, whose distances are dominated by
noise in high dimensions. The features are not rescaled: every figure below is a ratio of
distances or compares distances with radii taken from real data, so a global scale cancels,
and per-pixel standardisation would magnify pixels that hardly vary in real data (a digit's
background). The probe D's own features were not used: they are trained to separate this
very generator's samples from real ones, and change with every D step.

Figures, all at the same sample size n for real and generated samples:

- diversity ratio: mean pairwise distance among generated samples / among real samples
  (1 for a generator that matches the data, 0 for one that ignores z);
- near-duplicate rate (the birthday-paradox test, Arora & Zhang 2017): the share of pairs
  closer than tau, where tau is the 1st percentile of pairwise distances within a second,
  independent set of real samples. Held-out real pairs then fall below tau at about 1 %;
  a generator with few distinct outputs has many more such pairs;
- precision and coverage (Naeem et al. 2020, k = 5): every real sample gets a ball whose
  radius is the distance to its k-th nearest real neighbour. Precision is the share of
  generated samples inside some real sample's ball (fidelity); coverage is the share of
  real samples whose ball holds at least one generated sample (diversity: a generator that
  drops modes leaves their balls empty).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.judge.c2st import Z95
from gandoctor.nn.latent import GeneratorInputs
from gandoctor.results.samples import K_NEIGHBOURS, CollapseStats

POOLED_SIZE = 8
"""Images are average-pooled to at most this many pixels a side before distances."""
MIN_SAMPLES = 64
"""Fewer real or generated samples than this give no collapse figures: at 64 samples the
1 % of real pairs below tau are 20 pairs, and the rate of a generator matching the data
already ranges over 0.35-1.9 times the real one (README)."""
MAX_SAMPLES = 2048
"""At most this many of each are compared: n^2 distances (32 MB in float64 at 2048), and
``torch.quantile`` takes at most 2^24 values (n = 5793 pairs up)."""
DUPLICATE_PERCENTILE = 1.0
"""A pair counts as a near-duplicate when it is closer than this percentile of real
pairwise distances, so that real data have about 1 % of such pairs."""


def features(samples: torch.Tensor) -> torch.Tensor:
    """Pooled pixels (images) or the vectors themselves, flattened, in float64."""
    x = samples.detach().double()
    if x.dim() == 4 and (x.shape[2] > POOLED_SIZE or x.shape[3] > POOLED_SIZE):
        x = F.adaptive_avg_pool2d(x, (min(POOLED_SIZE, x.shape[2]), min(POOLED_SIZE, x.shape[3])))
    return x.flatten(1)


def pair_distances(x: torch.Tensor) -> torch.Tensor:
    """Distances of all unordered pairs of rows of ``x`` (i < j)."""
    i, j = torch.triu_indices(len(x), len(x), offset=1, device=x.device)
    return torch.cdist(x, x)[i, j]


def diversity_ratio(real: torch.Tensor, fake: torch.Tensor) -> tuple[float, float]:
    """Mean pairwise distance among ``fake`` over the same among ``real`` (feature rows), and
    the 95 % half-width of that ratio.

    A mean over all pairs is a U-statistic: its variance is about 4 Var(h(x)) / n, with h(x)
    a sample's mean distance to the others (Hoeffding), estimated from the rows of the
    distance matrix. The two means' relative errors add in quadrature."""
    real_mean, real_se = _mean_distance(real)
    fake_mean, fake_se = _mean_distance(fake)
    if real_mean <= 0:
        return math.nan, 0.0
    ratio = fake_mean / real_mean
    relative = math.hypot(real_se / real_mean, fake_se / fake_mean if fake_mean > 0 else 0.0)
    return ratio, Z95 * ratio * relative


def _mean_distance(x: torch.Tensor) -> tuple[float, float]:
    """Mean distance over the pairs of rows of ``x``, and its standard error."""
    n = len(x)
    rows = torch.cdist(x, x).sum(dim=1) / (n - 1)  # the diagonal is 0
    return float(rows.mean()), 2 * float(rows.std()) / math.sqrt(n)


def duplicate_threshold(reference: torch.Tensor, percentile: float = DUPLICATE_PERCENTILE) -> float:
    """tau: the ``percentile``-th percentile of pairwise distances among ``reference`` rows."""
    return float(torch.quantile(pair_distances(reference), percentile / 100))


def duplicate_rate(x: torch.Tensor, threshold: float) -> float:
    """Share of pairs of rows of ``x`` at distance <= ``threshold``."""
    return float((pair_distances(x) <= threshold).double().mean())


def precision_coverage(
    real: torch.Tensor, fake: torch.Tensor, k: int = K_NEIGHBOURS
) -> tuple[float, float]:
    """Precision and coverage of ``fake`` against ``real`` with k-NN balls around the real
    rows (Naeem et al. 2020). Needs more than ``k`` real rows."""
    if len(real) <= k:
        raise ValueError(f"need more than k = {k} real samples, got {len(real)}")
    # The k-th nearest other real sample: index k of the sorted row, index 0 being itself.
    radii = torch.cdist(real, real).topk(k + 1, dim=1, largest=False).values[:, k]
    inside = torch.cdist(real, fake) <= radii[:, None]  # real i's ball holds fake j
    return float(inside.any(dim=0).double().mean()), float(inside.any(dim=1).double().mean())


def measure_collapse(
    real: torch.Tensor,
    fake: torch.Tensor,
    reference: torch.Tensor,
    k: int = K_NEIGHBOURS,
) -> CollapseStats:
    """All collapse figures for samples (images or vectors) of the same shape.

    ``real`` are held-out real samples, ``fake`` generated ones; the first n = the smaller
    count (at most MAX_SAMPLES) of each are compared. ``reference`` are other real samples
    (none of ``real``) that set the near-duplicate distance tau, so that the real rate is
    measured, not assumed.
    """
    n = min(len(real), len(fake), MAX_SAMPLES)
    real_f, fake_f = features(real[:n]), features(fake[:n])
    tau = duplicate_threshold(features(reference[:n]))
    precision, coverage = precision_coverage(real_f, fake_f, k)
    diversity, diversity_uncertainty = diversity_ratio(real_f, fake_f)
    return CollapseStats(
        samples=n,
        features=real_f.shape[1],
        diversity_ratio=diversity,
        duplicate_threshold=tau,
        duplicate_rate=duplicate_rate(fake_f, tau),
        real_duplicate_rate=duplicate_rate(real_f, tau),
        precision=precision,
        coverage=coverage,
        k=k,
        diversity_uncertainty=diversity_uncertainty,
    )


def generated_samples(generator: nn.Module, z_batches: list[GeneratorInputs]) -> torch.Tensor:
    """The generator's samples for the probe's fixed held-out latents (no gradient)."""
    with torch.no_grad():
        return torch.cat([generator(*inputs) for inputs in z_batches])


def probe_collapse(
    generator: nn.Module,
    z_batches: list[GeneratorInputs],
    heldout_real: torch.Tensor,
    train_subset: torch.Tensor,
    samples: torch.Tensor | None = None,
) -> CollapseStats | None:
    """The probe's collapse figures: samples of its held-out latents (``samples`` where
    already made) against its held-out real samples, tau from D's training subset; None
    with fewer than MIN_SAMPLES of any."""
    fake = generated_samples(generator, z_batches) if samples is None else samples
    if min(len(fake), len(heldout_real), len(train_subset)) < MIN_SAMPLES:
        return None
    return measure_collapse(heldout_real, fake, train_subset)
