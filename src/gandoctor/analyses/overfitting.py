"""Discriminator overfitting: the StyleGAN2-ADA heuristics (Karras et al. 2020) for the probe D.

From D's raw logits on three sets of samples: a fixed subset of the real samples D trains
on, the held-out real samples, and the generated samples of the held-out latents,

- r_t = E[sign(D(x_train))]: how sure D is that its own training samples are real (ADA
  steers its augmentation towards r_t = 0.6). It grows both when D memorises its training
  set and when D simply separates real from generated, so it cannot tell the two apart;
- r_v = (E[D_train] - E[D_val]) / (E[D_train] - E[D_gen]): where held-out real samples sit
  between training samples (0) and generated ones (1). Near 0, D scores real data it never
  saw like its training data and separates because the samples are off; near 1, D treats
  unseen real data like generated data: it memorised its training set.

r_v is undefined (NaN, ``null`` in the JSON) when D does not score its training samples
above the generated ones by more than the noise of the two means: a ratio with a
denominator indistinguishable from 0 is noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

RT, RV = "overfit_rt", "overfit_rv"
"""Their names in the probe's series."""

SIGNIFICANT = 2.0
"""r_v needs E[D_train] - E[D_gen] above this many standard errors of that difference
(about the 95 % level); otherwise it is undefined."""

# Samples go through D in chunks of this size: bounded memory, same numbers.
_CHUNK = 256


def heuristics(
    train_logits: torch.Tensor, val_logits: torch.Tensor, gen_logits: torch.Tensor
) -> tuple[float, float]:
    """(r_t, r_v) from D's raw logits on training reals, held-out reals and generated
    samples; r_v is NaN where its denominator is not significantly positive."""
    train, val, gen = (
        t.detach().double().flatten() for t in (train_logits, val_logits, gen_logits)
    )
    r_t = float(torch.sign(train).mean())
    gap = float(train.mean() - gen.mean())
    noise = math.sqrt(_var_of_mean(train) + _var_of_mean(gen))
    if not (math.isfinite(gap) and gap > SIGNIFICANT * noise and gap > 0):
        return r_t, math.nan
    return r_t, float(train.mean() - val.mean()) / gap


def overfit_figures(
    disc: nn.Module,
    train_subset: torch.Tensor | None,
    val_logits: torch.Tensor,
    gen_logits: torch.Tensor,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, float]:
    """The series entries ``overfit_rt`` and ``overfit_rv`` at the current D, given its
    logits on the held-out reals and fakes; none without ``train_subset``. ``transform`` is
    applied to the training samples as to the held-out ones (instance noise), so all three
    sets are seen alike; call it after the held-out draws, which then stay as they were."""
    if train_subset is None:
        return {}
    with torch.no_grad():
        chunks = train_subset.split(_CHUNK)
        logits = torch.cat([disc(c if transform is None else transform(c)) for c in chunks])
    logits = logits.float()  # bf16 under autocast
    r_t, r_v = heuristics(logits, val_logits, gen_logits)
    return {RT: r_t, RV: r_v}


def _var_of_mean(x: torch.Tensor) -> float:
    return float(x.var()) / len(x) if len(x) > 1 else math.inf
